/**
 * The pixel classifier of the paper's Experiment 1 (docs/PAPER-FACTS.md §4): a multilayer perceptron on
 * SOAP spectra, d inputs (308 at the paper's optimum) -> hidden ReLU layers (default 512-256-128,
 * each followed by dropout 0.1) -> softmax over 10 digits, trained with Adam (lr 1e-3, batch 128)
 * on the sparse categorical cross-entropy.
 *
 * Training is deterministic for given seeds on a given backend: the weights are initialised with
 * seeded Glorot-uniform initialisers, and shuffling, the validation split and the dropout masks
 * all come from soapix's own {@link Rng}. (TensorFlow.js's own Dropout layer draws from an
 * unseeded generator, or with a seed repeats the same mask every step, so the training forward
 * pass applies its own seeded masks; the saved model has ordinary Dropout layers, which are the
 * identity at inference.)
 *
 * A trained model saves as one folder ({@link MlpClassifier.save}): `model.json` and
 * `weights.bin` in TensorFlow.js's layers-model format, written through our own IOHandler, and
 * `soapix.json` with the architecture, the caller's SOAP parameters and scaler, and checksums of
 * the other two files. {@link MlpClassifier.load} reads it back without tfjs-node.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../util/random';
import {
  loadModelFolder,
  saveModelFolder,
  savedModelFields,
  type SaveMeta,
  type SoapixSavedModelFields,
} from '../model-folder';
import {
  argmaxRows,
  evaluateSoftmaxModel,
  fitSoftmaxModel,
  predictSoftmaxModel,
  type SoftmaxModel,
} from '../train/fit';
import { checkLabeledData, iota, isPositiveInt } from '../train/training';
import type { LabeledData, TrainHistory, TrainOptions } from '../train/types';
import { MaskGenerator } from '../layers/dropout-masks';

/** Architecture and optimiser settings of an {@link MlpClassifier}. */
export interface MlpConfig {
  /** Number of input features (308 for the paper's optimal SOAP parameters). */
  inputDim: number;
  /** Widths of the hidden ReLU layers. Default [512, 256, 128]. */
  hidden?: number[];
  /** Dropout rate after every hidden layer, in [0, 1). Default 0.1. */
  dropout?: number;
  /** Number of classes. Default 10. */
  classes?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
}

/** {@link MlpConfig} with every default filled in. */
export type ResolvedMlpConfig = Required<MlpConfig>;

/** The `soapix.json` of a saved model folder. */
export interface SoapixModelJSON<Soap = unknown, Scaler = unknown> extends SoapixSavedModelFields<Soap, Scaler> {
  kind: 'mlp-classifier';
  mlp: ResolvedMlpConfig;
}

const DEFAULTS = { hidden: [512, 256, 128], dropout: 0.1, classes: 10, learningRate: 1e-3, seed: 0 };

/** Fills in and checks an {@link MlpConfig}. */
export function resolveMlpConfig(config: MlpConfig): ResolvedMlpConfig {
  if (config === null || typeof config !== 'object') throw new TypeError('MlpConfig must be an object');
  const r: ResolvedMlpConfig = {
    inputDim: config.inputDim,
    hidden: config.hidden ? [...config.hidden] : [...DEFAULTS.hidden],
    dropout: config.dropout ?? DEFAULTS.dropout,
    classes: config.classes ?? DEFAULTS.classes,
    learningRate: config.learningRate ?? DEFAULTS.learningRate,
    seed: config.seed ?? DEFAULTS.seed,
  };
  if (!isPositiveInt(r.inputDim))
    throw new RangeError(`MlpConfig.inputDim must be a positive integer, got ${String(r.inputDim)}`);
  if (!Array.isArray(r.hidden) || !r.hidden.every(isPositiveInt)) {
    throw new RangeError(
      `MlpConfig.hidden must be an array of positive integers, got ${JSON.stringify(config.hidden)}`,
    );
  }
  if (typeof r.dropout !== 'number' || !(r.dropout >= 0 && r.dropout < 1)) {
    throw new RangeError(`MlpConfig.dropout must be in [0, 1), got ${String(r.dropout)}`);
  }
  if (!isPositiveInt(r.classes) || r.classes < 2)
    throw new RangeError(`MlpConfig.classes must be an integer >= 2, got ${String(r.classes)}`);
  if (typeof r.learningRate !== 'number' || !(r.learningRate > 0) || !Number.isFinite(r.learningRate)) {
    throw new RangeError(`MlpConfig.learningRate must be a positive number, got ${String(r.learningRate)}`);
  }
  if (!Number.isSafeInteger(r.seed))
    throw new RangeError(`MlpConfig.seed must be a safe integer, got ${String(r.seed)}`);
  return r;
}

