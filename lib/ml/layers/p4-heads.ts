/**
 * The two branches CODAE puts on top of its p4 maps F [B, s, s, 4C] (channel 4c + r, slot r = the
 * turn by r x 90°; docs/CODAE.md, "Architecture"), both exact under quarter turns of the input:
 *
 * B_equi, {@link P4PoseHead}: centroid and orientation.
 *   - heat_p = MLP_h(Σ_r F_p[·, r]) per cell p (a 1x1 network of the slot sums: turning the input
 *     turns the heat map), w = softmax_p(heat), centroid (x̄, ȳ) = Σ_p w_p (cell centre in pixels);
 *   - pooled V[c, r] = Σ_p w_p F_p[c, r] (quarter turns shift its slots);
 *   - for each slot r, u_r = MLP_o(V rolled by r) = (a, b, p, q) with one MLP shared by the four
 *     slots, then (c, s) = Σ_r R(r π/2) (a_r, b_r) and the offset o = Σ_r R(r π/2) (p_r, q_r)
 *     (R: counter-clockwise turn, y up).
 *   Output: x = x̄ + o_x, y = ȳ - o_y (pixels, y down), the vector (c, s), angle = atan2(s, c).
 *   A quarter turn of the input turns the slots once, so u_r -> u_{r-1}, (c, s) and o turn by 90°
 *   and the heat map turns with the image: the centroid turns about the image centre and the
 *   angle grows by π/2, exactly when the cells' centres are symmetric about the image centre
 *   (2x2 poolings of even maps: cell i covers pixels T i .. T i + T - 1, centre T i + (T - 1)/2).
 * B_inv, {@link p4GlobalMaxPool}: the maximum over the four slots and over all cells, [B, C], which
 *   quarter turns leave unchanged (fully connected layers then give the invariant latents).
 */
import * as tf from '@tensorflow/tfjs';

import { P4_SLOTS } from './p4-filter-bank';
import type { ParameterSet } from './parameters';

/** Options of {@link P4PoseHead}. */
export interface P4PoseHeadOptions {
  /** G-channels C of the maps. */
  channels: number;
  /** Side s of the maps. */
  mapSize: number;
  /** Input pixels per cell side (the product of the poolings before the maps, T). */
  cellPixels: number;
  /** Width of the hidden layers of both MLPs. */
  hidden: number;
}

/** What {@link P4PoseHead.apply} gives, per image. */
export interface P4Pose {
  /** Centroid column and row in pixels of the input image (x right, y down), [B]. */
  x: tf.Tensor1D;
  y: tf.Tensor1D;
  /** The orientation vector (c, s), [B, 2] (not normalised); angle = atan2(s, c). */
  vector: tf.Tensor2D;
  /** Orientation in radians, counter-clockwise as displayed, (-π, π], [B]. */
  angle: tf.Tensor1D;
}

function constant(values: Float32Array, shape: [number, number]): tf.Tensor2D {
  return tf.tensor2d(values, shape);
}

/** B_equi; see the file comment. */
export class P4PoseHead {
  private readonly heat: tf.Variable[];
  private readonly orient: tf.Variable[];
  /** [4C, C]: sums the four slots of each G-channel. */
  private readonly slotSum: tf.Tensor2D;
  /** [4C, 16C]: block r holds V rolled by r, roll_r(V)[c, s] = V[c, (s + r) mod 4]. */
  private readonly rolls: tf.Tensor2D;
  /** [16, 4]: turns (a_r, b_r) and (p_r, q_r) by r x 90° and sums over r. */
  private readonly turn: tf.Tensor2D;
  /** [s², 2]: cell centres (x, y) in input pixels. */
  private readonly centres: tf.Tensor2D;

