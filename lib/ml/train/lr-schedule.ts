/**
 * Learning rate reduced on a plateau of the validation loss (as Keras's ReduceLROnPlateau):
 *
 *   after `patience` epochs in a row without v_t < best - minDelta:  lr <- max(factor * lr, minLearningRate)
 *
 * and the count starts again. Why the compression experiment needs it (docs/RESULTS.md,
 * Experiment 2): a linear autoencoder converges to the PCA subspace at a rate set by the ratio of
 * the largest to the h_e-th eigenvalue of the scaled spectra's covariance (about 25,000 at
 * h_e = 100), so a fixed Adam step is either too slow early or too noisy late; halving it on each
 * plateau gets both.
 */
import type * as tf from '@tensorflow/tfjs';

import type { ScheduleState } from './checkpoint';

/** Options of the plateau schedule. */
export interface ReduceLrOnPlateauOptions {
  /** Epochs without improvement of the validation loss before the rate is cut. */
  patience: number;
  /** Multiplier of each cut, in (0, 1). Default 0.5. */
  factor?: number;
  /** The rate never goes below this. Default 1e-6. */
  minLearningRate?: number;
  /** Smallest decrease of the validation loss that counts as an improvement. Default 0. */
  minDelta?: number;
}

/** Throws a RangeError naming the first bad option. */
function checkReduceLrOnPlateau(o: ReduceLrOnPlateauOptions): void {
  if (o === null || typeof o !== 'object') throw new TypeError('train: reduceLrOnPlateau must be an object');
  if (!Number.isInteger(o.patience) || o.patience < 1)
    throw new RangeError(`train: reduceLrOnPlateau.patience must be an integer >= 1, got ${String(o.patience)}`);
  const f = o.factor ?? 0.5;
  if (!(typeof f === 'number' && f > 0 && f < 1))
    throw new RangeError(`train: reduceLrOnPlateau.factor must be in (0, 1), got ${String(o.factor)}`);
  const m = o.minLearningRate ?? 1e-6;
  if (!(typeof m === 'number' && m >= 0 && Number.isFinite(m)))
    throw new RangeError(
      `train: reduceLrOnPlateau.minLearningRate must be a finite number >= 0, got ${String(o.minLearningRate)}`,
    );
  const d = o.minDelta ?? 0;
  if (!(typeof d === 'number' && d >= 0 && Number.isFinite(d)))
    throw new RangeError(`train: reduceLrOnPlateau.minDelta must be a finite number >= 0, got ${String(o.minDelta)}`);
}

/** The schedule's state: feed it each epoch's validation loss, read the rate to use next. */
export class PlateauSchedule {
  private best = Number.POSITIVE_INFINITY;
  private wait = 0;
  private readonly factor: number;
  private readonly minLearningRate: number;
  private readonly minDelta: number;
  private readonly patience: number;

  constructor(
    public learningRate: number,
    options: ReduceLrOnPlateauOptions,
  ) {
    checkReduceLrOnPlateau(options);
    this.patience = options.patience;
    this.factor = options.factor ?? 0.5;
    this.minLearningRate = options.minLearningRate ?? 1e-6;
    this.minDelta = options.minDelta ?? 0;
  }

  /** Its state for a training checkpoint (lib/ml/train/checkpoint.ts). */
  getState(): ScheduleState {
    return { learningRate: this.learningRate, best: this.best, wait: this.wait };
  }

  /** Continues from a checkpoint's state. */
  setState(state: ScheduleState): void {
    this.learningRate = state.learningRate;
    this.best = state.best;
    this.wait = state.wait;
  }

  /** Records an epoch's validation loss (NaN never improves); returns the rate for the next epoch. */
  update(valLoss: number): number {
    if (valLoss < this.best - this.minDelta) {
      this.best = valLoss;
      this.wait = 0;
      return this.learningRate;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      this.learningRate = Math.max(this.learningRate * this.factor, this.minLearningRate);
      this.wait = 0;
    }
    return this.learningRate;
  }
}

/**
 * The learning rate of a TensorFlow.js optimizer. Adam, RMSProp and the others keep it in a
 * public-at-runtime field `learningRate` that every `applyGradients` reads, so setting the field
 * changes the next step (and keeps the moment estimates); SGD and momentum also cache it in a
 * scalar that their own `setLearningRate` renews.
 */
export function optimizerLearningRate(optimizer: tf.Optimizer): number {
  const lr = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  if (typeof lr !== 'number') throw new TypeError('train: this optimizer has no numeric learningRate field');
  return lr;
}

/** Sets the field read by {@link optimizerLearningRate}. */
export function setOptimizerLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  optimizerLearningRate(optimizer);
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(learningRate);
  else o.learningRate = learningRate;
}
