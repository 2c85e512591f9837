/**
 * Filter banks of the p4 group convolutions (Cohen & Welling 2016, in GrouPy's layout), built by
 * exact quarter turns of the weights, so that a whole p4 layer is one ordinary conv2d:
 *
 *     lifting   bank[:, :, c, 4o + r]      = rot^r( W[:, :, c, o] )
 *     p4 -> p4  bank[:, :, 4c + s, 4o + r] = rot^r( W[:, :, 4c + ((s - r) mod 4), o] )
 *
 * rot = a quarter turn counter-clockwise as displayed (row 0 at the top), the sense of
 * lib/data/transform.ts: rot(w)[i][j] = w[j][k - 1 - i]. Channels are G-channel major, group
 * element (turn r = 0..3) minor.
 *
 * Both are exact copies made of products with constant 0/1 matrices (each output entry is one
 * weight times 1 plus zeros) and transposes: the four turns of the k² kernel positions as one
 * product with a [4 k², k²] selection, the roll of the slots as one product with a [16, 16]
 * selection over (r, s). These have fast gradients on the wasm backend. A gather does not (its
 * gradient needs UnsortedSegmentSum, which wasm lacks), and reverse, slice, concat-gradient
 * (split), batched matrix products and transposes of rank 5 ran element by element there, 10-100x
 * slower (a 7x7 bank built from them took half a second per training step).
 */
import * as tf from '@tensorflow/tfjs';

/** Slots of the p4 rotation group (turns by 0°, 90°, 180°, 270°). */
export const P4_SLOTS = 4;

/** Source positions of a k x k grid turned by q quarter turns: turned[p] = grid[src[p]], p = i k + j. */
export function quarterTurnSources(k: number, q: number): Int32Array {
  const turns = ((q % 4) + 4) % 4;
  const src = new Int32Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      // Undo one quarter turn at a time: rot(w)[i][j] = w[j][k - 1 - i].
      let [a, b] = [i, j];
      for (let t = 0; t < turns; t++) [a, b] = [b, k - 1 - a];
      src[i * k + j] = a * k + b;
    }
  }
  return src;
}

/** The constant matrices of the banks for k x k kernels (owned by a layer; dispose with it). */
export class QuarterTurns {
  /** [k, k]: the anti-identity; J x reverses the rows of x. */
  readonly flip: tf.Tensor2D;
  /** [4 k², k²]: row r k² + p selects the position turn r puts at p. */
  readonly stacked: tf.Tensor2D;
  /** [16, 16]: row 4r + s selects (r, (s - r) mod 4). */
  readonly roll: tf.Tensor2D;

  constructor(readonly k: number) {
    if (!Number.isInteger(k) || k < 1)
      throw new RangeError(`QuarterTurns: kernel side must be a positive integer, got ${String(k)}`);
    const n = k * k;
    const flip = new Float32Array(k * k);
    for (let i = 0; i < k; i++) flip[i * k + (k - 1 - i)] = 1;
    this.flip = tf.tensor2d(flip, [k, k]);
    const sel = new Float32Array(4 * n * n);
    for (let r = 0; r < 4; r++) {
      const src = quarterTurnSources(k, r);
      for (let p = 0; p < n; p++) sel[(r * n + p) * n + src[p]!] = 1;
    }
    this.stacked = tf.tensor2d(sel, [4 * n, n]);
    const roll = new Float32Array(16 * 16);
    for (let r = 0; r < 4; r++) for (let s = 0; s < 4; s++) roll[(4 * r + s) * 16 + 4 * r + ((s - r + 4) % 4)] = 1;
    this.roll = tf.tensor2d(roll, [16, 16]);
  }

  dispose(): void {
    tf.dispose([this.flip, this.stacked, this.roll]);
  }
}

/**
 * A kernel [k, k, ...] turned by `quarterTurns` x 90°: each quarter turn swaps the two kernel axes
 * (transpose) and reverses the first (J times the kernel as a [k, k ...] matrix). The banks below
 * get the same turns from one selection product; tests check that both agree.
 */
