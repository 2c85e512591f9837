/**
 * The pixel-coordinate grid of the coordinate (spatial) decoders and the pose transform that turns
 * and shifts it (docs/RVAE.md, "Conventions"; docs/CONVENTIONS.md, "Images").
 *
 * Grid: pixel (row i, column j) of an H x W image has the coordinate
 *
 *     x_j = -1 + 2 j / (W - 1)      (column, left to right: -1 .. 1)
 *     y_i =  1 - 2 i / (H - 1)      (row, top to bottom: 1 .. -1; y points up)
 *
 * listed row-major (pixel p = i W + j), so the grid flattens like the images. A side of one pixel
 * has the coordinate 0.
 *
 * Pose: a decoder that draws image b with angle phi_b and shift t_b (grid units, x right, y up)
 * evaluates its content function f at
 *
 *     c' = R(-phi_b) (c - t_b),     R(a) = [[cos a, -sin a], [sin a, cos a]],
 *
 * so whatever f draws at p appears at R(phi_b) p + t_b: turned counter-clockwise as displayed by
 * phi_b about the image centre, then moved by t_b. Public shifts are in pixels, x right and y down
 * ({@link pixelShiftToGrid}); a shift of k pixels is exactly k grid steps, so an integer shift moves
 * the grid onto itself.
 */
import * as tf from '@tensorflow/tfjs';

/** One grid step in grid units along x (columns) and y (rows): 2 / (side - 1), 0 for a side of 1. */
export function gridStep(height: number, width: number): { x: number; y: number } {
  return { x: width > 1 ? 2 / (width - 1) : 0, y: height > 1 ? 2 / (height - 1) : 0 };
}

function checkSize(height: number, width: number, where: string): void {
  for (const [name, v] of [
    ['height', height],
    ['width', width],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 4096)
      throw new RangeError(`${where}: ${name} must be an integer in [1, 4096], got ${String(v)}`);
  }
}

/**
 * The coordinate grid of an H x W image: H W rows of (x, y), row-major pixel order (see the file
 * comment), as a Float32Array of 2 H W values.
 */
export function coordinateGrid(height: number, width: number): Float32Array {
  checkSize(height, width, 'coordinateGrid');
  const step = gridStep(height, width);
  const out = new Float32Array(height * width * 2);
  for (let i = 0; i < height; i++) {
    const y = height > 1 ? 1 - step.y * i : 0;
    for (let j = 0; j < width; j++) {
      const p = i * width + j;
      out[2 * p] = width > 1 ? -1 + step.x * j : 0;
      out[2 * p + 1] = y;
    }
  }
  return out;
}

/**
 * Pixel shifts [dx, dy] (dx right, dy down; count x 2, row-major) in grid units (x right, y up):
 * (dx * 2 / (W - 1), -dy * 2 / (H - 1)).
 */
export function pixelShiftToGrid(shift: Float32Array, height: number, width: number): Float32Array {
  const step = gridStep(height, width);
  const out = new Float32Array(shift.length);
  for (let k = 0; k < shift.length; k += 2) {
    out[k] = shift[k] * step.x;
    out[k + 1] = -shift[k + 1] * step.y;
  }
  return out;
}

/** The inverse of {@link pixelShiftToGrid}: grid-unit shifts (x right, y up) in pixels (x right, y down). */
export function gridShiftToPixels(shift: Float32Array, height: number, width: number): Float32Array {
  const step = gridStep(height, width);
  const out = new Float32Array(shift.length);
  for (let k = 0; k < shift.length; k += 2) {
    out[k] = step.x > 0 ? shift[k] / step.x : 0;
    out[k + 1] = step.y > 0 ? -shift[k + 1] / step.y : 0;
  }
  return out;
}

/**
 * The transformed coordinates c' = R(-phi) (c - t) of every grid point for every image, in plain
 * float64 arithmetic (the reference the tests hold the decoder to): count x P x 2 values, image
 * after image. `angle` has one value per image (radians), `shift` two (grid units), or null for 0.
 */
export function transformGrid(
  grid: Float32Array,
  angle: Float32Array | null,
  shift: Float32Array | null,
  count: number,
): Float32Array {
  const pixels = grid.length / 2;
  const out = new Float32Array(count * pixels * 2);
  for (let b = 0; b < count; b++) {
    const a = angle ? angle[b] : 0;
    const c = Math.cos(a);
    const s = Math.sin(a);
    const tx = shift ? shift[2 * b] : 0;
    const ty = shift ? shift[2 * b + 1] : 0;
    for (let p = 0; p < pixels; p++) {
      const u = grid[2 * p] - tx;
      const v = grid[2 * p + 1] - ty;
      const o = 2 * (b * pixels + p);
      out[o] = c * u + s * v;
      out[o + 1] = -s * u + c * v;
    }
  }
  return out;
}

/** A batch of poses: angle per image (radians, counter-clockwise as displayed) and shift (grid units, x right, y up). */
export interface Pose {
  /** [batch] angles; absent = 0. */
  angle?: tf.Tensor1D | null;
  /** [batch, 2] shifts in grid units; absent = 0. */
  shift?: tf.Tensor2D | null;
}

/** What a pose does to a linear map of the coordinates, per image: see {@link poseCoefficients}. */
export interface PoseCoefficients {
  /** [batch, n]: multiplies the grid's x. */
  x: tf.Tensor2D;
  /** [batch, n]: multiplies the grid's y. */
  y: tf.Tensor2D;
  /** [batch, n]: added at every pixel. */
  constant: tf.Tensor2D;
}

/**
 * The pose as coefficients of the grid: for a weight matrix W = [w_x; w_y] (2 x n) acting on the
 * transformed coordinate c' = R(-phi) (c - t),
 *
 *     W^T c' = x A + y C - (t_x A + t_y C),   A = cos phi w_x - sin phi w_y,   C = sin phi w_x + cos phi w_y,
 *
 * so one matrix product of the grid (x, y, 1) with [A; C; constant] evaluates W^T c' at every pixel
 * of every image, and the grid itself never changes. Differentiable in W, phi and t.
 */
export function poseCoefficients(weights: tf.Tensor2D, pose: Pose, batch: number): PoseCoefficients {
  return tf.tidy(() => {
    const n = weights.shape[1];
    const wx = tf.slice(weights, [0, 0], [1, n]);
    const wy = tf.slice(weights, [1, 0], [1, n]);
    let a: tf.Tensor2D;
    let c: tf.Tensor2D;
    if (pose.angle) {
      const cos = tf.reshape(tf.cos(pose.angle), [batch, 1]);
      const sin = tf.reshape(tf.sin(pose.angle), [batch, 1]);
      a = tf.sub(tf.mul(cos, wx), tf.mul(sin, wy));
      c = tf.add(tf.mul(sin, wx), tf.mul(cos, wy));
    } else {
      a = tf.tile(wx, [batch, 1]);
      c = tf.tile(wy, [batch, 1]);
    }
    let constant: tf.Tensor2D;
    if (pose.shift) {
      const tx = tf.slice(pose.shift, [0, 0], [batch, 1]);
      const ty = tf.slice(pose.shift, [0, 1], [batch, 1]);
      constant = tf.neg(tf.add(tf.mul(tx, a), tf.mul(ty, c))) as tf.Tensor2D;
    } else {
      constant = tf.zeros([batch, n]);
    }
    return { x: a, y: c, constant };
  });
}
