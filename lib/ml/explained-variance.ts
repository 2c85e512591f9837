/**
 * Explained-variance ratios of the leading principal components of a code matrix X (n rows x d
 * columns), also when d is in the thousands (a Gram-pooled D12 code has 4,064 columns), without a
 * d x d eigendecomposition:
 *
 *     Xc = X - column means (optionally divided by the column standard deviations)
 *     Q  = orth(Xc^T Xc Q), repeated from a seeded Gaussian start  (subspace iteration, q columns)
 *     variances = eigenvalues of cov(Xc Q)                          (Rayleigh-Ritz, via lib/ml/pca.ts)
 *     ratio_i   = variance_i / trace(cov(Xc))                       (trace = sum of column variances)
 *
 * The products run on the active TensorFlow.js backend; the orthonormalisation (modified
 * Gram-Schmidt) in float64. q = components + oversample (at most d): when q = d the basis spans
 * everything and the values are exact after one step. Used for the paper's Fig. 8 (the
 * equivariant-autoencoder experiment, docs/EQUIVARIANT-AE.md).
 */
import * as tf from '@tensorflow/tfjs';

import { Rng } from '../util/random';
import { Pca } from './pca';

/** A row-major matrix of codes. */
export interface CodeRows {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Options of {@link explainedVariance}. */
export interface ExplainedVarianceOptions {
  /** Leading components reported. Default 20 (fewer when the codes have fewer columns). */
  components?: number;
  /** Extra directions iterated along for faster convergence. Default 10. */
  oversample?: number;
  /** Subspace iterations. Default 30. */
  iterations?: number;
  /** Divide every column by its standard deviation first (the probes' view). Default false. */
  standardize?: boolean;
  /** Seed of the starting basis. Default 0. */
  seed?: number;
}

/** What {@link explainedVariance} measured. */
export interface ExplainedVariance {
  /** Fraction of the total variance along each leading component, decreasing. */
  ratios: number[];
  /** Running sums of `ratios`. */
  cumulative: number[];
  /** Sum of the column variances (after standardising, the number of non-constant columns). */
  totalVariance: number;
  rows: number;
  cols: number;
  standardized: boolean;
}

/** Orthonormalises the q columns of z (d x q, row-major, float64) in place. */
function orthonormalize(z: Float64Array, d: number, q: number): void {
  for (let j = 0; j < q; j++) {
    for (let pass = 0; pass < 2; pass++) {
      // Two passes of modified Gram-Schmidt keep the basis orthogonal to rounding.
      for (let i = 0; i < j; i++) {
        let dot = 0;
        for (let r = 0; r < d; r++) dot += z[r * q + i]! * z[r * q + j]!;
        for (let r = 0; r < d; r++) z[r * q + j] -= dot * z[r * q + i]!;
      }
    }
    let norm = 0;
    for (let r = 0; r < d; r++) norm += z[r * q + j]! ** 2;
    norm = Math.sqrt(norm);
    // A direction lost to rounding (rank below q) becomes a unit vector of no variance.
    for (let r = 0; r < d; r++) z[r * q + j] = norm > 1e-300 ? z[r * q + j]! / norm : 0;
  }
}

/**
 * Explained-variance ratios of the leading principal components of `x` (see the file comment).
 * @throws RangeError for fewer than 2 rows, a shape that does not match the data, or non-finite values.
 */
export function explainedVariance(x: CodeRows, options: ExplainedVarianceOptions = {}): ExplainedVariance {
  const { data, rows: n, cols: d } = x;
  if (
    !(data instanceof Float32Array) ||
    !Number.isInteger(n) ||
    !Number.isInteger(d) ||
    d < 1 ||
    data.length !== n * d
  ) {
    throw new RangeError(
      `explainedVariance: expected { data: Float32Array of rows * cols values, rows, cols }, got ${data?.length} values for ${n} x ${d}`,
    );
  }
  if (n < 2) throw new RangeError(`explainedVariance: need at least 2 rows, got ${n}`);
  const standardized = options.standardize ?? false;
  const k = Math.min(d, options.components ?? 20);
  const q = Math.min(d, k + (options.oversample ?? 10));
  const iterations = options.iterations ?? 30;
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(q) || !Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(
      `explainedVariance: components, oversample and iterations must be positive integers, got ${options.components}, ${options.oversample}, ${options.iterations}`,
    );
  }
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v))
      throw new RangeError(
        `explainedVariance: value ${i % d} of row ${Math.floor(i / d)} is ${v}; codes must be finite`,
      );
    mean[i % d] += v;
  }
  for (let c = 0; c < d; c++) mean[c] /= n;
  for (let i = 0; i < data.length; i++) sq[i % d] += (data[i]! - mean[i % d]!) ** 2;
  const scale = new Float64Array(d);
  let total = 0;
  for (let c = 0; c < d; c++) {
    const variance = sq[c]! / (n - 1);
    const constant = variance <= 1e-24 * (1 + mean[c]! ** 2);
    scale[c] = standardized && !constant ? 1 / Math.sqrt(variance) : 1;
    total += standardized ? (constant ? 0 : 1) : variance;
  }
  const centred = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) centred[i] = (data[i]! - mean[i % d]!) * scale[i % d]!;
  const rng = new Rng(options.seed ?? 0);
  const basis = new Float64Array(d * q);
  for (let i = 0; i < basis.length; i++) basis[i] = rng.normal();
  orthonormalize(basis, d, q);
  const xc = tf.tensor2d(centred, [n, d]);
  try {
    // With q = d the basis already spans every direction: no iteration is needed.
    const steps = q === d ? 0 : iterations;
    for (let it = 0; it < steps; it++) {
      const z = tf.tidy(() => {
        const qt = tf.tensor2d(Float32Array.from(basis), [d, q]);
        return tf.matMul(xc, tf.matMul(xc, qt), true, false).dataSync();
      });
      for (let i = 0; i < basis.length; i++) basis[i] = z[i]!;
      orthonormalize(basis, d, q);
    }
    const projected = tf.tidy(
      () => tf.matMul(xc, tf.tensor2d(Float32Array.from(basis), [d, q])).dataSync() as Float32Array,
    );
    const variances = Array.from(Pca.fit(projected, n, q).eigenvalues).slice(0, k);
    const ratios = variances.map((v) => (total > 0 ? Math.max(0, v) / total : 0));
    const cumulative: number[] = [];
    ratios.reduce((s, r) => (cumulative.push(s + r), s + r), 0);
    return { ratios, cumulative, totalVariance: total, rows: n, cols: d, standardized };
  } finally {
    xc.dispose();
  }
}
