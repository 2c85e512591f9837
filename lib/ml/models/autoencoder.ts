/**
 * The autoencoders of the paper's Experiment 2 (docs/PAPER-FACTS.md §5), on the TensorFlow.js API:
 *
 * - linear: d -> h_e -> d, one linear (dense, no activation) layer each way;
 * - deep: d -> d*h_m -> h_e -> d*h_m -> d, ReLU on the two hidden layers, linear code and output
 *   (h_m in {2, 4, 10} in the paper).
 *
 * Trained with Adam (lr 1e-4, batch 512 by default) on the mean squared reconstruction error, with
 * optional early stopping on the validation MSE (the paper ran 10,000 epochs; docs/PAPER-FACTS.md decision:
 * early stopping). Deterministic for given seeds on a given backend, as {@link MlpClassifier}:
 * seeded Glorot-uniform initialisers, and shuffling / validation split from soapix's {@link Rng}.
 * Select the backend first with `selectBackend`.
 *
 * A trained autoencoder saves as one folder ({@link Autoencoder.save}), in the format of
 * {@link MlpClassifier.save} (see model-folder.ts): `model.json` + `weights.bin` hold the whole
 * autoencoder as one TensorFlow.js Sequential model (encoder layers, then decoder layers: input ->
 * reconstruction), `soapix.json` the architecture (`kind: 'autoencoder'`), the caller's metadata
 * and checksums.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../util/random';
import {
  loadModelFolder,
  saveModelFolder,
  savedModelFields,
  type SaveMeta,
  type SoapixSavedModelFields,
} from '../model-folder';
import type { FitCheckpoint } from '../train/checkpoint';
import { fitModel } from '../train/fit';
import { optimizerLearningRate, type ReduceLrOnPlateauOptions } from '../train/lr-schedule';
import { iota, isPositiveInt } from '../train/training';

/** Which autoencoder. */
export type AutoencoderKind = 'linear' | 'deep';

/** Architecture and optimiser settings of an {@link Autoencoder}. */
export interface AutoencoderConfig {
  /** Input (and output) width d; 308 at the paper's optimum. */
  inputDim: number;
  /** Code width h_e. */
  codeDim: number;
  /** 'linear' or 'deep'. Default 'linear'. */
  kind?: AutoencoderKind;
  /** Deep only: the hidden layers are inputDim * hiddenMultiplier wide (h_m). Default 2. */
  hiddenMultiplier?: number;
  /** Adam learning rate. Default 1e-4. */
  learningRate?: number;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
}

export type ResolvedAutoencoderConfig = Required<AutoencoderConfig>;

/** Unlabelled row-major rows: `rows` x `cols`. */
export interface FeatureRows {
  x: Float32Array;
  rows: number;
  cols: number;
}

/** What one epoch did (MSE in the units of the data). */
export interface AutoencoderEpochLog {
  epoch: number;
  /** Mean training MSE over the epoch's batches (weighted by batch size). */
  loss: number;
  valLoss?: number;
  seconds: number;
  samplesPerSecond: number;
  /** Adam's learning rate during the epoch (only with `reduceLrOnPlateau`). */
  learningRate?: number;
}

