/**
 * Linear and one-hidden-layer probes of frozen codes (the equivariant-autoencoder paper's
 * "multinomial logistic regression" and "fully-connected neural network", §5.1):
 *
 *     logistic  p(y | z) = softmax(W z + b)
 *     mlp       p(y | z) = softmax(W2 ReLU(W1 z + b1) + b2),   256 hidden units
 *
 * on standardised codes z (standardize.ts, fitted on the training codes), trained with Adam
 * (lr 1e-3, batch 128) on the cross-entropy, with early stopping on the validation loss of a
 * seeded 10 % split of the training codes (best weights restored), then scored by accuracy on the
 * test codes. Built on the project's softmax classifier (models/mlp.ts, dropout 0); every random
 * step follows `seed`.
 */
import type { CodeMatrix } from '../layers/mean-pooling';
import { MlpClassifier } from '../models/mlp';
import { applyStandardizer, checkCodeMatrix, fitStandardizer } from './standardize';

/** Which probe. */
export type ProbeKind = 'logistic' | 'mlp';
export const PROBE_KINDS: readonly ProbeKind[] = Object.freeze(['logistic', 'mlp']);

/** Options of {@link probeAccuracy}. */
export interface ProbeOptions {
  kind: ProbeKind;
  /** Seed of the weights, the validation split and the shuffles. */
  seed: number;
  /** Hidden units of the mlp. Default 256. */
  hidden?: number;
  /** Fraction of the training codes held out for early stopping. Default 0.1. */
  validation?: number;
  /** Maximum epochs. Default 200. */
  epochs?: number;
  /** Epochs without a lower validation loss before stopping. Default 10. */
  patience?: number;
  /** Default 128. */
  batchSize?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Number of classes. Default: 1 + the largest label. */
  classes?: number;
}

/** What {@link probeAccuracy} measured. */
export interface ProbeResult {
  kind: ProbeKind;
  /** Fraction of the test codes classified right. */
  accuracy: number;
  /** Predicted class of every test code. */
  predictions: Int32Array;
  /** Accuracy on the held-out validation codes at the restored epoch. */
  valAccuracy: number | null;
  trainRows: number;
  valRows: number;
  testRows: number;
  epochs: number;
  bestEpoch: number | null;
  seconds: number;
}

function labelsOf(labels: ArrayLike<number>, rows: number, what: string): Int32Array {
  if (!labels || labels.length !== rows)
    throw new RangeError(`${what}: ${labels?.length ?? 0} labels for ${rows} codes`);
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = labels[i]!;
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`${what}: label ${i} is ${v}; labels must be whole numbers >= 0`);
    out[i] = v;
  }
  return out;
}

/**
 * Trains the probe on (trainCodes, trainLabels) and returns its accuracy on (testCodes,
 * testLabels). Runs on the active TensorFlow.js backend.
 */
export async function probeAccuracy(
  trainCodes: CodeMatrix,
  trainLabels: ArrayLike<number>,
  testCodes: CodeMatrix,
  testLabels: ArrayLike<number>,
  options: ProbeOptions,
): Promise<ProbeResult> {
  const t0 = performance.now();
  if (!options || !PROBE_KINDS.includes(options.kind))
    throw new RangeError(`probeAccuracy: unknown kind '${String(options?.kind)}'; known: ${PROBE_KINDS.join(', ')}`);
  if (!Number.isSafeInteger(options.seed))
    throw new RangeError(`probeAccuracy: seed must be a safe integer, got ${String(options.seed)}`);
  checkCodeMatrix(trainCodes, 'probeAccuracy: train codes');
  checkCodeMatrix(testCodes, 'probeAccuracy: test codes');
  if (testCodes.cols !== trainCodes.cols)
    throw new RangeError(`probeAccuracy: test codes have ${testCodes.cols} columns, train codes ${trainCodes.cols}`);
  const yTrain = labelsOf(trainLabels, trainCodes.rows, 'probeAccuracy: train');
  const yTest = labelsOf(testLabels, testCodes.rows, 'probeAccuracy: test');
  let maxLabel = 0;
  for (const y of [yTrain, yTest]) for (let i = 0; i < y.length; i++) maxLabel = Math.max(maxLabel, y[i]!);
  const classes = options.classes ?? Math.max(2, maxLabel + 1);
  if (!Number.isInteger(classes) || classes < 2 || classes <= maxLabel) {
    throw new RangeError(
      `probeAccuracy: classes must be an integer >= 2 above every label (largest ${maxLabel}), got ${String(classes)}`,
    );
  }
  const hidden = options.hidden ?? 256;
  const standardizer = fitStandardizer(trainCodes);
  const train = applyStandardizer(standardizer, trainCodes);
  const test = applyStandardizer(standardizer, testCodes);
  const model = MlpClassifier.create({
    inputDim: train.cols,
    hidden: options.kind === 'mlp' ? [hidden] : [],
    dropout: 0,
    classes,
    learningRate: options.learningRate ?? 1e-3,
    seed: options.seed,
  });
  try {
    const history = await model.train(
      { x: train.data, y: yTrain, rows: train.rows, cols: train.cols },
      {
        epochs: options.epochs ?? 200,
        batchSize: options.batchSize ?? 128,
        validation: options.validation ?? 0.1,
        earlyStopping: { patience: options.patience ?? 10 },
        seed: options.seed,
      },
    );
    const predictions = test.rows > 0 ? model.predictClasses(test.data) : new Int32Array(0);
    let right = 0;
    for (let i = 0; i < predictions.length; i++) if (predictions[i] === yTest[i]) right++;
    const best = history.bestEpoch === null ? null : (history.epochs[history.bestEpoch - 1]?.valAccuracy ?? null);
    return {
      kind: options.kind,
      accuracy: test.rows > 0 ? right / test.rows : Number.NaN,
      predictions,
      valAccuracy: best,
      trainRows: history.trainRows,
      valRows: history.valRows,
      testRows: test.rows,
      epochs: history.epochs.length,
      bestEpoch: history.bestEpoch,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    model.dispose();
  }
}
