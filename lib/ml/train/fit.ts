/**
 * The training loop every soapix model shares (the SOAP pixel MLP, the patch CNN, the
 * autoencoders): Adam on a model-supplied batch loss over seeded mini-batches of rows, optional
 * validation with early stopping and best-weights restore, per-epoch logs ({@link fitModel}). The
 * classifiers plug in through {@link SoftmaxModel} ({@link fitSoftmaxModel}: softmax
 * cross-entropy, accuracy), which also gives batched evaluation and prediction.
 */
import * as tf from '@tensorflow/tfjs';

import { Rng } from '../../util/random';
import {
  captureOptimizer,
  CheckpointError,
  dataFingerprint,
  restoreOptimizer,
  type FitCheckpoint,
  type FitState,
} from './checkpoint';
import {
  optimizerLearningRate,
  PlateauSchedule,
  setOptimizerLearningRate,
  type ReduceLrOnPlateauOptions,
} from './lr-schedule';
import type { EarlyStoppingOptions, EpochLog, LabeledData, TrainHistory, TrainOptions } from './types';
import { BestEpochTracker, checkTrainOptions, iota, isPositiveInt, splitValidation } from './training';

/** Rows the loop trains on: row-major features, and labels when the model's loss uses them. */
export interface FitRows {
  x: Float32Array;
  rows: number;
  cols: number;
  y?: Int32Array | Uint8Array;
}

/** What one epoch of {@link fitModel} did; `accuracy` / `valAccuracy` when the model reports them. */
export interface FitEpochLog {
  epoch: number;
  /** Mean training loss over the epoch's batches (weighted by batch size). */
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Wall time of the epoch's training steps (validation excluded), seconds. */
  seconds: number;
  samplesPerSecond: number;
  /** The optimizer's learning rate during the epoch (only with a learning-rate schedule). */
  learningRate?: number;
}

/** Result of {@link fitModel}: {@link TrainHistory} with its epoch logs. */
export type FitHistory = Omit<TrainHistory, 'epochs'> & {
  epochs: FitEpochLog[];
  /** CPU time of the training (user + system, this process's; with a checkpoint, every process that ran it). */
  cpuSeconds: number;
  /** The rate the schedule had reached when training ended (only with a learning-rate schedule). */
  finalLearningRate?: number;
};

/** What {@link fitModel} needs from a model. */
export interface TrainableModel<D extends FitRows> {
  /** The trainable variables. */
  trainableVariables(): tf.Variable[];
  /** The current weights (the early-stopping tracker copies them). */
  getWeights(): tf.Tensor[];
  setWeights(w: tf.Tensor[]): void;
  /**
   * The training loss of a batch (a scalar, differentiated with respect to the variables) of rows
   * `x` ([rows, cols]) with labels `y` (int32; null for unlabelled rows), in training mode;
   * optionally the number of rows predicted right (the epoch log's accuracy).
   */
  batchLoss(x: tf.Tensor2D, y: tf.Tensor1D | null): { loss: tf.Scalar; correct?: tf.Scalar };
  /** Mean loss (and accuracy) over the rows `idx` of `data`, in inference mode. */
  evaluate(data: D, idx: Int32Array, batchSize: number): { loss: number; accuracy?: number };
}

/** Options of {@link fitModel}: the trainers' options with the seed and batch size resolved. */
export interface FitOptions<D> {
  epochs: number;
  batchSize: number;
  seed: number;
  validation?: number | D;
  earlyStopping?: EarlyStoppingOptions;
  /** Cut the learning rate when the validation loss stalls (needs `validation`; ./lr-schedule.ts). */
  reduceLrOnPlateau?: ReduceLrOnPlateauOptions;
  onEpoch?: (log: FitEpochLog) => void | Promise<void>;
  /** Rows per forward pass when evaluating the validation set. Default 4096. */
  evalBatchSize?: number;
  /** Stops training before the next batch; fitModel then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Saves the training's state after an epoch (at most every `everySeconds`) and, when a state is
   * there at the start, continues from it: the result equals the uninterrupted run's bit for bit
   * (./checkpoint.ts). The end state is saved too: a rerun of a finished training returns its
   * result without training (the caller removes the checkpoint when done with it). Adam only; a
   * model with hooks.onStart needs hooks.state to carry its own state.
   */
  checkpoint?: FitCheckpoint;
}