/** Options of {@link Autoencoder.train}. */
export interface AutoencoderTrainOptions {
  /** Maximum number of epochs. */
  epochs: number;
  /** Mini-batch size. Default 512. */
  batchSize?: number;
  /** A fraction in (0, 1) of the rows held out after a seeded shuffle, or separate rows. */
  validation?: number | FeatureRows;
  /** Stop after `patience` epochs without a validation-MSE improvement larger than minDelta. */
  earlyStopping?: { patience: number; minDelta?: number; restoreBestWeights?: boolean };
  /**
   * Cut Adam's learning rate by `factor` (default 0.5) after `patience` epochs without a lower
   * validation MSE, down to `minLearningRate` (default 1e-6). The cut rate stays with the model
   * for a later `train` call. Default none (constant rate).
   */
  reduceLrOnPlateau?: ReduceLrOnPlateauOptions;
  /** Seed of shuffling and the validation split. Default: the config's seed. */
  seed?: number;
  onEpoch?: (log: AutoencoderEpochLog) => void | Promise<void>;
  /** Rows per forward pass when evaluating. Default 4096. */
  evalBatchSize?: number;
  /**
   * Save the training's state now and then and continue from a saved one (e.g.
   * `fileCheckpoint(file)`): an interrupted training resumed this way ends with the same weights,
   * bit for bit, and a finished one returns its result without training (lib/ml/train/checkpoint.ts).
   * Default none.
   */
  checkpoint?: FitCheckpoint;
  /** Stops training before the next batch; train then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Result of {@link Autoencoder.train}. */
export interface AutoencoderHistory {
  epochs: AutoencoderEpochLog[];
  bestEpoch: number | null;
  /** Best validation MSE (the restored weights' when restoring). */
  bestValLoss: number | null;
  stoppedEarly: boolean;
  restoredBestWeights: boolean;
  /** The learning rate reached at the end (the config's without `reduceLrOnPlateau`). */
  finalLearningRate: number;
  backend: string;
  trainRows: number;
  valRows: number;
  batchSize: number;
  seed: number;
  seconds: number;
}

/** Fills in and checks an {@link AutoencoderConfig}. */
export function resolveAutoencoderConfig(config: AutoencoderConfig): ResolvedAutoencoderConfig {
  if (config === null || typeof config !== 'object') throw new TypeError('AutoencoderConfig must be an object');
  const r: ResolvedAutoencoderConfig = {
    inputDim: config.inputDim,
    codeDim: config.codeDim,
    kind: config.kind ?? 'linear',
    hiddenMultiplier: config.hiddenMultiplier ?? 2,
    learningRate: config.learningRate ?? 1e-4,
    seed: config.seed ?? 0,
  };
  if (!isPositiveInt(r.inputDim))
    throw new RangeError(`AutoencoderConfig.inputDim must be a positive integer, got ${String(r.inputDim)}`);
  if (!isPositiveInt(r.codeDim))
    throw new RangeError(`AutoencoderConfig.codeDim must be a positive integer, got ${String(r.codeDim)}`);
  if (r.kind !== 'linear' && r.kind !== 'deep')
    throw new RangeError(`AutoencoderConfig.kind must be 'linear' or 'deep', got ${String(r.kind)}`);
  if (!isPositiveInt(r.hiddenMultiplier))
    throw new RangeError(
      `AutoencoderConfig.hiddenMultiplier must be a positive integer, got ${String(r.hiddenMultiplier)}`,
    );
  if (typeof r.learningRate !== 'number' || !(r.learningRate > 0) || !Number.isFinite(r.learningRate)) {
    throw new RangeError(`AutoencoderConfig.learningRate must be a positive number, got ${String(r.learningRate)}`);
  }
  if (!Number.isSafeInteger(r.seed))
    throw new RangeError(`AutoencoderConfig.seed must be a safe integer, got ${String(r.seed)}`);
  return r;
}

function checkRows(data: FeatureRows, cols: number, what: string): void {
  if (!data || !(data.x instanceof Float32Array)) throw new TypeError(`${what}.x must be a Float32Array`);
  if (data.cols !== cols)
    throw new RangeError(`${what}.cols is ${String(data.cols)} but the autoencoder takes ${cols} features`);
  if (!Number.isInteger(data.rows) || data.rows < 0 || data.x.length !== data.rows * data.cols) {
    throw new RangeError(`${what}: x has ${data.x.length} values, expected rows * cols = ${data.rows} * ${data.cols}`);
  }
}

/** The `soapix.json` of a saved autoencoder folder ({@link Autoencoder.save}). */
export interface SoapixAutoencoderJSON<Soap = unknown, Scaler = unknown> extends SoapixSavedModelFields<Soap, Scaler> {
  kind: 'autoencoder';
  autoencoder: ResolvedAutoencoderConfig;
}

/** One dense layer of the architecture. */
interface LayerSpec {
  part: 'encoder' | 'decoder';
  units: number;
  activation: 'relu' | 'linear';
  name: string;
}

/** The dense layers, encoder first: linear d -> h_e -> d; deep d -> d*h_m -> h_e -> d*h_m -> d. */
function layerSpecs(cfg: ResolvedAutoencoderConfig): LayerSpec[] {
  if (cfg.kind === 'linear') {
    return [
      { part: 'encoder', units: cfg.codeDim, activation: 'linear', name: 'code' },
      { part: 'decoder', units: cfg.inputDim, activation: 'linear', name: 'output' },
    ];
  }
  const h = cfg.inputDim * cfg.hiddenMultiplier;
  return [
    { part: 'encoder', units: h, activation: 'relu', name: 'enc_hidden' },
    { part: 'encoder', units: cfg.codeDim, activation: 'linear', name: 'code' },
    { part: 'decoder', units: h, activation: 'relu', name: 'dec_hidden' },
    { part: 'decoder', units: cfg.inputDim, activation: 'linear', name: 'output' },
  ];
}

function buildModels(cfg: ResolvedAutoencoderConfig): { encoder: tf.Sequential; decoder: tf.Sequential } {
  const seeds = new Rng(cfg.seed);
  const encoder = tf.sequential({ name: 'soapix_encoder' });
  const decoder = tf.sequential({ name: 'soapix_decoder' });
  for (const spec of layerSpecs(cfg)) {
    const model = spec.part === 'encoder' ? encoder : decoder;
    const first = model.layers.length === 0;
    model.add(
      tf.layers.dense({
        ...(first ? { inputShape: [spec.part === 'encoder' ? cfg.inputDim : cfg.codeDim] } : {}),
        units: spec.units,
        activation: spec.activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.nextUint32() }),
        biasInitializer: 'zeros',
        name: spec.name,
      }),
    );
  }
  return { encoder, decoder };
}

