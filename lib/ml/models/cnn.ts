/**
 * The CNN baseline of the paper's Experiment 4 (docs/PAPER-FACTS.md §7) on raw image patches:
 * conv 16 (3x3) + ReLU + max-pool 2, conv 32 (3x3) + ReLU + max-pool 2, flatten, dense 64 + ReLU,
 * softmax over 10 classes; Adam lr 1e-4, batch 2048.
 *
 * The paper does not give the convolution padding; Keras's default ('valid') is used, so a
 * 13x13 patch goes 11x11x16 -> 5x5x16 -> 3x3x32 -> 1x1x32 -> 64 -> 10. Training shares
 * {@link fitSoftmaxModel} with the SOAP classifier (seeded shuffles and splits, early stopping
 * with the best-validation checkpoint); weights come from seeded Glorot-uniform initialisers.
 */
import * as tf from '@tensorflow/tfjs';

import { Rng } from '../../util/random';
import {
  argmaxRows,
  evaluateSoftmaxModel,
  allRows,
  fitSoftmaxModel,
  predictSoftmaxModel,
  type SoftmaxModel,
} from '../train/fit';
import { checkLabeledData, isPositiveInt } from '../train/training';
import type { LabeledData, TrainHistory, TrainOptions } from '../train/types';

/** Architecture and optimiser settings of a {@link CnnClassifier}. */
export interface CnnConfig {
  /** Patch height in pixels. Default 13. */
  height?: number;
  /** Patch width in pixels. Default: the height. */
  width?: number;
  /** Input channels. Default 1. */
  channels?: number;
  /** Filters of the convolution layers (each 3x3, ReLU, then 2x2 max-pooling). Default [16, 32]. */
  filters?: number[];
  /** Convolution kernel size. Default 3. */
  kernelSize?: number;
  /** Convolution padding. Default 'valid' (Keras's default; the paper does not say). */
  padding?: 'valid' | 'same';
  /** Width of the dense ReLU layer. Default 64. */
  dense?: number;
  /** Number of classes. Default 10. */
  classes?: number;
  /** Adam learning rate. Default 1e-4. */
  learningRate?: number;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
}

/** {@link CnnConfig} with every default filled in. */
export type ResolvedCnnConfig = Required<CnnConfig>;

/** The paper's batch size for the CNN. */
export const CNN_BATCH_SIZE = 2048;

/** Fills in and checks a {@link CnnConfig}; throws a RangeError naming the bad field. */
export function resolveCnnConfig(config: CnnConfig = {}): ResolvedCnnConfig {
  if (config === null || typeof config !== 'object') throw new TypeError('CnnConfig must be an object');
  const height = config.height ?? 13;
  const r: ResolvedCnnConfig = {
    height,
    width: config.width ?? height,
    channels: config.channels ?? 1,
    filters: config.filters ? [...config.filters] : [16, 32],
    kernelSize: config.kernelSize ?? 3,
    padding: config.padding ?? 'valid',
    dense: config.dense ?? 64,
    classes: config.classes ?? 10,
    learningRate: config.learningRate ?? 1e-4,
    seed: config.seed ?? 0,
  };
  for (const k of ['height', 'width', 'channels', 'kernelSize', 'dense'] as const) {
    if (!isPositiveInt(r[k])) throw new RangeError(`CnnConfig.${k} must be a positive integer, got ${String(r[k])}`);
  }
  if (!Array.isArray(r.filters) || r.filters.length === 0 || !r.filters.every(isPositiveInt)) {
    throw new RangeError(
      `CnnConfig.filters must be a non-empty array of positive integers, got ${JSON.stringify(config.filters)}`,
    );
  }
  if (r.padding !== 'valid' && r.padding !== 'same')
    throw new RangeError(`CnnConfig.padding must be 'valid' or 'same', got ${String(r.padding)}`);
  if (!isPositiveInt(r.classes) || r.classes < 2)
    throw new RangeError(`CnnConfig.classes must be an integer >= 2, got ${String(r.classes)}`);
  if (typeof r.learningRate !== 'number' || !(r.learningRate > 0) || !Number.isFinite(r.learningRate)) {
    throw new RangeError(`CnnConfig.learningRate must be a positive number, got ${String(r.learningRate)}`);
  }
  if (!Number.isSafeInteger(r.seed))
    throw new RangeError(`CnnConfig.seed must be a safe integer, got ${String(r.seed)}`);
  const [h, w] = cnnFeatureMapSize(r);
  if (h < 1 || w < 1) {
    throw new RangeError(
      `CnnConfig: a ${r.height}x${r.width} patch is too small for ${r.filters.length} blocks of ${r.kernelSize}x${r.kernelSize} '${r.padding}' ` +
        `convolution + 2x2 pooling (it shrinks to ${h}x${w}); use a larger patch or padding 'same'`,
    );
  }
  return r;
}

