/**
 * A plain transposed-convolution image decoder (the paper asks only for a "symmetric"
 * architecture, §2.2; it need not be equivariant):
 *
 *     dense d -> s0·s0·w_1, ReLU, reshape [s0, s0, w_1],
 *     conv2dTranspose k x k stride 2 'same' w_1 -> w_2, ReLU, ... (each doubles the side) -> w_L,
 *     conv k x k 'same' w_L -> 1, sigmoid
 *
 * with s0 = side / 2^(L-1) (defaults of docs/EQUIVARIANT-AE.md: widths 32, 16, 8 on 28 x 28: 7 -> 14 -> 28).
 */
import * as tf from '@tensorflow/tfjs';

import type { ParameterSet } from './parameters';

/** Options of {@link ConvDecoder}. */
export interface ConvDecoderOptions {
  /** Width d of the input code. */
  inputDim: number;
  /** Side of the square output images. */
  imageSize: number;
  /** Channels from the smallest map up; one transposed conv between consecutive widths. */
  widths: readonly number[];
  /** Kernel side. */
  kernelSize: number;
}

export class ConvDecoder {
  private readonly dense: tf.Variable;
  private readonly denseBias: tf.Variable;
  private readonly up: { kernel: tf.Variable; bias: tf.Variable }[] = [];
  private readonly outKernel: tf.Variable;
  private readonly outBias: tf.Variable;
  readonly startSize: number;

  constructor(
    params: ParameterSet,
    name: string,
    readonly options: ConvDecoderOptions,
  ) {
    const { inputDim, imageSize, widths, kernelSize: k } = options;
    if (!Array.isArray(widths) || widths.length < 1 || !widths.every((w) => Number.isInteger(w) && w >= 1)) {
      throw new RangeError(`${name}: widths must be a non-empty list of positive integers`);
    }
    const steps = widths.length - 1;
    if (imageSize % 2 ** steps !== 0)
      throw new RangeError(
        `${name}: ${steps} doublings cannot reach side ${imageSize} (not divisible by ${2 ** steps})`,
      );
    const s0 = (this.startSize = imageSize / 2 ** steps);
    const w0 = widths[0]!;
    this.dense = params.add(`${name}/dense/kernel`, [inputDim, s0 * s0 * w0], { glorot: [inputDim, s0 * s0 * w0] });
    this.denseBias = params.add(`${name}/dense/bias`, [s0 * s0 * w0], 'zeros');
    for (let i = 1; i < widths.length; i++) {
      const [cin, cout] = [widths[i - 1]!, widths[i]!];
      // conv2dTranspose filters are [k, k, out, in].
      this.up.push({
        kernel: params.add(`${name}/up_${i}/kernel`, [k, k, cout, cin], { glorot: [k * k * cin, k * k * cout] }),
        bias: params.add(`${name}/up_${i}/bias`, [cout], 'zeros'),
      });
    }
    const last = widths[widths.length - 1]!;
    this.outKernel = params.add(`${name}/out/kernel`, [k, k, last, 1], { glorot: [k * k * last, k * k] });
    this.outBias = params.add(`${name}/out/bias`, [1], 'zeros');
  }

  /** Codes [B, d] -> images [B, side²] in (0, 1). */
  apply(z: tf.Tensor2D): tf.Tensor2D {
    const b = z.shape[0];
    const { widths, imageSize } = this.options;
    let side = this.startSize;
    let h = tf.reshape(tf.relu(tf.add(tf.matMul(z, this.dense), this.denseBias)), [
      b,
      side,
      side,
      widths[0]!,
    ]) as tf.Tensor4D;
    this.up.forEach(({ kernel, bias }, i) => {
      side *= 2;
      const y = tf.conv2dTranspose(h, kernel as tf.Tensor4D, [b, side, side, widths[i + 1]!], 2, 'same');
      h = tf.relu(tf.add(y, bias)) as tf.Tensor4D;
    });
    const out = tf.sigmoid(tf.add(tf.conv2d(h, this.outKernel as tf.Tensor4D, 1, 'same'), this.outBias));
    return tf.reshape(out, [b, imageSize * imageSize]);
  }

  /** Multiply-adds of one forward pass of one code. */
  macs(): number {
    const { inputDim, widths, kernelSize: k, imageSize } = this.options;
    let side = this.startSize;
    let total = inputDim * side * side * widths[0]!;
    for (let i = 1; i < widths.length; i++) {
      // Each input position sends a k x k patch to the doubled map.
      total += side * side * k * k * widths[i - 1]! * widths[i]!;
      side *= 2;
    }
    return total + imageSize * imageSize * k * k * widths[widths.length - 1]!;
  }
}