/** The Layers model: Dense+ReLU / Dropout pairs, a linear logits layer and a softmax layer. */
function buildModel(cfg: ResolvedMlpConfig): tf.Sequential {
  const seeds = new Rng(cfg.seed);
  const model = tf.sequential({ name: 'soapix_mlp' });
  cfg.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        ...(i === 0 ? { inputShape: [cfg.inputDim] } : {}),
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.nextUint32() }),
        biasInitializer: 'zeros',
        name: `hidden_${i + 1}`,
      }),
    );
    model.add(tf.layers.dropout({ rate: cfg.dropout, name: `dropout_${i + 1}` }));
  });
  model.add(
    tf.layers.dense({
      ...(cfg.hidden.length === 0 ? { inputShape: [cfg.inputDim] } : {}),
      units: cfg.classes,
      activation: 'linear',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.nextUint32() }),
      biasInitializer: 'zeros',
      name: 'logits',
    }),
  );
  model.add(tf.layers.activation({ activation: 'softmax', name: 'softmax' }));
  return model;
}

/** Seeded dropout masks of a training pass: the generator, the rate, one buffer per layer. */
interface DropoutState {
  gen: MaskGenerator;
  rate: number;
  bufs: Map<number, Float32Array>;
}

/**
 * The pixel classifier. Create with {@link MlpClassifier.create} (or load a saved one with
 * {@link MlpClassifier.load}), then {@link train}, {@link predict}, {@link save}; call
 * {@link dispose} when done to free the weights.
 */
export class MlpClassifier {
  readonly config: ResolvedMlpConfig;
  /** The underlying TensorFlow.js Layers model (outputs class probabilities). */
  readonly model: tf.LayersModel;
  private optimizer: tf.Optimizer | null = null;

  private constructor(config: ResolvedMlpConfig, model: tf.LayersModel) {
    this.config = config;
    this.model = model;
  }

  /** A new, untrained classifier (weights initialised from `config.seed`). */
  static create(config: MlpConfig): MlpClassifier {
    const cfg = resolveMlpConfig(config);
    return new MlpClassifier(cfg, buildModel(cfg));
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return this.model.countParams();
  }

  /** Copies of the current weights (kernels and biases, layer by layer) as Float32Arrays. */
  getWeights(): Float32Array[] {
    return this.model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
  }

  /**
   * Runs the layers up to the logits; with `dropout`, a training pass with seeded dropout masks.
   */
  private logits(x: tf.Tensor2D, dropout: DropoutState | null): tf.Tensor2D {
    let h: tf.Tensor = x;
    for (let li = 0; li < this.model.layers.length; li++) {
      const layer = this.model.layers[li];
      const cls = layer.getClassName();
      if (cls === 'InputLayer') continue;
      if (cls === 'Dropout') {
        if (dropout && dropout.rate > 0) {
          // One buffer per layer, reused across steps (the cpu backend keeps a reference to the
          // array a tensor is made from, so two live masks must not share one).
          let buf = dropout.bufs.get(li);
          if (!buf || buf.length < h.size) dropout.bufs.set(li, (buf = new Float32Array(h.size)));
          const mask = buf.subarray(0, h.size);
          dropout.gen.fill(mask, dropout.rate);
          h = tf.mul(h, tf.tensor(mask, h.shape, 'float32'));
        }
      } else if (cls === 'Activation' && layer.name === 'softmax') {
        break;
      } else {
        h = layer.apply(h) as tf.Tensor;
      }
    }
    return h as tf.Tensor2D;
  }

  /** This classifier as the shared training loop sees it; training passes draw dropout masks from `dropout()`. */
  private asSoftmaxModel(dropout: () => DropoutState | null = () => null): SoftmaxModel {
    return {
      classes: this.config.classes,
      inputCols: this.config.inputDim,
      logits: (x, training) => this.logits(x, training ? dropout() : null),
      trainableVariables: () => this.model.trainableWeights.map((w) => w.read() as tf.Variable),
      getWeights: () => this.model.getWeights(),
      setWeights: (w) => this.model.setWeights(w),
    };
  }

