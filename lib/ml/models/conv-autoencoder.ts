/**
 * The plain convolutional autoencoder baseline of the equivariant-autoencoder paper (§5.1): the
 * same shape as the equivariant model without the group structure,
 *
 *     conv k x k 'same' 1 -> w_1, ReLU, 2x2 max-pool, ..., conv -> w_L, ReLU,
 *     conv 'valid' with a kernel the size of the last map, w_L -> code (linear)
 *     decoder: layers/conv-decoder.ts from the code
 *
 * Defaults: widths 16, 32, 64 and a 64-wide code (docs/EQUIVARIANT-AE.md), so its ~0.22 M encoder weights are
 * about those of the D4 model's p4 network with widths 8, 16, 32 (whose banks are 4x wider at the
 * same weight count). Its codes are neither equivariant nor invariant.
 */
import * as tf from '@tensorflow/tfjs';

import type { ImageBatch } from '../../data/augment';
import { ConvDecoder } from '../layers/conv-decoder';
import type { CodeMatrix } from '../layers/mean-pooling';
import { ParameterSet } from '../layers/parameters';
import { saveTensorFolder, savedModelFields, type SaveMeta, type SoapixSavedModelFields } from '../model-folder';
import { ImageAutoencoder } from './image-autoencoder';

/** Options of {@link ConvAutoencoder}; all have defaults. */
export interface ConvAutoencoderOptions {
  /** Width of the code. Default 64. */
  codeSize?: number;
  /** Channels of the 'same' conv blocks (2x2 max-pool between blocks). Default [16, 32, 64]. */
  widths?: number[];
  /** Decoder channels from the smallest map up. Default: widths reversed. */
  decoderWidths?: number[];
  /** Kernel side. Default 3. */
  kernelSize?: number;
  /** Side of the square images. Default 28. */
  imageSize?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Seed of the weights (and, by default, of fit's shuffles). Default 0. */
  seed?: number;
}

export type ResolvedConvAutoencoderOptions = Required<ConvAutoencoderOptions>;

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new RangeError(`ConvAutoencoder: ${what} must be a positive integer, got ${String(v)}`);
  return v;
}

function ints(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((w) => Number.isInteger(w) && w >= 1)) {
    throw new RangeError(
      `ConvAutoencoder: ${what} must be a non-empty list of positive integers, got ${JSON.stringify(v)}`,
    );
  }
  return [...v];
}

/** Fills in and checks the options. */
export function resolveConvAutoencoderOptions(o: ConvAutoencoderOptions = {}): ResolvedConvAutoencoderOptions {
  if (o === null || typeof o !== 'object') throw new TypeError('ConvAutoencoder: options must be an object');
  const widths = ints(o.widths ?? [16, 32, 64], 'widths');
  const r: ResolvedConvAutoencoderOptions = {
    codeSize: int(o.codeSize ?? 64, 'codeSize'),
    widths,
    decoderWidths: ints(o.decoderWidths ?? [...widths].reverse(), 'decoderWidths'),
    kernelSize: int(o.kernelSize ?? 3, 'kernelSize'),
    imageSize: int(o.imageSize ?? 28, 'imageSize'),
    learningRate: o.learningRate ?? 1e-3,
    seed: o.seed ?? 0,
  };
  if (r.imageSize % 2 ** (widths.length - 1) !== 0) {
    throw new RangeError(
      `ConvAutoencoder: ${widths.length - 1} 2x2 poolings need an image side divisible by ${2 ** (widths.length - 1)}, got ${r.imageSize}`,
    );
  }
  if (r.imageSize % 2 ** (r.decoderWidths.length - 1) !== 0) {
    throw new RangeError(
      `ConvAutoencoder: ${r.decoderWidths.length - 1} decoder doublings cannot reach side ${r.imageSize}`,
    );
  }
  if (!(typeof r.learningRate === 'number' && r.learningRate > 0 && Number.isFinite(r.learningRate))) {
    throw new RangeError(`ConvAutoencoder: learningRate must be a positive number, got ${String(r.learningRate)}`);
  }
  if (!Number.isSafeInteger(r.seed))
    throw new RangeError(`ConvAutoencoder: seed must be a safe integer, got ${String(r.seed)}`);
  return r;
}

/** The `soapix.json` of a saved convolutional autoencoder. */
export interface SoapixConvAutoencoderJSON extends SoapixSavedModelFields {
  kind: 'conv-autoencoder';
  conv: ResolvedConvAutoencoderOptions;
}