/** The whole autoencoder as one Sequential model (input -> reconstruction), for saving. */
function buildCombined(cfg: ResolvedAutoencoderConfig): tf.Sequential {
  const model = tf.sequential({ name: 'soapix_autoencoder' });
  layerSpecs(cfg).forEach((spec, i) => {
    model.add(
      tf.layers.dense({
        ...(i === 0 ? { inputShape: [cfg.inputDim] } : {}),
        units: spec.units,
        activation: spec.activation,
        kernelInitializer: 'zeros',
        biasInitializer: 'zeros',
        name: spec.name,
      }),
    );
  });
  return model;
}

/**
 * A linear or deep autoencoder. {@link Autoencoder.create}, {@link train}, then {@link encode},
 * {@link decode}, {@link reconstructionMse}; {@link dispose} when done.
 */
export class Autoencoder {
  readonly config: ResolvedAutoencoderConfig;
  readonly encoder: tf.Sequential;
  readonly decoder: tf.Sequential;
  private optimizer: tf.Optimizer | null = null;

  private constructor(config: ResolvedAutoencoderConfig) {
    this.config = config;
    const { encoder, decoder } = buildModels(config);
    this.encoder = encoder;
    this.decoder = decoder;
  }

  /** A new, untrained autoencoder (weights initialised from `config.seed`). */
  static create(config: AutoencoderConfig): Autoencoder {
    return new Autoencoder(resolveAutoencoderConfig(config));
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return this.encoder.countParams() + this.decoder.countParams();
  }

  /** Copies of the weights (encoder then decoder, layer by layer). */
  getWeights(): Float32Array[] {
    return [...this.encoder.getWeights(), ...this.decoder.getWeights()].map((w) =>
      (w.dataSync() as Float32Array).slice(),
    );
  }

  private allWeights(): tf.Tensor[] {
    return [...this.encoder.getWeights(), ...this.decoder.getWeights()];
  }

