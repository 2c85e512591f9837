/**
 * The two disentanglement metrics that fix one factor in batches of samples (docs/CODAE.md,
 * "Metrics"; Carbonneau et al. 2020's review), computed on a fixed set of (code, factor) rows: a
 * "batch with factor k fixed" is drawn from the rows whose factor k falls in one class (its
 * category, or one of its bins), the class chosen uniformly among those with at least two rows.
 * Every draw comes from a seeded generator and depends on the factors only, never on the codes.
 *
 * - z-diff (Higgins et al. 2017, the β-VAE metric): a point = the mean over L pairs (both rows in
 *   the class) of |z_a - z_b|, labelled k; a softmax regression (standardised inputs, full-batch
 *   gradient descent, L2 1e-4) is fitted on the training points; score = its accuracy on the
 *   evaluation points.
 * - z-min-var (Kim & Mnih 2018, the FactorVAE metric): codes divided by their standard deviations
 *   over all rows (constant codes left out); a point = argmin_j of the variance over a batch of L
 *   rows of the class, labelled k; the majority vote of each code over the training points is the
 *   classifier; score = its accuracy on the evaluation points.
 * Both accuracies are rescaled as the review does, (acc - 1/K) / (1 - 1/K), and clipped to [0, 1].
 */
import { Rng } from '../../util/random';
import { unit, type Discrete } from './disentanglement-data';

/** Sizes of the sampled metrics. */
export interface SampledOptions {
  /** Pairs (z-diff) or rows (z-min-var) per point. Default 64. */
  batch: number;
  /** Training points. Default 500. */
  train: number;
  /** Evaluation points. Default 300. */
  evaluate: number;
  seed: number;
}

/** For each factor, the rows of each class with at least two rows. */
function classRows(factors: Discrete[]): Int32Array[][] {
  return factors.map((f) => {
    const lists: number[][] = Array.from({ length: f.count }, () => []);
    f.classes.forEach((c, i) => lists[c]!.push(i));
    return lists.filter((l) => l.length >= 2).map((l) => Int32Array.from(l));
  });
}

/** The factor and rows of each point: factor uniform, class uniform among usable ones. */
function draws(factors: Discrete[], points: number, rng: Rng): { factor: number; rows: Int32Array }[] {
  const usable = classRows(factors);
  const bad = usable.findIndex((l) => l.length === 0);
  if (bad >= 0)
    throw new RangeError(
      `disentanglementScores: factor ${bad} has no class with two rows or more (too few rows, or every value distinct: mark it continuous so that it is binned)`,
    );
  const out: { factor: number; rows: Int32Array }[] = [];
  for (let p = 0; p < points; p++) {
    const k = rng.nextInt(factors.length);
    const lists = usable[k]!;
    out.push({ factor: k, rows: lists[rng.nextInt(lists.length)]! });
  }
  return out;
}

/** z-diff. */
export function zDiff(codes: Float64Array[], factors: Discrete[], o: SampledOptions): number {
  const rng = new Rng(o.seed);
  const d = codes.length;
  const K = factors.length;
  if (K < 2) return 1;
  const make = (points: number): { x: Float64Array[]; y: Int32Array } => {
    const x: Float64Array[] = [];
    const y = new Int32Array(points);
    draws(factors, points, rng).forEach((p, i) => {
      const v = new Float64Array(d);
      for (let l = 0; l < o.batch; l++) {
        const a = p.rows[rng.nextInt(p.rows.length)];
        let b = p.rows[rng.nextInt(p.rows.length - 1)];
        if (b === a) b = p.rows[p.rows.length - 1];
        for (let j = 0; j < d; j++) v[j] += Math.abs(codes[j][a] - codes[j][b]) / o.batch;
      }
      x.push(v);
      y[i] = p.factor;
    });
    return { x, y };
  };
  const train = make(o.train);
  const test = make(o.evaluate);
  const model = softmaxRegression(train.x, train.y, K);
  let right = 0;
  test.x.forEach((v, i) => {
    if (model(v) === test.y[i]) right++;
  });
  return unit((right / o.evaluate - 1 / K) / (1 - 1 / K));
}