/** Extra hooks of {@link fitModel}. */
export interface FitHooks<D extends FitRows = LabeledData> {
  /** Called once after the validation split, with the run's generator (e.g. to seed dropout masks). */
  onStart?: (rng: Rng) => void;
  /** Checks data against the model (throws with a message naming `what`). */
  check: (data: D, what: string) => void;
  /**
   * The model's own training state (generators it seeded in onStart, counters, its epoch logs) as
   * JSON-able data: what a checkpoint must carry besides the loop's state for a model with onStart.
   */
  state?: { get(): unknown; set(state: unknown): void };
}

/**
 * Trains `model` with `optimizer` on its {@link TrainableModel.batchLoss}. Every epoch visits the
 * training rows in a new seeded order, in mini-batches (the last one may be smaller).
 */
export async function fitModel<D extends FitRows>(
  model: TrainableModel<D>,
  optimizer: tf.Optimizer,
  data: D,
  options: FitOptions<D>,
  hooks: FitHooks<D>,
): Promise<FitHistory> {
  hooks.check(data, 'train data');
  const { epochs, batchSize, seed, validation, earlyStopping, onEpoch, evalBatchSize = 4096, signal } = options;
  checkTrainOptions({ epochs, batchSize, evalBatchSize, seed, validation, earlyStopping });
  const plateau = options.reduceLrOnPlateau;
  if (plateau && validation === undefined) throw new RangeError('train: reduceLrOnPlateau needs validation data');
  // The schedule's constructor checks the options.
  const schedule = plateau ? new PlateauSchedule(optimizerLearningRate(optimizer), plateau) : null;
  signal?.throwIfAborted();
  const rng = new Rng(seed);
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const cpuSince = (): number => {
    const u = process.cpuUsage(cpuStart);
    return (u.user + u.system) / 1e6;
  };

  const { trainIdx, val } = splitValidation(data, validation, rng, (v) => hooks.check(v, 'validation data'));
  const nTrain = trainIdx.length;
  if (nTrain < 1) throw new RangeError('train: no training rows');
  const checkpoint = options.checkpoint;
  // A model's own random state (the MLP's dropout masks) is part of a checkpoint only through hooks.state.
  if (checkpoint && hooks.onStart && !hooks.state)
    throw new TypeError('train: checkpoints are not supported for this model (it keeps random state of its own)');
  hooks.onStart?.(rng);

  const vars = model.trainableVariables();
  const order = Int32Array.from(trainIdx);
  const cols = data.cols;
  const labels = data.y;
  const cap = Math.min(batchSize, nTrain);
  const xBuf = new Float32Array(cap * cols);
  const yBuf = labels ? new Int32Array(cap) : null;

  const monitor = earlyStopping?.monitor ?? 'valLoss';
  const tracker = BestEpochTracker.fromOptions(earlyStopping, monitor === 'valAccuracy');
  let stoppedEarly = false;
  /** Early stopping ended the training (at the last epoch too, where stoppedEarly stays false). */
  let stopped = false;
  const logs: FitEpochLog[] = [];
  let firstEpoch = 1;
  let priorSeconds = 0;
  let priorCpuSeconds = 0;
  const fingerprint = checkpoint
    ? JSON.stringify({
        data: dataFingerprint(data.x, data.y),
        validation: val && val.data !== data ? dataFingerprint(val.data.x, val.data.y) : null,
        rows: nTrain,
        valRows: val ? val.idx.length : 0,
        batchSize,
        seed,
        shapes: vars.map((v) => v.shape),
      })
    : '';

  try {
    const saved = checkpoint ? await checkpoint.load() : null;
    if (saved) {
      if (saved.fingerprint !== fingerprint)
        throw new CheckpointError(
          checkpoint!.location,
          'it belongs to another training (other data, split, batch size, seed or model shape)',
        );
      resumeFrom(saved, checkpoint!.location, model, tracker, schedule, rng, order, logs);
      if (hooks.state) {
        if (saved.extra === undefined)
          throw new CheckpointError(checkpoint!.location, "it lacks the model's own training state");
        hooks.state.set(saved.extra);
      }
      await restoreOptimizer(
        optimizer,
        saved.optimizer,
        vars.map((v) => v.shape),
      );
      // A training that early stopping ended is over: its state gives the result at once.
      firstEpoch = saved.stopped ? Number.POSITIVE_INFINITY : saved.epoch + 1;
      stopped = saved.stopped;
      stoppedEarly = saved.stoppedEarly;
      priorSeconds = saved.seconds;
      priorCpuSeconds = saved.cpuSeconds;
    }
    const snapshot = async (epoch: number): Promise<FitState> => ({
      epoch,
      fingerprint,
      stopped,
      stoppedEarly,
      seconds: priorSeconds + (performance.now() - start) / 1000,
      cpuSeconds: priorCpuSeconds + cpuSince(),
      rng: rng.getState(),
      order: Int32Array.from(order),
      weights: model.getWeights().map((w) => Float32Array.from(w.dataSync())),
      optimizer: await captureOptimizer(optimizer),
      tracker: tracker.getState(),
      schedule: schedule ? schedule.getState() : null,
      logs: logs.map((l) => ({ ...l })),
      ...(hooks.state ? { extra: hooks.state.get() } : {}),
    });
    let lastSave = performance.now();
    let trained = false;
    for (let epoch = firstEpoch; epoch <= epochs; epoch++) {
      trained = true;
      rng.shuffle(order);
      const t0 = performance.now();
      let lossSum = 0;
      let correct = 0;
      let counted = false;
      let lastYield = performance.now();
      for (let b0 = 0; b0 < nTrain; b0 += cap) {
        // An epoch can run for many minutes (the rVAE's coordinate decoder on a shared core): let
        // signals, timers and IPC (a worker told to stop) run about once a second within it too.
        if (performance.now() - lastYield > 1000) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
        signal?.throwIfAborted();
        const bs = Math.min(cap, nTrain - b0);
        for (let i = 0; i < bs; i++) {
          const r = order[b0 + i];
          xBuf.set(data.x.subarray(r * cols, (r + 1) * cols), i * cols);
          if (yBuf) yBuf[i] = labels![r];
        }
        const stats = tf.tidy(() => {
          const xb = tf.tensor2d(bs === cap ? xBuf : xBuf.subarray(0, bs * cols), [bs, cols]);
          const yb = yBuf ? tf.tensor1d(bs === cap ? yBuf : yBuf.subarray(0, bs), 'int32') : null;
          const kept: { correct?: tf.Scalar } = {};
          const { value, grads } = tf.variableGrads(() => {
            const out = model.batchLoss(xb, yb);
            // Kept out of the gradient scope's cleanup, so freed below.
            if (out.correct) kept.correct = tf.keep(out.correct);
            return out.loss;
          }, vars);
          optimizer.applyGradients(grads);
          if (!kept.correct) return value;
          const both = tf.stack([value, kept.correct]);
          kept.correct.dispose();
          return both;
        });
        const s = stats.dataSync();
        stats.dispose();
        lossSum += s[0] * bs;
        if (s.length > 1) {
          correct += s[1];
          counted = true;
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      const log: FitEpochLog = {
        epoch,
        loss: lossSum / nTrain,
        ...(counted ? { accuracy: correct / nTrain } : {}),
        seconds,
        samplesPerSecond: nTrain / seconds,
        ...(schedule ? { learningRate: schedule.learningRate } : {}),
      };
      if (val) {
        const ev = model.evaluate(val.data, val.idx, evalBatchSize);
        log.valLoss = ev.loss;
        if (ev.accuracy !== undefined) log.valAccuracy = ev.accuracy;
        tracker.update(epoch, monitor === 'valLoss' ? ev.loss : (ev.accuracy ?? Number.NaN), () => model.getWeights());
        if (schedule) setOptimizerLearningRate(optimizer, schedule.update(ev.loss));
      }
      logs.push(log);
      if (onEpoch) await onEpoch(log);
      // Let timers, signals and progress output run between epochs.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // As Keras's EarlyStopping: stop after `patience` epochs in a row without improvement.
      if (earlyStopping && tracker.exhausted(earlyStopping.patience)) {
        stoppedEarly = epoch < epochs;
        stopped = true;
        break;
      }
      if (checkpoint && epoch < epochs && performance.now() - lastSave >= 1000 * checkpoint.everySeconds) {
        await checkpoint.save(await snapshot(epoch));
        lastSave = performance.now();
      }
    }
    // The end state too (before the best weights are put back), so that a rerun of a finished
    // training returns its result without training, and one with more epochs continues from it.
    if (checkpoint && trained) await checkpoint.save(await snapshot(logs.length));
    const restored = tracker.restore(logs.length, (w) => model.setWeights(w));
    return {
      epochs: logs,
      bestEpoch: tracker.bestEpoch,
      stoppedEarly,
      restoredBestWeights: restored,
      backend: tf.getBackend(),
      trainRows: nTrain,
      valRows: val ? val.idx.length : 0,
      batchSize,
      seed,
      seconds: priorSeconds + (performance.now() - start) / 1000,
      cpuSeconds: priorCpuSeconds + cpuSince(),
      ...(schedule ? { finalLearningRate: schedule.learningRate } : {}),
    };
  } finally {
    tracker.dispose();
  }
}

/** Puts a checkpoint's weights, tracker, schedule, generator, row order and logs back (Adam: restoreOptimizer). */
function resumeFrom<D extends FitRows>(
  saved: FitState,
  location: string,
  model: TrainableModel<D>,
  tracker: BestEpochTracker,
  schedule: PlateauSchedule | null,
  rng: Rng,
  order: Int32Array,
  logs: FitEpochLog[],
): void {
  const shapes = model.getWeights().map((w) => w.shape);
  if (saved.weights.length !== shapes.length || saved.order.length !== order.length)
    throw new CheckpointError(location, 'its weights or rows do not match this model and data');
  const ws = saved.weights.map((w, i) => tf.tensor(w, shapes[i]));
  model.setWeights(ws);
  tf.dispose(ws);
  tracker.setState(saved.tracker, shapes);
  if (schedule && saved.schedule) schedule.setState(saved.schedule);
  rng.setState(saved.rng);
  order.set(saved.order);
  logs.push(...(saved.logs as FitEpochLog[]));
}

/** What {@link fitSoftmaxModel} needs from a classifier. */
export interface SoftmaxModel {
  /** Number of classes (width of the logits). */
  readonly classes: number;
  /** Features per row (the width of {@link LabeledData.cols}). */
  readonly inputCols: number;
  /** Logits of a batch of rows `x` ([rows, inputCols]); `training` enables dropout and the like. */
  logits(x: tf.Tensor2D, training: boolean): tf.Tensor2D;
  /** The trainable variables. */
  trainableVariables(): tf.Variable[];
  /** The current weights (the tracker copies them). */
  getWeights(): tf.Tensor[];
  setWeights(w: tf.Tensor[]): void;
}

/**
 * Trains the classifier `model` with `optimizer` on the sparse categorical cross-entropy through
 * {@link fitModel}; the epoch logs carry the training and validation accuracy.
 */
export async function fitSoftmaxModel(
  model: SoftmaxModel,
  optimizer: tf.Optimizer,
  data: LabeledData,
  options: TrainOptions & { seed: number; batchSize: number },
  hooks: FitHooks,
): Promise<TrainHistory> {
  const { onEpoch } = options;
  const trainable: TrainableModel<LabeledData> = {
    trainableVariables: () => model.trainableVariables(),
    getWeights: () => model.getWeights(),
    setWeights: (w) => model.setWeights(w),
    batchLoss: (x, y) => {
      const logits = model.logits(x, true);
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y!), 'float32')) as tf.Scalar;
      return { loss: tf.losses.softmaxCrossEntropy(tf.oneHot(y!, model.classes), logits) as tf.Scalar, correct };
    },
    evaluate: (d, idx, batchSize) => evaluateSoftmaxModel(model, d, idx, batchSize),
  };
  // Every batch reports its number correct, so every log has an accuracy.
  const history = await fitModel(
    trainable,
    optimizer,
    data,
    { ...options, onEpoch: onEpoch && ((log) => onEpoch(log as EpochLog)) },
    hooks,
  );
  return history as TrainHistory;
}

