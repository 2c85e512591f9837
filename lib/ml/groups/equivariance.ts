/**
 * One equivariance check for every layer and model (in the spirit of escnn's
 * `check_equivariance`): for each group element t,
 *
 *     error(t) = max |f(t·x) - t'·f(x)| / max |t'·f(x)|
 *
 * with t· the action on inputs and t'· the action on outputs (a permutation of rows, a turn of
 * feature maps with a shift of their slots, or the identity for an invariant map). Exact
 * symmetries are checked to float rounding (~1e-6), interpolated ones report their error. Also the
 * exact D4 actions on NHWC feature maps that the checks of the p4 layers use.
 */
import * as tf from '@tensorflow/tfjs';

import { elementName, type FiniteGroup } from './dihedral';

/** max |actual - expected| / max |expected| (0 when both are all zero). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length)
    throw new RangeError(`relativeError: ${actual.length} values against ${expected.length}`);
  let d = 0;
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    d = Math.max(d, Math.abs(actual[i]! - expected[i]!));
    s = Math.max(s, Math.abs(expected[i]!));
  }
  if (Number.isNaN(d)) return Number.NaN;
  return d === 0 ? 0 : d / s;
}

/** The error of one element. */
export interface EquivarianceError {
  element: number;
  name: string;
  error: number;
}

/** What {@link equivarianceErrors} checks. */
export interface EquivarianceCheck<X> {
  group: FiniteGroup;
  /** Elements to check. Default: all. */
  elements?: readonly number[];
  /** The map under test, its output flattened. */
  f: (x: X) => ArrayLike<number>;
  /** The input. */
  x: X;
  /** t·x. */
  actIn: (t: number, x: X) => X;
  /** t'·y for an output y = f(x) (return y itself for an invariant map). */
  actOut: (t: number, y: ArrayLike<number>) => ArrayLike<number>;
}

/** error(t) for every element checked; the largest is `Math.max(...errors.map(e => e.error))`. */
export function equivarianceErrors<X>(c: EquivarianceCheck<X>): EquivarianceError[] {
  const y = Array.from(c.f(c.x));
  const elements = c.elements ?? Array.from({ length: c.group.order }, (_, i) => i);
  return elements.map((t) => ({
    element: t,
    name: elementName(c.group, t),
    error: relativeError(c.f(c.actIn(t, c.x)), c.actOut(t, y)),
  }));
}

/** Feature maps [B, H, W, C] (H = W) turned by `quarterTurns` x 90° counter-clockwise as displayed. */
export function turnMaps(x: tf.Tensor4D, quarterTurns: number): tf.Tensor4D {
  if (x.shape[1] !== x.shape[2]) throw new RangeError(`turnMaps: maps are ${x.shape[1]} x ${x.shape[2]}, not square`);
  let y = x;
  // One quarter turn: out[i][j] = in[j][W - 1 - i] (lib/data/transform.ts's sense).
  for (let q = ((quarterTurns % 4) + 4) % 4; q > 0; q--) y = tf.reverse(tf.transpose(y, [0, 2, 1, 3]), 1);
  return y;
}

/** Feature maps [B, H, W, C] mirrored left-right. */
export function mirrorMaps(x: tf.Tensor4D): tf.Tensor4D {
  return tf.reverse(x, 2);
}

/**
 * p4 feature maps [B, H, W, 4 C] (channel 4c + r) with their slots shifted by `by`:
 * out[4c + r] = in[4c + (r - by) mod 4], the slot part of a quarter turn's action.
 */
export function shiftSlots(x: tf.Tensor4D, by: number, slots = 4): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const k = ((by % slots) + slots) % slots;
  if (k === 0) return x;
  const g = tf.reshape(x, [b, h, w, c / slots, slots]);
  const rolled = tf.concat(
    [
      tf.slice(g, [0, 0, 0, 0, slots - k], [-1, -1, -1, -1, k]),
      tf.slice(g, [0, 0, 0, 0, 0], [-1, -1, -1, -1, slots - k]),
    ],
    4,
  );
  return tf.reshape(rolled, [b, h, w, c]);
}

/** The action of a quarter-turn power r^k on p4 feature maps: turn the maps, shift the slots. */
export function turnP4Maps(x: tf.Tensor4D, quarterTurns: number): tf.Tensor4D {
  return shiftSlots(turnMaps(x, quarterTurns), quarterTurns);
}
