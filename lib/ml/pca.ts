/**
 * Principal component analysis for Experiment 2 (docs/PAPER-FACTS.md §5): fit on the (scaled) training
 * features, project onto the first h_e components, reconstruct, and measure the reconstruction
 * error.
 *
 * The eigendecomposition comes from the `ml-pca` package (ml-matrix's symmetric EVD, given the
 * covariance matrix); soapix only accumulates the d x d covariance matrix itself, in float64
 * over the rows (one pass, no n x d copy into an ml-matrix object), and applies the projection
 * with plain loops on typed arrays. Components are ordered by decreasing explained variance and
 * each eigenvector's sign is fixed (largest-magnitude entry positive), so a fit is deterministic.
 */
import { PCA as MlPca } from 'ml-pca';

/** Row-major data: `rows` x `cols`. */
export type PcaArray = Float32Array | Float64Array;

/** The JSON form of a fitted {@link Pca}. */
export interface PcaJSON {
  type: 'PCA';
  version: 1;
  nFeatures: number;
  nSamples: number;
  /** Per-feature mean of the training rows. */
  mean: number[];
  /** Eigenvalues of the covariance matrix (variance along each component), decreasing. */
  eigenvalues: number[];
  /** Components, row-major `nFeatures` x `nFeatures`: component k is column k. */
  components: number[];
}

function checkShape(data: PcaArray, rows: number, cols: number, where: string): void {
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array))
    throw new TypeError(`${where}: data must be a Float32Array or Float64Array`);
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(cols) || cols < 1) {
    throw new RangeError(`${where}: rows must be an integer >= 0 and cols >= 1, got ${rows} x ${cols}`);
  }
  if (data.length !== rows * cols)
    throw new RangeError(`${where}: data has ${data.length} values, expected ${rows} x ${cols} = ${rows * cols}`);
}

/** PCA of row-major feature matrices. */
export class Pca {
  private constructor(
    /** Number of input features d. */
    readonly nFeatures: number,
    /** Rows the fit used. */
    readonly nSamples: number,
    /** Per-feature mean. */
    readonly mean: Float64Array,
    /** Variance along each component, decreasing. */
    readonly eigenvalues: Float64Array,
    /** Row-major d x d; column k is component k (unit length). */
    readonly components: Float64Array,
  ) {}