  constructor(
    params: ParameterSet,
    name: string,
    readonly options: P4PoseHeadOptions,
  ) {
    const { channels: C, mapSize: s, cellPixels: T, hidden: h } = options;
    for (const [k, v] of Object.entries(options)) {
      if (!Number.isInteger(v) || (v as number) < 1)
        throw new RangeError(`P4PoseHead: ${k} must be a positive integer, got ${String(v)}`);
    }
    this.heat = [
      params.add(`${name}/heat1/kernel`, [C, h], { glorot: [C, h] }),
      params.add(`${name}/heat1/bias`, [h], 'zeros'),
      params.add(`${name}/heat2/kernel`, [h, 1], { glorot: [h, 1] }),
      params.add(`${name}/heat2/bias`, [1], 'zeros'),
    ];
    const n = P4_SLOTS * C;
    this.orient = [
      params.add(`${name}/orient1/kernel`, [n, h], { glorot: [n, h] }),
      params.add(`${name}/orient1/bias`, [h], 'zeros'),
      params.add(`${name}/orient2/kernel`, [h, 4], { glorot: [h, 4] }),
      params.add(`${name}/orient2/bias`, [4], 'zeros'),
    ];
    const sum = new Float32Array(n * C);
    for (let c = 0; c < C; c++) for (let r = 0; r < P4_SLOTS; r++) sum[(4 * c + r) * C + c] = 1;
    this.slotSum = constant(sum, [n, C]);
    const rolls = new Float32Array(n * P4_SLOTS * n);
    for (let r = 0; r < P4_SLOTS; r++) {
      for (let c = 0; c < C; c++)
        for (let t = 0; t < P4_SLOTS; t++) rolls[(4 * c + ((t + r) % 4)) * (P4_SLOTS * n) + r * n + 4 * c + t] = 1;
    }
    this.rolls = constant(rolls, [n, P4_SLOTS * n]);
    const turn = new Float32Array(16 * 4);
    // Exact cosines and sines of r x 90°.
    const cos = [1, 0, -1, 0];
    const sin = [0, 1, 0, -1];
    for (let r = 0; r < P4_SLOTS; r++) {
      for (const pair of [0, 1]) {
        const a = 4 * r + 2 * pair; // row of a (or p); b (or q) is the next one
        turn[a * 4 + 2 * pair] = cos[r];
        turn[(a + 1) * 4 + 2 * pair] = -sin[r];
        turn[a * 4 + 2 * pair + 1] = sin[r];
        turn[(a + 1) * 4 + 2 * pair + 1] = cos[r];
      }
    }
    this.turn = constant(turn, [16, 4]);
    const centres = new Float32Array(s * s * 2);
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < s; j++) {
        centres[2 * (i * s + j)] = T * j + (T - 1) / 2;
        centres[2 * (i * s + j) + 1] = T * i + (T - 1) / 2;
      }
    }
    this.centres = constant(centres, [s * s, 2]);
  }

  /** The softmax weights of the cells, [B, s²]. */
  cellWeights(maps: tf.Tensor4D): tf.Tensor2D {
    const { channels: C, mapSize: s } = this.options;
    const B = maps.shape[0];
    if (maps.shape[1] !== s || maps.shape[2] !== s || maps.shape[3] !== P4_SLOTS * C) {
      throw new RangeError(
        `P4PoseHead: maps are [${maps.shape.join(', ')}], expected [B, ${s}, ${s}, ${P4_SLOTS * C}]`,
      );
    }
    return tf.tidy(() => {
      const sums = tf.matMul(tf.reshape(maps, [B * s * s, P4_SLOTS * C]) as tf.Tensor2D, this.slotSum);
      const [k1, b1, k2, b2] = this.heat as unknown as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
      const hidden = tf.relu(tf.add(tf.matMul(sums, k1), b1)) as tf.Tensor2D;
      const heat = tf.reshape(tf.add(tf.matMul(hidden, k2), b2), [B, s * s]) as tf.Tensor2D;
      return tf.softmax(heat);
    });
  }

  apply(maps: tf.Tensor4D): P4Pose {
    const { channels: C, mapSize: s } = this.options;
    const B = maps.shape[0];
    const n = P4_SLOTS * C;
    return tf.tidy(() => {
      const w = this.cellWeights(maps);
      const centroid = tf.matMul(w, this.centres); // [B, 2]
      const flat = tf.reshape(maps, [B, s * s, n]);
      const pooled = tf.sum(tf.mul(flat, tf.reshape(w, [B, s * s, 1])), 1) as tf.Tensor2D; // [B, 4C]
      const views = tf.reshape(tf.matMul(pooled, this.rolls), [B * P4_SLOTS, n]) as tf.Tensor2D;
      const [k1, b1, k2, b2] = this.orient as unknown as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
      const u = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(views, k1), b1)) as tf.Tensor2D, k2), b2);
      const out = tf.matMul(tf.reshape(u, [B, 16]) as tf.Tensor2D, this.turn); // [B, 4]: c, s, o_x, o_y (y up)
      const vector = tf.slice(out, [0, 0], [B, 2]) as tf.Tensor2D;
      const offset = tf.slice(out, [0, 2], [B, 2]);
      const xy = tf.add(centroid, tf.mul(offset, tf.tensor2d([1, -1], [1, 2])));
      const x = tf.reshape(tf.slice(xy, [0, 0], [B, 1]), [B]) as tf.Tensor1D;
      const y = tf.reshape(tf.slice(xy, [0, 1], [B, 1]), [B]) as tf.Tensor1D;
      const angle = tf.atan2(
        tf.reshape(tf.slice(vector, [0, 1], [B, 1]), [B]),
        tf.reshape(tf.slice(vector, [0, 0], [B, 1]), [B]),
      ) as tf.Tensor1D;
      return { x, y, vector, angle };
    });
  }

  dispose(): void {
    tf.dispose([this.slotSum, this.rolls, this.turn, this.centres]);
  }
}

/** B_inv's group max-pool: the maximum of F [B, s, s, 4C] over the four slots and all cells, [B, C]. */
export function p4GlobalMaxPool(maps: tf.Tensor4D): tf.Tensor2D {
  const [B, h, w, n] = maps.shape;
  if (n % P4_SLOTS !== 0)
    throw new RangeError(`p4GlobalMaxPool: ${n} channels are not whole groups of ${P4_SLOTS} turns`);
  const C = n / P4_SLOTS;
  return tf.tidy(() => {
    const slotMax = tf.max(tf.reshape(maps, [B * h * w * C, P4_SLOTS]), 1);
    return tf.max(tf.reshape(slotMax, [B, h * w, C]), 1) as tf.Tensor2D;
  });
}
