/**
 * What the image autoencoders (equivariant and plain convolutional) share: the checks of an
 * {@link ImageBatch}, training with Adam on a model's batch loss through the shared loop
 * (train/fit.ts: seeded shuffles and validation split, early stopping on the validation MSE with
 * the best weights restored, abort through an AbortSignal between batches), batched inference and
 * the reconstruction MSE, mean over pixels of (x - x̂)².
 */
import * as tf from '@tensorflow/tfjs';

import type { ImageBatch } from '../../data/augment';
import type { ParameterSet } from '../layers/parameters';
import { loadTensorFolder, type SoapixModelHeader, type SoapixModelKind } from '../model-folder';
import type { FitCheckpoint } from '../train/checkpoint';
import { fitModel, type FitEpochLog, type FitHistory, type FitRows } from '../train/fit';
import { iota } from '../train/training';
import type { EarlyStoppingOptions } from '../train/types';

/** Options of an image autoencoder's `fit`. */
export interface ImageFitOptions {
  /** Maximum number of epochs. */
  epochs: number;
  /** Mini-batch size. Default 64. */
  batchSize?: number;
  /** A fraction in (0, 1) of the images held out after a seeded shuffle, or separate images. */
  validation?: number | ImageBatch;
  /** Early stopping on the validation MSE. Default { patience: 3 } when there is validation; false: none. */
  earlyStopping?: EarlyStoppingOptions | false;
  /** Stops training before the next batch (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  onEpoch?: (log: FitEpochLog) => void | Promise<void>;
  /** Seed of shuffling and the validation split. Default: the model's seed. */
  seed?: number;
  /** Images per forward pass when evaluating. Default 256. */
  evalBatchSize?: number;
  /**
   * Save the training's state now and then and at the end, and continue from a saved one (e.g.
   * `fileCheckpoint(file)`): an interrupted fit resumed this way ends with the same weights, bit
   * for bit; a finished one returns its result without training (lib/ml/train/checkpoint.ts).
   */
  checkpoint?: FitCheckpoint;
}

/** Result of an image autoencoder's `fit`: the loop's history and the best validation MSE. */
export type ImageFitHistory = FitHistory & { bestValLoss: number | null };

/**
 * Checks `images` against a model for side x side images: shape, Float32Array of count x side²
 * finite values in [0, 1].
 */
export function checkImageBatch(images: ImageBatch, side: number, what = 'images'): void {
  if (!images || typeof images !== 'object' || !(images.data instanceof Float32Array)) {
    throw new TypeError(`${what}: expected an ImageBatch { data: Float32Array, count, height, width }`);
  }
  const { count, height, width, data } = images;
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`${what}: count must be a whole number >= 0, got ${String(count)}`);
  if (height !== side || width !== side)
    throw new RangeError(`${what}: images are ${String(height)}x${String(width)}, this model takes ${side}x${side}`);
  if (data.length !== count * side * side)
    throw new RangeError(
      `${what}: data has ${data.length} values, expected count * height * width = ${count} * ${side} * ${side}`,
    );
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // A little slack above 1: resampled images may round just past it.
    if (!(v >= 0 && v <= 1 + 1e-4)) {
      const img = Math.floor(i / (side * side));
      throw new RangeError(
        `${what}: pixel ${i % (side * side)} of image ${img} is ${v}; pixels must be finite values in [0, 1] (bytes: divide by 255)`,
      );
    }
  }
}

function rows(images: ImageBatch): FitRows {
  return { x: images.data, rows: images.count, cols: images.height * images.width };
}

