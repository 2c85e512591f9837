/**
 * The equivariant autoencoder of Kuzminykh, Polykovskiy & Zhebrak (ACML 2018): an encoder
 * equivariant to C4, D4, C12 or D12 (models/equivariant-encoder.ts) giving V (|G| x m), a
 * transposed-conv decoder, and an invariant code pooled from V:
 *
 *     'mean'       w_mean = (1/|G|) Σ_g V[g]          after training (decoder reads V)
 *     'gram'       band of <u_i, ρ_h u_j> + extras     after training (decoder reads V)
 *     'attention'  code = FC(Q), Q = Σ_u w_u V[u g]   trained through: decoder reads
 *                  V̂ = Σ_t w_t Q̂[t^-1 g], Q̂ = FC'(code); loss MSE + λ mean H(w)
 *
 * Defaults (docs/EQUIVARIANT-AE.md; the paper gives none): p4 widths 8, 16, 32, m = 32, 3x3 kernels, two latent
 * group convs, decoder widths 32, 16, 8, attention code 64 with a group-conv network of 16 hidden
 * channels and λ = 0.01, Adam 1e-3, batch 64. A 'mean' and a 'gram' model train identically;
 * `encode(images, { pooling })` gives either code from one trained model.
 */
import * as tf from '@tensorflow/tfjs';

import type { ImageBatch } from '../../data/augment';
import { INTERPOLATIONS, type Interpolation } from '../../data/transform';
import { checkGroupName, finiteGroup, type FiniteGroup, type GroupName } from '../groups/dihedral';
import { ConvDecoder } from '../layers/conv-decoder';
import {
  AttentionSelections,
  AttentionWeights,
  attentionEntropy,
  attentionPool,
  attentionUnpool,
  entropyOfLogits,
} from '../layers/equivariant-attention';
import { gramLayout, gramPool, type GramPoolingOptions } from '../layers/gram-pooling';
import { meanPool, type CodeMatrix, type EquivariantCodes } from '../layers/mean-pooling';
import { ParameterSet } from '../layers/parameters';
import { saveTensorFolder, savedModelFields, type SaveMeta, type SoapixSavedModelFields } from '../model-folder';
import { EquivariantEncoder } from './equivariant-encoder';
import { ImageAutoencoder } from './image-autoencoder';

/** How the invariant code is pooled from V. */
export type PoolingName = 'mean' | 'gram' | 'attention';
export const POOLING_NAMES: readonly PoolingName[] = Object.freeze(['mean', 'gram', 'attention']);

