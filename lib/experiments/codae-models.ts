/**
 * The models of the CODAE experiment behind one interface (docs/CODAE.md, "Experiment"):
 *
 * | name            | model                                                          | codes (in this order)          |
 * | --------------- | -------------------------------------------------------------- | ------------------------------ |
 * | codae           | Codae, moment loss 1 -> 0 over the first half                  | x, y, θ (explicit), z_1..z_d   |
 * | codae-nomoment  | Codae with momentWeight 0 (the ablation of Supp. Table 4)      | x, y, θ (explicit), z_1..z_d   |
 * | spatial-vae     | Rvae with rotation and translation (the spatial-VAE), β = 1    | x, y, θ (explicit), z_1..z_d   |
 * | beta-vae        | Rvae, dense decoder, β = 4                                     | z_1..z_{d+3}                   |
 * | dae             | Dae: deterministic, Euler encoding, MSE                        | z_1..z_{d+3}                   |
 *
 * d = 2 on XYRCS-like and dSprites-like (the paper's), 4 on MNIST-RT; the β-VAE and DAE get d + 3
 * latents (5 on the synthetic sets, the paper's). Explicit x, y are pixels (the spatial-VAE's shift
 * plus the image centre), θ radians. `decode` draws codes in the same layout, so an aligned
 * reconstruction is the decoding of the codes with the pose columns set to a canonical pose.
 */
import type { ImageBatch } from '../data/augment';
import { Codae } from '../ml/models/codae';
import { Dae } from '../ml/models/dae';
import { Rvae } from '../ml/models/rvae';
import type { FitCheckpoint } from '../ml/train/checkpoint';
import type { FitEpochLog, FitHistory } from '../ml/train/fit';
import type { CodaeData, CodaeDatasetName } from './codae-data';

export type CodaeModelName = 'codae' | 'codae-nomoment' | 'spatial-vae' | 'beta-vae' | 'dae';
export const CODAE_MODELS: readonly CodaeModelName[] = Object.freeze([
  'codae',
  'codae-nomoment',
  'spatial-vae',
  'beta-vae',
  'dae',
]);

/** Network sizes of the experiment's models. */
export interface CodaeScale {
  /** CODAE's p4 G-channels. */
  widths: number[];
  /** Width of CODAE's branch layers. */
  hidden: number;
  /** Width of the coordinate decoders (CODAE, spatial-VAE). */
  decoderWidth: number;
  /** Pixels per training step of the coordinate decoders (0 = all). */
  pixelSubsample: number;
  /** Width of the fully connected encoders and decoders (β-VAE, DAE, spatial-VAE's encoder). */
  mlpWidth: number;
  batchSize: number;
  /** Adam learning rate of every model. */
  learningRate: number;
}

/** A matrix, rows = images. */
export interface CodeMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** How a unit trains a model (the model's own fit options, less what the experiment fixes). */
export interface ExperimentFitOptions {
  epochs: number;
  seed: number;
  onEpoch: (log: FitEpochLog) => void;
  signal?: AbortSignal;
  /** Saves the training's state and resumes from it (docs/RUNNER.md "Training checkpoints"). */
  checkpoint?: FitCheckpoint;
}

/** A trained or training model of the experiment. */
export interface ExperimentModel {
  readonly name: CodaeModelName;
  describe(): string;
  readonly parameterCount: number;
  /** Columns of the explicit centroid and angle, or null for a model without them. */
  readonly pose: { x: number; y: number; angle: number } | null;
  /** Columns of the content latents (without the explicit pose). */
  readonly content: number[];
  /** Trains; the history covers every process that ran the training when it resumed from a checkpoint. */
  fit(images: ImageBatch, options: ExperimentFitOptions): Promise<FitHistory>;
  encode(images: ImageBatch): Promise<CodeMatrix>;
  decode(codes: CodeMatrix): Promise<ImageBatch>;
  /** Mean squared error of the (same-view) reconstructions over all pixels. */
  reconstructionMse(images: ImageBatch): Promise<number>;
  save(dir: string, extra: Record<string, unknown>): Promise<void>;
  dispose(): void;
}

/** Content latents per data set (the paper's 2 on the synthetic sets; 4 on MNIST-RT, as the brief proposes). */
export function contentDims(dataset: CodaeDatasetName): number {
  return dataset === 'mnist' ? 4 : 2;
}

function interleave(n: number, columns: Float32Array[]): CodeMatrix {
  const cols = columns.length;
  const data = new Float32Array(n * cols);
  for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = columns[j]![i]!;
  return { data, rows: n, cols };
}

function column(m: CodeMatrix, j: number): Float32Array {
  return Float32Array.from({ length: m.rows }, (_, i) => m.data[i * m.cols + j]!);
}

function slice(m: CodeMatrix, from: number, count: number): CodeMatrix {
  const data = new Float32Array(m.rows * count);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < count; j++) data[i * count + j] = m.data[i * m.cols + from + j]!;
  return { data, rows: m.rows, cols: count };
}

