/**
 * The rotationally invariant VAE family of Ziatdinov & Kalinin's rVAE essay, as pyroVED builds it
 * (docs/RVAE.md): one class for the plain VAE, the conditional VAE, the rVAE (an angle latent, and
 * optionally two shift latents) and the class-conditioned rVAE.
 *
 * - Encoder: the flattened image (plus the one-hot class for a conditional model) -> tanh layers
 *   (128, 128) -> posterior means mu and standard deviations softplus(.) of all latents, laid out
 *   [angle, shift x, shift y, content...] (the pose latents only when enabled).
 * - Decoder: for the rVAE the coordinate decoder (layers/spatial-decoder.ts) draws the content
 *   latents (and class) at the grid turned by the angle and moved by 0.1 grid units per unit of the
 *   shift latents; for the VAE/cVAE a dense network onto all pixels. Logits, Bernoulli likelihood.
 * - Loss: -ELBO = BCE summed over pixels + beta * KL(q || N(0, I)) over every latent, angle included
 *   (vae-loss.ts); one reparameterised sample per image; beta 1 (VAE, cVAE) or 3 (rVAE, crVAE),
 *   optionally annealed; optional unbiased pixel subsampling of the likelihood.
 * - Conventions (docs/RVAE.md, "Conventions"): a positive angle turns the decoded image
 *   counter-clockwise as displayed; shifts are in pixels, x right and y down.
 *
 * Deterministic for a given seed on a given backend: weights, shuffles and sampling noise all come
 * from soapix's {@link Rng}. Training runs on the backend selected with `selectBackend` (wasm with
 * the kernel fixes by default) through the shared loop {@link fitModel}.
 */
import * as tf from '@tensorflow/tfjs';

import type { ImageBatch } from '../../data/augment';
import { Rng, type RngState } from '../../util/random';
import { gridShiftToPixels, pixelShiftToGrid, type Pose } from '../layers/coordinates';
import { Dense, denseStack, holderModel, restoreFromHolder } from '../layers/dense';
import { homogeneousGrid, SpatialDecoder } from '../layers/spatial-decoder';
import {
  loadModelFolder,
  saveModelFolder,
  savedModelFields,
  type SaveMeta,
  type SoapixSavedModelFields,
} from '../model-folder';
import { fitModel, type FitEpochLog, type FitHistory, type FitRows } from '../train/fit';
import { iota } from '../train/training';
import {
  describeRvae,
  latentLayout,
  resolveRvaeOptions,
  type Float32Matrix,
  type ResolvedRvaeOptions,
  type RvaeImages,
  type RvaeOptions,
} from './rvae-config';
import { checkImages, checkMatrix, checkVector, resolveLabels } from './rvae-inputs';
import { bernoulliNll, betaAt, gaussianKl, pixelSubset } from './vae-loss';
import type {
  RvaeEncoding,
  RvaeEncodeOptions,
  RvaeDecodeOptions,
  RvaeEpochLog,
  RvaeFitOptions,
  RvaeHistory,
  RvaeEvaluation,
  SoapixRvaeJSON,
} from './rvae-types';

export type {
  RvaeEncoding,
  RvaeEncodeOptions,
  RvaeDecodeOptions,
  RvaeEpochLog,
  RvaeFitOptions,
  RvaeHistory,
  RvaeEvaluation,
  SoapixRvaeJSON,
} from './rvae-types';

/** Pixel-activations per inference chunk of the spatial decoder (bounds memory: ~64 MB per layer). */
const INFER_ELEMENTS = 1 << 24;

/**
 * Most pixel-activations (images x pixels per step x decoder width) of one training step of the
 * spatial decoder: 400 images x 784 pixels x 128 trained on wasm, 800 exhausted its memory (the
 * backward pass keeps several such tensors).
 */
export const MAX_TRAIN_ACTIVATIONS = 400 * 784 * 128;

/** The rVAE's own part of a training checkpoint (FitHooks.state). */
interface RvaeFitState {
  noise: RngState;
  trained: number;
  logs: RvaeEpochLog[];
}

/** A VAE-family model; see the file comment. */
export class Rvae {
  readonly options: ResolvedRvaeOptions;
  private readonly layout: ReturnType<typeof latentLayout>;
  private readonly encoder: Dense[];
  private readonly meanHead: Dense;
  private readonly stdHead: Dense;
  private readonly spatial: SpatialDecoder | null;
  private readonly dense: Dense[] | null;
  private optimizer: tf.Optimizer | null = null;
  private trained = 0;
  private loaded: SoapixRvaeJSON | null = null;

