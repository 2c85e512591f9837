/**
 * The types of the shared training loop (./fit.ts) that the classifiers' `train` methods take and
 * return: labelled rows, the options (epochs, batch size, validation, early stopping, seed,
 * per-epoch callback) and the history with one log per epoch. They live here, beside the loop,
 * so that the loop and the models import them from one place and never from each other.
 */

/** Labelled feature rows: `x` is row-major `rows` x `cols`, `y[i]` the class of row i. */
export interface LabeledData {
  x: Float32Array;
  y: Int32Array | Uint8Array;
  rows: number;
  cols: number;
}

/** Early stopping on a validation metric. */
export interface EarlyStoppingOptions {
  /** Training stops after this many epochs in a row without improvement (as Keras; 0 acts as 1). */
  patience: number;
  /** Metric watched. Default 'valLoss' (lower is better); 'valAccuracy' (higher is better). */
  monitor?: 'valLoss' | 'valAccuracy';
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put back the weights of the best epoch when training ends. Default true. */
  restoreBestWeights?: boolean;
}

/** What one epoch did. Losses are mean sparse categorical cross-entropies. */
export interface EpochLog {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch (with dropout active). */
  loss: number;
  /** Training accuracy over the epoch (with dropout active). */
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Wall time of the epoch's training steps (validation excluded), seconds. */
  seconds: number;
  /** Training samples per second over the epoch's steps. */
  samplesPerSecond: number;
}

/** Options of a classifier's `train` (MlpClassifier, CnnClassifier). */
export interface TrainOptions {
  /** Maximum number of epochs (the paper: 300). */
  epochs: number;
  /** Mini-batch size. Default 128. */
  batchSize?: number;
  /**
   * Validation data: a fraction in (0, 1) of the training rows, taken after a seeded shuffle
   * (the paper's 80:20 is 0.2), or separate labelled rows. Default none.
   */
  validation?: number | LabeledData;
  /** Stop when the validation metric stops improving (needs `validation`). */
  earlyStopping?: EarlyStoppingOptions;
  /** Seed of shuffling, the validation split and the dropout masks. Default: the config's seed. */
  seed?: number;
  /** Called after every epoch (awaited). */
  onEpoch?: (log: EpochLog) => void | Promise<void>;
  /** Rows per forward pass when evaluating the validation set. Default 4096. */
  evalBatchSize?: number;
  /** Stops training before the next batch; train then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Result of a classifier's `train` (MlpClassifier, CnnClassifier). */
export interface TrainHistory {
  epochs: EpochLog[];
  /** Epoch (1-based) with the best monitored value, or null without validation. */
  bestEpoch: number | null;
  /** True when early stopping ended training before `epochs`. */
  stoppedEarly: boolean;
  /** True when the best epoch's weights were put back at the end. */
  restoredBestWeights: boolean;
  /** The TensorFlow.js backend that trained. */
  backend: string;
  trainRows: number;
  valRows: number;
  batchSize: number;
  seed: number;
  /** Total wall time, seconds. */
  seconds: number;
}
