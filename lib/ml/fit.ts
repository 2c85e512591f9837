/**
 * The training loop every soapix classifier shares (the SOAP pixel MLP, the patch CNN): Adam on
 * the softmax cross-entropy over seeded mini-batches of labelled rows, optional validation with
 * early stopping and best-weights restore, per-epoch logs; plus batched evaluation and
 * prediction. A model plugs in through {@link SoftmaxModel}: its variables, how a batch of rows
 * becomes logits, and how to copy / restore its weights.
 */
import * as tf from '@tensorflow/tfjs';

import { Rng } from '../random';
import type { EpochLog, LabeledData, TrainHistory, TrainOptions } from './mlp';
import { BestEpochTracker, checkTrainOptions, iota, isPositiveInt, splitValidation } from './training';

/** What {@link fitSoftmaxModel} needs from a model. */
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

/** Extra hooks of {@link fitSoftmaxModel}. */
export interface FitHooks {
  /** Called once after the validation split, with the run's generator (e.g. to seed dropout masks). */
  onStart?: (rng: Rng) => void;
  /** Checks labelled data against the model (throws with a message naming `what`). */
  check: (data: LabeledData, what: string) => void;
}

/**
 * Trains `model` with `optimizer` on the sparse categorical cross-entropy. Every epoch visits the
 * training rows in a new seeded order, in mini-batches (the last one may be smaller).
 */
export async function fitSoftmaxModel(
  model: SoftmaxModel,
  optimizer: tf.Optimizer,
  data: LabeledData,
  options: TrainOptions & { seed: number; batchSize: number },
  hooks: FitHooks,
): Promise<TrainHistory> {
  hooks.check(data, 'train data');
  const { epochs, batchSize, seed, validation, earlyStopping, onEpoch, evalBatchSize = 4096 } = options;
  checkTrainOptions({ epochs, batchSize, evalBatchSize, seed, validation, earlyStopping });
  const rng = new Rng(seed);
  const start = performance.now();

  const { trainIdx, val } = splitValidation(data, validation, rng, (v) => hooks.check(v, 'validation data'));
  const nTrain = trainIdx.length;
  if (nTrain < 1) throw new RangeError('train: no training rows');
  hooks.onStart?.(rng);

  const vars = model.trainableVariables();
  const order = Int32Array.from(trainIdx);
  const cols = data.cols;
  const cap = Math.min(batchSize, nTrain);
  const xBuf = new Float32Array(cap * cols);
  const yBuf = new Int32Array(cap);

  const monitor = earlyStopping?.monitor ?? 'valLoss';
  const tracker = BestEpochTracker.fromOptions(earlyStopping, monitor === 'valAccuracy');
  let stoppedEarly = false;
  const logs: EpochLog[] = [];

  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      rng.shuffle(order);
      const t0 = performance.now();
      let lossSum = 0;
      let correct = 0;
      for (let b0 = 0; b0 < nTrain; b0 += cap) {
        const bs = Math.min(cap, nTrain - b0);
        for (let i = 0; i < bs; i++) {
          const r = order[b0 + i];
          xBuf.set(data.x.subarray(r * cols, (r + 1) * cols), i * cols);
          yBuf[i] = data.y[r];
        }
        const stats = tf.tidy(() => {
          const xb = tf.tensor2d(bs === cap ? xBuf : xBuf.subarray(0, bs * cols), [bs, cols]);
          const yb = tf.tensor1d(bs === cap ? yBuf : yBuf.subarray(0, bs), 'int32');
          let nCorrect: tf.Scalar | null = null;
          const { value, grads } = tf.variableGrads(() => {
            const logits = model.logits(xb, true);
            nCorrect = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), yb), 'float32'))) as tf.Scalar;
            return tf.losses.softmaxCrossEntropy(tf.oneHot(yb, model.classes), logits) as tf.Scalar;
          }, vars);
          optimizer.applyGradients(grads);
          const kept = nCorrect as unknown as tf.Scalar;
          const out = tf.stack([value, kept]);
          kept.dispose(); // kept out of the gradient scope's cleanup, so freed here
          return out;
        });
        const s = stats.dataSync();
        stats.dispose();
        lossSum += s[0] * bs;
        correct += s[1];
      }
      const seconds = (performance.now() - t0) / 1000;
      const log: EpochLog = { epoch, loss: lossSum / nTrain, accuracy: correct / nTrain, seconds, samplesPerSecond: nTrain / seconds };
      if (val) {
        const ev = evaluateSoftmaxModel(model, val.data, val.idx, evalBatchSize);
        log.valLoss = ev.loss;
        log.valAccuracy = ev.accuracy;
        tracker.update(epoch, monitor === 'valLoss' ? ev.loss : ev.accuracy, () => model.getWeights());
      }
      logs.push(log);
      if (onEpoch) await onEpoch(log);
      // Let timers, signals and progress output run between epochs.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // As Keras's EarlyStopping: stop after `patience` epochs in a row without improvement.
      if (earlyStopping && tracker.exhausted(earlyStopping.patience)) {
        stoppedEarly = epoch < epochs;
        break;
      }
    }
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
      seconds: (performance.now() - start) / 1000,
    };
  } finally {
    tracker.dispose();
  }
}

/** Mean loss and accuracy over the rows `idx` of `data` (inference mode). */
export function evaluateSoftmaxModel(model: SoftmaxModel, data: LabeledData, idx: Int32Array, batchSize: number): { loss: number; accuracy: number } {
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
  if (x.length % cols !== 0) throw new RangeError(`predict: x has ${x.length} values, not a multiple of the ${cols} features`);
  if (!isPositiveInt(batchSize)) throw new RangeError(`predict: batchSize must be a positive integer, got ${String(batchSize)}`);
  const rows = x.length / cols;
  const out = new Float32Array(rows * k);
  for (let b0 = 0; b0 < rows; b0 += batchSize) {
    const bs = Math.min(batchSize, rows - b0);
    const p = tf.tidy(() => tf.softmax(model.logits(tf.tensor2d(x.subarray(b0 * cols, (b0 + bs) * cols), [bs, cols]), false)).dataSync());
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