  /** A new, untrained model; weights drawn from `options.seed` (decoding already works). */
  constructor(options: RvaeOptions = {}) {
    const o = resolveRvaeOptions(options);
    this.options = o;
    this.layout = latentLayout(o);
    const rng = new Rng(o.seed);
    const pixels = o.height * o.width;
    const encIn = pixels + (o.classes && o.conditionEncoder ? o.classes : 0);
    this.encoder = [];
    for (let l = 0; l < o.encoderLayers; l++) {
      this.encoder.push(
        new Dense({ name: `enc_hidden${l + 1}`, inputs: l === 0 ? encIn : o.encoderWidth, units: o.encoderWidth }, rng),
      );
    }
    this.meanHead = new Dense({ name: 'enc_mean', inputs: o.encoderWidth, units: this.layout.total }, rng);
    this.stdHead = new Dense({ name: 'enc_std', inputs: o.encoderWidth, units: this.layout.total }, rng);
    const decIn = o.latentDim + o.classes;
    if (o.decoder === 'spatial') {
      this.spatial = new SpatialDecoder(
        { latentInputs: decIn, width: o.decoderWidth, hiddenLayers: o.decoderLayers },
        rng,
      );
      this.dense = null;
    } else {
      this.spatial = null;
      this.dense = [];
      for (let l = 0; l < o.decoderLayers; l++) {
        this.dense.push(
          new Dense(
            { name: `ddec_hidden${l + 1}`, inputs: l === 0 ? decIn : o.decoderWidth, units: o.decoderWidth },
            rng,
          ),
        );
      }
      this.dense.push(new Dense({ name: 'ddec_out', inputs: o.decoderWidth, units: pixels }, rng));
    }
  }

  /** Content latents. */
  get latentDim(): number {
    return this.options.latentDim;
  }

  /** Epochs trained so far (over all calls of {@link fit}). */
  get epochsTrained(): number {
    return this.trained;
  }

  /** The `soapix.json` this model was loaded from (with the caller's `extra`), or null for a new model. */
  get savedInfo(): SoapixRvaeJSON | null {
    return this.loaded;
  }

  /** One line saying which model this is. */
  describe(): string {
    return describeRvae(this.options);
  }

  private layers(): Dense[] {
    return [...this.encoder, this.meanHead, this.stdHead, ...(this.spatial ? this.spatial.layers() : this.dense!)];
  }

  /** The trainable variables (encoder, then decoder). */
  variables(): tf.Variable[] {
    return this.layers().flatMap((l) => l.variables());
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return this.variables().reduce((n, v) => n + v.size, 0);
  }

  private oneHot(y: tf.Tensor1D): tf.Tensor2D {
    return tf.cast(tf.oneHot(y, this.options.classes), 'float32') as tf.Tensor2D;
  }

  /** Posterior means and standard deviations [batch, total latents] of images x [batch, pixels]. */
  private posterior(x: tf.Tensor2D, y: tf.Tensor1D | null): { mu: tf.Tensor2D; std: tf.Tensor2D } {
    const o = this.options;
    const input = o.classes && o.conditionEncoder ? tf.concat([x, this.oneHot(y!)], 1) : x;
    const h = denseStack(input, this.encoder, 'tanh');
    // 1e-6 added to the softplus keeps log(std) finite should softplus underflow to 0.
    return { mu: this.meanHead.apply(h), std: tf.add(tf.softplus(this.stdHead.apply(h)), 1e-6) };
  }

  /** The pose (grid units) and the decoder's latent input from latent values [batch, total]. */
  private split(latents: tf.Tensor2D, y: tf.Tensor1D | null): { pose: Pose; input: tf.Tensor2D } {
    const o = this.options;
    const b = latents.shape[0];
    const L = this.layout;
    const pose: Pose = {};
    if (L.angle >= 0) pose.angle = tf.reshape(tf.slice(latents, [0, L.angle], [b, 1]), [b]) as tf.Tensor1D;
    if (L.shift >= 0) pose.shift = tf.mul(tf.slice(latents, [0, L.shift], [b, 2]), o.translationPrior) as tf.Tensor2D;
    const content = tf.slice(latents, [0, L.content], [b, o.latentDim]);
    return { pose, input: o.classes ? tf.concat([content, this.oneHot(y!)], 1) : content };
  }

