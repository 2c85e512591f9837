/**
 * Feature importances of a small random forest of regression trees, for DCI (docs/CODAE.md,
 * "Metrics": Eastwood & Williams fit lasso or random forests; the review allows either; we use a
 * forest because codes may carry a factor nonlinearly, e.g. an angle through its cosine).
 *
 * - Each tree is fitted to a bootstrap sample (seeded) of the rows, with every feature examined at
 *   every split (no feature subsampling, so the importances do not depend on the order of the
 *   features), splits between distinct values only, down to `maxDepth` or pure nodes.
 * - Targets may have several outputs (a categorical factor as one-hot columns): the impurity of a
 *   node is the summed squared deviation of all outputs (for one-hot targets, the Gini impurity
 *   times the node size).
 * - The importance of a feature is the impurity decrease of the splits on it, summed over each
 *   tree, normalised to sum to 1 per tree (zeros if a tree never split), averaged over the trees.
 */
import { Rng } from '../../util/random';

/** Options of {@link forestImportance}. */
export interface ForestOptions {
  /** Trees. Default 10. */
  trees?: number;
  /** Depth limit. Default 8. */
  maxDepth?: number;
  /** Fewest rows of a leaf. Default 2. */
  minLeaf?: number;
  seed?: number;
}

interface Fit {
  x: Float64Array[];
  y: Float64Array[];
  importance: Float64Array;
  maxDepth: number;
  minLeaf: number;
}

/** Sum of squared deviations of the outputs over `rows`. */
function sse(y: Float64Array[], rows: Int32Array): number {
  let total = 0;
  for (const out of y) {
    let s = 0;
    let s2 = 0;
    for (const r of rows) {
      s += out[r];
      s2 += out[r] * out[r];
    }
    total += s2 - (s * s) / rows.length;
  }
  return total;
}

function compareKeys(a: number[], b: number[]): number {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! < b[k]! ? -1 : 1;
  return 0;
}

function grow(f: Fit, rows: Int32Array, depth: number, impurity: number): void {
  const n = rows.length;
  if (depth >= f.maxDepth || n < 2 * f.minLeaf || impurity <= 1e-12) return;
  const m = f.y.length;
  const totals = new Float64Array(m);
  const totals2 = new Float64Array(m);
  for (let o = 0; o < m; o++) {
    for (const r of rows) {
      totals[o] += f.y[o][r];
      totals2[o] += f.y[o][r] * f.y[o][r];
    }
  }
  // Each feature's best split (the first of equal gains in its own sorted order).
  const gains = new Float64Array(f.x.length).fill(-Infinity);
  const cuts = new Float64Array(f.x.length);
  const left = new Float64Array(m);
  const left2 = new Float64Array(m);
  for (let j = 0; j < f.x.length; j++) {
    const xj = f.x[j];
    const sorted = Int32Array.from(rows).sort((a, b) => xj[a] - xj[b]);
    left.fill(0);
    left2.fill(0);
    for (let i = 0; i < n - 1; i++) {
      const r = sorted[i];
      for (let o = 0; o < m; o++) {
        const v = f.y[o][r];
        left[o] += v;
        left2[o] += v * v;
      }
      const nl = i + 1;
      if (nl < f.minLeaf || n - nl < f.minLeaf || xj[sorted[i + 1]] === xj[r]) continue;
      const nr = n - nl;
      let child = 0;
      for (let o = 0; o < m; o++) {
        const rs = totals[o] - left[o];
        child += left2[o] - (left[o] * left[o]) / nl + (totals2[o] - left2[o]) - (rs * rs) / nr;
      }
      const gain = impurity - child;
      if (gain > gains[j]) {
        gains[j] = gain;
        cuts[j] = (xj[r] + xj[sorted[i + 1]]) / 2;
      }
    }
  }
  const top = Math.max(...gains);
  if (!(top > 1e-12 * impurity)) return;
  // Ties (exact up to rounding) are common in small nodes: several features may split off the
  // same rows, or different rows with the same targets. The split taken is the one whose left
  // rows have the smallest key (size, smallest row, sums of rows), a property of the partition and
  // not of the column order; the features that make exactly that partition share the importance.
  let bestKey: number[] | null = null;
  let sharing: number[] = [];
  for (let j = 0; j < f.x.length; j++) {
    if (!(gains[j] >= top * (1 - 1e-12))) continue;
    let size = 0;
    let min = Infinity;
    let sum = 0;
    let sum2 = 0;
    for (const r of rows) {
      if (f.x[j][r] > cuts[j]) continue;
      size++;
      min = Math.min(min, r);
      sum += r;
      sum2 += r * r;
    }
    const key = [size, min, sum, sum2];
    const cmp = bestKey === null ? -1 : compareKeys(key, bestKey);
    if (cmp < 0) {
      bestKey = key;
      sharing = [j];
    } else if (cmp === 0) {
      sharing.push(j);
    }
  }
  const best = { gain: top, feature: sharing[0]!, at: cuts[sharing[0]!] };
  for (const j of sharing) f.importance[j] += top / sharing.length;
  const xj = f.x[best.feature];
  const l = rows.filter((r) => xj[r] <= best.at);
  const r = rows.filter((q) => xj[q] > best.at);
  grow(f, l, depth + 1, sse(f.y, l));
  grow(f, r, depth + 1, sse(f.y, r));
}

/** Importance of each feature column `x` for predicting the output columns `y` (rows aligned). */
export function forestImportance(x: Float64Array[], y: Float64Array[], options: ForestOptions = {}): Float64Array {
  const trees = options.trees ?? 10;
  const n = x[0]?.length ?? 0;
  const rng = new Rng(options.seed ?? 0);
  const mean = new Float64Array(x.length);
  for (let t = 0; t < trees; t++) {
    const rows = new Int32Array(n);
    for (let i = 0; i < n; i++) rows[i] = rng.nextInt(n);
    const f: Fit = {
      x,
      y,
      importance: new Float64Array(x.length),
      maxDepth: options.maxDepth ?? 8,
      minLeaf: options.minLeaf ?? 2,
    };
    grow(f, rows, 0, sse(y, rows));
    const total = f.importance.reduce((a, b) => a + b, 0);
    if (total > 0) for (let j = 0; j < x.length; j++) mean[j] += f.importance[j] / total / trees;
  }
  return mean;
}
