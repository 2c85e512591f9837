/**
 * CODAE, the centroid- and orientation-aware disentangling autoencoder (Cha et al., Nature Machine
 * Intelligence 2025; the design and its reading of the paper: docs/CODAE.md):
 *
 *     x --(C4 trunk: lift, p4 blocks; layers/p4-branch.ts)--> F [B, s, s, 4C]
 *     B_equi: F --(P4PoseHead)--> centroid (x̂, ŷ) in pixels, orientation θ̂       (layers/p4-heads.ts)
 *     B_inv:  F --(max over turns and cells)--> FC (ReLU) --> FC --> z [B, d]       (invariant latents)
 *     e = (cos z, sin z)                                                           (Euler encoding, layers/euler.ts)
 *     aligned   = D(grid, e)                 at the identity pose                  (coordinate decoder, layers/spatial-decoder.ts)
 *     same-view = D(R(-θ̂)(grid - t̂), e)     at the input's pose, t̂ = (x̂, ŷ) in grid units
 *
 * Loss: MSE(same-view, x) + β(t) · moment loss (models/codae-loss.ts), β linear from
 * `momentWeight` to 0 over the first `momentFade` of the steps of a fit; `momentWeight: 0` is the
 * ablation. The decoder's last layer gives the intensity itself (`output: 'linear'`, the default;
 * images returned are clipped to [0, 1]) or through a sigmoid (`output: 'sigmoid'`).
 *
 * Exactness: for image sides that are multiples of inputPool x 2^(blocks - 1) (models/codae-config.ts,
 * `codaeGeometry`; 32 and 28 with the defaults, 64 with inputPool 2), a quarter turn of the input
 * turns (x̂, ŷ) about the image centre, adds π/2 to θ̂ and leaves z unchanged, to float rounding
 * (test/codae-model.test.ts).
 *
 * Deterministic for a seed on one backend: weights from soapix's Rng, seeded shuffles and pixel
 * subsets. Trains through the shared loop (train/fit.ts).
 */
import * as tf from '@tensorflow/tfjs';

import type { ImageBatch } from '../../data/augment';
import { Rng, type RngState } from '../../util/random';
import { pixelShiftToGrid } from '../layers/coordinates';
import { eulerEncode } from '../layers/euler';
import { P4Trunk } from '../layers/p4-branch';
import { P4PoseHead, p4GlobalMaxPool } from '../layers/p4-heads';
import { ParameterSet } from '../layers/parameters';
import { homogeneousGrid, SpatialDecoder } from '../layers/spatial-decoder';
import {
  loadTensorFolder,
  saveTensorFolder,
  savedModelFields,
  type SaveMeta,
  type SoapixSavedModelFields,
} from '../model-folder';
import type { FitCheckpoint } from '../train/checkpoint';
import { fitModel, type FitEpochLog, type FitHistory, type FitRows } from '../train/fit';
import type { EarlyStoppingOptions } from '../train/types';
import { codaeGeometry, resolveCodaeOptions, type CodaeOptions, type ResolvedCodaeOptions } from './codae-config';
import { momentBasis, momentBeta, momentLoss, momentTargets } from './codae-loss';
import { checkImageBatch } from './image-autoencoder';
import { checkMatrix, checkVector } from './rvae-inputs';
import { pixelSubset } from './vae-loss';

/** A row-major float matrix. */
export interface CodaeMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** What {@link Codae.encode} gives per image. */
export interface CodaeEncoding {
  /** Centroid column in pixels (x to the right). */
  x: Float32Array;
  /** Centroid row in pixels (y down). */
  y: Float32Array;
  /** Orientation in radians, counter-clockwise as displayed, in (-π, π]. */
  angle: Float32Array;
  /** Invariant latents, count x latentDim (before the Euler encoding). */
  z: CodaeMatrix;
}

/** The two reconstructions of {@link Codae.reconstruct}. */
export interface CodaeReconstruction {
  /** Drawn at the identity pose: the object centred, at the model's canonical orientation. */
  aligned: ImageBatch;
  /** Drawn at the encoded pose: the input's view. */
  sameView: ImageBatch;
}

/** A pose per image for {@link Codae.decode}: centroid in pixels and angle in radians. */
export interface CodaePose {
  x: Float32Array;
  y: Float32Array;
  angle: Float32Array;
}

