/**
 * A p4 network that removes the spatial axes (the paper's p4-CNN, §2.1), giving V_p4 (4 rows x m):
 *
 *     lift k x k 'same' 1 -> w_1, ReLU, 2x2 max-pool,
 *     p4 k x k 'same' w_1 -> w_2, ReLU, 2x2 max-pool, ..., p4 k x k 'same' -> w_L, ReLU,
 *     p4 'valid' with a kernel the size of the last map, w_L -> m (linear)
 *
 * (defaults of docs/EQUIVARIANT-AE.md: widths 8, 16, 32 and m = 32 on 28 x 28: 28 -> 14 -> 7 -> 1). Every step keeps
 * the sampling grid symmetric about the centre, so quarter turns of the input shift the rows of
 * V_p4 cyclically, exactly: V_p4(t·x)[k] = V_p4(x)[k - 1]. The constructor refuses geometry that
 * would not ({@link quarterTurnExact}).
 */
import * as tf from '@tensorflow/tfjs';

import { P4GroupConv, P4LiftingConv, quarterTurnExact } from './p4-conv';
import { P4_SLOTS } from './p4-filter-bank';
import type { ParameterSet } from './parameters';

/** Options of {@link P4Branch}. */
export interface P4BranchOptions {
  /** Side of the square input images. */
  imageSize: number;
  /** G-channels of the 'same' conv blocks, a 2x2 max-pool between consecutive blocks. */
  widths: readonly number[];
  /** Columns m of V_p4 (G-channels of the last, full-size 'valid' layer). */
  outChannels: number;
  /** Kernel side of the 'same' blocks (odd). */
  kernelSize: number;
}

/** The p4 network of one branch: [N, s, s, 1] -> [N, 4, m]. */
export class P4Branch {
  readonly lifting: P4LiftingConv;
  readonly blocks: P4GroupConv[] = [];
  readonly final: P4GroupConv;
  /** Side of the map the last layer reduces to 1 x 1. */
  readonly finalSize: number;

  constructor(params: ParameterSet, name: string, readonly options: P4BranchOptions) {
    const { imageSize, widths, outChannels, kernelSize } = options;
    if (!Array.isArray(widths) || widths.length < 1) throw new RangeError(`${name}: widths must list at least one G-channel count`);
    if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0) {
      throw new RangeError(`${name}: kernelSize must be an odd positive integer (even kernels pad 'same' unevenly, breaking exact equivariance), got ${String(kernelSize)}`);
    }
    let size = imageSize;
    for (let i = 0; i < widths.length - 1; i++) {
      const pool = quarterTurnExact(size, 2, 2, 'valid');
      if (!pool.exact) {
        throw new RangeError(
          `${name}: ${widths.length - 1} 2x2 poolings need an image side divisible by ${2 ** (widths.length - 1)}; the map of side ${size} after block ${i + 1} is odd (${pool.reason})`,
        );
      }
      size = pool.outSize;
    }
    this.finalSize = size;
    this.lifting = new P4LiftingConv(params, `${name}/lift`, { inChannels: 1, outChannels: widths[0]!, kernelSize });
    for (let i = 1; i < widths.length; i++) {
      this.blocks.push(new P4GroupConv(params, `${name}/p4_${i}`, { inChannels: widths[i - 1]!, outChannels: widths[i]!, kernelSize }));
    }
    this.final = new P4GroupConv(params, `${name}/full`, { inChannels: widths[widths.length - 1]!, outChannels, kernelSize: size, padding: 'valid' });
  }

  apply(x: tf.Tensor4D): tf.Tensor3D {
    let h = tf.relu(this.lifting.apply(x));
    for (const block of this.blocks) h = tf.relu(block.apply(tf.maxPool(h, 2, 2, 'valid')));
    const y = this.final.apply(h); // [N, 1, 1, 4 m], channel 4 o + r
    const m = this.options.outChannels;
    return tf.transpose(tf.reshape(y, [y.shape[0], m, P4_SLOTS]), [0, 2, 1]);
  }

  dispose(): void {
    for (const layer of [this.lifting, ...this.blocks, this.final]) layer.dispose();
  }

  /** Multiply-adds of one forward pass of one image. */
  macs(): number {
    let size = this.options.imageSize;
    let total = this.lifting.macs(size);
    for (const block of this.blocks) {
      size /= 2;
      total += block.macs(size);
    }
    return total + this.final.macs(this.finalSize);
  }
}