/** Mean loss and accuracy over the rows `idx` of `data` (inference mode). */
export function evaluateSoftmaxModel(
  model: SoftmaxModel,
  data: LabeledData,
  idx: Int32Array,
  batchSize: number,
): { loss: number; accuracy: number } {
  const cols = data.cols;
  const n = idx.length;
  if (n === 0) return { loss: Number.NaN, accuracy: Number.NaN };
  const cap = Math.min(batchSize, n);
  const xBuf = new Float32Array(cap * cols);
  const yBuf = new Int32Array(cap);
  let lossSum = 0;
  let correct = 0;
  for (let b0 = 0; b0 < n; b0 += cap) {
    const bs = Math.min(cap, n - b0);
    for (let i = 0; i < bs; i++) {
      const r = idx[b0 + i];
      xBuf.set(data.x.subarray(r * cols, (r + 1) * cols), i * cols);
      yBuf[i] = data.y[r];
    }
    const s = tf.tidy(() => {
      const xb = tf.tensor2d(xBuf.subarray(0, bs * cols), [bs, cols]);
      const yb = tf.tensor1d(yBuf.subarray(0, bs), 'int32');
      const logits = model.logits(xb, false);
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(yb, model.classes), logits, undefined, 0, tf.Reduction.SUM);
      const ok = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), yb), 'float32'));
      return tf.stack([loss as tf.Scalar, ok]).dataSync();
    });
    lossSum += s[0];
    correct += s[1];
  }
  return { loss: lossSum / n, accuracy: correct / n };
}