export function rot90Kernel<T extends tf.Tensor>(w: T, quarterTurns: number, turns: QuarterTurns): T {
  const [k, k2, ...rest] = w.shape;
  if (k !== turns.k || k2 !== turns.k)
    throw new RangeError(`rot90Kernel: the kernel is ${k} x ${k2}, expected ${turns.k} x ${turns.k}`);
  const inner = rest.reduce((p, d) => p * d, 1);
  let x = tf.reshape(w, [k, k, inner]) as tf.Tensor3D;
  for (let q = ((quarterTurns % 4) + 4) % 4; q > 0; q--) {
    x = tf.reshape(tf.matMul(turns.flip, tf.reshape(tf.transpose(x, [1, 0, 2]), [k, k * inner])), [k, k, inner]);
  }
  return tf.reshape(x, w.shape) as T;
}

function checkKernel(w: tf.Tensor4D, turns: QuarterTurns, where: string): void {
  if (w.shape[0] !== turns.k || w.shape[1] !== turns.k)
    throw new RangeError(`${where}: the kernel is ${w.shape[0]} x ${w.shape[1]}, expected ${turns.k} x ${turns.k}`);
}

/** The lifting bank of W [k, k, Cin, Cout]: [k, k, Cin, 4 Cout]. */
export function liftingBank(w: tf.Tensor4D, turns: QuarterTurns): tf.Tensor4D {
  checkKernel(w, turns, 'liftingBank');
  const [k, , cin, cout] = w.shape;
  const n = k * k;
  // [(r, pos), (c, o)] -> [r, (pos, c, o)] -> [(pos, c, o), r].
  const turned = tf.matMul(turns.stacked, tf.reshape(w, [n, cin * cout]));
  return tf.reshape(tf.transpose(tf.reshape(turned, [P4_SLOTS, n * cin * cout])), [k, k, cin, cout * P4_SLOTS]);
}

/**
 * The p4 -> p4 bank of W [k, k, 4 Cin, Cout] (input channel 4c + s): [k, k, 4 Cin, 4 Cout]. For
 * output turn r the kernel is turned by r and its input slots rolled by r (slot s reads W's slot
 * (s - r) mod 4).
 */
export function p4Bank(w: tf.Tensor4D, turns: QuarterTurns): tf.Tensor4D {
  checkKernel(w, turns, 'p4Bank');
  const [k, , cin4, cout] = w.shape;
  if (cin4 % P4_SLOTS !== 0)
    throw new RangeError(`p4Bank: ${cin4} input channels are not whole groups of ${P4_SLOTS} turns`);
  const n = k * k;
  const cells = n * (cin4 / P4_SLOTS); // (pos, c)
  // Turned: [(r, pos), (c, s0, o)] = [r, (pos, c), s0, o] -> [(r, s0), (pos, c, o)].
  const turned = tf.matMul(turns.stacked, tf.reshape(w, [n, cin4 * cout]));
  const bySlot = tf.reshape(tf.transpose(tf.reshape(turned, [P4_SLOTS, cells, P4_SLOTS, cout]), [0, 2, 1, 3]), [
    16,
    cells * cout,
  ]);
  // Rolled: [(r, s), (pos, c, o)] -> [(pos, c), s, o, r].
  const rolled = tf.reshape(tf.matMul(turns.roll, bySlot), [P4_SLOTS, P4_SLOTS, cells, cout]);
  return tf.reshape(tf.transpose(rolled, [2, 1, 3, 0]), [k, k, cin4, cout * P4_SLOTS]);
}

/** One bias per G-channel, repeated over its four turns: b [C] -> [4C] with entry 4o + r = b[o]. */
export function groupBias(b: tf.Tensor1D, slots = P4_SLOTS): tf.Tensor1D {
  const c = b.shape[0];
  return tf.reshape(tf.tile(tf.reshape(b, [c, 1]), [1, slots]), [c * slots]);
}
