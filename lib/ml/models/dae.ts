/**
 * The disentangling autoencoder (DAE) of Cha & Thiyagalingam (ICML 2023), a baseline of the CODAE
 * paper (docs/CODAE.md, "Baselines"): a deterministic autoencoder whose latents pass through the
 * Euler encoding z -> (cos z, sin z) before the decoder, trained on the mean squared error.
 *
 *     x [P] -> tanh layers (encoderWidth x encoderLayers) -> z [d] -> (cos z, sin z) [2d]
 *           -> tanh layers (decoderWidth x decoderLayers) -> P logits -> sigmoid
 *
 * The networks are the fully connected ones of the rVAE family (layers/dense.ts, PyTorch-style
 * initialisation from soapix's Rng), so DAE and β-VAE differ only in the Euler encoding, the
 * deterministic latents and the loss. Defaults: 5 latents (the paper's), widths 128, Adam 1e-3,
 * batch 64.
 */
import * as tf from '@tensorflow/tfjs';

import type { ImageBatch } from '../../data/augment';
import { Rng } from '../../util/random';
import { Dense, denseStack, holderModel, restoreFromHolder } from '../layers/dense';
import { eulerEncode } from '../layers/euler';
import {
  loadModelFolder,
  saveModelFolder,
  savedModelFields,
  type SaveMeta,
  type SoapixSavedModelFields,
} from '../model-folder';
import type { FitCheckpoint } from '../train/checkpoint';
import { fitModel, type FitEpochLog, type FitHistory, type FitRows } from '../train/fit';
import type { EarlyStoppingOptions } from '../train/types';
import { checkImageBatch } from './image-autoencoder';
import { checkMatrix } from './rvae-inputs';

/** Options of `new Dae(...)`. */
export interface DaeOptions {
  /** Latents (each Euler encoded). Default 5. */
  latentDim?: number;
  /** Side of the square images. Default 32. */
  imageSize?: number;
  encoderWidth?: number;
  encoderLayers?: number;
  decoderWidth?: number;
  decoderLayers?: number;
  learningRate?: number;
  batchSize?: number;
  seed?: number;
}

export type ResolvedDaeOptions = Required<DaeOptions>;

/** The `soapix.json` of a saved DAE folder. */
export interface SoapixDaeJSON extends SoapixSavedModelFields {
  kind: 'dae';
  dae: ResolvedDaeOptions;
  trainedEpochs: number;
}

/** Options of {@link Dae.fit}. */
export interface DaeFitOptions {
  epochs: number;
  batchSize?: number;
  validation?: number | ImageBatch;
  earlyStopping?: EarlyStoppingOptions;
  seed?: number;
  signal?: AbortSignal;
  onEpoch?: (log: FitEpochLog) => void | Promise<void>;
  /** Save the training's state now and then and at the end, and continue from a saved one (lib/ml/train/checkpoint.ts). */
  checkpoint?: FitCheckpoint;
}

const KEYS: readonly (keyof DaeOptions)[] = [
  'latentDim',
  'imageSize',
  'encoderWidth',
  'encoderLayers',
  'decoderWidth',
  'decoderLayers',
  'learningRate',
  'batchSize',
  'seed',
];