  private setAllWeights(ws: tf.Tensor[]): void {
    const ne = this.encoder.getWeights().length;
    this.encoder.setWeights(ws.slice(0, ne));
    this.decoder.setWeights(ws.slice(ne));
  }

  private forward(x: tf.Tensor2D): tf.Tensor2D {
    return this.decoder.apply(this.encoder.apply(x) as tf.Tensor) as tf.Tensor2D;
  }

  /** Trains on the reconstruction MSE with Adam; continuing with another call keeps the optimiser state. */
  async train(data: FeatureRows, options: AutoencoderTrainOptions): Promise<AutoencoderHistory> {
    const cfg = this.config;
    if (!this.optimizer) this.optimizer = tf.train.adam(cfg.learningRate);
    const h = await fitModel<FeatureRows>(
      {
        trainableVariables: () =>
          [...this.encoder.trainableWeights, ...this.decoder.trainableWeights].map((w) => w.read() as tf.Variable),
        getWeights: () => this.allWeights(),
        setWeights: (w) => this.setAllWeights(w),
        batchLoss: (x) => ({ loss: tf.losses.meanSquaredError(x, this.forward(x)) as tf.Scalar }),
        evaluate: (d, idx, batchSize) => ({ loss: this.mseRows(d, idx, batchSize) }),
      },
      this.optimizer,
      data,
      { ...options, seed: options.seed ?? cfg.seed, batchSize: options.batchSize ?? 512 },
      { check: (d, what) => checkRows(d, cfg.inputDim, what) },
    );
    // The best epoch's validation MSE is what the early-stopping tracker kept as its best.
    const best = h.bestEpoch === null ? Number.NaN : (h.epochs[h.bestEpoch - 1]!.valLoss ?? Number.NaN);
    return {
      epochs: h.epochs,
      bestEpoch: h.bestEpoch,
      bestValLoss: Number.isNaN(best) ? null : best,
      stoppedEarly: h.stoppedEarly,
      restoredBestWeights: h.restoredBestWeights,
      finalLearningRate: h.finalLearningRate ?? optimizerLearningRate(this.optimizer),
      backend: h.backend,
      trainRows: h.trainRows,
      valRows: h.valRows,
      batchSize: h.batchSize,
      seed: h.seed,
      seconds: h.seconds,
    };
  }

  /** Mean squared reconstruction error over the rows `idx` of `data`. */
  private mseRows(data: FeatureRows, idx: Int32Array, batchSize: number): number {
    const cols = data.cols;
    const n = idx.length;
    if (n === 0) return Number.NaN;
    const cap = Math.min(batchSize, n);
    const xBuf = new Float32Array(cap * cols);
    let sum = 0;
    for (let b0 = 0; b0 < n; b0 += cap) {
      const bs = Math.min(cap, n - b0);
      for (let i = 0; i < bs; i++) {
        const r = idx[b0 + i];
        xBuf.set(data.x.subarray(r * cols, (r + 1) * cols), i * cols);
      }
      sum += tf.tidy(() => {
        const xb = tf.tensor2d(xBuf.subarray(0, bs * cols), [bs, cols]);
        return tf.sum(tf.squaredDifference(xb, this.forward(xb))).dataSync()[0];
      });
    }
    return sum / (n * cols);
  }

  /** Mean squared reconstruction error of the rows of `data` (all values). */
  reconstructionMse(data: FeatureRows, batchSize = 4096): number {
    checkRows(data, this.config.inputDim, 'data');
    return this.mseRows(data, iota(data.rows), batchSize);
  }

