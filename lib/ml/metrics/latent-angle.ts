/**
 * How a rotation-aware code relates to the true angle (docs/RVAE.md, "Evaluation"):
 *
 * - angle recovery: Pearson r between the encoded angle and the true angle, and the least-squares
 *   slope of encoded on true. The sign follows the grid convention and the offset is arbitrary (the
 *   model picks its own upright), so |r| and |slope| are what is compared;
 * - angle leakage: the largest |r| between one content latent and the true angle (near 0 when the
 *   content is free of the angle);
 * - invariance ratio: for digits each encoded at several rotations, the within-digit spread of each
 *   content latent (population std over the rotations, averaged over the digits) divided by that
 *   latent's std over a reference set, averaged over the latents. 0 = the content does not move when
 *   the digit turns; about 1 = it moves as much as between different digits.
 */
import type { PointMatrix } from './clustering';

function checkSeries(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} values against ${b.length}`);
  if (a.length < 2) throw new RangeError(`${what}: need at least 2 values, got ${a.length}`);
  for (const arr of [a, b]) {
    for (let i = 0; i < arr.length; i++)
      if (!Number.isFinite(arr[i])) throw new RangeError(`${what}: value ${arr[i]} at index ${i} is not finite`);
  }
}

/** Pearson correlation of two series (0 when either is constant). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSeries(a, b, 'pearson');
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/** Angle recovery: correlation and least-squares line encoded = intercept + slope * true. */
export interface AngleRecovery {
  r: number;
  absR: number;
  slope: number;
  absSlope: number;
  intercept: number;
}

/** {@link AngleRecovery} of encoded angles against the true ones (both radians). */
export function angleRecovery(encoded: ArrayLike<number>, truth: ArrayLike<number>): AngleRecovery {
  checkSeries(encoded, truth, 'angleRecovery');
  const n = truth.length;
  let mt = 0;
  let me = 0;
  for (let i = 0; i < n; i++) {
    mt += truth[i];
    me += encoded[i];
  }
  mt /= n;
  me /= n;
  let ste = 0;
  let stt = 0;
  for (let i = 0; i < n; i++) {
    ste += (truth[i] - mt) * (encoded[i] - me);
    stt += (truth[i] - mt) ** 2;
  }
  const slope = stt > 0 ? ste / stt : 0;
  const r = pearson(encoded, truth);
  return { r, absR: Math.abs(r), slope, absSlope: Math.abs(slope), intercept: me - slope * mt };
}

function column(m: PointMatrix, j: number): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) out[i] = m.data[i * m.cols + j];
  return out;
}

function checkMatrix(m: PointMatrix, what: string): void {
  if (m === null || typeof m !== 'object' || !(m.data instanceof Float32Array || m.data instanceof Float64Array)) {
    throw new TypeError(`${what} must be a matrix { data: Float32Array | Float64Array, rows, cols }`);
  }
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.cols < 1 || m.data.length !== m.rows * m.cols) {
    throw new RangeError(`${what}: data has ${m.data.length} values for ${String(m.rows)} x ${String(m.cols)}`);
  }
}

/** |r| of every content latent (column of `z`) with the true angle, and the largest. */
export function angleLeakage(z: PointMatrix, truth: ArrayLike<number>): { max: number; perLatent: number[] } {
  checkMatrix(z, 'angleLeakage: z');
  if (truth.length !== z.rows) throw new RangeError(`angleLeakage: ${truth.length} angles for ${z.rows} codes`);
  const perLatent: number[] = [];
  for (let j = 0; j < z.cols; j++) perLatent.push(Math.abs(pearson(column(z, j), truth)));
  return { max: Math.max(...perLatent), perLatent };
}

function std(a: ArrayLike<number>, from: number, to: number): number {
  const n = to - from;
  let m = 0;
  for (let i = from; i < to; i++) m += a[i];
  m /= n;
  let v = 0;
  for (let i = from; i < to; i++) v += (a[i] - m) ** 2;
  return Math.sqrt(v / n);
}

/** Result of {@link invarianceRatio}. */
export interface InvarianceRatio {
  /** Mean over the latents of (mean within-group std) / (reference std). */
  ratio: number;
  perLatent: number[];
  groups: number;
  groupSize: number;
}

/**
 * The invariance ratio of codes `z` whose rows come in groups of `groupSize` consecutive rows (one
 * digit at several rotations), against the spread of `reference` (default: `z` itself).
 */
export function invarianceRatio(z: PointMatrix, groupSize: number, reference: PointMatrix = z): InvarianceRatio {
  checkMatrix(z, 'invarianceRatio: z');
  checkMatrix(reference, 'invarianceRatio: reference');
  if (!Number.isInteger(groupSize) || groupSize < 2)
    throw new RangeError(`invarianceRatio: groupSize must be an integer >= 2, got ${String(groupSize)}`);
  if (z.rows === 0 || z.rows % groupSize !== 0)
    throw new RangeError(`invarianceRatio: ${z.rows} codes do not form whole groups of ${groupSize}`);
  if (reference.cols !== z.cols || reference.rows < 2)
    throw new RangeError(`invarianceRatio: the reference needs >= 2 rows of ${z.cols} latents`);
  const groups = z.rows / groupSize;
  const perLatent: number[] = [];
  for (let j = 0; j < z.cols; j++) {
    const c = column(z, j);
    let within = 0;
    for (let g = 0; g < groups; g++) within += std(c, g * groupSize, (g + 1) * groupSize);
    within /= groups;
    const ref = column(reference, j);
    const total = std(ref, 0, ref.length);
    if (!(total > 0)) throw new RangeError(`invarianceRatio: latent ${j} is constant over the reference set`);
    perLatent.push(within / total);
  }
  return { ratio: perLatent.reduce((s, v) => s + v, 0) / perLatent.length, perLatent, groups, groupSize };
}
