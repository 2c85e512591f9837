/**
 * The coordinate ("spatial generator") decoder of spatial-VAE and the rVAE (pyroVED `sDecoderNet`,
 * summarised in docs/RVAE.md): one small network evaluated at every pixel of every image,
 *
 *     h_0 = tanh(W_c^T c'_bp + b_c + W_z^T v_b)          (coordinate-latent layer, width n)
 *     h_l = tanh(W_l^T h_{l-1} + b_l),  l = 1..L         (hidden layers, width n)
 *     logit_bp = w_o^T h_L + b_o                         (the pixel's Bernoulli logit)
 *
 * with c'_bp the pose-transformed coordinate of pixel p in image b (coordinates.ts: turned by the
 * angle, moved by the shift) and v_b the image's latent input (content latents, then any one-hot
 * class). W_z has no bias. Any pose input works: the rVAE feeds (angle, shift), CODAE (x, y, theta).
 *
 * How it is made fast (training is dominated by this network; bench/rvae.mjs):
 * - All pixels of all images of a batch go through each layer as one matrix product, rows in
 *   pixel-major order (row p * batch + b), so the first layer is a single product of the constant
 *   homogeneous grid [P, 3] = (x, y, 1) with per-image coefficients [3, batch * n]
 *   ({@link poseCoefficients}): the transformed coordinates are never formed.
 * - tanh is computed as tanh(a) = 2 sigmoid(2a) - 1 with the affine parts folded into the small
 *   weight matrices: the layers carry s = sigmoid(2a) = (1 + tanh a) / 2, and a layer reading s
 *   uses the kernel 4 W and bias 2 (b - 1^T W) (the output layer 2 w_o and b_o - 1^T w_o). The
 *   function and its gradients are those of the tanh network; on the wasm backend sigmoid runs
 *   about 20x faster than tanh, which is the largest single cost otherwise.
 * - The grid is built once per image size and kept; pixel subsampling passes a row subset of it.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/random';
import { coordinateGrid, poseCoefficients, type Pose } from './coordinates';
import { Dense } from './dense';

/** Shape of a {@link SpatialDecoder}. */
export interface SpatialDecoderOptions {
  /** Width of the latent input v (content latents plus one-hot classes). At least 1. */
  latentInputs: number;
  /** Units of the coordinate-latent layer and of every hidden layer. Default 128. */
  width?: number;
  /** Hidden layers after the coordinate-latent layer. Default 2 (pyroVED's num_layers). */
  hiddenLayers?: number;
  /** Prefix of the layer names (for saving). Default 'sdec'. */
  name?: string;
}

/** The homogeneous grid (x, y, 1) of some pixels of an image size, as a constant tensor [pixels, 3]. */
export function homogeneousGrid(height: number, width: number, pixels?: Int32Array): tf.Tensor2D {
  const grid = coordinateGrid(height, width);
  const n = pixels ? pixels.length : height * width;
  const out = new Float32Array(n * 3);
  for (let k = 0; k < n; k++) {
    const p = pixels ? pixels[k] : k;
    if (!(p >= 0 && p < height * width))
      throw new RangeError(`homogeneousGrid: pixel index ${p} outside the ${height}x${width} image`);
    out[3 * k] = grid[2 * p];
    out[3 * k + 1] = grid[2 * p + 1];
    out[3 * k + 2] = 1;
  }
  return tf.tensor2d(out, [n, 3]);
}

/** dL/da from dL/ds for s = sigmoid(a): dy s (1 - s). */
function sigmoidBackward(dy: tf.Tensor, s: tf.Tensor): tf.Tensor2D {
  return tf.mul(dy, tf.mul(s, tf.sub(1, s))) as tf.Tensor2D;
}

/** What a hand-differentiated op returns: its value and the gradients of its inputs from dL/dvalue. */
interface CustomResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
}

/** tf.customGrad with typed inputs; `save` keeps tensors for the backward pass. */
function customOp<A extends tf.Tensor[]>(
  f: (save: tf.GradSaveFunc, ...inputs: A) => CustomResult,
): (...inputs: A) => tf.Tensor2D {
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return f(save, ...(args.slice(0, -1) as A));
  }) as Parameters<typeof tf.customGrad>[0]);
  return (...inputs: A) => op(...inputs) as tf.Tensor2D;
}

/**
 * s = sigmoid(grid coeff): the first layer, [pixels, batch * n]. Only the coefficients need a
 * gradient (the grid is constant; its gradient is returned as zero).
 */
const gridLayer = customOp((save, grid: tf.Tensor2D, coeff: tf.Tensor2D) => {
  const s = tf.sigmoid(tf.matMul(grid, coeff));
  save([grid, s]);
  return {
    value: s,
    gradFunc: (dy, saved) => {
      const [g, sv] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.zerosLike(g), tf.matMul(g, sigmoidBackward(dy, sv), true, false)];
    },
  };
});

/**
 * s = sigmoid(x w + b) for x [rows, k], w [k, n]; only x, w and s are kept for the backward pass,
 * and the sigmoid's derivative is taken from s.
 */
