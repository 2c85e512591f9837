/**
 * The pixel classifier of the paper's Experiment 1 (PAPER-FACTS §4): a multilayer perceptron on
 * SOAP spectra, d inputs (308 at the paper's optimum) -> hidden ReLU layers (default 512-256-128,
 * each followed by dropout 0.1) -> softmax over 10 digits, trained with Adam (lr 1e-3, batch 128)
 * on the sparse categorical cross-entropy.
 *
 * Training is deterministic for given seeds on a given backend: the weights are initialised with
 * seeded Glorot-uniform initialisers, and shuffling, the validation split and the dropout masks
 * all come from soapix's own {@link Rng}. (TensorFlow.js's own Dropout layer draws from an
 * unseeded generator, or with a seed repeats the same mask every step, so the training forward
 * pass applies its own seeded masks; the saved model has ordinary Dropout layers, which are the
 * identity at inference.)
 *
 * A trained model saves as one folder ({@link MlpClassifier.save}): `model.json` and
 * `weights.bin` in TensorFlow.js's layers-model format, written through our own IOHandler, and
 * `soapix.json` with the architecture, the caller's SOAP parameters and scaler, and checksums of
 * the other two files. {@link MlpClassifier.load} reads it back without tfjs-node.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../util/random';
import { loadModelFolder, saveModelFolder, savedModelFields, type SaveMeta, type SoapixSavedModelFields } from '../model-folder';
import { argmaxRows, evaluateSoftmaxModel, fitSoftmaxModel, predictSoftmaxModel, type SoftmaxModel } from '../train/fit';
import { iota, isPositiveInt } from '../train/training';

/** Architecture and optimiser settings of an {@link MlpClassifier}. */
export interface MlpConfig {
  /** Number of input features (308 for the paper's optimal SOAP parameters). */
  inputDim: number;
  /** Widths of the hidden ReLU layers. Default [512, 256, 128]. */
  hidden?: number[];
  /** Dropout rate after every hidden layer, in [0, 1). Default 0.1. */
  dropout?: number;
  /** Number of classes. Default 10. */
  classes?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
}

/** {@link MlpConfig} with every default filled in. */
export type ResolvedMlpConfig = Required<MlpConfig>;

/** Labelled feature rows: `x` is row-major `rows` x `cols`, `y[i]` the class of row i. */
export interface LabeledData {
  x: Float32Array;
  y: Int32Array | Uint8Array;
  rows: number;
  cols: number;
}

/** Early stopping on a validation metric. */
export interface EarlyStoppingOptions {
  /** Training stops after this many epochs in a row without improvement (as Keras; 0 acts as 1). */
  patience: number;
  /** Metric watched. Default 'valLoss' (lower is better); 'valAccuracy' (higher is better). */
  monitor?: 'valLoss' | 'valAccuracy';
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put back the weights of the best epoch when training ends. Default true. */
  restoreBestWeights?: boolean;
}

/** What one epoch did. Losses are mean sparse categorical cross-entropies. */
export interface EpochLog {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch (with dropout active). */
  loss: number;
  /** Training accuracy over the epoch (with dropout active). */
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Wall time of the epoch's training steps (validation excluded), seconds. */
  seconds: number;
  /** Training samples per second over the epoch's steps. */
  samplesPerSecond: number;
}

/** Options of {@link MlpClassifier.train}. */
export interface TrainOptions {
  /** Maximum number of epochs (the paper: 300). */
  epochs: number;
  /** Mini-batch size. Default 128. */
  batchSize?: number;
  /**
   * Validation data: a fraction in (0, 1) of the training rows, taken after a seeded shuffle
   * (the paper's 80:20 is 0.2), or separate labelled rows. Default none.
   */
  validation?: number | LabeledData;
  /** Stop when the validation metric stops improving (needs `validation`). */
  earlyStopping?: EarlyStoppingOptions;
  /** Seed of shuffling, the validation split and the dropout masks. Default: the config's seed. */
  seed?: number;
  /** Called after every epoch (awaited). */
  onEpoch?: (log: EpochLog) => void | Promise<void>;
  /** Rows per forward pass when evaluating the validation set. Default 4096. */
  evalBatchSize?: number;
}

