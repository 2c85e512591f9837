/**
 * What every trainer here (classifier, autoencoders) does before its first epoch: check the
 * common options and the labelled rows, and split the rows into training and validation sets from
 * a seeded shuffle.
 */
import * as tf from '@tensorflow/tfjs';

import { Rng } from '../../util/random';
import type { TrackerState } from './checkpoint';
import type { LabeledData } from './types';

export function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

/** Row indices 0..n-1 as an Int32Array. */
export function iota(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

export interface CommonTrainOptions<D> {
  epochs: number;
  batchSize: number;
  evalBatchSize: number;
  seed: number;
  validation?: number | D;
  earlyStopping?: { patience: number };
}

/** Throws a RangeError naming the first bad option. */
export function checkTrainOptions<D>(o: CommonTrainOptions<D>): void {
  if (!Number.isInteger(o.epochs) || o.epochs < 0)
    throw new RangeError(`train: epochs must be an integer >= 0, got ${String(o.epochs)}`);
  if (!isPositiveInt(o.batchSize))
    throw new RangeError(`train: batchSize must be a positive integer, got ${String(o.batchSize)}`);
  if (!isPositiveInt(o.evalBatchSize))
    throw new RangeError(`train: evalBatchSize must be a positive integer, got ${String(o.evalBatchSize)}`);
  if (!Number.isSafeInteger(o.seed)) throw new RangeError(`train: seed must be a safe integer, got ${String(o.seed)}`);
  if (o.earlyStopping) {
    if (o.validation === undefined) throw new RangeError('train: earlyStopping needs validation data');
    if (!Number.isInteger(o.earlyStopping.patience) || o.earlyStopping.patience < 0) {
      throw new RangeError(
        `train: earlyStopping.patience must be an integer >= 0, got ${String(o.earlyStopping.patience)}`,
      );
    }
  }
}

/**
 * Training row indices and the validation set: a fraction of `data` held out after a seeded shuffle
 * (drawn from `rng`), or separate data checked by `checkValidation`, or none.
 */
export function splitValidation<D extends { rows: number }>(
  data: D,
  validation: number | D | undefined,
  rng: Rng,
  checkValidation: (v: D) => void,
): { trainIdx: Int32Array; val: { data: D; idx: Int32Array } | null } {
  if (typeof validation === 'number') {
    if (!(validation > 0 && validation < 1))
      throw new RangeError(`train: a validation fraction must be in (0, 1), got ${validation}`);
    const perm = rng.shuffle(iota(data.rows));
    const nVal = Math.round(data.rows * validation);
    if (nVal < 1 || nVal >= data.rows)
      throw new RangeError(
        `train: validation ${validation} of ${data.rows} rows leaves no training or no validation rows`,
      );
    return { trainIdx: perm.slice(0, data.rows - nVal), val: { data, idx: perm.slice(data.rows - nVal) } };
  }
  if (validation === undefined) return { trainIdx: iota(data.rows), val: null };
  checkValidation(validation);
  if (validation.rows < 1) throw new RangeError('train: validation data has no rows');
  return { trainIdx: iota(data.rows), val: { data: validation, idx: iota(validation.rows) } };
}

/**
 * Early-stopping bookkeeping: the best monitored value so far, its epoch, a copy of its weights
 * (when they are to be restored), and how many epochs have passed without improvement.
 */
export class BestEpochTracker {
  best = Number.NaN;
  bestEpoch: number | null = null;
  sinceBest = 0;
  private weights: tf.Tensor[] | null = null;

  constructor(
    private readonly minDelta: number,
    private readonly keepWeights: boolean,
    private readonly higherIsBetter = false,
  ) {}

  /** From the trainers' early-stopping options: minDelta default 0, restoreBestWeights default true. */
  static fromOptions(
    earlyStopping: { minDelta?: number; restoreBestWeights?: boolean } | undefined,
    higherIsBetter = false,
  ): BestEpochTracker {
    const restore = earlyStopping ? (earlyStopping.restoreBestWeights ?? true) : false;
    return new BestEpochTracker(earlyStopping?.minDelta ?? 0, restore, higherIsBetter);
  }

  /** Records an epoch's monitored value; `snapshot` is called only for a new best. */
  update(epoch: number, value: number, snapshot: () => tf.Tensor[]): void {
    const improved =
      Number.isNaN(this.best) ||
      (this.higherIsBetter ? value > this.best + this.minDelta : value < this.best - this.minDelta);
    if (!improved) {
      this.sinceBest++;
      return;
    }
    this.best = value;
    this.bestEpoch = epoch;
    this.sinceBest = 0;
    if (this.keepWeights) {
      this.weights?.forEach((w) => w.dispose());
      this.weights = snapshot().map((w) => w.clone());
    }
  }

  /** True once `patience` epochs have passed without improvement. */
  exhausted(patience: number): boolean {
    return this.sinceBest > 0 && this.sinceBest >= patience;
  }

  /** Puts the best weights back unless the last epoch was the best; returns whether it did. */
  restore(lastEpoch: number, setWeights: (w: tf.Tensor[]) => void): boolean {
    if (!this.weights || this.bestEpoch === lastEpoch) return false;
    setWeights(this.weights);
    return true;
  }

  dispose(): void {
    this.weights?.forEach((w) => w.dispose());
    this.weights = null;
  }

  /** Its state for a training checkpoint (lib/ml/train/checkpoint.ts). */
  getState(): TrackerState {
    return {
      best: this.best,
      bestEpoch: this.bestEpoch,
      sinceBest: this.sinceBest,
      weights: this.weights ? this.weights.map((w) => Float32Array.from(w.dataSync())) : null,
    };
  }

  /** Continues from a checkpoint's state; `shapes` are the model's weight shapes. */
  setState(state: TrackerState, shapes: readonly number[][]): void {
    this.best = state.best;
    this.bestEpoch = state.bestEpoch;
    this.sinceBest = state.sinceBest;
    this.weights?.forEach((w) => w.dispose());
    this.weights = null;
    if (state.weights && this.keepWeights) {
      if (state.weights.length !== shapes.length)
        throw new RangeError(`checkpoint: ${state.weights.length} best weights saved, the model has ${shapes.length}`);
      this.weights = state.weights.map((w, i) => tf.tensor(w, shapes[i]));
    }
  }
}

/** Checks a {@link LabeledData} against the model's input width and class count. */
export function checkLabeledData(data: LabeledData, cols: number, classes: number, what = 'data'): void {
  if (!data || !(data.x instanceof Float32Array)) throw new TypeError(`${what}.x must be a Float32Array`);
  if (!(data.y instanceof Int32Array || data.y instanceof Uint8Array))
    throw new TypeError(`${what}.y must be an Int32Array or Uint8Array`);
  if (!Number.isInteger(data.rows) || data.rows < 0)
    throw new RangeError(`${what}.rows must be an integer >= 0, got ${String(data.rows)}`);
  if (data.cols !== cols)
    throw new RangeError(`${what}.cols is ${String(data.cols)} but the model takes ${cols} features`);
  if (data.x.length !== data.rows * data.cols) {
    throw new RangeError(`${what}.x has ${data.x.length} values, expected rows * cols = ${data.rows * data.cols}`);
  }
  if (data.y.length !== data.rows) throw new RangeError(`${what}.y has ${data.y.length} labels, expected ${data.rows}`);
  for (let i = 0; i < data.rows; i++) {
    const c = data.y[i];
    if (c < 0 || c >= classes) throw new RangeError(`${what}.y[${i}] = ${c} is not a class in 0..${classes - 1}`);
  }
  const x = data.x;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]))
      throw new RangeError(`${what}.x[${i}] (row ${Math.floor(i / cols)}) is ${x[i]}; features must be finite`);
  }
}
