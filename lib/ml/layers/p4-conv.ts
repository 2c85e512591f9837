/**
 * p4 group convolutions as layers (group correlation, the paper's Eqs. 5 and 6):
 *
 *     lifting   y[4o + r](p) = Σ_{c, d} x[c](p + d) rot^r(W)[d, c, o] + b[o]
 *     p4 -> p4  y[4o + r](p) = Σ_{c, s, d} x[4c + s](p + d) rot^r(W[·, 4c + (s - r) mod 4, o])[d] + b[o]
 *
 * each computed as one conv2d with the bank of p4-filter-bank.ts and one bias per G-channel. Both
 * are equivariant to quarter turns t of the input about its centre: y(t·x)[4o + r] =
 * t·y(x)[4o + r - 1] (turn the maps, shift the slots). The equality is exact only when the
 * sampling grid turns onto itself (see {@link quarterTurnExact}): an odd kernel with 'same'
 * padding at stride 1, 'valid' when (size - kernel) is a multiple of the stride, and 2x2 pooling
 * on even sizes. tfjs pads 'same' at stride 2 unevenly (more at the bottom and right), which
 * breaks it.
 */
import * as tf from '@tensorflow/tfjs';

import { liftingBank, groupBias, p4Bank, P4_SLOTS, QuarterTurns } from './p4-filter-bank';
import type { ParameterSet } from './parameters';

/** Padding of a group convolution: tfjs's 'same' or 'valid', or a number of zero pixels on every side. */
export type P4Padding = 'same' | 'valid' | number;

/** Options of {@link P4LiftingConv} and {@link P4GroupConv}. */
export interface P4ConvOptions {
  /** Input channels: plain image channels for lifting, G-channels (4 maps each) for p4 -> p4. */
  inChannels: number;
  /** Output G-channels (4 maps each). */
  outChannels: number;
  /** Square kernel side. Default 3. */
  kernelSize?: number;
  /** Stride along both axes. Default 1. */
  stride?: number;
  /** Default 'same'. */
  padding?: P4Padding;
  /** One bias per output G-channel. Default true. */
  useBias?: boolean;
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new RangeError(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

function resolve(o: P4ConvOptions, where: string): Required<P4ConvOptions> {
  const padding = o.padding ?? 'same';
  if (
    padding !== 'same' &&
    padding !== 'valid' &&
    !(typeof padding === 'number' && Number.isInteger(padding) && padding >= 0)
  ) {
    throw new RangeError(
      `${where}: padding must be 'same', 'valid' or a whole number of pixels >= 0, got ${String(padding)}`,
    );
  }
  return {
    inChannels: positiveInt(o.inChannels, `${where}: inChannels`),
    outChannels: positiveInt(o.outChannels, `${where}: outChannels`),
    kernelSize: positiveInt(o.kernelSize ?? 3, `${where}: kernelSize`),
    stride: positiveInt(o.stride ?? 1, `${where}: stride`),
    padding,
    useBias: o.useBias ?? true,
  };
}

/**
 * Whether a convolution (or pooling window) of `kernel` at `stride` with `padding` maps a
 * `size` x `size` grid to a grid that quarter turns and mirrors about the centre carry onto
 * itself, so that equivariance is exact; with the output size and, when not exact, why.
 * The window over output o covers input rows o stride - top ... + kernel - 1: exact when the
 * padding is the same on both sides and (size + 2 pad - kernel) is a multiple of the stride.
 */
export function quarterTurnExact(
  size: number,
  kernel: number,
  stride: number,
  padding: P4Padding,
): { exact: boolean; outSize: number; reason?: string } {
  let before: number;
  let after: number;
  let outSize: number;
  if (padding === 'same') {
    outSize = Math.ceil(size / stride);
    const total = Math.max((outSize - 1) * stride + kernel - size, 0);
    before = Math.floor(total / 2);
    after = total - before;
  } else {
    before = after = padding === 'valid' ? 0 : padding;
    outSize = Math.floor((size + 2 * before - kernel) / stride) + 1;
  }
  if (outSize < 1)
    return { exact: false, outSize, reason: `a ${kernel}x${kernel} window does not fit a ${size}x${size} input` };
  if (before !== after) {
    return {
      exact: false,
      outSize,
      reason: `'same' padding of a ${kernel}x${kernel} window at stride ${stride} on ${size} pixels pads ${before} before and ${after} after`,
    };
  }
  if ((size + before + after - kernel) % stride !== 0) {
    return {
      exact: false,
      outSize,
      reason: `(size ${size} + padding ${before + after} - window ${kernel}) is not a multiple of the stride ${stride}, so the last rows and columns are dropped on one side only`,
    };
  }
  return { exact: true, outSize };
}

/** What the lifting and the p4 -> p4 layers share: one kernel, one bias per G-channel, one conv2d. */
abstract class P4Conv {
  readonly options: Required<P4ConvOptions>;
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;
  /** The constant selections that build the bank. */
  readonly turns: QuarterTurns;

  /** `slotsIn`: maps per input channel (1 for lifting, 4 for p4 -> p4). */
  protected constructor(
    params: ParameterSet,
    name: string,
    options: P4ConvOptions,
    private readonly slotsIn: number,
  ) {
    const o = (this.options = resolve(options, name));
    const k = o.kernelSize;
    this.turns = new QuarterTurns(k);
    const cin = o.inChannels * slotsIn;
    this.kernel = params.add(`${name}/kernel`, [k, k, cin, o.outChannels], {
      glorot: [k * k * cin, k * k * o.outChannels * P4_SLOTS],
    });
    this.bias = o.useBias ? params.add(`${name}/bias`, [o.outChannels], 'zeros') : null;
  }

  /** The [k, k, slotsIn Cin, 4 Cout] bank of the current weights. */
  abstract bank(): tf.Tensor4D;

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const { stride, padding, inChannels } = this.options;
    if (x.shape[3] !== inChannels * this.slotsIn) {
      throw new RangeError(
        `p4 layer: input has ${x.shape[3]} channels, expected ${inChannels}${this.slotsIn > 1 ? ` G-channels x ${this.slotsIn} turns` : ''}`,
      );
    }
    const y = tf.conv2d(x, this.bank(), stride, padding);
    return this.bias ? tf.add(y, groupBias(this.bias as tf.Tensor1D)) : y;
  }

  /** Multiply-adds of one forward pass on an input of `size` x `size`. */
  macs(size: number): number {
    const { kernelSize: k, stride, padding, inChannels, outChannels } = this.options;
    const out = quarterTurnExact(size, k, stride, padding).outSize;
    return out * out * k * k * inChannels * this.slotsIn * outChannels * P4_SLOTS;
  }

  dispose(): void {
    this.turns.dispose();
  }
}

/** The lifting layer Z² -> p4: [B, H, W, Cin] -> [B, H', W', 4 Cout]. */
export class P4LiftingConv extends P4Conv {
  constructor(params: ParameterSet, name: string, options: P4ConvOptions) {
    super(params, name, options, 1);
  }

  bank(): tf.Tensor4D {
    return liftingBank(this.kernel as tf.Tensor4D, this.turns);
  }
}

/** The p4 -> p4 layer: [B, H, W, 4 Cin] -> [B, H', W', 4 Cout]. */
export class P4GroupConv extends P4Conv {
  constructor(params: ParameterSet, name: string, options: P4ConvOptions) {
    super(params, name, options, P4_SLOTS);
  }

  bank(): tf.Tensor4D {
    return p4Bank(this.kernel as tf.Tensor4D, this.turns);
  }
}