/** Result of {@link MlpClassifier.train}. */
export interface TrainHistory {
  epochs: EpochLog[];
  /** Epoch (1-based) with the best monitored value, or null without validation. */
  bestEpoch: number | null;
  /** True when early stopping ended training before `epochs`. */
  stoppedEarly: boolean;
  /** True when the best epoch's weights were put back at the end. */
  restoredBestWeights: boolean;
  /** The TensorFlow.js backend that trained. */
  backend: string;
  trainRows: number;
  valRows: number;
  batchSize: number;
  seed: number;
  /** Total wall time, seconds. */
  seconds: number;
}

/** The `soapix.json` of a saved model folder. */
export interface SoapixModelJSON<Soap = unknown, Scaler = unknown> extends SoapixSavedModelFields<Soap, Scaler> {
  kind: 'mlp-classifier';
  mlp: ResolvedMlpConfig;
}

// Kept importable from here, as before the folder code moved to model-folder.ts.
export { MODEL_JSON, SOAPIX_JSON, WEIGHTS_BIN, type SaveMeta } from '../model-folder';

const DEFAULTS = { hidden: [512, 256, 128], dropout: 0.1, classes: 10, learningRate: 1e-3, seed: 0 };


/** Fills in and checks an {@link MlpConfig}. */
export function resolveMlpConfig(config: MlpConfig): ResolvedMlpConfig {
  if (config === null || typeof config !== 'object') throw new TypeError('MlpConfig must be an object');
  const r: ResolvedMlpConfig = {
    inputDim: config.inputDim,
    hidden: config.hidden ? [...config.hidden] : [...DEFAULTS.hidden],
    dropout: config.dropout ?? DEFAULTS.dropout,
    classes: config.classes ?? DEFAULTS.classes,
    learningRate: config.learningRate ?? DEFAULTS.learningRate,
    seed: config.seed ?? DEFAULTS.seed,
  };
  if (!isPositiveInt(r.inputDim)) throw new RangeError(`MlpConfig.inputDim must be a positive integer, got ${String(r.inputDim)}`);
  if (!Array.isArray(r.hidden) || !r.hidden.every(isPositiveInt)) {
    throw new RangeError(`MlpConfig.hidden must be an array of positive integers, got ${JSON.stringify(config.hidden)}`);
  }
  if (typeof r.dropout !== 'number' || !(r.dropout >= 0 && r.dropout < 1)) {
    throw new RangeError(`MlpConfig.dropout must be in [0, 1), got ${String(r.dropout)}`);
  }
  if (!isPositiveInt(r.classes) || r.classes < 2) throw new RangeError(`MlpConfig.classes must be an integer >= 2, got ${String(r.classes)}`);
  if (typeof r.learningRate !== 'number' || !(r.learningRate > 0) || !Number.isFinite(r.learningRate)) {
    throw new RangeError(`MlpConfig.learningRate must be a positive number, got ${String(r.learningRate)}`);
  }
  if (!Number.isSafeInteger(r.seed)) throw new RangeError(`MlpConfig.seed must be a safe integer, got ${String(r.seed)}`);
  return r;
}

/** Checks a {@link LabeledData} against the model's input width and class count. */
export function checkLabeledData(data: LabeledData, cols: number, classes: number, what = 'data'): void {
  if (!data || !(data.x instanceof Float32Array)) throw new TypeError(`${what}.x must be a Float32Array`);
  if (!(data.y instanceof Int32Array || data.y instanceof Uint8Array)) throw new TypeError(`${what}.y must be an Int32Array or Uint8Array`);
  if (!Number.isInteger(data.rows) || data.rows < 0) throw new RangeError(`${what}.rows must be an integer >= 0, got ${String(data.rows)}`);
  if (data.cols !== cols) throw new RangeError(`${what}.cols is ${String(data.cols)} but the model takes ${cols} features`);
  if (data.x.length !== data.rows * data.cols) {
    throw new RangeError(`${what}.x has ${data.x.length} values, expected rows * cols = ${data.rows * data.cols}`);
  }
  if (data.y.length !== data.rows) throw new RangeError(`${what}.y has ${data.y.length} labels, expected ${data.rows}`);
  for (let i = 0; i < data.rows; i++) {
    const c = data.y[i];
    if (c < 0 || c >= classes) throw new RangeError(`${what}.y[${i}] = ${c} is not a class in 0..${classes - 1}`);
  }
  const x = data.x;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new RangeError(`${what}.x[${i}] (row ${Math.floor(i / cols)}) is ${x[i]}; features must be finite`);
  }
}



