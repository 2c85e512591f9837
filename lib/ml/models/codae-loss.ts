/**
 * CODAE's training objective (docs/CODAE.md, "Loss"), per batch:
 *
 *     L = mean over images and pixels of (same-view - x)²  +  β(t) · L_moment
 *     L_moment = mean over images of  |(x̂, ŷ) - (x̄, ȳ)|²  +  ½ (1 - cos 2(θ̂ - θ_m))
 *
 * - (x̄, ȳ) and θ_m are the image moments of the input (lib/data/moments.ts), computed here from
 *   the batch with tensor ops; centroids in grid units (x right, y up, -1 .. 1 across the image;
 *   layers/coordinates.ts), so both terms are of order 1. The angle term is taken modulo π (the
 *   moment orientation is an axis) and left out where the moments are isotropic (a disc, a
 *   square); both terms are left out for a blank image.
 * - β(t) = β_0 max(0, 1 - t / f) at training progress t in [0, 1] (steps done / all steps of the
 *   fit): linear from β_0 to 0 over the fraction f of training (default 1 -> 0 over the first
 *   half), then 0. β_0 = 0 is the ablation without the moment loss.
 */
import * as tf from '@tensorflow/tfjs';

import { ISOTROPY_TOLERANCE } from '../../data/moments';

/** β of the moment loss at training progress t in [0, 1]: β_0 max(0, 1 - t / fade). */
export function momentBeta(progress: number, weight: number, fade = 0.5): number {
  if (!(progress >= 0 && progress <= 1))
    throw new RangeError(`momentBeta: progress must be in [0, 1], got ${String(progress)}`);
  if (!(fade > 0 && fade <= 1)) throw new RangeError(`momentBeta: fade must be in (0, 1], got ${String(fade)}`);
  return weight * Math.max(0, 1 - progress / fade);
}

/** Moment targets of a batch: centroids in grid units, the doubled-angle vector, and the masks. */
export interface MomentTargets {
  /** [B, 2]: (x̄, ȳ) in grid units (x right, y up). */
  centroid: tf.Tensor2D;
  /** [B, 2]: (cos 2θ_m, sin 2θ_m) (zeros where undefined). */
  doubled: tf.Tensor2D;
  /** [B]: 1 where the image has any intensity. */
  hasMass: tf.Tensor1D;
  /** [B]: 1 where the orientation is defined (eccentricity above the tolerance). */
  hasAngle: tf.Tensor1D;
}

/**
 * The constant [P, 6] matrix whose product with images [B, P] gives, per image, Σ I (1, X, Y, X²,
 * Y², X Y) with (X, Y) the pixel's offset from the image centre in pixels (x right, y up).
 */
export function momentBasis(height: number, width: number): tf.Tensor2D {
  const P = height * width;
  const k = new Float32Array(P * 6);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const X = c - cx;
      const Y = cy - r;
      k.set([1, X, Y, X * X, Y * Y, X * Y], (r * width + c) * 6);
    }
  }
  return tf.tensor2d(k, [P, 6]);
}

/** Moment targets of images x [B, P] of size height x width, with `basis` = momentBasis(height, width). */
export function momentTargets(
  x: tf.Tensor2D,
  basis: tf.Tensor2D,
  height: number,
  width: number,
  tolerance = ISOTROPY_TOLERANCE,
): MomentTargets {
  return tf.tidy(() => {
    const B = x.shape[0];
    const m = tf.matMul(x, basis); // [B, 6]
    const col = (j: number): tf.Tensor1D => tf.reshape(tf.slice(m, [0, j], [B, 1]), [B]) as tf.Tensor1D;
    const mass = col(0);
    const hasMass = tf.cast(tf.greater(mass, 1e-6), 'float32') as tf.Tensor1D;
    const safe = tf.add(mass, tf.mul(tf.sub(1, hasMass), 1)); // 1 where blank: no division by 0
    const mx = tf.div(col(1), safe);
    const my = tf.div(col(2), safe);
    const mu20 = tf.sub(tf.div(col(3), safe), tf.square(mx));
    const mu02 = tf.sub(tf.div(col(4), safe), tf.square(my));
    const mu11 = tf.sub(tf.div(col(5), safe), tf.mul(mx, my)); // with y up: the sign of θ = ½ atan2(2 μ11, μ20 - μ02)
    const a = tf.sub(mu20, mu02);
    const b = tf.mul(mu11, 2);
    const norm = tf.sqrt(tf.add(tf.add(tf.square(a), tf.square(b)), 1e-30));
    const hasAngle = tf.mul(
      hasMass,
      tf.cast(tf.greater(norm, tf.mul(tf.add(mu20, mu02), tolerance)), 'float32'),
    ) as tf.Tensor1D;
    const doubled = tf.mul(
      tf.stack([tf.div(a, norm), tf.div(b, norm)], 1),
      tf.reshape(hasAngle, [B, 1]),
    ) as tf.Tensor2D;
    const sx = width > 1 ? 2 / (width - 1) : 0;
    const sy = height > 1 ? 2 / (height - 1) : 0;
    const centroid = tf.stack([tf.mul(mx, sx), tf.mul(my, sy)], 1) as tf.Tensor2D;
    return { centroid, doubled, hasMass, hasAngle };
  });
}

/**
 * The moment loss (mean over the images of the batch) of predicted centroids `centroid` [B, 2]
 * (grid units, y up) and orientation vectors `vector` [B, 2] (c, s) against `targets`.
 */
export function momentLoss(centroid: tf.Tensor2D, vector: tf.Tensor2D, targets: MomentTargets): tf.Scalar {
  return tf.tidy(() => {
    const B = centroid.shape[0];
    const position = tf.mul(tf.sum(tf.square(tf.sub(centroid, targets.centroid)), 1), targets.hasMass);
    const c = tf.reshape(tf.slice(vector, [0, 0], [B, 1]), [B]);
    const s = tf.reshape(tf.slice(vector, [0, 1], [B, 1]), [B]);
    const n2 = tf.add(tf.add(tf.square(c), tf.square(s)), 1e-12);
    // cos 2θ̂ and sin 2θ̂ from the unnormalised vector; cos 2(θ̂ - θ_m) = cos 2θ̂ cos 2θ_m + sin 2θ̂ sin 2θ_m.
    const cos2 = tf.div(tf.sub(tf.square(c), tf.square(s)), n2);
    const sin2 = tf.div(tf.mul(tf.mul(c, s), 2), n2);
    const t = targets.doubled;
    const agree = tf.add(
      tf.mul(cos2, tf.reshape(tf.slice(t, [0, 0], [B, 1]), [B])),
      tf.mul(sin2, tf.reshape(tf.slice(t, [0, 1], [B, 1]), [B])),
    );
    const angle = tf.mul(tf.mul(tf.sub(1, agree), 0.5), targets.hasAngle);
    return tf.div(tf.sum(tf.add(position, angle)), Math.max(B, 1)) as tf.Scalar;
  });
}
