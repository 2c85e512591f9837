/**
 * The disentanglement metrics built on predictors of factors from codes (docs/CODAE.md, "Metrics";
 * definitions from Carbonneau et al. 2020's review):
 *
 * - SAP (Kumar et al. 2018): S[k][j] = how well code j alone predicts factor k: R² of a 1-D linear
 *   fit (the squared correlation) for a continuous factor; for a categorical one, the accuracy of
 *   the majority class of each of the code's bins, fitted on a seeded half of the rows and scored
 *   on the other, rescaled to (acc - a0) / (1 - a0) with a0 the majority-class rate (0 = no better
 *   than always guessing the commonest class). SAP = mean over factors of the gap between the two
 *   best codes.
 * - DCI disentanglement (Eastwood & Williams 2018): R[j][k] = importance of code j for factor k
 *   (disentanglement-forest.ts), P[j][k] = R[j][k] / Σ_k R[j][k], D_j = 1 - H_K(P[j]) (entropy to
 *   base K), D = Σ_j ρ_j D_j with ρ_j = Σ_k R[j][k] / Σ R.
 * - IRS (Suter et al. 2019): per code j and factor k, the mean over the factor's classes (bins) of
 *   the largest |z_j - E[z_j | v_k]| within the class, divided by the largest |z_j - E[z_j]|;
 *   IRS_j = 1 - the smallest such ratio over the factors; IRS = Σ_j IRS_j weighted by the codes'
 *   largest deviations (constant codes left out).
 * All in [0, 1] (clipped where an estimate could stray), higher is better.
 */
import { Rng } from '../../util/random';
import { asBins, correlation, topTwo, unit, type Discrete } from './disentanglement-data';
import { forestImportance, type ForestOptions } from './disentanglement-forest';

/** A factor as the predictors need it: its values, its classes, and whether it is categorical. */
export interface FactorColumn {
  values: Float64Array;
  classes: Discrete;
  discrete: boolean;
}

/** Rescaled held-out accuracy of predicting `v` from the bins of `z` by the majority class of each bin. */
function binClassifierScore(z: Float64Array, v: Discrete, bins: number, half: Uint8Array): number {
  const b = asBins(z, bins);
  const counts = new Float64Array(b.count * v.count);
  const overall = new Float64Array(v.count);
  for (let i = 0; i < z.length; i++) {
    if (half[i]) continue;
    counts[b.classes[i] * v.count + v.classes[i]]++;
    overall[v.classes[i]]++;
  }
  const argmax = (a: Float64Array, off: number, len: number): number => {
    let best = 0;
    for (let k = 1; k < len; k++) if (a[off + k] > a[off + best]) best = k;
    return best;
  };
  const fallback = argmax(overall, 0, v.count);
  const predict = Int32Array.from({ length: b.count }, (_, bin) => {
    let any = 0;
    for (let k = 0; k < v.count; k++) any += counts[bin * v.count + k];
    return any > 0 ? argmax(counts, bin * v.count, v.count) : fallback;
  });
  let right = 0;
  let tested = 0;
  const testCounts = new Float64Array(v.count);
  for (let i = 0; i < z.length; i++) {
    if (!half[i]) continue;
    tested++;
    testCounts[v.classes[i]]++;
    if (predict[b.classes[i]] === v.classes[i]) right++;
  }
  if (tested === 0) return 0;
  const a0 = Math.max(...testCounts) / tested;
  return a0 < 1 ? Math.max(0, (right / tested - a0) / (1 - a0)) : 0;
}

/** SAP. */
export function sap(codes: Float64Array[], factors: FactorColumn[], bins: number, seed: number): number {
  const n = codes[0]!.length;
  const rng = new Rng(seed);
  const half = new Uint8Array(n);
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  for (let i = 0; i < n / 2; i++) half[order[i]] = 1;
  let sum = 0;
  for (const f of factors) {
    const scores = codes.map((z) =>
      f.discrete ? binClassifierScore(z, f.classes, bins, half) : correlation(z, f.values) ** 2,
    );
    const t = topTwo(scores);
    sum += t.first - t.second;
  }
  return unit(sum / factors.length);
}

/** The importance matrix R[j][k] (codes x factors) of {@link dci}. */
export function importanceMatrix(codes: Float64Array[], factors: FactorColumn[], options: ForestOptions): number[][] {
  const R = codes.map(() => new Array<number>(factors.length).fill(0));
  factors.forEach((f, k) => {
    let targets: Float64Array[];
    if (f.discrete) {
      targets = Array.from({ length: f.classes.count }, (_, c) =>
        Float64Array.from(f.classes.classes, (v) => (v === c ? 1 : 0)),
      );
    } else {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of f.values) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      targets = [Float64Array.from(f.values, (v) => (hi > lo ? (v - lo) / (hi - lo) : 0))];
    }
    const imp = forestImportance(codes, targets, { ...options, seed: (options.seed ?? 0) + 7919 * k });
    imp.forEach((v, j) => (R[j]![k] = v));
  });
  return R;
}

/** DCI disentanglement from an importance matrix R (codes x factors). */
export function dciFromImportance(R: number[][]): number {
  const K = R[0]?.length ?? 0;
  if (K <= 1) return 1;
  const total = R.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
  if (!(total > 0)) return 0;
  let d = 0;
  for (const row of R) {
    const rj = row.reduce((a, b) => a + b, 0);
    if (!(rj > 0)) continue;
    let h = 0;
    for (const r of row) if (r > 0) h -= (r / rj) * (Math.log(r / rj) / Math.log(K));
    d += (rj / total) * (1 - h);
  }
  return unit(d);
}

/** IRS. */
export function irs(codes: Float64Array[], factors: FactorColumn[]): number {
  let weighted = 0;
  let weights = 0;
  for (const z of codes) {
    const n = z.length;
    let mean = 0;
    for (const v of z) mean += v;
    mean /= n;
    let maxDev = 0;
    for (const v of z) maxDev = Math.max(maxDev, Math.abs(v - mean));
    if (!(maxDev > 0)) continue;
    let bestRatio = Infinity;
    for (const f of factors) {
      const c = f.classes;
      const sums = new Float64Array(c.count);
      const counts = new Float64Array(c.count);
      for (let i = 0; i < n; i++) {
        sums[c.classes[i]] += z[i];
        counts[c.classes[i]]++;
      }
      const devs = new Float64Array(c.count);
      for (let i = 0; i < n; i++) {
        const k = c.classes[i];
        devs[k] = Math.max(devs[k], Math.abs(z[i] - sums[k] / counts[k]));
      }
      let used = 0;
      let cum = 0;
      for (let k = 0; k < c.count; k++) {
        if (counts[k] === 0) continue;
        cum += devs[k];
        used++;
      }
      bestRatio = Math.min(bestRatio, cum / used / maxDev);
    }
    weighted += maxDev * unit(1 - bestRatio);
    weights += maxDev;
  }
  return weights > 0 ? unit(weighted / weights) : 0;
}
