/**
 * k-nearest-neighbour classification of frozen codes (the rVAE's and the invariance benchmark's
 * "kNN digit accuracy"; k = 10, 5-fold cross-validation as in docs/RVAE.md, "Evaluation").
 *
 * Exact search in float64 (squared Euclidean distance): the training points sorted by their first
 * coordinate, each query scanning outwards from its place until the first coordinate alone rules
 * out the rest, with an early exit from a distance once its partial sum exceeds the current k-th.
 * Distance ties keep the lower training index; the vote is a plain majority and a tied vote goes to
 * the smallest label (as scikit-learn's KNeighborsClassifier). The folds come
 * from a seeded shuffle (scikit-learn's KFold with shuffle): every point is predicted once, by a
 * model that did not see it.
 *
 * (ml-knn was measured and not used: its k-d tree also splits on the label column and never prunes,
 * so every query visits every point, ~600 ns per pair here.)
 */
import { Rng } from '../../util/random';
import type { PointMatrix } from '../metrics/clustering';

/** Options of {@link knnCrossValidation}. */
export interface KnnOptions {
  /** Neighbours. Default 10. */
  k?: number;
  /** Cross-validation folds. Default 5. */
  folds?: number;
  /** Seed of the fold assignment. Required: every random step takes a seed. */
  seed: number;
}

/** Result of {@link knnCrossValidation}. */
export interface KnnResult {
  /** Fraction of points whose held-out prediction is their label. */
  accuracy: number;
  /** Accuracy within each fold. */
  foldAccuracies: number[];
  /** The held-out prediction of every point. */
  predictions: Int32Array;
  k: number;
  folds: number;
}

function check(points: PointMatrix, labels: Int32Array, what: string): void {
  if (
    points === null ||
    typeof points !== 'object' ||
    !(points.data instanceof Float32Array || points.data instanceof Float64Array)
  ) {
    throw new TypeError(`${what}: points must be a matrix { data: Float32Array | Float64Array, rows, cols }`);
  }
  if (
    !Number.isInteger(points.rows) ||
    !Number.isInteger(points.cols) ||
    points.cols < 1 ||
    points.rows < 0 ||
    points.data.length !== points.rows * points.cols
  ) {
    throw new RangeError(
      `${what}: data has ${points.data.length} values for ${String(points.rows)} x ${String(points.cols)}`,
    );
  }
  const bad = points.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new RangeError(`${what}: value ${points.data[bad]} of point ${Math.floor(bad / points.cols)} is not finite`);
  if (!(labels instanceof Int32Array)) throw new TypeError(`${what}: labels must be an Int32Array`);
  if (labels.length !== points.rows) throw new RangeError(`${what}: ${labels.length} labels for ${points.rows} points`);
}

/**
 * The predicted label of every query point from its k nearest training points (rows `trainRows` of
 * `train` when given, else all).
 */