/** Fills in and checks the options. */
export function resolveDaeOptions(options: DaeOptions = {}): ResolvedDaeOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('Dae: options must be an object');
  const unknown = Object.keys(options).filter((k) => !KEYS.includes(k as keyof DaeOptions));
  if (unknown.length)
    throw new RangeError(
      `Dae: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${KEYS.join(', ')}`,
    );
  const int = (v: unknown, name: string, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw new RangeError(`Dae: ${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
    return v;
  };
  const lr = options.learningRate ?? 1e-3;
  if (!(typeof lr === 'number' && Number.isFinite(lr) && lr > 0))
    throw new RangeError(`Dae: learningRate must be a finite number > 0, got ${String(lr)}`);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`Dae: seed must be a safe integer, got ${String(seed)}`);
  return {
    latentDim: int(options.latentDim ?? 5, 'latentDim', 1, 1024),
    imageSize: int(options.imageSize ?? 32, 'imageSize', 1, 1024),
    encoderWidth: int(options.encoderWidth ?? 128, 'encoderWidth', 1, 65536),
    encoderLayers: int(options.encoderLayers ?? 2, 'encoderLayers', 1, 64),
    decoderWidth: int(options.decoderWidth ?? 128, 'decoderWidth', 1, 65536),
    decoderLayers: int(options.decoderLayers ?? 2, 'decoderLayers', 1, 64),
    learningRate: lr,
    batchSize: int(options.batchSize ?? 64, 'batchSize', 1, 1 << 16),
    seed,
  };
}

const CHUNK = 1024;

/** A DAE; see the file comment. */
export class Dae {
  readonly options: ResolvedDaeOptions;
  private readonly encoder: Dense[] = [];
  private readonly decoder: Dense[] = [];
  private optimizer: tf.Optimizer | null = null;
  private trained = 0;
  private loaded: SoapixDaeJSON | null = null;

  constructor(options: DaeOptions = {}) {
    const o = (this.options = resolveDaeOptions(options));
    const rng = new Rng(o.seed);
    const P = o.imageSize * o.imageSize;
    for (let l = 0; l < o.encoderLayers; l++)
      this.encoder.push(
        new Dense({ name: `dae_enc${l + 1}`, inputs: l === 0 ? P : o.encoderWidth, units: o.encoderWidth }, rng),
      );
    this.encoder.push(new Dense({ name: 'dae_latent', inputs: o.encoderWidth, units: o.latentDim }, rng));
    for (let l = 0; l < o.decoderLayers; l++)
      this.decoder.push(
        new Dense(
          { name: `dae_dec${l + 1}`, inputs: l === 0 ? 2 * o.latentDim : o.decoderWidth, units: o.decoderWidth },
          rng,
        ),
      );
    this.decoder.push(new Dense({ name: 'dae_out', inputs: o.decoderWidth, units: P }, rng));
  }

  get latentDim(): number {
    return this.options.latentDim;
  }

  get epochsTrained(): number {
    return this.trained;
  }

  get savedInfo(): SoapixDaeJSON | null {
    return this.loaded;
  }

  describe(): string {
    const o = this.options;
    return `DAE: ${o.latentDim} Euler-encoded latents, encoder ${o.encoderLayers} x ${o.encoderWidth} tanh, decoder ${o.decoderLayers} x ${o.decoderWidth} tanh, MSE`;
  }

  private layers(): Dense[] {
    return [...this.encoder, ...this.decoder];
  }

  variables(): tf.Variable[] {
    return this.layers().flatMap((l) => l.variables());
  }

  get parameterCount(): number {
    return this.variables().reduce((n, v) => n + v.size, 0);
  }

  private latents(x: tf.Tensor2D): tf.Tensor2D {
    return denseStack(x, this.encoder, 'linear');
  }

  private images(z: tf.Tensor2D): tf.Tensor2D {
    return tf.sigmoid(denseStack(eulerEncode(z), this.decoder, 'linear'));
  }

  checkImages(images: ImageBatch, what = 'images'): void {
    checkImageBatch(images, this.options.imageSize, what);
  }

  /** Trains with Adam on the reconstruction MSE through the shared loop; calling it again continues. */
  async fit(images: ImageBatch, options: DaeFitOptions): Promise<FitHistory> {
    if (options === null || typeof options !== 'object')
      throw new TypeError('Dae.fit: options must be an object { epochs, ... }');
    const o = this.options;
    this.checkImages(images, 'Dae.fit: images');
    const P = o.imageSize * o.imageSize;
    const rows = (im: ImageBatch): FitRows => ({ x: im.data, rows: im.count, cols: P });
    let validation: number | FitRows | undefined = options.validation as number | undefined;
    if (typeof options.validation === 'object' && options.validation !== null) {
      this.checkImages(options.validation, 'Dae.fit: validation images');
      validation = rows(options.validation);
    }
    if (!this.optimizer) this.optimizer = tf.train.adam(o.learningRate);
    return fitModel<FitRows>(
      {
        trainableVariables: () => this.variables(),
        getWeights: () => this.variables().map((v) => v.clone()),
        setWeights: (w) => this.variables().forEach((v, k) => v.assign(w[k]!)),
        batchLoss: (x) => ({ loss: tf.mean(tf.squaredDifference(this.images(this.latents(x)), x)) as tf.Scalar }),
        evaluate: (d, idx) => ({ loss: this.mseRows(d, idx) }),
      },
      this.optimizer,
      rows(images),
      {
        epochs: options.epochs,
        batchSize: options.batchSize ?? o.batchSize,
        seed: options.seed ?? o.seed,
        validation,
        earlyStopping: options.earlyStopping,
        signal: options.signal,
        evalBatchSize: CHUNK,
        ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
        onEpoch: async (log) => {
          this.trained++;
          if (options.onEpoch) await options.onEpoch(log);
        },
      },
      {
        check: (d, what) =>
          checkImageBatch(
            { data: d.x, count: d.rows, height: o.imageSize, width: d.cols / o.imageSize },
            o.imageSize,
            `Dae.fit: ${what}`,
          ),
        state: {
          get: () => ({ trained: this.trained }),
          set: (saved) => {
            this.trained = (saved as { trained: number }).trained;
          },
        },
      },
    );
  }

  private mseRows(d: FitRows, idx: Int32Array): number {
    const P = d.cols;
    let sum = 0;
    const buf = new Float32Array(Math.min(CHUNK, Math.max(idx.length, 1)) * P);
    for (let b0 = 0; b0 < idx.length; b0 += CHUNK) {
      const bs = Math.min(CHUNK, idx.length - b0);
      for (let i = 0; i < bs; i++) buf.set(d.x.subarray(idx[b0 + i]! * P, (idx[b0 + i]! + 1) * P), i * P);
      sum += tf.tidy(() => {
        const x = tf.tensor2d(buf.subarray(0, bs * P), [bs, P]);
        return tf.sum(tf.squaredDifference(this.images(this.latents(x)), x)).dataSync()[0]!;
      });
    }
    return idx.length ? sum / (idx.length * P) : Number.NaN;
  }

  /** Mean squared reconstruction error over all pixels. */
  reconstructionMse(images: ImageBatch): number {
    this.checkImages(images, 'Dae.reconstructionMse: images');
    return this.mseRows(
      { x: images.data, rows: images.count, cols: this.options.imageSize ** 2 },
      Int32Array.from({ length: images.count }, (_, i) => i),
    );
  }

  private map(images: ImageBatch, cols: number, fn: (x: tf.Tensor2D) => tf.Tensor): Float32Array {
    const P = this.options.imageSize ** 2;
    const out = new Float32Array(images.count * cols);
    for (let b0 = 0; b0 < images.count; b0 += CHUNK) {
      const bs = Math.min(CHUNK, images.count - b0);
      out.set(
        tf.tidy(() => fn(tf.tensor2d(images.data.subarray(b0 * P, (b0 + bs) * P), [bs, P])).dataSync()),
        b0 * cols,
      );
    }
    return out;
  }

  /** The latents z (before the Euler encoding), count x latentDim. */
  async encode(images: ImageBatch): Promise<{ data: Float32Array; rows: number; cols: number }> {
    this.checkImages(images, 'Dae.encode: images');
    return {
      data: this.map(images, this.options.latentDim, (x) => this.latents(x)),
      rows: images.count,
      cols: this.options.latentDim,
    };
  }

  /** Reconstructions (values in [0, 1]). */
  async reconstruct(images: ImageBatch): Promise<ImageBatch> {
    this.checkImages(images, 'Dae.reconstruct: images');
    const s = this.options.imageSize;
    return {
      data: this.map(images, s * s, (x) => this.images(this.latents(x))),
      count: images.count,
      height: s,
      width: s,
    };
  }

  /** Images of latents z (count x latentDim). */
  async decode(z: { data: Float32Array; rows: number; cols: number }): Promise<ImageBatch> {
    const o = this.options;
    checkMatrix(z, o.latentDim, 'Dae.decode: z');
    const s = o.imageSize;
    const out = new Float32Array(z.rows * s * s);
    for (let b0 = 0; b0 < z.rows; b0 += CHUNK) {
      const bs = Math.min(CHUNK, z.rows - b0);
      out.set(
        tf.tidy(() =>
          this.images(
            tf.tensor2d(z.data.subarray(b0 * o.latentDim, (b0 + bs) * o.latentDim), [bs, o.latentDim]),
          ).dataSync(),
        ),
        b0 * s * s,
      );
    }
    return { data: out, count: z.rows, height: s, width: s };
  }

  /** Saves the model as a folder (kind 'dae'). */
  async save(dir: string, meta: SaveMeta = {}): Promise<SoapixDaeJSON> {
    const holder = holderModel(this.layers(), 'soapix_dae');
    try {
      return await saveModelFolder(dir, holder, (files) =>
        savedModelFields({ kind: 'dae' as const, dae: { ...this.options }, trainedEpochs: this.trained }, meta, files),
      );
    } finally {
      holder.dispose();
    }
  }

  /** Loads a folder written by {@link save}; errors start with `load:`. */
  static async load(dir: string): Promise<Dae> {
    const { info, prepared, model } = await loadModelFolder(dir, 'dae', (i: SoapixDaeJSON) => {
      if (i.dae === null || typeof i.dae !== 'object') throw new Error('it has no dae options');
      if (!Number.isInteger(i.trainedEpochs) || i.trainedEpochs < 0)
        throw new Error(`trainedEpochs must be an integer >= 0, got ${String(i.trainedEpochs)}`);
      return resolveDaeOptions(i.dae);
    });
    const dae = new Dae(prepared);
    restoreFromHolder(model, dae.layers(), dir, () => dae.dispose());
    dae.trained = info.trainedEpochs;
    dae.loaded = info;
    return dae;
  }

  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    this.layers().forEach((l) => l.dispose());
  }
}
