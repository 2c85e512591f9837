/**
 * What the disentanglement metrics share (docs/CODAE.md, "Metrics"): the checked inputs as
 * float64 columns, discretisation, and entropies and mutual information of discrete columns.
 *
 * - A factor marked discrete keeps its values as classes (its distinct values, in increasing
 *   order); any other column (every code, and the continuous factors) is scaled to [0, 1] by its
 *   minimum and maximum and cut into `bins` equal bins (the review's discretisation, 10 bins by
 *   default). A constant column falls in one bin.
 * - Entropies and mutual information are the plug-in estimates from the counts, in nats.
 */
import { pearson } from './latent-angle';

/** A row-major matrix (rows = samples). */
export interface ScoreMatrix {
  data: Float32Array | Float64Array;
  rows: number;
  cols: number;
}

/** Columns of a matrix as float64 arrays, checked. */
export function columnsOf(m: ScoreMatrix, what: string): Float64Array[] {
  if (m === null || typeof m !== 'object' || !(m.data instanceof Float32Array || m.data instanceof Float64Array)) {
    throw new TypeError(`disentanglementScores: ${what} must be a matrix { data: Float32Array, rows, cols }`);
  }
  if (
    !Number.isInteger(m.rows) ||
    !Number.isInteger(m.cols) ||
    m.rows < 0 ||
    m.cols < 1 ||
    m.data.length !== m.rows * m.cols
  ) {
    throw new RangeError(
      `disentanglementScores: ${what} has ${m.data.length} values for ${String(m.rows)} rows x ${String(m.cols)} columns (rows >= 0 and cols >= 1 are needed)`,
    );
  }
  const cols: Float64Array[] = [];
  for (let j = 0; j < m.cols; j++) {
    const c = new Float64Array(m.rows);
    for (let i = 0; i < m.rows; i++) {
      const v = m.data[i * m.cols + j];
      if (!Number.isFinite(v))
        throw new RangeError(`disentanglementScores: ${what} value ${v} at row ${i}, column ${j} is not finite`);
      c[i] = v;
    }
    cols.push(c);
  }
  return cols;
}

/** A discretised column: class index per row and the number of classes. */
export interface Discrete {
  classes: Int32Array;
  count: number;
}

/** The distinct values of a column as classes 0..k-1 (increasing values). */
export function asClasses(x: Float64Array): Discrete {
  const values = [...new Set(x)].sort((a, b) => a - b);
  const index = new Map(values.map((v, k) => [v, k]));
  return { classes: Int32Array.from(x, (v) => index.get(v)!), count: values.length };
}

/** Equal-width bins of a column scaled to [0, 1] by its range. */
export function asBins(x: Float64Array, bins: number): Discrete {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo;
  const classes = new Int32Array(x.length);
  if (span > 0)
    for (let i = 0; i < x.length; i++) classes[i] = Math.min(bins - 1, Math.floor(((x[i] - lo) / span) * bins));
  return { classes, count: span > 0 ? bins : 1 };
}

/** Entropy (nats) of a discrete column. */
export function entropy(d: Discrete): number {
  const counts = new Float64Array(d.count);
  for (const c of d.classes) counts[c]++;
  const n = d.classes.length;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}

/** Joint entropy H(a, b) and mutual information I(a; b) (nats) of two discrete columns. */
export function jointInformation(a: Discrete, b: Discrete): { joint: number; mutual: number } {
  const n = a.classes.length;
  const counts = new Float64Array(a.count * b.count);
  for (let i = 0; i < n; i++) counts[a.classes[i] * b.count + b.classes[i]]++;
  let joint = 0;
  for (const c of counts) if (c > 0) joint -= (c / n) * Math.log(c / n);
  return { joint, mutual: Math.max(0, entropy(a) + entropy(b) - joint) };
}

/** Pearson correlation of two columns (0 when either is constant): latent-angle.ts's {@link pearson}. */
export function correlation(a: Float64Array, b: Float64Array): number {
  return pearson(a, b);
}

/** The largest and second largest entries of a list, with the index of the largest. */
export function topTwo(values: readonly number[]): { first: number; second: number; index: number } {
  let first = -Infinity;
  let second = -Infinity;
  let index = -1;
  values.forEach((v, i) => {
    if (v > first) {
      second = first;
      first = v;
      index = i;
    } else if (v > second) {
      second = v;
    }
  });
  return { first, second: second === -Infinity ? 0 : second, index };
}

/** Clips to [0, 1] (NaN stays NaN). */
export function unit(x: number): number {
  return Number.isNaN(x) ? x : Math.min(1, Math.max(0, x));
}