  /**
   * Trains the classifier with Adam on the sparse categorical cross-entropy. Every epoch visits
   * the training rows in a new seeded order, in mini-batches (the last one may be smaller).
   * Training can be continued by calling train again (the optimiser state is kept).
   */
  async train(data: LabeledData, options: TrainOptions): Promise<TrainHistory> {
    const cfg = this.config;
    if (!this.optimizer) this.optimizer = tf.train.adam(cfg.learningRate);
    let dropout: DropoutState | null = null;
    return fitSoftmaxModel(
      this.asSoftmaxModel(() => dropout),
      this.optimizer,
      data,
      { ...options, seed: options.seed ?? cfg.seed, batchSize: options.batchSize ?? 128 },
      {
        check: (d, what) => checkLabeledData(d, cfg.inputDim, cfg.classes, what),
        // The masks come from the run's generator, right after the validation split.
        onStart: (rng) => void (dropout = { gen: new MaskGenerator(rng), rate: cfg.dropout, bufs: new Map() }),
      },
    );
  }

  /** Mean loss and accuracy on labelled rows, without dropout. */
  evaluate(data: LabeledData, batchSize = 4096): { loss: number; accuracy: number } {
    checkLabeledData(data, this.config.inputDim, this.config.classes);
    return evaluateSoftmaxModel(this.asSoftmaxModel(), data, iota(data.rows), batchSize);
  }

  /**
   * Class probabilities of every row of `x` (row-major, `inputDim` columns): a Float32Array of
   * rows x classes.
   */
  predict(x: Float32Array, batchSize = 4096): Float32Array {
    return predictSoftmaxModel(this.asSoftmaxModel(), x, batchSize);
  }

  /** The most probable class of every row of `x` (ties: the lowest class). */
  predictClasses(x: Float32Array, batchSize = 4096): Int32Array {
    return argmaxRows(this.predict(x, batchSize), this.config.classes);
  }

  /**
   * Saves the model as a folder: `model.json` + `weights.bin` (TensorFlow.js layers format) and
   * `soapix.json` (architecture, `meta.soap`, `meta.scaler`, `meta.extra`, file checksums). The
   * folder is created if needed; an existing `soapix.json` is removed first and written last, so a
   * folder with a `soapix.json` always holds a complete model.
   */
  async save<Soap = unknown, Scaler = unknown>(
    dir: string,
    meta: SaveMeta<Soap, Scaler> = {},
  ): Promise<SoapixModelJSON<Soap, Scaler>> {
    return saveModelFolder(dir, this.model, (files) =>
      savedModelFields(
        { kind: 'mlp-classifier' as const, mlp: { ...this.config, hidden: [...this.config.hidden] } },
        meta,
        files,
      ),
    );
  }

  /**
   * Loads a folder written by {@link save}; checks the file sizes and checksums recorded in
   * `soapix.json`. Uses only `tf.io.fromMemory` (no file-system handler of tfjs-node).
   *
   * @returns the classifier and the folder's `soapix.json` (with the SOAP parameters and scaler).
   * @throws Error saying what is wrong: no such folder, a missing or corrupt file, a checksum
   *   mismatch, or a folder holding another kind of model (e.g. an autoencoder).
   */
  static async load<Soap = unknown, Scaler = unknown>(
    dir: string,
  ): Promise<{ classifier: MlpClassifier; info: SoapixModelJSON<Soap, Scaler> }> {
    const {
      info,
      prepared: cfg,
      model,
    } = await loadModelFolder(dir, 'mlp-classifier', (i: SoapixModelJSON<Soap, Scaler>) => resolveMlpConfig(i.mlp));
    const inShape = model.inputs[0].shape;
    const outShape = model.outputs[0].shape;
    if (inShape[1] !== cfg.inputDim || outShape[1] !== cfg.classes) {
      model.dispose();
      throw new Error(
        `load: the model takes ${String(inShape[1])} features to ${String(outShape[1])} classes, but soapix.json says ${cfg.inputDim} to ${cfg.classes}`,
      );
    }
    return { classifier: new MlpClassifier(cfg, model), info };
  }

  /** Frees the weights and the optimiser state. */
  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    this.model.dispose();
  }
}