export class ConvAutoencoder extends ImageAutoencoder {
  readonly options: ResolvedConvAutoencoderOptions;
  private readonly convs: { kernel: tf.Variable; bias: tf.Variable }[] = [];
  private readonly decoder: ConvDecoder;
  private readonly finalSize: number;

  constructor(options: ConvAutoencoderOptions = {}) {
    const o = resolveConvAutoencoderOptions(options);
    const params = new ParameterSet(o.seed);
    super(params, o.imageSize, o.learningRate, o.seed);
    this.options = o;
    const k = o.kernelSize;
    const chans = [1, ...o.widths];
    for (let i = 1; i < chans.length; i++) {
      this.convs.push({
        kernel: params.add(`encoder/conv_${i}/kernel`, [k, k, chans[i - 1]!, chans[i]!], {
          glorot: [k * k * chans[i - 1]!, k * k * chans[i]!],
        }),
        bias: params.add(`encoder/conv_${i}/bias`, [chans[i]!], 'zeros'),
      });
    }
    const f = (this.finalSize = o.imageSize / 2 ** (o.widths.length - 1));
    const last = o.widths[o.widths.length - 1]!;
    this.convs.push({
      kernel: params.add('encoder/full/kernel', [f, f, last, o.codeSize], { glorot: [f * f * last, o.codeSize] }),
      bias: params.add('encoder/full/bias', [o.codeSize], 'zeros'),
    });
    this.decoder = new ConvDecoder(params, 'decoder', {
      inputDim: o.codeSize,
      imageSize: o.imageSize,
      widths: o.decoderWidths,
      kernelSize: k,
    });
  }

  /** Width of the code. */
  codeLength(): number {
    return this.options.codeSize;
  }

  private encodeTensor(x: tf.Tensor2D): tf.Tensor2D {
    const side = this.imageSize;
    const b = x.shape[0];
    let h = tf.reshape(x, [b, side, side, 1]) as tf.Tensor4D;
    const blocks = this.convs.length - 1;
    for (let i = 0; i < blocks; i++) {
      if (i > 0) h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.relu(
        tf.add(tf.conv2d(h, this.convs[i]!.kernel as tf.Tensor4D, 1, 'same'), this.convs[i]!.bias),
      ) as tf.Tensor4D;
    }
    const full = this.convs[blocks]!;
    return tf.reshape(tf.add(tf.conv2d(h, full.kernel as tf.Tensor4D, 1, 'valid'), full.bias), [
      b,
      this.options.codeSize,
    ]);
  }

  protected trainingLoss(x: tf.Tensor2D): tf.Scalar {
    return tf.losses.meanSquaredError(x, this.reconstructTensor(x)) as tf.Scalar;
  }

  protected reconstructTensor(x: tf.Tensor2D): tf.Tensor2D {
    return this.decoder.apply(this.encodeTensor(x));
  }

  /** The codes: rows = images, cols = codeSize. */
  async encode(images: ImageBatch, options: { batchSize?: number } = {}): Promise<CodeMatrix> {
    const c = this.options.codeSize;
    return {
      data: this.mapBatches(images, options.batchSize ?? 256, c, (x) => this.encodeTensor(x)),
      rows: images.count,
      cols: c,
    };
  }

  /** Multiply-adds of one forward pass of one image (encoder and decoder). */
  macs(): number {
    const { widths, kernelSize: k, imageSize, codeSize } = this.options;
    let side = imageSize;
    let total = 0;
    let cin = 1;
    widths.forEach((w, i) => {
      if (i > 0) side /= 2;
      total += side * side * k * k * cin * w;
      cin = w;
    });
    return total + side * side * cin * codeSize + this.decoder.macs();
  }

  /** Saves weights and options as a model folder (kind 'conv-autoencoder'). */
  async save(dir: string, meta: SaveMeta = {}): Promise<SoapixConvAutoencoderJSON> {
    return saveTensorFolder(dir, this.params.named(), (files) =>
      savedModelFields(
        {
          kind: 'conv-autoencoder' as const,
          conv: { ...this.options, widths: [...this.options.widths], decoderWidths: [...this.options.decoderWidths] },
        },
        meta,
        files,
      ),
    );
  }

  /** Loads a folder written by {@link save} (errors as EquivariantAutoencoder.load). */
  static async load(dir: string): Promise<ConvAutoencoder> {
    return ImageAutoencoder.loadFolder(
      dir,
      'conv-autoencoder',
      (i: SoapixConvAutoencoderJSON) => resolveConvAutoencoderOptions(i.conv),
      (o) => new ConvAutoencoder(o),
    );
  }
}