/**
 * A softmax regression fitted by full-batch gradient descent (float64, zero start, 500 steps of
 * 0.5 on standardised inputs, L2 1e-4); returns the predictor of the most probable class.
 */
function softmaxRegression(x: Float64Array[], y: Int32Array, K: number): (v: Float64Array) => number {
  const n = x.length;
  const d = x[0]?.length ?? 0;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const v of x) for (let j = 0; j < d; j++) mean[j] += v[j] / n;
  for (const v of x) for (let j = 0; j < d; j++) sd[j] += (v[j] - mean[j]) ** 2 / n;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]) || 1;
  const xs = x.map((v) => Float64Array.from(v, (a, j) => (a - mean[j]) / sd[j]));
  const W = new Float64Array(K * (d + 1)); // row k: weights then bias
  const grad = new Float64Array(W.length);
  const p = new Float64Array(K);
  const scores = (v: Float64Array, out: Float64Array): void => {
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      let s = W[k * (d + 1) + d];
      for (let j = 0; j < d; j++) s += W[k * (d + 1) + j] * v[j];
      out[k] = s;
      max = Math.max(max, s);
    }
    let z = 0;
    for (let k = 0; k < K; k++) z += out[k] = Math.exp(out[k] - max);
    for (let k = 0; k < K; k++) out[k] /= z;
  };
  for (let step = 0; step < 500; step++) {
    grad.fill(0);
    xs.forEach((v, i) => {
      scores(v, p);
      for (let k = 0; k < K; k++) {
        const g = (p[k] - (y[i] === k ? 1 : 0)) / n;
        for (let j = 0; j < d; j++) grad[k * (d + 1) + j] += g * v[j];
        grad[k * (d + 1) + d] += g;
      }
    });
    for (let i = 0; i < W.length; i++) W[i] -= 0.5 * (grad[i] + 1e-4 * W[i]);
  }
  return (v) => {
    const s = Float64Array.from(v, (a, j) => (a - mean[j]) / sd[j]);
    scores(s, p);
    let best = 0;
    for (let k = 1; k < K; k++) if (p[k] > p[best]) best = k;
    return best;
  };
}

/** z-min-var. */
export function zMinVar(codes: Float64Array[], factors: Discrete[], o: SampledOptions): number {
  const rng = new Rng(o.seed);
  const K = factors.length;
  if (K < 2) return 1;
  const n = codes[0]!.length;
  const active: number[] = [];
  const scale: number[] = [];
  codes.forEach((z, j) => {
    let m = 0;
    for (const v of z) m += v / n;
    let s = 0;
    for (const v of z) s += (v - m) ** 2 / (n - 1);
    if (s > 0 && Number.isFinite(s)) {
      active.push(j);
      scale.push(Math.sqrt(s));
    }
  });
  if (active.length === 0) return 0;
  const votes = (points: number): Int32Array[] => {
    const v = Array.from({ length: codes.length }, () => new Int32Array(K));
    for (const p of draws(factors, points, rng)) {
      const batch = Int32Array.from({ length: o.batch }, () => p.rows[rng.nextInt(p.rows.length)]);
      let best = -1;
      let bestVar = Infinity;
      active.forEach((j, a) => {
        let m = 0;
        for (const r of batch) m += codes[j][r] / scale[a];
        m /= batch.length;
        let s = 0;
        for (const r of batch) s += (codes[j][r] / scale[a] - m) ** 2;
        if (s < bestVar) {
          bestVar = s;
          best = j;
        }
      });
      v[best]![p.factor]++;
    }
    return v;
  };
  const train = votes(o.train);
  const test = votes(o.evaluate);
  const label = train.map((row) => row.indexOf(Math.max(...row)));
  let right = 0;
  test.forEach((row, j) => (right += row[label[j]!]!));
  return unit((right / o.evaluate - 1 / K) / (1 - 1 / K));
}