  /** Logits of the decoder: [pixels, batch] (pixel-major) for the spatial decoder, [batch, pixels] for the dense one. */
  private decoderLogits(input: tf.Tensor2D, pose: Pose, grid: tf.Tensor2D | null): tf.Tensor2D {
    if (this.spatial) return this.spatial.logits(input, pose, grid!);
    return denseStack(input, this.dense!, 'linear');
  }

  /**
   * Summed over the batch: the reconstruction term (BCE over all pixels, or over `pixels` rescaled
   * to all) and the KL, for one reparameterised sample with noise `eps` [batch, total latents].
   */
  lossTerms(
    x: tf.Tensor2D,
    y: tf.Tensor1D | null,
    eps: tf.Tensor2D,
    pixels: Int32Array | null = null,
  ): { reconstruction: tf.Scalar; kl: tf.Scalar } {
    const o = this.options;
    const P = o.height * o.width;
    const { mu, std } = this.posterior(x, y);
    const sample = tf.add(mu, tf.mul(std, eps)) as tf.Tensor2D;
    const { pose, input } = this.split(sample, y);
    let reconstruction: tf.Scalar;
    if (this.spatial) {
      const grid = pixels ? homogeneousGrid(o.height, o.width, pixels) : this.spatial.grid(o.height, o.width);
      const logits = this.decoderLogits(input, pose, grid);
      const xt = tf.transpose(x);
      const target = pixels ? tf.gather(xt, tf.tensor1d(pixels, 'int32')) : xt;
      reconstruction = bernoulliNll(logits, target);
      if (pixels) reconstruction = tf.mul(reconstruction, P / pixels.length);
    } else {
      const logits = this.decoderLogits(input, pose, null);
      if (pixels) {
        // The dense decoder computes every pixel anyway: the subset only weights the terms (same estimator).
        const w = new Float32Array(P);
        for (const p of pixels) w[p] = P / pixels.length;
        const terms = tf.sub(tf.softplus(logits), tf.mul(x, logits));
        reconstruction = tf.sum(tf.mul(terms, tf.tensor2d(w, [1, P])));
      } else {
        reconstruction = bernoulliNll(logits, x);
      }
    }
    return { reconstruction, kl: this.klSum(mu, std) };
  }

  /** KL of the posterior to the prior, summed over the batch and the latents. */
  private klSum(mu: tf.Tensor2D, std: tf.Tensor2D): tf.Scalar {
    const o = this.options;
    const b = mu.shape[0];
    const a = this.layout.angle;
    if (a < 0 || (o.anglePrior === 1 && o.angleKl === 'normal')) return tf.sum(gaussianKl(mu, std));
    const rest = this.layout.total - 1;
    const angleKl: tf.Scalar = tf.sum(
      gaussianKl(tf.slice(mu, [0, 0], [b, 1]), tf.slice(std, [0, 0], [b, 1]), o.anglePrior, o.angleKl),
    );
    if (rest === 0) return angleKl;
    return tf.add(angleKl, tf.sum(gaussianKl(tf.slice(mu, [0, 1], [b, rest]), tf.slice(std, [0, 1], [b, rest]))));
  }

  private normals(rng: Rng, rows: number): tf.Tensor2D {
    const n = rows * this.layout.total;
    const e = new Float32Array(n);
    for (let i = 0; i < n; i++) e[i] = rng.normal();
    return tf.tensor2d(e, [rows, this.layout.total]);
  }

