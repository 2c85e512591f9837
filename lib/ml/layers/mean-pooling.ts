/**
 * Mean pooling of equivariant codes (the paper's baseline, §4.1): w_mean = (1/n) Σ_g V[g], the
 * average of the n = |G| rows of each code. A transformation only permutes the rows, so the mean
 * is invariant.
 */

/** An equivariant code set: `count` matrices of `rows` (= |G|) x `cols` (= m) values, one after another. */
export interface EquivariantCodes {
  data: Float32Array;
  count: number;
  rows: number;
  cols: number;
}

/** Invariant codes, one row each: `rows` x `cols` row-major. */
export interface CodeMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

export function checkEquivariantCodes(v: EquivariantCodes, where: string): void {
  if (!v || !(v.data instanceof Float32Array)) throw new TypeError(`${where}: codes must have a Float32Array data`);
  for (const k of ['count', 'rows', 'cols'] as const) {
    if (!Number.isInteger(v[k]) || v[k] < 0)
      throw new RangeError(`${where}: ${k} must be a whole number >= 0, got ${String(v[k])}`);
  }
  if (v.data.length !== v.count * v.rows * v.cols) {
    throw new RangeError(
      `${where}: data has ${v.data.length} values, expected count * rows * cols = ${v.count} * ${v.rows} * ${v.cols}`,
    );
  }
}

/** The row means of every code: count x cols (computed in float64). */
export function meanPool(v: EquivariantCodes): CodeMatrix {
  checkEquivariantCodes(v, 'meanPool');
  const { data, count, rows, cols } = v;
  const out = new Float32Array(count * cols);
  const acc = new Float64Array(cols);
  for (let b = 0; b < count; b++) {
    acc.fill(0);
    const base = b * rows * cols;
    for (let g = 0; g < rows; g++) for (let c = 0; c < cols; c++) acc[c] += data[base + g * cols + c]!;
    for (let c = 0; c < cols; c++) out[b * cols + c] = acc[c]! / rows;
  }
  return { data: out, rows: count, cols };
}
