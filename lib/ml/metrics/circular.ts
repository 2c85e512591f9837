/**
 * Circular statistics for codes and angles (the rVAE experiment, docs/RVAE.md "Evaluation"):
 *
 * - circular-linear correlation (Mardia; Mardia & Jupp, "Directional Statistics", §11.2.1) of a
 *   linear variable x with an angle psi: R^2 = (r_xc^2 + r_xs^2 - 2 r_xc r_xs r_cs) / (1 - r_cs^2),
 *   with c = cos psi, s = sin psi and r_.. Pearson correlations. R is the multiple correlation of x
 *   with (cos psi, sin psi): 0 when x does not depend on psi, 1 when x = a + b cos(psi - psi0). It
 *   is what a Pearson r against an angle becomes when the angles wrap (full turns);
 * - polar angles of 2-D codes about their mean (the essay's cVAE: "the latent angle forms a
 *   well-defined circle"): the circular-linear correlation of the true angle with the polar angle
 *   measures how well the position around that circle gives the angle;
 * - angle agreement: the mean resultant length |mean exp(i (encoded - s * true))|, maximised over
 *   the direction s = +1 / -1. 1 when the encoded angle is the true one (or its negative) plus a
 *   constant, modulo full turns; about 0 when unrelated. Unlike Pearson r it is unaffected by
 *   wrapping, so it also scores full-turn data.
 */
import { pearson } from './latent-angle';
import type { PointMatrix } from './clustering';

function checkPair(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} values against ${b.length}`);
  if (a.length < 3) throw new RangeError(`${what}: need at least 3 values, got ${a.length}`);
  for (const arr of [a, b]) {
    for (let i = 0; i < arr.length; i++)
      if (!Number.isFinite(arr[i])) throw new RangeError(`${what}: value ${arr[i]} at index ${i} is not finite`);
  }
}

/** Mardia's circular-linear correlation R in [0, 1] of linear values `x` with angles `psi` (radians). */
export function circularLinearCorrelation(x: ArrayLike<number>, psi: ArrayLike<number>): number {
  checkPair(x, psi, 'circularLinearCorrelation');
  const n = x.length;
  const c = new Float64Array(n);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    c[i] = Math.cos(psi[i]);
    s[i] = Math.sin(psi[i]);
  }
  const rxc = pearson(x, c);
  const rxs = pearson(x, s);
  const rcs = pearson(c, s);
  const den = 1 - rcs * rcs;
  // cos and sin perfectly correlated: the angles lie on one line through the circle (e.g. a
  // single value and its opposite); the multiple correlation is then the larger simple one.
  if (den < 1e-12) return Math.max(Math.abs(rxc), Math.abs(rxs));
  const r2 = (rxc * rxc + rxs * rxs - 2 * rxc * rxs * rcs) / den;
  return Math.sqrt(Math.min(1, Math.max(0, r2)));
}

/** The polar angle (radians, in (-pi, pi]) of every row of a 2-column code matrix about the rows' mean. */
export function polarAngles(z: PointMatrix): Float64Array {
  if (
    z === null ||
    typeof z !== 'object' ||
    z.cols !== 2 ||
    !Number.isInteger(z.rows) ||
    z.data.length !== z.rows * 2
  ) {
    throw new RangeError(
      `polarAngles: need a matrix of 2-D codes { data, rows, cols: 2 }, got cols ${String(z?.cols)}`,
    );
  }
  let m0 = 0;
  let m1 = 0;
  for (let i = 0; i < z.rows; i++) {
    m0 += z.data[2 * i];
    m1 += z.data[2 * i + 1];
  }
  m0 /= Math.max(z.rows, 1);
  m1 /= Math.max(z.rows, 1);
  const out = new Float64Array(z.rows);
  for (let i = 0; i < z.rows; i++) out[i] = Math.atan2(z.data[2 * i + 1] - m1, z.data[2 * i] - m0);
  return out;
}

/** Result of {@link angleAgreement}. */
export interface AngleAgreement {
  /** Mean resultant length of encoded - direction * true, in [0, 1]. */
  resultant: number;
  /** +1: the encoded angle turns with the true one; -1: against it. */
  direction: 1 | -1;
  /** The circular mean of encoded - direction * true (radians): the model's own zero. */
  offset: number;
}

/** How well encoded angles match true ones up to a constant offset and direction, modulo full turns. */
export function angleAgreement(encoded: ArrayLike<number>, truth: ArrayLike<number>): AngleAgreement {
  checkPair(encoded, truth, 'angleAgreement');
  const n = truth.length;
  const resultant = (dir: 1 | -1): { r: number; offset: number } => {
    let c = 0;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const d = encoded[i] - dir * truth[i];
      c += Math.cos(d);
      s += Math.sin(d);
    }
    return { r: Math.hypot(c, s) / n, offset: Math.atan2(s, c) };
  };
  const plus = resultant(1);
  const minus = resultant(-1);
  return plus.r >= minus.r
    ? { resultant: plus.r, direction: 1, offset: plus.offset }
    : { resultant: minus.r, direction: -1, offset: minus.offset };
}