function checkPositive(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new RangeError(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Base of the image autoencoders: parameters, optimiser, fit, batched inference. */
export abstract class ImageAutoencoder {
  private optimizer: tf.Optimizer | null = null;

  protected constructor(
    protected readonly params: ParameterSet,
    /** Side of the square images. */
    readonly imageSize: number,
    private readonly learningRate: number,
    private readonly defaultSeed: number,
  ) {}

  /** The training loss of a batch [B, side²] (reconstruction MSE plus any penalty). */
  protected abstract trainingLoss(x: tf.Tensor2D): tf.Scalar;

  /** Reconstructions [B, side²] of a batch. */
  protected abstract reconstructTensor(x: tf.Tensor2D): tf.Tensor2D;

  /** Number of trainable values. */
  get parameterCount(): number {
    return this.params.size;
  }

  /** Throws a clear error unless `images` fit this model. */
  checkImages(images: ImageBatch, what = 'images'): void {
    checkImageBatch(images, this.imageSize, what);
  }

  /**
   * Trains with Adam on the training loss; early stopping watches the validation MSE. Calling it
   * again continues (the optimiser state is kept).
   */
  async fit(images: ImageBatch, options: ImageFitOptions): Promise<ImageFitHistory> {
    if (!options || typeof options !== 'object') throw new TypeError('fit: options { epochs, ... } are required');
    const side = this.imageSize;
    this.checkImages(images);
    const { validation, signal } = options;
    if (validation !== undefined && typeof validation !== 'number') this.checkImages(validation, 'validation images');
    const earlyStopping =
      options.earlyStopping === false
        ? undefined
        : (options.earlyStopping ?? (validation !== undefined ? { patience: 3 } : undefined));
    signal?.throwIfAborted();
    if (!this.optimizer) this.optimizer = tf.train.adam(this.learningRate);
    const h = await fitModel<FitRows>(
      {
        trainableVariables: () => this.params.variables,
        getWeights: () => this.params.getWeights(),
        setWeights: (w) => this.params.setWeights(w),
        batchLoss: (x) => {
          signal?.throwIfAborted();
          return { loss: this.trainingLoss(x) };
        },
        evaluate: (d, idx, batchSize) => ({ loss: this.mseRows(d, idx, batchSize) }),
      },
      this.optimizer,
      rows(images),
      {
        epochs: options.epochs,
        batchSize: options.batchSize ?? 64,
        seed: options.seed ?? this.defaultSeed,
        validation: typeof validation === 'number' || validation === undefined ? validation : rows(validation),
        earlyStopping,
        onEpoch: options.onEpoch,
        evalBatchSize: options.evalBatchSize ?? 256,
        ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
      },
      {
        check: (d, what) =>
          checkImageBatch({ data: d.x, count: d.rows, height: side, width: d.cols / side }, side, what),
      },
    );
    const best = h.bestEpoch === null ? Number.NaN : (h.epochs[h.bestEpoch - 1]?.valLoss ?? Number.NaN);
    return { ...h, bestValLoss: Number.isNaN(best) ? null : best };
  }

  /**
   * The training loss of the images as one batch and its gradient with respect to every parameter
   * (by name), without changing the weights: what one optimiser step would use.
   */
  lossGradients(images: ImageBatch): { loss: number; gradients: Record<string, Float32Array> } {
    this.checkImages(images);
    const px = this.imageSize * this.imageSize;
    const names = this.params.names;
    return tf.tidy(() => {
      const x = tf.tensor2d(images.data, [images.count, px]);
      const { value, grads } = tf.variableGrads(() => this.trainingLoss(x), this.params.variables);
      const gradients: Record<string, Float32Array> = {};
      this.params.variables.forEach((v, i) => {
        const g = grads[v.name];
        gradients[names[i]!] = g ? (g.dataSync() as Float32Array).slice() : new Float32Array(v.size);
      });
      return { loss: value.dataSync()[0]!, gradients };
    });
  }

  /** Mean squared reconstruction error over the rows `idx` of `data`. */
  private mseRows(data: FitRows, idx: Int32Array, batchSize: number): number {
    const cols = data.cols;
    if (idx.length === 0) return Number.NaN;
    let sum = 0;
    const cap = Math.min(batchSize, idx.length);
    const buf = new Float32Array(cap * cols);
    for (let b0 = 0; b0 < idx.length; b0 += cap) {
      const bs = Math.min(cap, idx.length - b0);
      for (let i = 0; i < bs; i++) buf.set(data.x.subarray(idx[b0 + i]! * cols, (idx[b0 + i]! + 1) * cols), i * cols);
      sum += tf.tidy(() => {
        const x = tf.tensor2d(buf.subarray(0, bs * cols), [bs, cols]);
        return tf.sum(tf.squaredDifference(x, this.reconstructTensor(x))).dataSync()[0]!;
      });
    }
    return sum / (idx.length * cols);
  }

  /**
   * Runs `fn` on batches of the images and concatenates its outputs (`outCols` values per image).
   * The output of `fn` is read inside a tidy scope.
   */
  protected mapBatches(
    images: ImageBatch,
    batchSize: number,
    outCols: number,
    fn: (x: tf.Tensor2D) => tf.Tensor,
  ): Float32Array {
    this.checkImages(images);
    checkPositive(batchSize, 'batchSize');
    const px = this.imageSize * this.imageSize;
    const out = new Float32Array(images.count * outCols);
    for (let b0 = 0; b0 < images.count; b0 += batchSize) {
      const bs = Math.min(batchSize, images.count - b0);
      const y = tf.tidy(() => fn(tf.tensor2d(images.data.subarray(b0 * px, (b0 + bs) * px), [bs, px])).dataSync());
      if (y.length !== bs * outCols)
        throw new Error(`internal: a batch of ${bs} gave ${y.length} values, expected ${bs * outCols}`);
      out.set(y, b0 * outCols);
    }
    return out;
  }

  /** Reconstructions of the images. */
  reconstruct(images: ImageBatch, batchSize = 256): ImageBatch {
    const px = this.imageSize * this.imageSize;
    const data = this.mapBatches(images, batchSize, px, (x) => this.reconstructTensor(x));
    return { data, count: images.count, height: this.imageSize, width: this.imageSize };
  }

  /** Mean squared reconstruction error over all pixels of the images. */
  reconstructionMse(images: ImageBatch, batchSize = 256): number {
    this.checkImages(images);
    return this.mseRows(rows(images), iota(images.count), checkPositive(batchSize, 'batchSize'));
  }

  /** The caller's metadata (`meta.extra`) when loaded from a folder. */
  savedMeta: Record<string, unknown> | null = null;

  /**
   * Reads a tensor folder of `kind`, builds the model from the options `optionsOf(soapix.json)`
   * and assigns the saved weights; errors name the folder and what does not fit.
   */
  protected static async loadFolder<
    Info extends SoapixModelHeader & { extra: Record<string, unknown> | null },
    O,
    M extends ImageAutoencoder,
  >(dir: string, kind: SoapixModelKind, optionsOf: (info: Info) => O, make: (options: O) => M): Promise<M> {
    const { info, prepared, tensors } = await loadTensorFolder(dir, kind, optionsOf);
    try {
      const model = make(prepared);
      try {
        model.params.assignNamed(tensors);
      } catch (err) {
        model.dispose();
        throw new Error(`load: ${dir}: ${(err as Error).message}`);
      }
      model.savedMeta = info.extra;
      return model;
    } finally {
      tf.dispose(Object.values(tensors));
    }
  }

  /** Frees the weights and the optimiser state. */
  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    this.params.dispose();
  }
}