  private run(
    model: tf.Sequential,
    x: Float32Array,
    inCols: number,
    outCols: number,
    batchSize: number,
    where: string,
  ): Float32Array {
    if (!(x instanceof Float32Array)) throw new TypeError(`${where}: x must be a Float32Array`);
    if (x.length % inCols !== 0)
      throw new RangeError(`${where}: x has ${x.length} values, not a multiple of ${inCols}`);
    if (!isPositiveInt(batchSize))
      throw new RangeError(`${where}: batchSize must be a positive integer, got ${String(batchSize)}`);
    const rows = x.length / inCols;
    const out = new Float32Array(rows * outCols);
    for (let b0 = 0; b0 < rows; b0 += batchSize) {
      const bs = Math.min(batchSize, rows - b0);
      const y = tf.tidy(() =>
        (model.apply(tf.tensor2d(x.subarray(b0 * inCols, (b0 + bs) * inCols), [bs, inCols])) as tf.Tensor).dataSync(),
      );
      out.set(y, b0 * outCols);
    }
    return out;
  }

  /** Codes of the rows of `x` (row-major, inputDim wide): rows x codeDim. */
  encode(x: Float32Array, batchSize = 4096): Float32Array {
    return this.run(this.encoder, x, this.config.inputDim, this.config.codeDim, batchSize, 'encode');
  }

  /** Reconstructions of codes (rows x codeDim): rows x inputDim. */
  decode(codes: Float32Array, batchSize = 4096): Float32Array {
    return this.run(this.decoder, codes, this.config.codeDim, this.config.inputDim, batchSize, 'decode');
  }

  /**
   * Saves the autoencoder as a folder: `model.json` + `weights.bin` (TensorFlow.js layers format;
   * the encoder and decoder layers as one Sequential model) and `soapix.json` (kind
   * 'autoencoder', the configuration, `meta.soap`, `meta.scaler`, `meta.extra`, file checksums),
   * as {@link MlpClassifier.save}. The optimiser state is not saved.
   */
  async save<Soap = unknown, Scaler = unknown>(
    dir: string,
    meta: SaveMeta<Soap, Scaler> = {},
  ): Promise<SoapixAutoencoderJSON<Soap, Scaler>> {
    const combined = buildCombined(this.config);
    try {
      combined.setWeights(this.allWeights());
      return await saveModelFolder(dir, combined, (files) =>
        savedModelFields({ kind: 'autoencoder' as const, autoencoder: { ...this.config } }, meta, files),
      );
    } finally {
      combined.dispose();
    }
  }

  /**
   * Loads a folder written by {@link save} (checking sizes and checksums); encode / decode give
   * the same outputs as the saved autoencoder on the same backend.
   *
   * @throws Error saying what is wrong: no such folder, a missing or corrupt file, a checksum
   *   mismatch, a folder holding another kind of model (e.g. an MLP classifier), or weights that
   *   do not fit the architecture in `soapix.json`.
   */
  static async load<Soap = unknown, Scaler = unknown>(
    dir: string,
  ): Promise<{ autoencoder: Autoencoder; info: SoapixAutoencoderJSON<Soap, Scaler> }> {
    const {
      info,
      prepared: cfg,
      model,
    } = await loadModelFolder(dir, 'autoencoder', (i: SoapixAutoencoderJSON<Soap, Scaler>) =>
      resolveAutoencoderConfig(i.autoencoder),
    );
    try {
      const ae = new Autoencoder(cfg);
      const weights = model.getWeights();
      const want = ae.allWeights();
      const shape = (ws: tf.Tensor[]) => ws.map((w) => `[${w.shape.join(',')}]`).join(' ');
      if (weights.length !== want.length || weights.some((w, k) => w.shape.join(',') !== want[k]!.shape.join(','))) {
        ae.dispose();
        throw new Error(
          `load: the weights in ${dir} (${shape(weights)}) do not fit the ${cfg.kind} autoencoder ${cfg.inputDim} -> ${cfg.codeDim} that soapix.json describes (${shape(want)})`,
        );
      }
      ae.setAllWeights(weights);
      return { autoencoder: ae, info };
    } finally {
      model.dispose();
    }
  }

  /** Frees the weights and the optimiser state. */
  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    this.encoder.dispose();
    this.decoder.dispose();
  }
}