export function knnPredict(
  train: PointMatrix,
  labels: Int32Array,
  queries: PointMatrix,
  k = 10,
  trainRows?: Int32Array,
): Int32Array {
  check(train, labels, 'knnPredict: training set');
  check(queries, new Int32Array(queries.rows), 'knnPredict: queries');
  if (queries.cols !== train.cols)
    throw new RangeError(`knnPredict: queries have ${queries.cols} columns, the training points ${train.cols}`);
  const rows = trainRows ?? Int32Array.from({ length: train.rows }, (_, i) => i);
  if (!Number.isInteger(k) || k < 1 || k > rows.length)
    throw new RangeError(
      `knnPredict: k must be an integer in [1, ${rows.length}] (the training points), got ${String(k)}`,
    );
  const d = train.cols;
  // The training rows sorted by their first coordinate: a query scans outwards from its own place
  // in that order and stops on each side once the first coordinate alone is farther than its k-th
  // nearest point (an exact search; for 2-D codes it visits a small fraction of the points).
  const order = Int32Array.from(rows).sort((a, b) => train.data[a * d] - train.data[b * d] || a - b);
  const t = new Float64Array(order.length * d);
  order.forEach((r, i) => {
    for (let m = 0; m < d; m++) t[i * d + m] = train.data[r * d + m];
  });
  const q = queries.data;
  const dist = new Float64Array(k);
  const near = new Int32Array(k);
  const out = new Int32Array(queries.rows);
  const votes = new Map<number, number>();
  // Offers sorted training point i (original row order[i]) to the k nearest; ties keep the lower row.
  const offer = (qo: number, i: number): void => {
    const r = order[i];
    const to = i * d;
    const worst = dist[k - 1];
    let s = 0;
    for (let m = 0; m < d; m++) {
      const diff = t[to + m] - q[qo + m];
      s += diff * diff;
      if (s > worst) return;
    }
    if (s === worst && r > near[k - 1]) return;
    let at = k - 1;
    while (at > 0 && (dist[at - 1] > s || (dist[at - 1] === s && near[at - 1] > r))) {
      dist[at] = dist[at - 1];
      near[at] = near[at - 1];
      at--;
    }
    dist[at] = s;
    near[at] = r;
  };
  for (let qi = 0; qi < queries.rows; qi++) {
    dist.fill(Infinity);
    near.fill(2147483647);
    const qo = qi * d;
    const q0 = q[qo];
    // First sorted position with first coordinate >= the query's.
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid * d] < q0) lo = mid + 1;
      else hi = mid;
    }
    let right = lo;
    let left = lo - 1;
    while (right < order.length || left >= 0) {
      const dr = right < order.length ? (t[right * d] - q0) ** 2 : Infinity;
      const dl = left >= 0 ? (q0 - t[left * d]) ** 2 : Infinity;
      if (Math.min(dr, dl) > dist[k - 1]) break;
      if (dr <= dl) offer(qo, right++);
      else offer(qo, left--);
    }
    votes.clear();
    for (let j = 0; j < k; j++) {
      const l = labels[near[j]];
      votes.set(l, (votes.get(l) ?? 0) + 1);
    }
    let best = 0;
    let bestLabel = 0;
    for (const [l, c] of votes) {
      if (c > best || (c === best && l < bestLabel)) {
        best = c;
        bestLabel = l;
      }
    }
    out[qi] = bestLabel;
  }
  return out;
}

/** k-fold cross-validated kNN accuracy of `labels` from `points` (see the file comment). */
export function knnCrossValidation(points: PointMatrix, labels: Int32Array, options: KnnOptions): KnnResult {
  check(points, labels, 'knnCrossValidation');
  const { k = 10, folds = 5, seed } = options;
  const n = points.rows;
  if (!Number.isInteger(folds) || folds < 2 || folds > n)
    throw new RangeError(
      `knnCrossValidation: folds must be an integer in [2, ${n}] (the points), got ${String(folds)}`,
    );
  if (!Number.isSafeInteger(seed))
    throw new RangeError(`knnCrossValidation: seed must be a safe integer, got ${String(seed)}`);
  const order = new Rng(seed).shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const predictions = new Int32Array(n);
  const foldAccuracies: number[] = [];
  let correct = 0;
  for (let f = 0; f < folds; f++) {
    const lo = Math.floor((f * n) / folds);
    const hi = Math.floor(((f + 1) * n) / folds);
    const test = order.slice(lo, hi);
    const train = Int32Array.from([...order.subarray(0, lo), ...order.subarray(hi)]);
    const q = new Float64Array(test.length * points.cols);
    test.forEach((r, i) => q.set(points.data.subarray(r * points.cols, (r + 1) * points.cols), i * points.cols));
    const pred = knnPredict(points, labels, { data: q, rows: test.length, cols: points.cols }, k, train);
    let ok = 0;
    test.forEach((r, i) => {
      predictions[r] = pred[i];
      if (pred[i] === labels[r]) ok++;
    });
    foldAccuracies.push(ok / test.length);
    correct += ok;
  }
  return { accuracy: correct / n, foldAccuracies, predictions, k, folds };
}