/** The Layers model: Dense+ReLU / Dropout pairs, a linear logits layer and a softmax layer. */
function buildModel(cfg: ResolvedMlpConfig): tf.Sequential {
  const seeds = new Rng(cfg.seed);
  const model = tf.sequential({ name: 'soapix_mlp' });
  cfg.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        ...(i === 0 ? { inputShape: [cfg.inputDim] } : {}),
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.nextUint32() }),
        biasInitializer: 'zeros',
        name: `hidden_${i + 1}`,
      }),
    );
    model.add(tf.layers.dropout({ rate: cfg.dropout, name: `dropout_${i + 1}` }));
  });
  model.add(
    tf.layers.dense({
      ...(cfg.hidden.length === 0 ? { inputShape: [cfg.inputDim] } : {}),
      units: cfg.classes,
      activation: 'linear',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.nextUint32() }),
      biasInitializer: 'zeros',
      name: 'logits',
    }),
  );
  model.add(tf.layers.activation({ activation: 'softmax', name: 'softmax' }));
  return model;
}

/**
 * Bulk generator of dropout masks: xoshiro128** (as {@link Rng}) with its state in local
 * variables for the inner loop, about 10x faster than one {@link Rng.nextUint32} call per value
 * (a training step of the default network draws 115,000 values). Seeded from an {@link Rng}.
 * Exported for tests.
 */
export class MaskGenerator {
  private readonly s = new Int32Array(4);

