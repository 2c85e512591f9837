/**
 * Standardisation of frozen codes before a probe: every column shifted to mean 0 and scaled to
 * standard deviation 1 on the training codes, z = (x - mean) / std (population std, float64
 * sums); a constant column (std <= 1e-12 (1 + |mean|)) is only centred. The same shift and scale
 * are then applied to the test codes.
 */
import type { CodeMatrix } from '../layers/mean-pooling';

/** Per-column mean and scale fitted on training codes. */
export interface Standardizer {
  cols: number;
  mean: Float64Array;
  scale: Float64Array;
}

export function checkCodeMatrix(x: CodeMatrix, what: string): void {
  if (!x || !(x.data instanceof Float32Array))
    throw new TypeError(`${what}: expected { data: Float32Array, rows, cols }`);
  if (!Number.isInteger(x.rows) || x.rows < 0 || !Number.isInteger(x.cols) || x.cols < 1) {
    throw new RangeError(
      `${what}: rows must be a whole number and cols a positive one, got ${String(x.rows)} x ${String(x.cols)}`,
    );
  }
  if (x.data.length !== x.rows * x.cols)
    throw new RangeError(`${what}: data has ${x.data.length} values, expected rows * cols = ${x.rows} * ${x.cols}`);
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i]!))
      throw new RangeError(
        `${what}: value ${i % x.cols} of row ${Math.floor(i / x.cols)} is ${x.data[i]}; codes must be finite`,
      );
  }
}

/** Fits the standardiser on `x` (at least one row). */
export function fitStandardizer(x: CodeMatrix): Standardizer {
  checkCodeMatrix(x, 'fitStandardizer');
  if (x.rows < 1) throw new RangeError('fitStandardizer: no rows to fit on');
  const { data, rows, cols } = x;
  const mean = new Float64Array(cols);
  const sq = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += data[r * cols + c]!;
  for (let c = 0; c < cols; c++) mean[c] /= rows;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const d = data[r * cols + c]! - mean[c]!;
      sq[c] += d * d;
    }
  }
  const scale = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    const std = Math.sqrt(sq[c]! / rows);
    scale[c] = std > 1e-12 * (1 + Math.abs(mean[c]!)) ? std : 1;
  }
  return { cols, mean, scale };
}

/** (x - mean) / scale, as a new matrix. */
export function applyStandardizer(s: Standardizer, x: CodeMatrix): CodeMatrix {
  checkCodeMatrix(x, 'applyStandardizer');
  if (x.cols !== s.cols)
    throw new RangeError(`applyStandardizer: codes have ${x.cols} columns, the standardiser was fitted on ${s.cols}`);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const c = i % s.cols;
    out[i] = (x.data[i]! - s.mean[c]!) / s.scale[c]!;
  }
  return { data: out, rows: x.rows, cols: x.cols };
}

/** Fits on `train` and applies to both. */
export function standardize(
  train: CodeMatrix,
  test?: CodeMatrix,
): { train: CodeMatrix; test: CodeMatrix | null; standardizer: Standardizer } {
  const standardizer = fitStandardizer(train);
  return {
    train: applyStandardizer(standardizer, train),
    test: test ? applyStandardizer(standardizer, test) : null,
    standardizer,
  };
}