  /** Fits a PCA on `rows` x `cols` training data (at least 2 rows). */
  static fit(data: PcaArray, rows: number, cols: number): Pca {
    checkShape(data, rows, cols, 'Pca.fit');
    if (rows < 2) throw new RangeError('Pca.fit: need at least 2 rows');
    const d = cols;
    const mean = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      for (let j = 0; j < d; j++) mean[j] += data[o + j];
    }
    for (let j = 0; j < d; j++) mean[j] /= rows;
    // Upper triangle of the covariance, accumulated row by row.
    const cov = new Float64Array(d * d);
    const row = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      for (let j = 0; j < d; j++) row[j] = data[o + j] - mean[j];
      for (let i = 0; i < d; i++) {
        const xi = row[i];
        if (xi === 0) continue;
        const ci = i * d;
        for (let j = i; j < d; j++) cov[ci + j] += xi * row[j];
      }
    }
    const covRows: number[][] = [];
    for (let i = 0; i < d; i++) {
      const out = new Array<number>(d);
      for (let j = 0; j < d; j++) out[j] = (i <= j ? cov[i * d + j] : cov[j * d + i]) / (rows - 1);
      covRows.push(out);
    }
    const pca = new MlPca(covRows, { isCovarianceMatrix: true });
    const U = pca.getEigenvectors();
    const S = pca.getEigenvalues();
    // Order by decreasing eigenvalue (ml-pca already does; made explicit) and fix signs.
    const order = S.map((v, k) => [v, k] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .map((p) => p[1]);
    const components = new Float64Array(d * d);
    const eigenvalues = new Float64Array(d);
    order.forEach((src, k) => {
      eigenvalues[k] = Math.max(0, S[src]);
      let big = 0;
      for (let i = 0; i < d; i++) if (Math.abs(U.get(i, src)) > Math.abs(big)) big = U.get(i, src);
      const sign = big < 0 ? -1 : 1;
      for (let i = 0; i < d; i++) components[i * d + k] = sign * U.get(i, src);
    });
    return new Pca(d, rows, mean, eigenvalues, components);
  }

  /** Fraction of the total variance along each component. */
  explainedVarianceRatio(): Float64Array {
    let total = 0;
    for (const v of this.eigenvalues) total += v;
    return this.eigenvalues.map((v) => (total > 0 ? v / total : 0));
  }

  private checkK(k: number, where: string): void {
    if (!Number.isInteger(k) || k < 1 || k > this.nFeatures)
      throw new RangeError(`${where}: components must be an integer in 1..${this.nFeatures}, got ${String(k)}`);
  }

  /** Projects `rows` x d data onto the first `k` components: a Float32Array of rows x k. */
  transform(data: PcaArray, rows: number, k: number): Float32Array {
    checkShape(data, rows, this.nFeatures, 'Pca.transform');
    this.checkK(k, 'Pca.transform');
    const d = this.nFeatures;
    const out = new Float32Array(rows * k);
    const centred = new Float64Array(d);
    const acc = new Float64Array(k);
    const W = this.components;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < d; j++) centred[j] = data[r * d + j] - this.mean[j];
      acc.fill(0);
      for (let i = 0; i < d; i++) {
        const xi = centred[i];
        if (xi === 0) continue;
        const wi = i * d;
        for (let c = 0; c < k; c++) acc[c] += xi * W[wi + c];
      }
      for (let c = 0; c < k; c++) out[r * k + c] = acc[c];
    }
    return out;
  }

  /** Maps `rows` x k codes back to the d input features: a Float32Array of rows x d. */
  inverseTransform(codes: PcaArray, rows: number, k: number): Float32Array {
    checkShape(codes, rows, k, 'Pca.inverseTransform');
    this.checkK(k, 'Pca.inverseTransform');
    const d = this.nFeatures;
    const out = new Float32Array(rows * d);
    const acc = new Float64Array(d);
    const W = this.components;
    for (let r = 0; r < rows; r++) {
      acc.set(this.mean);
      for (let c = 0; c < k; c++) {
        const z = codes[r * k + c];
        if (z === 0) continue;
        for (let i = 0; i < d; i++) acc[i] += z * W[i * d + c];
      }
      for (let i = 0; i < d; i++) out[r * d + i] = acc[i];
    }
    return out;
  }

  /** Mean squared error (over all rows and features) of reconstructing `data` from `k` components. */
  reconstructionMse(data: PcaArray, rows: number, k: number): number {
    const rec = this.inverseTransform(this.transform(data, rows, k), rows, k);
    return meanSquaredError(data, rec);
  }

  toJSON(): PcaJSON {
    return {
      type: 'PCA',
      version: 1,
      nFeatures: this.nFeatures,
      nSamples: this.nSamples,
      mean: Array.from(this.mean),
      eigenvalues: Array.from(this.eigenvalues),
      components: Array.from(this.components),
    };
  }

  static fromJSON(json: PcaJSON | string): Pca {
    const j = (typeof json === 'string' ? JSON.parse(json) : json) as PcaJSON;
    if (j?.type !== 'PCA' || j.version !== 1) throw new Error('Pca.fromJSON: not a soapix PCA (type PCA, version 1)');
    const d = j.nFeatures;
    if (j.mean.length !== d || j.eigenvalues.length !== d || j.components.length !== d * d)
      throw new Error('Pca.fromJSON: array sizes do not match nFeatures');
    return new Pca(
      d,
      j.nSamples,
      Float64Array.from(j.mean),
      Float64Array.from(j.eigenvalues),
      Float64Array.from(j.components),
    );
  }
}

/** Mean of (a - b)^2 over all values (float64 accumulation). */
export function meanSquaredError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`meanSquaredError: lengths differ (${a.length} vs ${b.length})`);
  if (a.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const e = a[i] - b[i];
    s += e * e;
  }
  return s / a.length;
}