class CodaeModel implements ExperimentModel {
  readonly pose = { x: 0, y: 1, angle: 2 };
  readonly content: number[];
  constructor(
    readonly name: CodaeModelName,
    private readonly m: Codae,
  ) {
    this.content = Array.from({ length: m.latentDim }, (_, k) => 3 + k);
  }
  describe(): string {
    return this.m.describe();
  }
  get parameterCount(): number {
    return this.m.parameterCount;
  }
  async fit(images: ImageBatch, options: ExperimentFitOptions): Promise<FitHistory> {
    return this.m.fit(images, options);
  }
  async encode(images: ImageBatch): Promise<CodeMatrix> {
    const e = await this.m.encode(images);
    return interleave(images.count, [e.x, e.y, e.angle, ...Array.from({ length: e.z.cols }, (_, k) => column(e.z, k))]);
  }
  async decode(codes: CodeMatrix): Promise<ImageBatch> {
    return this.m.decode(slice(codes, 3, this.m.latentDim), {
      x: column(codes, 0),
      y: column(codes, 1),
      angle: column(codes, 2),
    });
  }
  async reconstructionMse(images: ImageBatch): Promise<number> {
    return this.m.reconstructionMse(images);
  }
  async save(dir: string, extra: Record<string, unknown>): Promise<void> {
    await this.m.save(dir, { extra });
  }
  dispose(): void {
    this.m.dispose();
  }
}

class SpatialVaeModel implements ExperimentModel {
  readonly name = 'spatial-vae' as const;
  readonly pose = { x: 0, y: 1, angle: 2 };
  readonly content: number[];
  private readonly centre: number;
  constructor(private readonly m: Rvae) {
    this.content = Array.from({ length: m.latentDim }, (_, k) => 3 + k);
    this.centre = (m.options.width - 1) / 2;
  }
  describe(): string {
    return `spatial-VAE: ${this.m.describe()}`;
  }
  get parameterCount(): number {
    return this.m.parameterCount;
  }
  async fit(images: ImageBatch, options: ExperimentFitOptions): Promise<FitHistory> {
    return this.m.fit(images, options);
  }
  async encode(images: ImageBatch): Promise<CodeMatrix> {
    const e = await this.m.encode(images);
    const n = images.count;
    const x = Float32Array.from({ length: n }, (_, i) => this.centre + e.shift[2 * i]!);
    const y = Float32Array.from({ length: n }, (_, i) => this.centre + e.shift[2 * i + 1]!);
    return interleave(n, [x, y, e.angle, ...Array.from({ length: e.z.cols }, (_, k) => column(e.z, k))]);
  }
  async decode(codes: CodeMatrix): Promise<ImageBatch> {
    const n = codes.rows;
    const shift = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      shift[2 * i] = codes.data[i * codes.cols]! - this.centre;
      shift[2 * i + 1] = codes.data[i * codes.cols + 1]! - this.centre;
    }
    return this.m.decode(slice(codes, 3, this.m.latentDim), { angle: column(codes, 2), shift });
  }
  async reconstructionMse(images: ImageBatch): Promise<number> {
    return mseOf(images, await this.decode(await this.encode(images)));
  }
  async save(dir: string, extra: Record<string, unknown>): Promise<void> {
    await this.m.save(dir, { extra });
  }
  dispose(): void {
    this.m.dispose();
  }
}