  /**
   * Trains with Adam (the model's learning rate) on the beta-weighted -ELBO, one reparameterised
   * sample per image, through {@link fitModel} (seeded shuffles, validation, early stopping).
   * Calling it again continues training: the optimiser state and the epoch count (for KL
   * annealing) are kept.
   */
  async fit(images: RvaeImages, options: RvaeFitOptions): Promise<RvaeHistory> {
    const o = this.options;
    if (options === null || typeof options !== 'object')
      throw new TypeError('Rvae.fit: options must be an object { epochs, ... }');
    checkImages(images, o, 'Rvae.fit: images');
    const labels = resolveLabels(options.labels, images.labels, images.count, o.classes, 'Rvae.fit');
    const rows = (im: RvaeImages, l: Int32Array | null): FitRows => ({
      x: im.data,
      rows: im.count,
      cols: o.height * o.width,
      ...(l ? { y: l } : {}),
    });
    let validation: number | FitRows | undefined;
    if (typeof options.validation === 'object' && options.validation !== null) {
      checkImages(options.validation, o, 'Rvae.fit: validation images');
      validation = rows(
        options.validation,
        resolveLabels(
          undefined,
          options.validation.labels,
          options.validation.count,
          o.classes,
          'Rvae.fit: validation',
        ),
      );
    } else {
      validation = options.validation;
    }
    const batchSize = options.batchSize ?? o.batchSize;
    const pixelsPerStep = o.pixelSubsample || o.height * o.width;
    const activations = Math.min(batchSize, images.count) * pixelsPerStep * o.decoderWidth;
    if (this.spatial && activations > MAX_TRAIN_ACTIVATIONS) {
      throw new RangeError(
        `Rvae.fit: a batch of ${Math.min(batchSize, images.count)} images x ${pixelsPerStep} pixels x decoder width ${o.decoderWidth} is ` +
          `${(activations / 1e6).toFixed(0)} M pixel activations per layer, more than one training step can hold (${(MAX_TRAIN_ACTIVATIONS / 1e6).toFixed(1)} M); ` +
          `use at most ${Math.floor(MAX_TRAIN_ACTIVATIONS / (pixelsPerStep * o.decoderWidth))} images per batch, pixelSubsample, or a narrower decoder`,
      );
    }
    if (!this.optimizer) this.optimizer = tf.train.adam(o.learningRate);
    const seed = options.seed ?? o.seed;
    let noise = new Rng(seed);
    let epoch = this.trained + 1;
    let beta = betaAt(epoch, o.beta, o.klAnnealing);
    const P = o.height * o.width;
    const onEpoch = options.onEpoch;
    const logs: RvaeEpochLog[] = [];
    const history = await fitModel<FitRows>(
      {
        trainableVariables: () => this.variables(),
        getWeights: () => this.variables().map((v) => v.clone()),
        setWeights: (w) => this.variables().forEach((v, k) => v.assign(w[k]!)),
        batchLoss: (x, y) => {
          const pixels = o.pixelSubsample ? pixelSubset(noise, P, o.pixelSubsample) : null;
          const t = this.lossTerms(x, y, this.normals(noise, x.shape[0]), pixels);
          return { loss: tf.div(tf.add(t.reconstruction, tf.mul(t.kl, beta)), x.shape[0]) as tf.Scalar };
        },
        evaluate: (d, idx) => ({ loss: this.evaluateRows(d, idx, beta, o.seed).objective }),
      },
      this.optimizer,
      rows(images, labels),
      {
        epochs: options.epochs,
        batchSize,
        seed,
        validation,
        earlyStopping: options.earlyStopping,
        signal: options.signal,
        ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
        onEpoch: async (log) => {
          const full: RvaeEpochLog = { ...log, beta };
          logs.push(full);
          this.trained = epoch;
          epoch++;
          beta = betaAt(epoch, o.beta, o.klAnnealing);
          if (onEpoch) await onEpoch(full);
        },
      },
      {
        onStart: (rng) => {
          noise = new Rng(rng.nextUint32());
        },
        state: {
          get: (): RvaeFitState => ({ noise: noise.getState(), trained: this.trained, logs: [...logs] }),
          set: (saved) => {
            const st = saved as RvaeFitState;
            noise.setState(st.noise);
            this.trained = st.trained;
            epoch = st.trained + 1;
            beta = betaAt(epoch, o.beta, o.klAnnealing);
            logs.splice(0, logs.length, ...st.logs);
          },
        },
        check: (d, what) => {
          if (d.cols !== P)
            throw new RangeError(`Rvae.fit: ${what} has ${d.cols} pixels per image, the model reads ${P}`);
        },
      },
    );
    return { ...history, epochs: logs };
  }