  constructor(seedFrom: Rng) {
    for (let i = 0; i < 4; i++) this.s[i] = seedFrom.nextUint32() | 0;
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Fills `mask` with inverted-dropout factors: 0 with probability `rate`, else 1 / (1 - rate). */
  fill(mask: Float32Array, rate: number): void {
    const threshold = rate * 4294967296;
    const keep = 1 / (1 - rate);
    const st = this.s;
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    for (let i = 0; i < mask.length; i++) {
      const x = Math.imul(s1, 5);
      const r = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      mask[i] = r < threshold ? 0 : keep;
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
  }
}

/** Seeded dropout masks of a training pass: the generator, the rate, one buffer per layer. */
interface DropoutState {
  gen: MaskGenerator;
  rate: number;
  bufs: Map<number, Float32Array>;
}

/**
 * The pixel classifier. Create with {@link MlpClassifier.create} (or load a saved one with
 * {@link MlpClassifier.load}), then {@link train}, {@link predict}, {@link save}; call
 * {@link dispose} when done to free the weights.
 */
export class MlpClassifier {
  readonly config: ResolvedMlpConfig;
  /** The underlying TensorFlow.js Layers model (outputs class probabilities). */
  readonly model: tf.LayersModel;
  private optimizer: tf.Optimizer | null = null;

  private constructor(config: ResolvedMlpConfig, model: tf.LayersModel) {
    this.config = config;
    this.model = model;
  }

  /** A new, untrained classifier (weights initialised from `config.seed`). */
  static create(config: MlpConfig): MlpClassifier {
    const cfg = resolveMlpConfig(config);
    return new MlpClassifier(cfg, buildModel(cfg));
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return this.model.countParams();
  }

  /** Copies of the current weights (kernels and biases, layer by layer) as Float32Arrays. */
  getWeights(): Float32Array[] {
    return this.model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
  }

  /**
   * Runs the layers up to the logits; with `dropout`, a training pass with seeded dropout masks.
   */
  private logits(x: tf.Tensor2D, dropout: DropoutState | null): tf.Tensor2D {
    let h: tf.Tensor = x;
    for (let li = 0; li < this.model.layers.length; li++) {
      const layer = this.model.layers[li];
      const cls = layer.getClassName();
      if (cls === 'InputLayer') continue;
      if (cls === 'Dropout') {
        if (dropout && dropout.rate > 0) {
          // One buffer per layer, reused across steps (the cpu backend keeps a reference to the
          // array a tensor is made from, so two live masks must not share one).
          let buf = dropout.bufs.get(li);
          if (!buf || buf.length < h.size) dropout.bufs.set(li, (buf = new Float32Array(h.size)));
          const mask = buf.subarray(0, h.size);
          dropout.gen.fill(mask, dropout.rate);
          h = tf.mul(h, tf.tensor(mask, h.shape, 'float32'));
        }
      } else if (cls === 'Activation' && layer.name === 'softmax') {
        break;
      } else {
        h = layer.apply(h) as tf.Tensor;
      }
    }
    return h as tf.Tensor2D;
  }

  /** This classifier as the shared training loop sees it; training passes draw dropout masks from `dropout()`. */
  private asSoftmaxModel(dropout: () => DropoutState | null = () => null): SoftmaxModel {
    return {
      classes: this.config.classes,
      inputCols: this.config.inputDim,
      logits: (x, training) => this.logits(x, training ? dropout() : null),
      trainableVariables: () => this.model.trainableWeights.map((w) => w.read() as tf.Variable),
      getWeights: () => this.model.getWeights(),
      setWeights: (w) => this.model.setWeights(w),
    };
  }

  /**
   * Trains the classifier with Adam on the sparse categorical cross-entropy. Every epoch visits
   * the training rows in a new seeded order, in mini-batches (the last one may be smaller).
   * Training can be continued by calling train again (the optimiser state is kept).
   */
  async train(data: LabeledData, options: TrainOptions): Promise<TrainHistory> {
    const cfg = this.config;
    if (!this.optimizer) this.optimizer = tf.train.adam(cfg.learningRate);
    let dropout: DropoutState | null = null;
    return fitSoftmaxModel(
      this.asSoftmaxModel(() => dropout),
      this.optimizer,
      data,
      { ...options, seed: options.seed ?? cfg.seed, batchSize: options.batchSize ?? 128 },
      {
        check: (d, what) => checkLabeledData(d, cfg.inputDim, cfg.classes, what),
        // The masks come from the run's generator, right after the validation split.
        onStart: (rng) => void (dropout = { gen: new MaskGenerator(rng), rate: cfg.dropout, bufs: new Map() }),
      },
    );
  }

  /** Mean loss and accuracy on labelled rows, without dropout. */
  evaluate(data: LabeledData, batchSize = 4096): { loss: number; accuracy: number } {
    checkLabeledData(data, this.config.inputDim, this.config.classes);
    return evaluateSoftmaxModel(this.asSoftmaxModel(), data, iota(data.rows), batchSize);
  }

  /**
   * Class probabilities of every row of `x` (row-major, `inputDim` columns): a Float32Array of
   * rows x classes.
   */
  predict(x: Float32Array, batchSize = 4096): Float32Array {
    return predictSoftmaxModel(this.asSoftmaxModel(), x, batchSize);
  }

  /** The most probable class of every row of `x` (ties: the lowest class). */
  predictClasses(x: Float32Array, batchSize = 4096): Int32Array {
    return argmaxRows(this.predict(x, batchSize), this.config.classes);
  }

  /**
   * Saves the model as a folder: `model.json` + `weights.bin` (TensorFlow.js layers format) and
   * `soapix.json` (architecture, `meta.soap`, `meta.scaler`, `meta.extra`, file checksums). The
   * folder is created if needed; an existing `soapix.json` is removed first and written last, so a
   * folder with a `soapix.json` always holds a complete model.
   */
  async save<Soap = unknown, Scaler = unknown>(dir: string, meta: SaveMeta<Soap, Scaler> = {}): Promise<SoapixModelJSON<Soap, Scaler>> {
    return saveModelFolder(dir, this.model, (files) =>
      savedModelFields({ kind: 'mlp-classifier' as const, mlp: { ...this.config, hidden: [...this.config.hidden] } }, meta, files),
    );
  }

  /**
   * Loads a folder written by {@link save}; checks the file sizes and checksums recorded in
   * `soapix.json`. Uses only `tf.io.fromMemory` (no file-system handler of tfjs-node).
   *
   * @returns the classifier and the folder's `soapix.json` (with the SOAP parameters and scaler).
   * @throws Error saying what is wrong: no such folder, a missing or corrupt file, a checksum
   *   mismatch, or a folder holding another kind of model (e.g. an autoencoder).
   */
  static async load<Soap = unknown, Scaler = unknown>(dir: string): Promise<{ classifier: MlpClassifier; info: SoapixModelJSON<Soap, Scaler> }> {
    const { info, prepared: cfg, model } = await loadModelFolder(dir, 'mlp-classifier', (i: SoapixModelJSON<Soap, Scaler>) => resolveMlpConfig(i.mlp));
    const inShape = model.inputs[0].shape;
    const outShape = model.outputs[0].shape;
    if (inShape[1] !== cfg.inputDim || outShape[1] !== cfg.classes) {
      model.dispose();
      throw new Error(`load: the model takes ${String(inShape[1])} features to ${String(outShape[1])} classes, but soapix.json says ${cfg.inputDim} to ${cfg.classes}`);
    }
    return { classifier: new MlpClassifier(cfg, model), info };
  }

  /** Frees the weights and the optimiser state. */
  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    this.model.dispose();
  }
}
