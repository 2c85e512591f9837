/**
 * p4 networks built from the group convolutions of p4-conv.ts.
 *
 * {@link P4Trunk}: the stack of 'same' blocks with a 2x2 max-pool between consecutive blocks,
 *
 *     lift k0 x k0 'same' 1 -> w_1, ReLU, 2x2 max-pool, p4 k x k 'same' w_1 -> w_2, ReLU, ..., ReLU
 *
 * giving equivariant maps [N, s / 2^(L-1), s / 2^(L-1), 4 w_L] (channel 4 o + r). Every step keeps
 * the sampling grid symmetric about the centre (odd kernels at stride 1, 2x2 pooling of even
 * maps), so a quarter turn t of the input turns the maps and shifts the slots exactly:
 * maps(t·x)[4o + r] = t·maps(x)[4o + r - 1]. CODAE's encoder (models/codae.ts) is a trunk.
 *
 * {@link P4Branch}: a trunk followed by a p4 'valid' layer with a kernel the size of the last map,
 * w_L -> m (linear), which removes the spatial axes: V_p4 (4 rows x m), the paper's p4-CNN (§2.1)
 * of the equivariant autoencoder (defaults of docs/EQUIVARIANT-AE.md: widths 8, 16, 32 and m = 32
 * on 28 x 28: 28 -> 14 -> 7 -> 1). Quarter turns shift its rows cyclically, exactly:
 * V_p4(t·x)[k] = V_p4(x)[k - 1]. The constructors refuse geometry that would not
 * ({@link quarterTurnExact}).
 */
import * as tf from '@tensorflow/tfjs';

import { P4GroupConv, P4LiftingConv, quarterTurnExact } from './p4-conv';
import { P4_SLOTS } from './p4-filter-bank';
import type { ParameterSet } from './parameters';

/** Options of {@link P4Trunk}. */
export interface P4TrunkOptions {
  /** Side of the square input images. */
  imageSize: number;
  /** G-channels of the 'same' conv blocks, a 2x2 max-pool between consecutive blocks. */
  widths: readonly number[];
  /** Kernel side of the 'same' blocks (odd). */
  kernelSize: number;
  /** Kernel side of the lifting layer (odd). Default `kernelSize`. */
  liftKernelSize?: number;
}

/** Options of {@link P4Branch}. */
export interface P4BranchOptions extends P4TrunkOptions {
  /** Columns m of V_p4 (G-channels of the last, full-size 'valid' layer). */
  outChannels: number;
}

function checkOddKernel(k: unknown, name: string, what: string): void {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k % 2 === 0) {
    throw new RangeError(
      `${name}: ${what} must be an odd positive integer (even kernels pad 'same' unevenly, breaking exact equivariance), got ${String(k)}`,
    );
  }
}

/** The 'same' blocks of a p4 network: [N, s, s, 1] -> [N, s', s', 4 w_L], s' = s / 2^(L-1). */
export class P4Trunk {
  readonly lifting: P4LiftingConv;
  readonly blocks: P4GroupConv[] = [];
  /** Side of the last maps. */
  readonly outSize: number;

  constructor(
    params: ParameterSet,
    name: string,
    readonly options: P4TrunkOptions,
  ) {
    const { imageSize, widths, kernelSize } = options;
    const liftKernel = options.liftKernelSize ?? kernelSize;
    if (!Array.isArray(widths) || widths.length < 1)
      throw new RangeError(`${name}: widths must list at least one G-channel count`);
    checkOddKernel(kernelSize, name, 'kernelSize');
    checkOddKernel(liftKernel, name, 'liftKernelSize');
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
    this.outSize = size;
    this.lifting = new P4LiftingConv(params, `${name}/lift`, {
      inChannels: 1,
      outChannels: widths[0]!,
      kernelSize: liftKernel,
    });
    for (let i = 1; i < widths.length; i++) {
      this.blocks.push(
        new P4GroupConv(params, `${name}/p4_${i}`, { inChannels: widths[i - 1]!, outChannels: widths[i]!, kernelSize }),
      );
    }
  }

  /** G-channels of the last maps. */
  get outChannels(): number {
    return this.options.widths[this.options.widths.length - 1]!;
  }

  /** The equivariant maps after the last block's ReLU. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    let h = tf.relu(this.lifting.apply(x));
    for (const block of this.blocks) h = tf.relu(block.apply(tf.maxPool(h, 2, 2, 'valid')));
    return h;
  }

  /** Multiply-adds of one forward pass of one image. */
  macs(): number {
    let size = this.options.imageSize;
    let total = this.lifting.macs(size);
    for (const block of this.blocks) {
      size /= 2;
      total += block.macs(size);
    }
    return total;
  }

  dispose(): void {
    for (const layer of [this.lifting, ...this.blocks]) layer.dispose();
  }
}

/** The p4 network of one branch: [N, s, s, 1] -> [N, 4, m]. */
export class P4Branch {
  readonly trunk: P4Trunk;
  readonly final: P4GroupConv;
  /** Side of the map the last layer reduces to 1 x 1. */
  readonly finalSize: number;

  constructor(
    params: ParameterSet,
    name: string,
    readonly options: P4BranchOptions,
  ) {
    // The trunk's parameters are created first, under the same names as before the split.
    this.trunk = new P4Trunk(params, name, options);
    const size = (this.finalSize = this.trunk.outSize);
    this.final = new P4GroupConv(params, `${name}/full`, {
      inChannels: this.trunk.outChannels,
      outChannels: options.outChannels,
      kernelSize: size,
      padding: 'valid',
    });
  }

  get lifting(): P4LiftingConv {
    return this.trunk.lifting;
  }

  get blocks(): P4GroupConv[] {
    return this.trunk.blocks;
  }

  apply(x: tf.Tensor4D): tf.Tensor3D {
    const y = this.final.apply(this.trunk.apply(x)); // [N, 1, 1, 4 m], channel 4 o + r
    const m = this.options.outChannels;
    return tf.transpose(tf.reshape(y, [y.shape[0], m, P4_SLOTS]), [0, 2, 1]);
  }

  dispose(): void {
    this.trunk.dispose();
    this.final.dispose();
  }

  /** Multiply-adds of one forward pass of one image. */
  macs(): number {
    return this.trunk.macs() + this.final.macs(this.finalSize);
  }
}