/** Height and width of the last feature map (before flattening). */
export function cnnFeatureMapSize(
  c: Pick<ResolvedCnnConfig, 'height' | 'width' | 'filters' | 'kernelSize' | 'padding'>,
): [number, number] {
  let h = c.height;
  let w = c.width;
  for (let i = 0; i < c.filters.length; i++) {
    if (c.padding === 'valid') {
      h -= c.kernelSize - 1;
      w -= c.kernelSize - 1;
    }
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
  }
  return [h, w];
}

function buildModel(cfg: ResolvedCnnConfig): tf.Sequential {
  const seeds = new Rng(cfg.seed);
  const init = (): ReturnType<typeof tf.initializers.glorotUniform> =>
    tf.initializers.glorotUniform({ seed: seeds.nextUint32() });
  const model = tf.sequential({ name: 'soapix_cnn' });
  cfg.filters.forEach((filters, i) => {
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [cfg.height, cfg.width, cfg.channels] } : {}),
        filters,
        kernelSize: cfg.kernelSize,
        padding: cfg.padding,
        activation: 'relu',
        kernelInitializer: init(),
        biasInitializer: 'zeros',
        name: `conv_${i + 1}`,
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool_${i + 1}` }));
  });
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(
    tf.layers.dense({
      units: cfg.dense,
      activation: 'relu',
      kernelInitializer: init(),
      biasInitializer: 'zeros',
      name: 'dense',
    }),
  );
  model.add(
    tf.layers.dense({
      units: cfg.classes,
      activation: 'linear',
      kernelInitializer: init(),
      biasInitializer: 'zeros',
      name: 'logits',
    }),
  );
  model.add(tf.layers.activation({ activation: 'softmax', name: 'softmax' }));
  return model;
}

/**
 * The patch CNN. Rows of {@link LabeledData} are patches flattened row-major (height x width x
 * channels values each, scaled as the caller chooses; Experiment 4 uses intensity / 255).
 */
export class CnnClassifier implements SoftmaxModel {
  readonly config: ResolvedCnnConfig;
  readonly model: tf.LayersModel;
  private optimizer: tf.Optimizer | null = null;

  private constructor(config: ResolvedCnnConfig, model: tf.LayersModel) {
    this.config = config;
    this.model = model;
  }

  /** A new, untrained CNN (weights initialised from `config.seed`). */
  static create(config: CnnConfig = {}): CnnClassifier {
    const cfg = resolveCnnConfig(config);
    return new CnnClassifier(cfg, buildModel(cfg));
  }

  get classes(): number {
    return this.config.classes;
  }

  get inputCols(): number {
    return this.config.height * this.config.width * this.config.channels;
  }

  get parameterCount(): number {
    return this.model.countParams();
  }

  logits(x: tf.Tensor2D, _training: boolean): tf.Tensor2D {
    const { height, width, channels } = this.config;
    let h: tf.Tensor = tf.reshape(x, [x.shape[0], height, width, channels]);
    for (const layer of this.model.layers) {
      if (layer.getClassName() === 'Activation' && layer.name === 'softmax') break;
      h = layer.apply(h) as tf.Tensor;
    }
    return h as tf.Tensor2D;
  }

  trainableVariables(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  getWeights(): tf.Tensor[] {
    return this.model.getWeights();
  }

  setWeights(w: tf.Tensor[]): void {
    this.model.setWeights(w);
  }

  private check(data: LabeledData, what: string): void {
    checkLabeledData(data, this.inputCols, this.config.classes, what);
  }

  /**
   * Trains with Adam (the config's learning rate) on the softmax cross-entropy; batch size
   * default {@link CNN_BATCH_SIZE}. Calling it again continues training (optimiser state kept).
   */
  async train(data: LabeledData, options: TrainOptions): Promise<TrainHistory> {
    if (!this.optimizer) this.optimizer = tf.train.adam(this.config.learningRate);
    return fitSoftmaxModel(
      this,
      this.optimizer,
      data,
      { ...options, seed: options.seed ?? this.config.seed, batchSize: options.batchSize ?? CNN_BATCH_SIZE },
      { check: (d, what) => this.check(d, what) },
    );
  }

  /** Mean loss and accuracy on labelled rows. */
  evaluate(data: LabeledData, batchSize = 4096): { loss: number; accuracy: number } {
    this.check(data, 'data');
    return evaluateSoftmaxModel(this, data, allRows(data), batchSize);
  }

  /** Class probabilities, rows x classes. */
  predict(x: Float32Array, batchSize = 4096): Float32Array {
    return predictSoftmaxModel(this, x, batchSize);
  }

  /** The most probable class of every row (ties: the lowest class). */
  predictClasses(x: Float32Array, batchSize = 4096): Int32Array {
    return argmaxRows(this.predict(x, batchSize), this.config.classes);
  }

  /** Frees the weights and the optimiser state. */
  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    this.model.dispose();
  }
}