/** Row indices 0..rows-1 of `data`, for {@link evaluateSoftmaxModel} over all rows. */
export function allRows(data: LabeledData): Int32Array {
  return iota(data.rows);
}

/** Class probabilities of every row of `x` (row-major, `inputCols` columns): rows x classes. */
export function predictSoftmaxModel(model: SoftmaxModel, x: Float32Array, batchSize: number): Float32Array {
  const cols = model.inputCols;
  const k = model.classes;
  if (!(x instanceof Float32Array)) throw new TypeError('predict: x must be a Float32Array');
  if (x.length % cols !== 0)
    throw new RangeError(`predict: x has ${x.length} values, not a multiple of the ${cols} features`);
  if (!isPositiveInt(batchSize))
    throw new RangeError(`predict: batchSize must be a positive integer, got ${String(batchSize)}`);
  const rows = x.length / cols;
  const out = new Float32Array(rows * k);
  for (let b0 = 0; b0 < rows; b0 += batchSize) {
    const bs = Math.min(batchSize, rows - b0);
    const p = tf.tidy(() =>
      tf.softmax(model.logits(tf.tensor2d(x.subarray(b0 * cols, (b0 + bs) * cols), [bs, cols]), false)).dataSync(),
    );
    out.set(p, b0 * k);
  }
  return out;
}

/** The most probable class of each row of a rows x `classes` probability matrix (ties: lowest class). */
export function argmaxRows(p: Float32Array, classes: number): Int32Array {
  const rows = p.length / classes;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (p[r * classes + c] > p[r * classes + best]) best = c;
    out[r] = best;
  }
  return out;
}