/** One epoch of {@link Codae.fit}: the loop's log (loss = the objective; valLoss = same-view MSE) and β at the epoch's end. */
export type CodaeEpochLog = FitEpochLog & { beta: number };

/** Options of {@link Codae.fit}. */
export interface CodaeFitOptions {
  epochs: number;
  /** Default the model's batchSize (64). */
  batchSize?: number;
  /** A fraction in (0, 1) of the images held out after a seeded shuffle, or separate images. */
  validation?: number | ImageBatch;
  /** Early stopping on the validation same-view MSE (needs validation). Default none. */
  earlyStopping?: EarlyStoppingOptions;
  /** Seed of shuffles and pixel subsets. Default the model's seed. */
  seed?: number;
  signal?: AbortSignal;
  onEpoch?: (log: CodaeEpochLog) => void | Promise<void>;
  /**
   * Save the training's state (the loop's, and the model's own pixel generator, step count and
   * logs) now and then and at the end, and continue from a saved one: an interrupted fit resumed
   * this way ends with the same weights, bit for bit (lib/ml/train/checkpoint.ts).
   */
  checkpoint?: FitCheckpoint;
}

/** Result of {@link Codae.fit}. */
export type CodaeHistory = Omit<FitHistory, 'epochs'> & { epochs: CodaeEpochLog[] };

/** The `soapix.json` of a saved CODAE folder. */
export interface SoapixCodaeJSON extends SoapixSavedModelFields {
  kind: 'codae';
  codae: ResolvedCodaeOptions;
  trainedEpochs: number;
}

/** Images per inference chunk. */
const CHUNK = 256;

/** CODAE's own part of a training checkpoint (FitHooks.state). */
interface CodaeFitState {
  pixels: RngState;
  step: number;
  beta: number;
  trained: number;
  logs: CodaeEpochLog[];
}