/** Options of {@link EquivariantAutoencoder}; every field but group and pooling has a default. */
export interface EquivariantAutoencoderOptions {
  group: GroupName;
  pooling: PoolingName;
  /** Columns m of V. Default 32. */
  latentChannels?: number;
  /** Side of the square images. Default 28. */
  imageSize?: number;
  /** G-channels of the p4 blocks (2x2 max-pool between blocks). Default [8, 16, 32]. */
  widths?: number[];
  /** Odd kernel side of the p4 blocks and the decoder. Default 3. */
  kernelSize?: number;
  /** Latent group convolutions m -> m. Default 2. */
  latentLayers?: number;
  /** Decoder channels from the smallest map up. Default: widths reversed ([32, 16, 8]). */
  decoderWidths?: number[];
  /** Resampling of the 30°/60° input turns (C12, D12). Default 'bilinear'. */
  turnInterpolation?: Interpolation;
  /** Attention: width of the invariant code. Default 64. */
  codeSize?: number;
  /** Attention: hidden channels of the group-conv weight network. Default 16. */
  attentionHidden?: number;
  /** Attention: weight λ of the mean entropy H(w) in the loss. Default 0.01. */
  entropyWeight?: number;
  /** Gram pooling: right-regular permutations used. Default min(|G|, 8). */
  gramPermutations?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Seed of the weights (and, by default, of fit's shuffles). Default 0. */
  seed?: number;
}

export type ResolvedEquivariantAutoencoderOptions = Required<EquivariantAutoencoderOptions>;

/** Equivariant codes V of a batch: `count` matrices of |G| rows x m columns. */
export type EquivariantCodeSet = EquivariantCodes;

function int(v: unknown, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new RangeError(`EquivariantAutoencoder: ${what} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((w) => Number.isInteger(w) && w >= 1)) {
    throw new RangeError(
      `EquivariantAutoencoder: ${what} must be a non-empty list of positive integers, got ${JSON.stringify(v)}`,
    );
  }
  return [...v];
}

/** Fills in and checks the options; throws a RangeError naming the bad one. */
export function resolveEquivariantOptions(o: EquivariantAutoencoderOptions): ResolvedEquivariantAutoencoderOptions {
  if (!o || typeof o !== 'object')
    throw new TypeError('EquivariantAutoencoder: options { group, pooling, ... } are required');
  checkGroupName(o.group);
  if (!POOLING_NAMES.includes(o.pooling))
    throw new RangeError(
      `EquivariantAutoencoder: unknown pooling '${String(o.pooling)}'; known: ${POOLING_NAMES.join(', ')}`,
    );
  const widths = intList(o.widths ?? [8, 16, 32], 'widths');
  const r: ResolvedEquivariantAutoencoderOptions = {
    group: o.group,
    pooling: o.pooling,
    latentChannels: int(o.latentChannels ?? 32, 'latentChannels', 1),
    imageSize: int(o.imageSize ?? 28, 'imageSize', 1),
    widths,
    kernelSize: int(o.kernelSize ?? 3, 'kernelSize', 1),
    latentLayers: int(o.latentLayers ?? 2, 'latentLayers', 0),
    decoderWidths: intList(o.decoderWidths ?? [...widths].reverse(), 'decoderWidths'),
    turnInterpolation: o.turnInterpolation ?? 'bilinear',
    codeSize: int(o.codeSize ?? 64, 'codeSize', 1),
    attentionHidden: int(o.attentionHidden ?? 16, 'attentionHidden', 1),
    entropyWeight: o.entropyWeight ?? 0.01,
    gramPermutations: o.gramPermutations ?? Math.min(finiteGroup(o.group).order, 8),
    learningRate: o.learningRate ?? 1e-3,
    seed: o.seed ?? 0,
  };
  if (!INTERPOLATIONS.includes(r.turnInterpolation))
    throw new RangeError(
      `EquivariantAutoencoder: unknown turnInterpolation '${String(r.turnInterpolation)}'; known: ${INTERPOLATIONS.join(', ')}`,
    );
  if (!(typeof r.entropyWeight === 'number' && r.entropyWeight >= 0 && Number.isFinite(r.entropyWeight))) {
    throw new RangeError(
      `EquivariantAutoencoder: entropyWeight must be a finite number >= 0, got ${String(r.entropyWeight)}`,
    );
  }
  if (!(typeof r.learningRate === 'number' && r.learningRate > 0 && Number.isFinite(r.learningRate))) {
    throw new RangeError(
      `EquivariantAutoencoder: learningRate must be a positive number, got ${String(r.learningRate)}`,
    );
  }
  if (!Number.isSafeInteger(r.seed))
    throw new RangeError(`EquivariantAutoencoder: seed must be a safe integer, got ${String(r.seed)}`);
  if (r.kernelSize % 2 === 0)
    throw new RangeError(
      `EquivariantAutoencoder: kernelSize must be odd (even kernels pad 'same' unevenly, breaking exact equivariance), got ${r.kernelSize}`,
    );
  const pools = 2 ** (widths.length - 1);
  if (r.imageSize % pools !== 0)
    throw new RangeError(
      `EquivariantAutoencoder: ${widths.length - 1} 2x2 poolings need an image side divisible by ${pools}, got ${r.imageSize}`,
    );
  if (r.imageSize % 2 ** (r.decoderWidths.length - 1) !== 0) {
    throw new RangeError(
      `EquivariantAutoencoder: ${r.decoderWidths.length - 1} decoder doublings cannot reach side ${r.imageSize}`,
    );
  }
  gramLayout(finiteGroup(r.group), r.latentChannels, { permutations: r.gramPermutations });
  return r;
}

/** The `soapix.json` of a saved equivariant autoencoder. */
export interface SoapixEquivariantAutoencoderJSON extends SoapixSavedModelFields {
  kind: 'equivariant-autoencoder';
  equivariant: ResolvedEquivariantAutoencoderOptions;
}

/** Options of {@link EquivariantAutoencoder.encode}. */
export interface EncodeOptions {
  /** Images per forward pass. Default 256. */
  batchSize?: number;
  /** Another post-hoc pooling ('mean' or 'gram') of a model not trained with attention. */
  pooling?: PoolingName;
}

/** An equivariant autoencoder (see the file's comment). */
export class EquivariantAutoencoder extends ImageAutoencoder {
  readonly options: ResolvedEquivariantAutoencoderOptions;
  readonly group: FiniteGroup;
  readonly encoder: EquivariantEncoder;
  private readonly decoder: ConvDecoder;
  private readonly attention: {
    weights: AttentionWeights;
    selections: AttentionSelections;
    toCode: tf.Variable[];
    fromCode: tf.Variable[];
  } | null = null;

  constructor(options: EquivariantAutoencoderOptions) {
    const o = resolveEquivariantOptions(options);
    const params = new ParameterSet(o.seed);
    super(params, o.imageSize, o.learningRate, o.seed);
    this.options = o;
    this.group = finiteGroup(o.group);
    const n = this.group.order;
    const m = o.latentChannels;
    this.encoder = new EquivariantEncoder(params, 'encoder', {
      group: this.group,
      imageSize: o.imageSize,
      widths: o.widths,
      latentChannels: m,
      kernelSize: o.kernelSize,
      latentLayers: o.latentLayers,
      turnInterpolation: o.turnInterpolation,
    });
    if (o.pooling === 'attention') {
      const code = o.codeSize;
      this.attention = {
        weights: new AttentionWeights(params, 'attention', this.group, m, o.attentionHidden),
        selections: new AttentionSelections(this.group),
        toCode: [
          params.add('attention/code/kernel', [n * m, code], { glorot: [n * m, code] }),
          params.add('attention/code/bias', [code], 'zeros'),
        ],
        fromCode: [
          params.add('attention/uncode/kernel', [code, n * m], { glorot: [code, n * m] }),
          params.add('attention/uncode/bias', [n * m], 'zeros'),
        ],
      };
    }
    // The decoder reads V (or, with attention, V̂), flattened.
    this.decoder = new ConvDecoder(params, 'decoder', {
      inputDim: n * m,
      imageSize: o.imageSize,
      widths: o.decoderWidths,
      kernelSize: o.kernelSize,
    });
  }

  /** Width of the invariant code of `pooling` (default: the model's). */
  codeLength(pooling: PoolingName = this.options.pooling): number {
    if (pooling === 'attention') return this.options.codeSize;
    if (pooling === 'mean') return this.options.latentChannels;
    return gramLayout(this.group, this.options.latentChannels, this.gramOptions()).featureCount;
  }

  private gramOptions(): GramPoolingOptions {
    return { permutations: this.options.gramPermutations };
  }

  /** Attention: the weight logits, Q and the code of V. */
  private attend(v: tf.Tensor3D): { logits: tf.Tensor2D; w: tf.Tensor2D; code: tf.Tensor2D } {
    const a = this.attention!;
    const logits = a.weights.logits(v);
    const w = tf.softmax(logits);
    const q = attentionPool(v, w, a.selections);
    const b = v.shape[0];
    const code = tf.add(tf.matMul(tf.reshape(q, [b, -1]), a.toCode[0]!), a.toCode[1]!) as tf.Tensor2D;
    return { logits, w, code };
  }

  /** Reconstructions and (attention) the weight logits of a batch. */
  private forward(x: tf.Tensor2D): { xHat: tf.Tensor2D; logits: tf.Tensor2D | null } {
    const v = this.encoder.apply(x);
    const b = x.shape[0];
    const n = this.group.order;
    const m = this.options.latentChannels;
    if (!this.attention) return { xHat: this.decoder.apply(tf.reshape(v, [b, n * m])), logits: null };
    const { logits, w, code } = this.attend(v);
    const qHat = tf.reshape(tf.add(tf.matMul(code, this.attention.fromCode[0]!), this.attention.fromCode[1]!), [
      b,
      n,
      m,
    ]) as tf.Tensor3D;
    const vHat = attentionUnpool(qHat, w, this.attention.selections);
    return { xHat: this.decoder.apply(tf.reshape(vHat, [b, n * m])), logits };
  }

  protected trainingLoss(x: tf.Tensor2D): tf.Scalar {
    const { xHat, logits } = this.forward(x);
    const mse = tf.losses.meanSquaredError(x, xHat) as tf.Scalar;
    if (!logits || this.options.entropyWeight === 0) return mse;
    return tf.add(mse, tf.mul(this.options.entropyWeight, tf.mean(entropyOfLogits(logits)))) as tf.Scalar;
  }

  protected reconstructTensor(x: tf.Tensor2D): tf.Tensor2D {
    return this.forward(x).xHat;
  }

  /** The equivariant codes V(x): count matrices of |G| x m (row s n + k = element r^k m^s). */
  async encodeEquivariant(images: ImageBatch, batchSize = 256): Promise<EquivariantCodes> {
    const n = this.group.order;
    const m = this.options.latentChannels;
    const data = this.mapBatches(images, batchSize, n * m, (x) => this.encoder.apply(x));
    return { data, count: images.count, rows: n, cols: m };
  }

  /**
   * The invariant codes: rows = images, cols = {@link codeLength}. A model trained without
   * attention gives its 'mean' or 'gram' code (or the other one with `options.pooling`).
   */
  async encode(images: ImageBatch, options: EncodeOptions = {}): Promise<CodeMatrix> {
    const pooling = options.pooling ?? this.options.pooling;
    const batchSize = options.batchSize ?? 256;
    if (!POOLING_NAMES.includes(pooling))
      throw new RangeError(`encode: unknown pooling '${String(pooling)}'; known: ${POOLING_NAMES.join(', ')}`);
    if ((pooling === 'attention') !== (this.options.pooling === 'attention')) {
      throw new RangeError(
        `encode: pooling '${pooling}' needs a model trained with ${pooling === 'attention' ? "pooling 'attention'" : "pooling 'mean' or 'gram'"}; this one was trained with '${this.options.pooling}'`,
      );
    }
    if (pooling === 'attention') {
      const code = this.options.codeSize;
      return {
        data: this.mapBatches(images, batchSize, code, (x) => this.attend(this.encoder.apply(x)).code),
        rows: images.count,
        cols: code,
      };
    }
    const v = await this.encodeEquivariant(images, batchSize);
    return pooling === 'mean' ? meanPool(v) : gramPool(v, this.group, this.gramOptions());
  }

  /** Attention: the weights w (count x |G|) of the images, rows summing to 1. */
  async attentionWeights(images: ImageBatch, batchSize = 256): Promise<CodeMatrix> {
    if (!this.attention)
      throw new Error(`attentionWeights: this model pools with '${this.options.pooling}', not attention`);
    const n = this.group.order;
    return {
      data: this.mapBatches(images, batchSize, n, (x) =>
        tf.softmax(this.attention!.weights.logits(this.encoder.apply(x))),
      ),
      rows: images.count,
      cols: n,
    };
  }

  /** Attention: the mean entropy H(w) over the images (0 for one-hot weights, log |G| for uniform). */
  async meanAttentionEntropy(images: ImageBatch, batchSize = 256): Promise<number> {
    const w = await this.attentionWeights(images, batchSize);
    if (w.rows === 0) return Number.NaN;
    return tf.tidy(() => tf.mean(attentionEntropy(tf.tensor2d(w.data, [w.rows, w.cols]))).dataSync()[0]!);
  }

  /** Multiply-adds of one forward pass of one image (encoder, attention, decoder). */
  macs(): number {
    let attention = 0;
    if (this.attention) {
      const n = this.group.order;
      const { latentChannels: m, attentionHidden: h, codeSize: c } = this.options;
      // Weight network, the two selections with their weighted sums (pool, unpool), the two FC layers.
      attention = n * m * n * h + n * h * n + 2 * (n * n * n * m + n * n * m) + 2 * n * m * c;
    }
    return this.encoder.macs() + attention + this.decoder.macs();
  }

  /** Saves weights and options as a model folder (kind 'equivariant-autoencoder'). */
  async save(dir: string, meta: SaveMeta = {}): Promise<SoapixEquivariantAutoencoderJSON> {
    return saveTensorFolder(dir, this.params.named(), (files) =>
      savedModelFields(
        {
          kind: 'equivariant-autoencoder' as const,
          equivariant: {
            ...this.options,
            widths: [...this.options.widths],
            decoderWidths: [...this.options.decoderWidths],
          },
        },
        meta,
        files,
      ),
    );
  }

  /**
   * Loads a folder written by {@link save}; gives the same codes on the same backend.
   * @throws Error saying what is wrong (missing folder or file, checksum, other model kind, weights
   *   that do not fit the options in soapix.json).
   */
  static async load(dir: string): Promise<EquivariantAutoencoder> {
    return ImageAutoencoder.loadFolder(
      dir,
      'equivariant-autoencoder',
      (i: SoapixEquivariantAutoencoderJSON) => resolveEquivariantOptions(i.equivariant),
      (o) => new EquivariantAutoencoder(o),
    );
  }

  override dispose(): void {
    this.encoder.dispose();
    this.attention?.weights.dispose();
    this.attention?.selections.dispose();
    super.dispose();
  }
}