/** The β-VAE (posterior means as codes) or the DAE. */
class PlainModel implements ExperimentModel {
  readonly pose = null;
  readonly content: number[];
  constructor(
    readonly name: 'beta-vae' | 'dae',
    private readonly m: Rvae | Dae,
  ) {
    this.content = Array.from({ length: m.latentDim }, (_, k) => k);
  }
  describe(): string {
    return this.name === 'beta-vae' ? `β-VAE: ${this.m.describe()}` : this.m.describe();
  }
  get parameterCount(): number {
    return this.m.parameterCount;
  }
  async fit(images: ImageBatch, options: ExperimentFitOptions): Promise<FitHistory> {
    return this.m.fit(images, options);
  }
  async encode(images: ImageBatch): Promise<CodeMatrix> {
    return this.m instanceof Rvae ? (await this.m.encode(images)).z : this.m.encode(images);
  }
  async decode(codes: CodeMatrix): Promise<ImageBatch> {
    return this.m.decode(codes);
  }
  async reconstructionMse(images: ImageBatch): Promise<number> {
    return mseOf(images, await this.decode(await this.encode(images)));
  }
  async save(dir: string, extra: Record<string, unknown>): Promise<void> {
    await this.m.save(dir, { extra });
  }
  dispose(): void {
    this.m.dispose();
  }
}

/** Mean squared difference of two image batches over all pixels. */
export function mseOf(a: ImageBatch, b: ImageBatch): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += (a.data[i]! - b.data[i]!) ** 2;
  return a.data.length ? s / a.data.length : Number.NaN;
}

/** A new model of the experiment for data set `data`, weights from `seed`. */
export function makeExperimentModel(
  name: CodaeModelName,
  data: Pick<CodaeData, 'name' | 'size' | 'shiftStd' | 'angleStd'>,
  scale: CodaeScale,
  seed: number,
): ExperimentModel {
  const d = contentDims(data.name);
  const size = data.size;
  const sub = Math.min(scale.pixelSubsample, size * size);
  if (name === 'codae' || name === 'codae-nomoment') {
    return new CodaeModel(
      name,
      new Codae({
        latentDim: d,
        imageSize: size,
        inputPool: size >= 64 ? size / 32 : 1,
        widths: scale.widths,
        hidden: scale.hidden,
        decoderWidth: scale.decoderWidth,
        pixelSubsample: sub,
        batchSize: scale.batchSize,
        learningRate: scale.learningRate,
        momentWeight: name === 'codae' ? 1 : 0,
        seed,
      }),
    );
  }
  const common = {
    height: size,
    width: size,
    encoderWidth: scale.mlpWidth,
    batchSize: scale.batchSize,
    learningRate: scale.learningRate,
    seed,
  };
  if (name === 'spatial-vae') {
    // Priors as wide as the data's spread of shifts (grid units) and angles (docs/CODAE.md, "Baselines").
    return new SpatialVaeModel(
      new Rvae({
        ...common,
        rotation: true,
        translation: true,
        latentDim: d,
        beta: 1,
        anglePrior: data.angleStd,
        translationPrior: (data.shiftStd * 2) / (size - 1),
        decoderWidth: scale.decoderWidth,
        pixelSubsample: sub,
      }),
    );
  }
  if (name === 'beta-vae')
    return new PlainModel(
      'beta-vae',
      new Rvae({ ...common, latentDim: d + 3, beta: 4, decoder: 'dense', decoderWidth: scale.mlpWidth }),
    );
  if (name === 'dae') {
    return new PlainModel(
      'dae',
      new Dae({
        latentDim: d + 3,
        imageSize: size,
        encoderWidth: scale.mlpWidth,
        decoderWidth: scale.mlpWidth,
        batchSize: scale.batchSize,
        learningRate: scale.learningRate,
        seed,
      }),
    );
  }
  throw new RangeError(`unknown model '${String(name)}'; known: ${CODAE_MODELS.join(', ')}`);
}