/** A CODAE model; see the file comment. */
export class Codae {
  readonly options: ResolvedCodaeOptions;
  private readonly params: ParameterSet;
  private readonly trunk: P4Trunk;
  private readonly pose: P4PoseHead;
  private readonly inv: [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  private readonly decoder: SpatialDecoder;
  private readonly basis: tf.Tensor2D;
  private optimizer: tf.Optimizer | null = null;
  private trained = 0;
  private loaded: SoapixCodaeJSON | null = null;

  /** A new, untrained model (weights drawn from `options.seed`). */
  constructor(options: CodaeOptions = {}) {
    const o = (this.options = resolveCodaeOptions(options));
    const g = codaeGeometry(o);
    const params = (this.params = new ParameterSet(o.seed));
    const encoderSize = o.imageSize / o.inputPool;
    this.trunk = new P4Trunk(params, 'encoder', {
      imageSize: encoderSize,
      widths: o.widths,
      kernelSize: o.kernelSize,
      liftKernelSize: o.liftKernelSize,
    });
    const C = this.trunk.outChannels;
    this.pose = new P4PoseHead(params, 'equi', {
      channels: C,
      mapSize: g.mapSize,
      cellPixels: g.cellPixels,
      hidden: o.hidden,
    });
    this.inv = [
      params.add('inv/fc1/kernel', [C, o.hidden], { glorot: [C, o.hidden] }),
      params.add('inv/fc1/bias', [o.hidden], 'zeros'),
      params.add('inv/fc2/kernel', [o.hidden, o.latentDim], { glorot: [o.hidden, o.latentDim] }),
      params.add('inv/fc2/bias', [o.latentDim], 'zeros'),
    ];
    // The decoder's Dense layers draw from their own generator, seeded from the model's seed.
    this.decoder = new SpatialDecoder(
      { latentInputs: 2 * o.latentDim, width: o.decoderWidth, hiddenLayers: o.decoderLayers, name: 'decoder' },
      new Rng(new Rng(o.seed).nextUint32() ^ 0x0c0dae),
    );
    this.basis = momentBasis(o.imageSize, o.imageSize);
  }

  get latentDim(): number {
    return this.options.latentDim;
  }

  /** Epochs trained so far (over all calls of {@link fit}). */
  get epochsTrained(): number {
    return this.trained;
  }

  /** The `soapix.json` this model was loaded from, or null for a new model. */
  get savedInfo(): SoapixCodaeJSON | null {
    return this.loaded;
  }

  /** One line saying which model this is. */
  describe(): string {
    const o = this.options;
    return (
      `CODAE: C4 trunk ${o.widths.join('-')} (lift ${o.liftKernelSize}x${o.liftKernelSize}, p4 ${o.kernelSize}x${o.kernelSize}${o.inputPool > 1 ? `, input pooled by ${o.inputPool}` : ''}), ` +
      `${o.latentDim} invariant latents (Euler encoded), coordinate decoder width ${o.decoderWidth} x ${o.decoderLayers} hidden, ` +
      (o.momentWeight > 0
        ? `moment loss ${o.momentWeight} -> 0 over the first ${Math.round(o.momentFade * 100)} % of training`
        : 'no moment loss (ablation)')
    );
  }

  /** Every trainable variable: the encoder's (creation order), then the decoder's. */
  variables(): tf.Variable[] {
    return [...this.params.variables, ...this.decoder.variables()];
  }

  get parameterCount(): number {
    return this.variables().reduce((n, v) => n + v.size, 0);
  }

  /** Encoder outputs of images x [B, P]: centroid in pixels, orientation vector and angle, latents z. */
  private encodeTensors(x: tf.Tensor2D): {
    x: tf.Tensor1D;
    y: tf.Tensor1D;
    vector: tf.Tensor2D;
    angle: tf.Tensor1D;
    z: tf.Tensor2D;
  } {
    const o = this.options;
    const B = x.shape[0];
    let img = tf.reshape(x, [B, o.imageSize, o.imageSize, 1]) as tf.Tensor4D;
    if (o.inputPool > 1) img = tf.avgPool(img, o.inputPool, o.inputPool, 'valid');
    const maps = this.trunk.apply(img);
    const pose = this.pose.apply(maps);
    const [k1, b1, k2, b2] = this.inv as unknown as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
    const h = tf.relu(tf.add(tf.matMul(p4GlobalMaxPool(maps), k1), b1)) as tf.Tensor2D;
    const z = tf.add(tf.matMul(h, k2), b2) as tf.Tensor2D;
    return { ...pose, z };
  }

  /** Pixel centroids [B] -> shifts from the image centre in grid units (x right, y up), [B, 2]. */
  private gridShift(px: tf.Tensor1D, py: tf.Tensor1D): tf.Tensor2D {
    const s = this.options.imageSize;
    const c = (s - 1) / 2;
    const step = 2 / (s - 1);
    return tf.stack([tf.mul(tf.sub(px, c), step), tf.mul(tf.sub(c, py), step)], 1) as tf.Tensor2D;
  }

  /** The decoder's output [pixels, B] (intensities; the decoder's last layer through the output activation). */
  private output(z: tf.Tensor2D, angle: tf.Tensor1D | null, shift: tf.Tensor2D | null, grid: tf.Tensor2D): tf.Tensor2D {
    const raw = this.decoder.logits(eulerEncode(z), { angle, shift }, grid);
    return this.options.output === 'sigmoid' ? tf.sigmoid(raw) : raw;
  }

  /** Images [B, P] in [0, 1] of latents z at a pose (angle [B], shift [B, 2] grid units) or at the identity pose. */
  private draw(z: tf.Tensor2D, angle: tf.Tensor1D | null, shift: tf.Tensor2D | null, grid: tf.Tensor2D): tf.Tensor2D {
    return tf.transpose(tf.clipByValue(this.output(z, angle, shift, grid), 0, 1)) as tf.Tensor2D;
  }

  /** The objective of a batch x [B, P] at β, and its same-view MSE; `pixels` subsamples the reconstruction term. */
  private objective(x: tf.Tensor2D, beta: number, pixels: Int32Array | null): { loss: tf.Scalar; mse: tf.Scalar } {
    const o = this.options;
    const e = this.encodeTensors(x);
    const shift = this.gridShift(e.x, e.y);
    const grid = pixels
      ? homogeneousGrid(o.imageSize, o.imageSize, pixels)
      : this.decoder.grid(o.imageSize, o.imageSize);
    const out = this.output(e.z, e.angle, shift, grid); // [pixels, B]
    const xt = tf.transpose(x);
    const target = pixels ? tf.gather(xt, tf.tensor1d(pixels, 'int32')) : xt;
    const mse = tf.mean(tf.squaredDifference(out, target)) as tf.Scalar;
    if (beta === 0) return { loss: mse, mse };
    const targets = momentTargets(x, this.basis, o.imageSize, o.imageSize);
    return { loss: tf.add(mse, tf.mul(momentLoss(shift, e.vector, targets), beta)) as tf.Scalar, mse };
  }

  /**
   * Trains with Adam on the objective through the shared loop (seeded shuffles, validation on the
   * same-view MSE, early stopping). β follows its schedule over the steps of this call: from
   * `momentWeight` at the first step to 0 after `momentFade` of them. Calling fit again continues
   * training (optimiser state kept) with a new schedule.
   */
  async fit(images: ImageBatch, options: CodaeFitOptions): Promise<CodaeHistory> {
    const o = this.options;
    if (options === null || typeof options !== 'object')
      throw new TypeError('Codae.fit: options must be an object { epochs, ... }');
    this.checkImages(images, 'Codae.fit: images');
    const P = o.imageSize * o.imageSize;
    const rows = (im: ImageBatch): FitRows => ({ x: im.data, rows: im.count, cols: P });
    let validation: number | FitRows | undefined;
    let nTrain = images.count;
    if (typeof options.validation === 'object' && options.validation !== null) {
      this.checkImages(options.validation, 'Codae.fit: validation images');
      validation = rows(options.validation);
    } else {
      validation = options.validation;
      if (typeof validation === 'number' && validation > 0 && validation < 1)
        nTrain = images.count - Math.round(images.count * validation);
    }
    const batchSize = options.batchSize ?? o.batchSize;
    if (!Number.isInteger(options.epochs) || options.epochs < 1)
      throw new RangeError(`Codae.fit: epochs must be a positive integer, got ${String(options.epochs)}`);
    const totalSteps = options.epochs * Math.max(1, Math.ceil(nTrain / Math.max(1, Math.min(batchSize, nTrain))));
    let step = 0;
    let beta = momentBeta(0, o.momentWeight, o.momentFade);
    if (!this.optimizer) this.optimizer = tf.train.adam(o.learningRate);
    const seed = options.seed ?? o.seed;
    let pixelRng = new Rng(seed);
    const logs: CodaeEpochLog[] = [];
    const history = await fitModel<FitRows>(
      {
        trainableVariables: () => this.variables(),
        getWeights: () => this.variables().map((v) => v.clone()),
        setWeights: (w) => this.variables().forEach((v, k) => v.assign(w[k]!)),
        batchLoss: (x) => {
          beta = momentBeta(Math.min(1, step / totalSteps), o.momentWeight, o.momentFade);
          step++;
          const pixels = o.pixelSubsample ? pixelSubset(pixelRng, P, o.pixelSubsample) : null;
          return { loss: this.objective(x, beta, pixels).loss };
        },
        evaluate: (d, idx) => ({ loss: this.mseRows(d, idx) }),
      },
      this.optimizer,
      rows(images),
      {
        epochs: options.epochs,
        batchSize,
        seed,
        validation,
        earlyStopping: options.earlyStopping,
        signal: options.signal,
        evalBatchSize: CHUNK,
        ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
        onEpoch: async (log) => {
          this.trained++;
          const full: CodaeEpochLog = { ...log, beta };
          logs.push(full);
          if (options.onEpoch) await options.onEpoch(full);
        },
      },
      {
        onStart: (rng) => {
          pixelRng = new Rng(rng.nextUint32());
        },
        state: {
          get: (): CodaeFitState => ({
            pixels: pixelRng.getState(),
            step,
            beta,
            trained: this.trained,
            logs: [...logs],
          }),
          set: (saved) => {
            const st = saved as CodaeFitState;
            pixelRng.setState(st.pixels);
            step = st.step;
            beta = st.beta;
            this.trained = st.trained;
            logs.splice(0, logs.length, ...st.logs);
          },
        },
        check: (d, what) => {
          if (d.cols !== P)
            throw new RangeError(
              `Codae.fit: ${what} has ${d.cols} pixels per image, the model reads ${o.imageSize}x${o.imageSize}`,
            );
        },
      },
    );
    return { ...history, epochs: logs };
  }

  /** Same-view MSE over rows `idx` of `d` (all pixels). */
  private mseRows(d: FitRows, idx: Int32Array): number {
    const P = d.cols;
    let sum = 0;
    const buf = new Float32Array(Math.min(CHUNK, Math.max(idx.length, 1)) * P);
    for (let b0 = 0; b0 < idx.length; b0 += CHUNK) {
      const bs = Math.min(CHUNK, idx.length - b0);
      for (let i = 0; i < bs; i++) buf.set(d.x.subarray(idx[b0 + i]! * P, (idx[b0 + i]! + 1) * P), i * P);
      sum +=
        tf.tidy(() => this.objective(tf.tensor2d(buf.subarray(0, bs * P), [bs, P]), 0, null).mse.dataSync()[0]!) * bs;
    }
    return idx.length ? sum / idx.length : Number.NaN;
  }

  /** Mean squared error of the same-view reconstructions over all pixels of `images`. */
  reconstructionMse(images: ImageBatch): number {
    this.checkImages(images, 'Codae.reconstructionMse: images');
    const idx = Int32Array.from({ length: images.count }, (_, i) => i);
    return this.mseRows({ x: images.data, rows: images.count, cols: this.options.imageSize ** 2 }, idx);
  }

  /** Throws a clear error unless `images` fit this model. */
  checkImages(images: ImageBatch, what = 'images'): void {
    checkImageBatch(images, this.options.imageSize, what);
  }

  /** Runs `fn` on chunks of the images; `fn` returns tensors whose values are concatenated per output. */
  private mapChunks(images: ImageBatch, fn: (x: tf.Tensor2D) => tf.Tensor[]): Float32Array[] {
    const P = this.options.imageSize ** 2;
    const parts: Float32Array[][] = [];
    for (let b0 = 0; b0 < images.count; b0 += CHUNK) {
      const bs = Math.min(CHUNK, images.count - b0);
      parts.push(
        tf.tidy(() =>
          fn(tf.tensor2d(images.data.subarray(b0 * P, (b0 + bs) * P), [bs, P])).map(
            (t) => t.dataSync() as Float32Array,
          ),
        ),
      );
    }
    const outs = parts[0]?.length ?? 0;
    const result: Float32Array[] = [];
    for (let k = 0; k < outs; k++) {
      const total = parts.reduce((n, p) => n + p[k]!.length, 0);
      const a = new Float32Array(total);
      let at = 0;
      for (const p of parts) {
        a.set(p[k]!, at);
        at += p[k]!.length;
      }
      result.push(a);
    }
    return result;
  }

  /** Centroid (pixels), orientation (radians, counter-clockwise as displayed) and invariant latents of each image. */
  async encode(images: ImageBatch): Promise<CodaeEncoding> {
    this.checkImages(images, 'Codae.encode: images');
    const n = images.count;
    const d = this.options.latentDim;
    if (n === 0)
      return {
        x: new Float32Array(0),
        y: new Float32Array(0),
        angle: new Float32Array(0),
        z: { data: new Float32Array(0), rows: 0, cols: d },
      };
    const [x, y, angle, z] = this.mapChunks(images, (t) => {
      const e = this.encodeTensors(t);
      return [e.x, e.y, e.angle, e.z];
    });
    return { x: x!, y: y!, angle: angle!, z: { data: z!, rows: n, cols: d } };
  }

  /** The aligned (identity pose) and same-view (encoded pose) reconstructions of each image. */
  async reconstruct(images: ImageBatch): Promise<CodaeReconstruction> {
    this.checkImages(images, 'Codae.reconstruct: images');
    const s = this.options.imageSize;
    const grid = this.decoder.grid(s, s);
    const n = images.count;
    const [aligned, sameView] =
      n === 0
        ? [new Float32Array(0), new Float32Array(0)]
        : this.mapChunks(images, (t) => {
            const e = this.encodeTensors(t);
            return [this.draw(e.z, null, null, grid), this.draw(e.z, e.angle, this.gridShift(e.x, e.y), grid)];
          });
    return {
      aligned: { data: aligned!, count: n, height: s, width: s },
      sameView: { data: sameView!, count: n, height: s, width: s },
    };
  }

  /**
   * Images of invariant latents z (count x latentDim) at `pose` (centroid in pixels, angle in
   * radians), or at the identity pose (centred, angle 0) without one. For traversals.
   */
  async decode(z: CodaeMatrix, pose?: CodaePose): Promise<ImageBatch> {
    const o = this.options;
    checkMatrix(z, o.latentDim, 'Codae.decode: z');
    const n = z.rows;
    if (pose) for (const k of ['x', 'y', 'angle'] as const) checkVector(pose[k], n, `Codae.decode: pose.${k}`);
    const s = o.imageSize;
    const grid = this.decoder.grid(s, s);
    const P = s * s;
    const out = new Float32Array(n * P);
    for (let b0 = 0; b0 < n; b0 += CHUNK) {
      const bs = Math.min(CHUNK, n - b0);
      const img = tf.tidy(() => {
        const zt = tf.tensor2d(z.data.subarray(b0 * o.latentDim, (b0 + bs) * o.latentDim), [bs, o.latentDim]);
        if (!pose) return this.draw(zt, null, null, grid).dataSync();
        const c = (s - 1) / 2;
        const pixelShift = new Float32Array(2 * bs);
        for (let i = 0; i < bs; i++) {
          pixelShift[2 * i] = pose.x[b0 + i]! - c;
          pixelShift[2 * i + 1] = pose.y[b0 + i]! - c;
        }
        const shift = tf.tensor2d(pixelShiftToGrid(pixelShift, s, s), [bs, 2]);
        return this.draw(zt, tf.tensor1d(pose.angle.subarray(b0, b0 + bs)), shift, grid).dataSync();
      });
      out.set(img, b0 * P);
    }
    return { data: out, count: n, height: s, width: s };
  }

  /** Every weight by name (encoder names from its ParameterSet; decoder layers as `decoder/<layer>/kernel|bias`). */
  private namedWeights(): tf.NamedTensorMap {
    const out: tf.NamedTensorMap = { ...this.params.named() };
    for (const l of this.decoder.layers()) {
      out[`decoder/${l.name}/kernel`] = l.kernel;
      if (l.bias) out[`decoder/${l.name}/bias`] = l.bias;
    }
    return out;
  }

  /** Saves options and weights as a model folder (kind 'codae'). The optimiser state is not saved. */
  async save(dir: string, meta: SaveMeta = {}): Promise<SoapixCodaeJSON> {
    return saveTensorFolder(dir, this.namedWeights(), (files) =>
      savedModelFields(
        {
          kind: 'codae' as const,
          codae: { ...this.options, widths: [...this.options.widths] },
          trainedEpochs: this.trained,
        },
        meta,
        files,
      ),
    );
  }

  /**
   * Loads a folder written by {@link save}: encode, reconstruct and decode then give what the saved
   * model gave (same backend).
   * @throws Error starting with `load:` for a missing folder, a changed file, another kind of model,
   *   or weights that do not fit the options in soapix.json.
   */
  static async load(dir: string): Promise<Codae> {
    const { info, prepared, tensors } = await loadTensorFolder(dir, 'codae', (i: SoapixCodaeJSON) => {
      if (i.codae === null || typeof i.codae !== 'object') throw new Error('it has no codae options');
      if (!Number.isInteger(i.trainedEpochs) || i.trainedEpochs < 0)
        throw new Error(`trainedEpochs must be an integer >= 0, got ${String(i.trainedEpochs)}`);
      return resolveCodaeOptions(i.codae);
    });
    const model = new Codae(prepared);
    try {
      const mine = model.namedWeights();
      const problems: string[] = [];
      for (const [name, v] of Object.entries(mine)) {
        const t = tensors[name];
        if (!t) problems.push(`'${name}' is missing`);
        else if (t.shape.join(',') !== v.shape.join(','))
          problems.push(`'${name}' has shape [${t.shape}], expected [${v.shape}]`);
      }
      for (const name of Object.keys(tensors))
        if (!(name in mine)) problems.push(`'${name}' is not a weight of this model`);
      if (problems.length)
        throw new Error(`load: ${dir}: the weights do not fit the model soapix.json describes: ${problems.join('; ')}`);
      for (const [name, v] of Object.entries(mine)) (v as tf.Variable).assign(tensors[name]!);
    } catch (err) {
      model.dispose();
      throw err;
    } finally {
      tf.dispose(Object.values(tensors));
    }
    model.trained = info.trainedEpochs;
    model.loaded = info;
    return model;
  }

  /** Multiply-adds of one forward pass of one image through the encoder (trunk only; the heads are small). */
  encoderMacs(): number {
    return this.trunk.macs();
  }

  /** Frees weights, constants and optimiser state. */
  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    this.trunk.dispose();
    this.pose.dispose();
    this.params.dispose();
    this.decoder.dispose();
    this.basis.dispose();
  }
}