  /** Loss terms over the rows `idx` of `d` with seeded noise (all pixels), in chunks. */
  private evaluateRows(d: FitRows, idx: Int32Array, beta: number, seed: number): RvaeEvaluation {
    const o = this.options;
    const P = o.height * o.width;
    const n = idx.length;
    const rng = new Rng(seed);
    const chunk = this.chunkRows(P);
    let rec = 0;
    let kl = 0;
    const xBuf = new Float32Array(Math.min(chunk, Math.max(n, 1)) * P);
    const yBuf = d.y ? new Int32Array(Math.min(chunk, Math.max(n, 1))) : null;
    for (let b0 = 0; b0 < n; b0 += chunk) {
      const bs = Math.min(chunk, n - b0);
      for (let i = 0; i < bs; i++) {
        const r = idx[b0 + i];
        xBuf.set(d.x.subarray(r * P, (r + 1) * P), i * P);
        if (yBuf) yBuf[i] = d.y![r];
      }
      const v = tf.tidy(() => {
        const x = tf.tensor2d(xBuf.subarray(0, bs * P), [bs, P]);
        const y = yBuf ? tf.tensor1d(yBuf.subarray(0, bs), 'int32') : null;
        const t = this.lossTerms(x, y, this.normals(rng, bs));
        return tf.stack([t.reconstruction, t.kl]).dataSync();
      });
      rec += v[0];
      kl += v[1];
    }
    const images = Math.max(n, 1);
    return {
      reconstruction: rec / images,
      kl: kl / images,
      negativeElbo: (rec + kl) / images,
      objective: (rec + beta * kl) / images,
      beta,
      images: n,
    };
  }

  /** Images per forward chunk at inference. */
  private chunkRows(pixels: number): number {
    if (!this.spatial) return 1024;
    return Math.max(1, Math.floor(INFER_ELEMENTS / (pixels * this.options.decoderWidth)));
  }

  /**
   * The loss terms per image (means over `images`), for one reparameterised sample per image drawn
   * with `seed` (default the model's seed), at `beta` (default the beta of the next epoch).
   */
  evaluate(images: RvaeImages, options: { labels?: Int32Array; seed?: number; beta?: number } = {}): RvaeEvaluation {
    const o = this.options;
    checkImages(images, o, 'Rvae.evaluate: images');
    const labels = resolveLabels(options.labels, images.labels, images.count, o.classes, 'Rvae.evaluate');
    const beta = options.beta ?? betaAt(this.trained + 1, o.beta, o.klAnnealing);
    const d: FitRows = {
      x: images.data,
      rows: images.count,
      cols: o.height * o.width,
      ...(labels ? { y: labels } : {}),
    };
    return this.evaluateRows(d, iota(images.count), beta, options.seed ?? o.seed);
  }

  /** Posterior means (and standard deviations) of `images`; see {@link RvaeEncoding}. */
  async encode(images: RvaeImages, options: RvaeEncodeOptions = {}): Promise<RvaeEncoding> {
    const o = this.options;
    checkImages(images, o, 'Rvae.encode: images');
    // Only a conditioned encoder reads the class: a model with `conditionEncoder: false` encodes images alone.
    const labels = o.conditionEncoder
      ? resolveLabels(options.labels, images.labels, images.count, o.classes, 'Rvae.encode')
      : null;
    const n = images.count;
    const P = o.height * o.width;
    const D = this.layout.total;
    const mu = new Float32Array(n * D);
    const sd = new Float32Array(n * D);
    const chunk = 1024;
    for (let b0 = 0; b0 < n; b0 += chunk) {
      const bs = Math.min(chunk, n - b0);
      const [m, s] = tf.tidy(() => {
        const x = tf.tensor2d(images.data.subarray(b0 * P, (b0 + bs) * P), [bs, P]);
        const y = labels ? tf.tensor1d(labels.subarray(b0, b0 + bs), 'int32') : null;
        const q = this.posterior(x, y);
        return [q.mu.dataSync(), q.std.dataSync()];
      });
      mu.set(m, b0 * D);
      sd.set(s, b0 * D);
    }
    const L = this.layout;
    const angle = new Float32Array(n);
    const gridShift = new Float32Array(2 * n);
    const z = new Float32Array(n * o.latentDim);
    for (let i = 0; i < n; i++) {
      if (L.angle >= 0) angle[i] = mu[i * D + L.angle];
      if (L.shift >= 0) {
        gridShift[2 * i] = mu[i * D + L.shift] * o.translationPrior;
        gridShift[2 * i + 1] = mu[i * D + L.shift + 1] * o.translationPrior;
      }
      z.set(mu.subarray(i * D + L.content, (i + 1) * D), i * o.latentDim);
    }
    return {
      angle,
      shift: gridShiftToPixels(gridShift, o.height, o.width),
      z: { data: z, rows: n, cols: o.latentDim },
      std: { data: sd, rows: n, cols: D },
    };
  }

