/**
 * Classification metrics with scikit-learn's semantics (docs/PAPER-FACTS.md §4: the paper's recall equals
 * its accuracy, so its precision / recall / F1 are support-weighted averages):
 *
 * - accuracy: `accuracy_score(y_true, y_pred)`;
 * - precision, recall, F1: `precision_recall_fscore_support(y_true, y_pred, average='weighted',
 *   zero_division=0)`: per-class values (a class with no predictions has precision 0, one with
 *   no true rows recall 0), averaged with weights = the number of true rows of each class;
 *   F1 per class is 2 tp / (2 tp + fp + fn), 0 when that is 0/0;
 * - confusion matrix: `confusion_matrix(y_true, y_pred)` (rows = true class, columns = predicted)
 *   and its row-normalised form `normalize='true'` (each row divided by its sum; a class with no
 *   true rows gives a row of zeros).
 *
 * Classes are the integers 0..classes-1 (as in `labels=range(classes)`); classes that occur in
 * neither array have zero weight and change nothing.
 */

/** Integer class labels. */
export type ClassLabels =
  Int32Array | Uint8Array | Uint16Array | Int16Array | Int8Array | Uint32Array | readonly number[];

/** Per-class precision, recall, F1 and support (number of true rows). */
export interface PerClassMetrics {
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
}

/** Result of {@link classificationMetrics}. */
export interface ClassificationMetrics {
  /** Number of rows compared. */
  n: number;
  classes: number;
  accuracy: number;
  /** Support-weighted precision (scikit-learn average='weighted', zero_division=0). */
  precision: number;
  /** Support-weighted recall; equals accuracy whenever every row's true class is in 0..classes-1. */
  recall: number;
  /** Support-weighted F1. */
  f1: number;
  perClass: PerClassMetrics;
  /** confusion[t][p] = number of rows of true class t predicted as p. */
  confusion: number[][];
  /** confusion with each row divided by its sum (rows of absent classes all 0). */
  confusionNormalized: number[][];
}

function checkLabels(name: string, y: ClassLabels, classes: number): void {
  for (let i = 0; i < y.length; i++) {
    const c = y[i];
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new RangeError(`${name}[${i}] = ${String(c)} is not a class in 0..${classes - 1}`);
    }
  }
}

function checkPair(yTrue: ClassLabels, yPred: ClassLabels, classes: number): void {
  if (!Number.isInteger(classes) || classes < 1)
    throw new RangeError(`classes must be a positive integer, got ${String(classes)}`);
  if (yTrue.length !== yPred.length) {
    throw new RangeError(`yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  }
  checkLabels('yTrue', yTrue, classes);
  checkLabels('yPred', yPred, classes);
}

/** Fraction of rows whose predicted class equals the true class (NaN for no rows). */
export function accuracy(yTrue: ClassLabels, yPred: ClassLabels): number {
  if (yTrue.length !== yPred.length)
    throw new RangeError(`yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  if (yTrue.length === 0) return Number.NaN;
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return ok / yTrue.length;
}

/** Confusion matrix of counts: m[t][p] = rows with true class t predicted as p. */
export function confusionMatrix(yTrue: ClassLabels, yPred: ClassLabels, classes: number): number[][] {
  checkPair(yTrue, yPred, classes);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

/** Each row divided by its sum (scikit-learn normalize='true'); all-zero rows stay zero. */
export function normalizeRows(m: readonly (readonly number[])[]): number[][] {
  return m.map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (s > 0 ? v / s : 0));
  });
}

/** Per-class precision / recall / F1 / support from a confusion matrix of counts (zero_division=0). */
export function perClassMetrics(confusion: readonly (readonly number[])[]): PerClassMetrics {
  const k = confusion.length;
  const out: PerClassMetrics = { precision: [], recall: [], f1: [], support: [] };
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    let support = 0; // tp + fn
    let predicted = 0; // tp + fp
    for (let j = 0; j < k; j++) {
      support += confusion[c][j];
      predicted += confusion[j][c];
    }
    const fp = predicted - tp;
    const fn = support - tp;
    out.precision.push(predicted > 0 ? tp / predicted : 0);
    out.recall.push(support > 0 ? tp / support : 0);
    const denom = 2 * tp + fp + fn;
    out.f1.push(denom > 0 ? (2 * tp) / denom : 0);
    out.support.push(support);
  }
  return out;
}

/** Support-weighted mean of per-class values (0 when there is no support at all, as zero_division=0). */
function weighted(values: number[], support: number[]): number {
  let s = 0;
  let w = 0;
  for (let c = 0; c < values.length; c++) {
    s += values[c] * support[c];
    w += support[c];
  }
  return w > 0 ? s / w : 0;
}

/**
 * Accuracy, support-weighted precision / recall / F1, per-class values and the confusion matrix
 * (counts and row-normalised) of predicted against true classes 0..classes-1.
 *
 * @throws RangeError if the arrays differ in length or hold a label outside 0..classes-1.
 */
export function classificationMetrics(yTrue: ClassLabels, yPred: ClassLabels, classes: number): ClassificationMetrics {
  const confusion = confusionMatrix(yTrue, yPred, classes);
  const perClass = perClassMetrics(confusion);
  return {
    n: yTrue.length,
    classes,
    accuracy: accuracy(yTrue, yPred),
    precision: weighted(perClass.precision, perClass.support),
    recall: weighted(perClass.recall, perClass.support),
    f1: weighted(perClass.f1, perClass.support),
    perClass,
    confusion,
    confusionNormalized: normalizeRows(confusion),
  };
}