const sigmoidLayer = customOp((save, x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => {
  const s = tf.sigmoid(tf.fused.matMul({ a: x, b: w, bias: b }));
  save([x, w, s]);
  return {
    value: s,
    gradFunc: (dy, saved) => {
      const [xv, wv, sv] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const g = sigmoidBackward(dy, sv);
      return [tf.matMul(g, wv, false, true), tf.matMul(xv, g, true, false), tf.sum(g, 0)];
    },
  };
});

/**
 * logits = x w + b for x [rows, k], w [k, 1]; only x and w are kept for the backward pass.
 */
const outputLayer = customOp((save, x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x, b: w, bias: b }),
    gradFunc: (dy, saved) => {
      const [xv, wv] = saved as [tf.Tensor2D, tf.Tensor2D];
      const column = tf.reshape(dy, [xv.shape[0], 1]) as tf.Tensor2D;
      return [tf.matMul(column, wv, false, true), tf.matMul(xv, column, true, false), tf.reshape(tf.sum(dy), [1])];
    },
  };
});

/** The coordinate decoder; see the file comment. */
export class SpatialDecoder {
  readonly latentInputs: number;
  readonly width: number;
  readonly hiddenLayers: number;
  /** W_c [2, n] and b_c. */
  readonly coord: Dense;
  /** W_z [latentInputs, n], no bias. */
  readonly latent: Dense;
  readonly hidden: Dense[];
  readonly out: Dense;
  private readonly grids = new Map<string, tf.Tensor2D>();

  constructor(options: SpatialDecoderOptions, rng: Rng) {
    const { latentInputs, width = 128, hiddenLayers = 2, name = 'sdec' } = options;
    if (!Number.isInteger(latentInputs) || latentInputs < 1)
      throw new RangeError(`SpatialDecoder: latentInputs must be a positive integer, got ${String(latentInputs)}`);
    if (!Number.isInteger(width) || width < 1)
      throw new RangeError(`SpatialDecoder: width must be a positive integer, got ${String(width)}`);
    if (!Number.isInteger(hiddenLayers) || hiddenLayers < 0)
      throw new RangeError(`SpatialDecoder: hiddenLayers must be an integer >= 0, got ${String(hiddenLayers)}`);
    this.latentInputs = latentInputs;
    this.width = width;
    this.hiddenLayers = hiddenLayers;
    this.coord = new Dense({ name: `${name}_coord`, inputs: 2, units: width }, rng);
    this.latent = new Dense({ name: `${name}_latent`, inputs: latentInputs, units: width, bias: false }, rng);
    this.hidden = [];
    for (let l = 0; l < hiddenLayers; l++)
      this.hidden.push(new Dense({ name: `${name}_hidden${l + 1}`, inputs: width, units: width }, rng));
    this.out = new Dense({ name: `${name}_out`, inputs: width, units: 1 }, rng);
  }

  /** Every layer, in order (for saving and for the optimiser). */
  layers(): Dense[] {
    return [this.coord, this.latent, ...this.hidden, this.out];
  }

  variables(): tf.Variable[] {
    return this.layers().flatMap((l) => l.variables());
  }

  /** The full homogeneous grid of an image size, built once and kept. */
  grid(height: number, width: number): tf.Tensor2D {
    const key = `${height}x${width}`;
    let g = this.grids.get(key);
    if (!g) {
      g = tf.keep(homogeneousGrid(height, width));
      this.grids.set(key, g);
    }
    return g;
  }

  /**
   * Bernoulli logits [pixels, batch] (pixel-major: row k is grid row k) of the images with latent
   * inputs `latent` [batch, latentInputs] and poses `pose`, at the pixels of `grid` ([pixels, 3],
   * from {@link grid} or {@link homogeneousGrid}).
   */
  logits(latent: tf.Tensor2D, pose: Pose, grid: tf.Tensor2D): tf.Tensor2D {
    const batch = latent.shape[0];
    const n = this.width;
    if (latent.shape[1] !== this.latentInputs)
      throw new RangeError(
        `SpatialDecoder: latent input has ${latent.shape[1]} columns, expected ${this.latentInputs}`,
      );
    if (grid.shape[1] !== 3)
      throw new RangeError(`SpatialDecoder: the grid must be [pixels, 3] (x, y, 1), got [${grid.shape.join(', ')}]`);
    const pixels = grid.shape[0];
    return tf.tidy(() => {
      const k = poseCoefficients(this.coord.kernel, pose, batch);
      const constant = tf.add(tf.add(k.constant, this.coord.bias!), tf.matMul(latent, this.latent.kernel));
      // Rows multiplying x, y and 1, doubled for sigmoid(2a): [3, batch * n].
      const coeff = tf.mul(tf.reshape(tf.stack([k.x, k.y, constant]), [3, batch * n]), 2) as tf.Tensor2D;
      let s = tf.reshape(gridLayer(grid, coeff), [pixels * batch, n]) as tf.Tensor2D;
      for (const layer of this.hidden) {
        const w = layer.kernel;
        s = sigmoidLayer(s, tf.mul(w, 4), tf.mul(tf.sub(layer.bias!, tf.sum(w, 0)), 2));
      }
      const wo = this.out.kernel;
      const logits = outputLayer(s, tf.mul(wo, 2), tf.sub(this.out.bias!, tf.sum(wo, 0)));
      return tf.reshape(logits, [pixels, batch]);
    });
  }

  /** Frees the weights and the kept grids. */
  dispose(): void {
    this.layers().forEach((l) => l.dispose());
    this.grids.forEach((g) => g.dispose());
    this.grids.clear();
  }
}