  /**
   * Decoded images (Bernoulli means, values in [0, 1]) of content latents `z` (count x latentDim)
   * drawn at `angle` and moved by `shift`; works on an untrained model too.
   */
  async decode(z: Float32Matrix, options: RvaeDecodeOptions = {}): Promise<ImageBatch> {
    const o = this.options;
    checkMatrix(z, o.latentDim, 'Rvae.decode: z');
    const n = z.rows;
    const height = options.height ?? o.height;
    const width = options.width ?? o.width;
    for (const [k, v] of [
      ['height', height],
      ['width', width],
    ] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 4096)
        throw new RangeError(`Rvae.decode: ${k} must be an integer in [1, 4096], got ${String(v)}`);
    }
    if (!this.spatial) {
      if (height !== o.height || width !== o.width)
        throw new RangeError(
          `Rvae.decode: the dense decoder draws ${o.height}x${o.width} images only, not ${height}x${width}`,
        );
      if (options.angle || options.shift)
        throw new RangeError('Rvae.decode: angle and shift need the spatial decoder (this model has a dense one)');
    }
    if (options.angle) checkVector(options.angle, n, 'Rvae.decode: angle');
    if (options.shift) checkVector(options.shift, 2 * n, 'Rvae.decode: shift');
    const labels = resolveLabels(options.labels, undefined, n, o.classes, 'Rvae.decode');
    const P = height * width;
    const out = new Float32Array(n * P);
    const gridShift = options.shift ? pixelShiftToGrid(options.shift, height, width) : null;
    const grid = this.spatial ? this.spatial.grid(height, width) : null;
    const chunk = this.chunkRows(P);
    for (let b0 = 0; b0 < n; b0 += chunk) {
      const bs = Math.min(chunk, n - b0);
      const probs = tf.tidy(() => {
        const content = tf.tensor2d(z.data.subarray(b0 * o.latentDim, (b0 + bs) * o.latentDim), [bs, o.latentDim]);
        const input = labels
          ? tf.concat([content, this.oneHot(tf.tensor1d(labels.subarray(b0, b0 + bs), 'int32'))], 1)
          : content;
        const pose: Pose = {};
        if (options.angle) pose.angle = tf.tensor1d(options.angle.subarray(b0, b0 + bs));
        if (gridShift) pose.shift = tf.tensor2d(gridShift.subarray(2 * b0, 2 * (b0 + bs)), [bs, 2]);
        const logits = this.decoderLogits(input, pose, grid);
        return tf.sigmoid(this.spatial ? tf.transpose(logits) : logits).dataSync();
      });
      out.set(probs, b0 * P);
    }
    return { data: out, count: n, height, width };
  }

  /**
   * Saves the model as a folder (model-folder.ts): `model.json` + `weights.bin` (every layer as a
   * Dense layer of one TensorFlow.js layers model) and `soapix.json` (kind 'rvae', the resolved
   * options, the epochs trained, `meta.extra`, checksums). The optimiser state is not saved.
   */
  async save(dir: string, meta: SaveMeta = {}): Promise<SoapixRvaeJSON> {
    const holder = holderModel(this.layers(), 'soapix_rvae');
    try {
      return await saveModelFolder(dir, holder, (files) =>
        savedModelFields(
          { kind: 'rvae' as const, rvae: { ...this.options }, trainedEpochs: this.trained },
          meta,
          files,
        ),
      );
    } finally {
      holder.dispose();
    }
  }

  /**
   * Loads a folder written by {@link save}; encode and decode then give what the saved model gave
   * (same backend).
   *
   * @throws Error starting with `load:` when the folder is missing, a file is corrupt or changed,
   *   the folder holds another kind of model, or the weights do not fit the saved options.
   */
  static async load(dir: string): Promise<Rvae> {
    const { info, prepared, model } = await loadModelFolder(dir, 'rvae', (i: SoapixRvaeJSON) => {
      if (i.rvae === null || typeof i.rvae !== 'object') throw new Error('it has no rvae options');
      const trained = i.trainedEpochs;
      if (!Number.isInteger(trained) || trained < 0)
        throw new Error(`trainedEpochs must be an integer >= 0, got ${String(trained)}`);
      return resolveRvaeOptions(i.rvae);
    });
    const rvae = new Rvae(prepared);
    restoreFromHolder(model, rvae.layers(), dir, () => rvae.dispose());
    rvae.trained = info.trainedEpochs;
    rvae.loaded = info;
    return rvae;
  }

  /** Frees the weights, grids and optimiser state. */
  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    [...this.encoder, this.meanHead, this.stdHead, ...(this.dense ?? [])].forEach((l) => l.dispose());
    this.spatial?.dispose();
  }
}
