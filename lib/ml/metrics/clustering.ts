/**
 * How well a clustering of codes recovers known classes (the rVAE's and the invariance benchmark's
 * "k-means digit accuracy"):
 *
 * - k-means (ml-kmeans, k-means++ start, seeded; the best of several restarts by inertia, the sum
 *   of squared distances to the centres);
 * - accuracy under the best one-to-one matching of clusters to classes (the Hungarian algorithm,
 *   `munkres`, on the contingency table; with more clusters than classes the unmatched clusters
 *   count as wrong);
 * - normalised mutual information, I(A; B) / ((H(A) + H(B)) / 2) (the arithmetic normalisation,
 *   scikit-learn's default), natural logarithms;
 * - adjusted Rand index (Hubert & Arabie): (RI - E[RI]) / (max RI - E[RI]) from pair counts.
 *
 * Perfect agreement up to renaming gives accuracy = NMI = ARI = 1; independent labels give NMI and
 * ARI near 0 (test/rvae-metrics.test.ts).
 */
import { kmeans } from 'ml-kmeans';

import { Rng } from '../../util/random';

// `munkres` is published as an ES module with a CommonJS build (its `require` export), which
// TypeScript's CommonJS output cannot import statically; require the CommonJS build, typed from the module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { munkres } = require('munkres') as typeof import('munkres', { with: { 'resolution-mode': 'import' } });

/** Points as a row-major matrix (rows = points). */
export interface PointMatrix {
  data: Float32Array | Float64Array;
  rows: number;
  cols: number;
}

/** Options of {@link kmeansClusters}. */
export interface KMeansOptions {
  /** Number of clusters. */
  k: number;
  /** Seed of the k-means++ starts. Required: every random step takes a seed. */
  seed: number;
  /** Independent starts; the one with the lowest inertia is kept. Default 10 (scikit-learn's n_init). */
  restarts?: number;
  /** Default 300 (scikit-learn's max_iter). */
  maxIterations?: number;
}

function checkPoints(p: PointMatrix, what: string): void {
  if (p === null || typeof p !== 'object' || !(p.data instanceof Float32Array || p.data instanceof Float64Array)) {
    throw new TypeError(`${what} must be a matrix { data: Float32Array | Float64Array, rows, cols }`);
  }
  if (
    !Number.isInteger(p.rows) ||
    !Number.isInteger(p.cols) ||
    p.rows < 1 ||
    p.cols < 1 ||
    p.data.length !== p.rows * p.cols
  ) {
    throw new RangeError(`${what}: data has ${p.data.length} values for ${String(p.rows)} x ${String(p.cols)}`);
  }
  const i = p.data.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) throw new RangeError(`${what}: value ${p.data[i]} of point ${Math.floor(i / p.cols)} is not finite`);
}

function checkLabelPair(a: Int32Array, b: Int32Array): void {
  if (!(a instanceof Int32Array) || !(b instanceof Int32Array))
    throw new TypeError('clustering metrics: labels must be Int32Arrays');
  if (a.length !== b.length)
    throw new RangeError(`clustering metrics: ${a.length} true labels but ${b.length} predicted`);
  if (a.length === 0) throw new RangeError('clustering metrics: no points');
}

/** The k-means cluster (0..k-1) of every point. */
export function kmeansClusters(points: PointMatrix, options: KMeansOptions): Int32Array {
  checkPoints(points, 'kmeans: points');
  const { k, seed, restarts = 10, maxIterations = 300 } = options;
  if (!Number.isInteger(k) || k < 1 || k > points.rows)
    throw new RangeError(
      `kmeans: k must be an integer in [1, ${points.rows}] (the number of points), got ${String(k)}`,
    );
  if (!Number.isSafeInteger(seed)) throw new RangeError(`kmeans: seed must be a safe integer, got ${String(seed)}`);
  if (!Number.isInteger(restarts) || restarts < 1)
    throw new RangeError(`kmeans: restarts must be a positive integer, got ${String(restarts)}`);
  if (!Number.isInteger(maxIterations) || maxIterations < 1)
    throw new RangeError(`kmeans: maxIterations must be a positive integer, got ${String(maxIterations)}`);
  const rows: number[][] = [];
  for (let i = 0; i < points.rows; i++)
    rows.push(Array.from(points.data.subarray(i * points.cols, (i + 1) * points.cols)));
  const seeds = new Rng(seed);
  let best: Int32Array | null = null;
  let bestInertia = Infinity;
  for (let r = 0; r < restarts; r++) {
    const result = kmeans(rows, k, { initialization: 'kmeans++', seed: seeds.nextUint32(), maxIterations });
    let inertia = 0;
    for (let i = 0; i < rows.length; i++) {
      const c = result.centroids[result.clusters[i]!]!;
      const p = rows[i]!;
      for (let d = 0; d < p.length; d++) inertia += (p[d]! - c[d]!) ** 2;
    }
    if (inertia < bestInertia) {
      bestInertia = inertia;
      best = Int32Array.from(result.clusters);
    }
  }
  return best!;
}

/** Contingency table of two labelings: counts[i][j] = points with the i-th value of `a` and the j-th of `b`. */
export function contingencyTable(
  a: Int32Array,
  b: Int32Array,
): { counts: number[][]; aValues: number[]; bValues: number[] } {
  checkLabelPair(a, b);
  const aValues = [...new Set(a)].sort((x, y) => x - y);
  const bValues = [...new Set(b)].sort((x, y) => x - y);
  const ai = new Map(aValues.map((v, i) => [v, i]));
  const bi = new Map(bValues.map((v, i) => [v, i]));
  const counts = aValues.map(() => new Array<number>(bValues.length).fill(0));
  for (let i = 0; i < a.length; i++) counts[ai.get(a[i])!]![bi.get(b[i])!]!++;
  return { counts, aValues, bValues };
}

/** Fraction of points whose cluster is matched to their class by the best one-to-one matching. */
export function matchedAccuracy(truth: Int32Array, clusters: Int32Array): number {
  const { counts } = contingencyTable(truth, clusters);
  let max = 0;
  for (const row of counts) for (const c of row) max = Math.max(max, c);
  // munkres minimises cost: maximise matched counts.
  const pairs = munkres(counts.map((row) => row.map((c) => max - c)));
  let matched = 0;
  for (const [i, j] of pairs) matched += counts[i]![j]!;
  return matched / truth.length;
}

function entropy(counts: number[], n: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}

/** Normalised mutual information with the arithmetic-mean normalisation (1 when both labelings have one value). */
export function normalizedMutualInformation(a: Int32Array, b: Int32Array): number {
  const { counts } = contingencyTable(a, b);
  const n = a.length;
  const rowSums = counts.map((r) => r.reduce((s, c) => s + c, 0));
  const colSums = counts[0]!.map((_, j) => counts.reduce((s, r) => s + r[j]!, 0));
  const ha = entropy(rowSums, n);
  const hb = entropy(colSums, n);
  if (ha === 0 && hb === 0) return 1;
  let mi = 0;
  counts.forEach((row, i) =>
    row.forEach((c, j) => {
      if (c > 0) mi += (c / n) * Math.log((c * n) / (rowSums[i]! * colSums[j]!));
    }),
  );
  const denom = (ha + hb) / 2;
  return denom > 0 ? Math.max(0, mi / denom) : 0;
}

const pairs2 = (m: number): number => (m * (m - 1)) / 2;

/** Adjusted Rand index (1 for identical partitions up to renaming, about 0 for independent ones). */
export function adjustedRandIndex(a: Int32Array, b: Int32Array): number {
  const { counts } = contingencyTable(a, b);
  const n = a.length;
  let sumCells = 0;
  for (const row of counts) for (const c of row) sumCells += pairs2(c);
  const sumRows = counts.reduce((s, r) => s + pairs2(r.reduce((t, c) => t + c, 0)), 0);
  const sumCols = counts[0]!.reduce((s, _, j) => s + pairs2(counts.reduce((t, r) => t + r[j]!, 0)), 0);
  const expected = (sumRows * sumCols) / pairs2(n);
  const maxIndex = (sumRows + sumCols) / 2;
  // Both partitions trivial (one cluster each, or all singletons): identical, so 1.
  if (maxIndex === expected) return 1;
  return (sumCells - expected) / (maxIndex - expected);
}

/** Accuracy (matched), NMI and ARI of `clusters` against `truth`. */
export interface ClusteringScores {
  accuracy: number;
  nmi: number;
  ari: number;
}

export function clusteringScores(truth: Int32Array, clusters: Int32Array): ClusteringScores {
  return {
    accuracy: matchedAccuracy(truth, clusters),
    nmi: normalizedMutualInformation(truth, clusters),
    ari: adjustedRandIndex(truth, clusters),
  };
}

/** k-means on `points` (k defaults to the number of classes), scored against `labels`. */
export function kmeansScores(
  points: PointMatrix,
  labels: Int32Array,
  options: Omit<KMeansOptions, 'k'> & { k?: number },
): ClusteringScores & { clusters: Int32Array } {
  if (!(labels instanceof Int32Array) || labels.length !== points.rows) {
    throw new RangeError(
      `kmeansScores: need one Int32Array label per point (${points.rows}), got ${labels instanceof Int32Array ? labels.length : typeof labels}`,
    );
  }
  const k = options.k ?? new Set(labels).size;
  const clusters = kmeansClusters(points, { ...options, k });
  return { ...clusteringScores(labels, clusters), clusters };
}
