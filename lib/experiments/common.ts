/**
 * Shared pieces of the paper's experiments: sampled SOAP data sets (Algorithm 3), per-pixel SOAP
 * of whole images, per-pixel prediction maps, image rotation / mirroring, and the figure specs
 * (confusion matrix, training curves, class maps).
 */
import * as path from 'node:path';
import type { Dataset } from '../data/dataset';
import { featurize } from '../features/featurize';
import { imageToPoints, type ImageToPointsOptions } from '../data/image';
import { planSamples, sampleCenters } from '../features/sampling';
import { RobustScaler } from '../features/scaler';
import { Soap } from '../soap/soap';
import { countPoints } from '../features/plan';
import type { GrayPixels } from '../data/transform';
import { CLASS_COLORS, type VegaLiteSpec } from '../report/figures';
import type { EpochLog } from '../ml/train/types';
import { checkpointProgress, fileCheckpoint, type FitCheckpoint } from '../ml/train/checkpoint';

/** SOAP parameters of the experiments (gto basis, one species). */
export interface SoapParams {
  rCut: number;
  nMax: number;
  lMax: number;
  sigma: number;
}

/** The paper's optimum (docs/PAPER-FACTS.md §4). */
export const PAPER_OPTIMUM: SoapParams = Object.freeze({ rCut: 63, nMax: 7, lMax: 10, sigma: 3 });

/** Algorithm 1's image options (z = floor(I / 10), threshold 10). */
export const IMAGE_OPTIONS: ImageToPointsOptions = Object.freeze({ zScale: 0.1, zRounding: 'floor' as const });

/** The command-line flag of each common setting, for the runner's mismatch message (definition.ts `settingNames`). */
export const SETTING_FLAGS: Readonly<Record<string, string>> = Object.freeze({
  rCut: '--r-cut',
  nMax: '--n-max',
  lMax: '--l-max',
  sigma: '--sigma',
  trainSamples: '--train-samples',
  testSamples: '--test-samples',
  epochs: '--epochs',
  patience: '--patience',
  seed: '--seed',
  hidden: '--hidden',
});

/** The Soap object of the experiments for `p`. */
export function makeSoap(p: SoapParams): Soap {
  return new Soap({ species: ['H'], rCut: p.rCut, nMax: p.nMax, lMax: p.lMax, sigma: p.sigma, rbf: 'gto' });
}

/** Labelled feature rows (float32, row-major). */
export interface SampledData {
  x: Float32Array;
  y: Int32Array;
  rows: number;
  cols: number;
  /** For each row, the image index and the pixel index of its centre. */
  image: Int32Array;
  pixel: Int32Array;
}

/**
 * Algorithm 3: `count` (image, point) pairs drawn at random from the first `limit` images of
 * `ds` (default all), SOAP at each; label = the image's label.
 */
export async function sampleSpectra(
  ds: Dataset,
  soap: Soap,
  count: number,
  seed: number,
  opts: { limit?: number; threads?: number; signal?: AbortSignal; image?: ImageToPointsOptions } = {},
): Promise<SampledData> {
  const length = Math.min(ds.length, opts.limit ?? ds.length);
  const image = opts.image ?? IMAGE_OPTIONS;
  const pointCounts = countPoints(ds, length, image);
  const plan = planSamples({ datasetLength: length, count, seed, pointCounts });
  const cols = soap.featureCount;
  const x = new Float32Array(count * cols);
  const y = new Int32Array(count);
  const img = new Int32Array(count);
  const pixel = new Int32Array(count);
  let r = 0;
  for await (const f of featurize(ds, soap, {
    centers: sampleCenters(plan),
    dtype: 'float32',
    image,
    end: length,
    threads: opts.threads ?? 0,
    batchSize: 256,
    signal: opts.signal,
  })) {
    x.set(f.features.data, r * cols);
    for (let i = 0; i < f.features.rows; i++) {
      y[r + i] = f.label;
      img[r + i] = f.index;
      pixel[r + i] = f.pixelIndex[i]!;
    }
    r += f.features.rows;
  }
  if (r !== count) throw new Error(`internal error: sampled ${r} spectra, expected ${count}`);
  return { x, y, rows: count, cols, image: img, pixel };
}

/** Rows `idx` of `d` as a new data set. */
export function takeRows(d: SampledData, idx: ArrayLike<number>): SampledData {
  const n = idx.length;
  const out: SampledData = {
    x: new Float32Array(n * d.cols),
    y: new Int32Array(n),
    rows: n,
    cols: d.cols,
    image: new Int32Array(n),
    pixel: new Int32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const j = idx[i]!;
    out.x.set(d.x.subarray(j * d.cols, (j + 1) * d.cols), i * d.cols);
    out.y[i] = d.y[j]!;
    out.image[i] = d.image[j]!;
    out.pixel[i] = d.pixel[j]!;
  }
  return out;
}

/** Fits a RobustScaler on `train` and applies it in place to every data set given. */
export function fitScaler(train: SampledData, ...others: SampledData[]): RobustScaler {
  const scaler = new RobustScaler().fit(train.x, train.rows, train.cols);
  for (const d of [train, ...others]) scaler.transformInPlace(d.x, d.rows, d.cols);
  return scaler;
}

/** SOAP at every point of one image (float32), with the pixel of each row. */
export function soapAtEveryPoint(
  soap: Soap,
  img: GrayPixels,
  image: ImageToPointsOptions = IMAGE_OPTIONS,
): { x: Float32Array; rows: number; cols: number; pixelIndex: Int32Array } {
  const pts = imageToPoints(img, image);
  if (pts.count === 0)
    return { x: new Float32Array(0), rows: 0, cols: soap.featureCount, pixelIndex: new Int32Array(0) };
  const m = soap.createSync({ positions: pts.positions }, { dtype: 'float32' });
  return {
    x: m.data instanceof Float32Array ? m.data : Float32Array.from(m.data),
    rows: m.rows,
    cols: m.cols,
    pixelIndex: pts.pixelIndex,
  };
}

/** Something that predicts classes of float32 rows (an MlpClassifier). */
export interface ClassPredictor {
  predictClasses(x: Float32Array): Int32Array;
}

/**
 * The per-pixel class map of an image: -1 for background pixels (no point), else the class
 * predicted from the SOAP spectrum centred on that pixel (scaled with `scaler`).
 */
export function predictClassMap(
  model: ClassPredictor,
  scaler: RobustScaler,
  soap: Soap,
  img: GrayPixels,
  image: ImageToPointsOptions = IMAGE_OPTIONS,
): Int32Array {
  const map = new Int32Array(img.rows * img.cols).fill(-1);
  const f = soapAtEveryPoint(soap, img, image);
  if (f.rows === 0) return map;
  scaler.transformInPlace(f.x, f.rows, f.cols);
  const pred = model.predictClasses(f.x);
  for (let i = 0; i < f.rows; i++) map[f.pixelIndex[i]!] = pred[i]!;
  return map;
}

/** Counts of each class in a class map (background excluded) and the majority class (-1 if none). */
export function classHistogram(map: ArrayLike<number>, classes: number): { counts: number[]; majority: number } {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < map.length; i++) if (map[i]! >= 0) counts[map[i]!]!++;
  let majority = -1;
  let best = 0;
  counts.forEach((c, k) => {
    if (c > best) {
      best = c;
      majority = k;
    }
  });
  return { counts, majority };
}

/** One of the paper's claims, checked against a run. */
export interface ClaimCheck {
  claim: string;
  /** true / false, or null when the run does not test it. */
  holds: boolean | null;
  detail: string;
}

/** Row-normalised confusion matrix heatmap (values printed in the cells). */
export function confusionSpec(
  normalized: readonly (readonly number[])[],
  title: string,
  classNames?: readonly string[],
): VegaLiteSpec {
  const name = (k: number): string => classNames?.[k] ?? String(k);
  const values: { true: string; predicted: string; value: number }[] = [];
  normalized.forEach((row, t) => row.forEach((v, p) => values.push({ true: name(t), predicted: name(p), value: v })));
  const order = normalized.map((_, k) => name(k));
  const enc = {
    x: { field: 'predicted', type: 'ordinal', sort: order, title: 'predicted class', axis: { labelAngle: 0 } },
    y: { field: 'true', type: 'ordinal', sort: order, title: 'true class' },
  };
  return {
    title,
    width: 360,
    height: 360,
    data: { values },
    encoding: enc,
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative',
            title: 'fraction',
            scale: { scheme: 'blues', domain: [0, 1] },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 9 },
        encoding: {
          text: { field: 'value', type: 'quantitative', format: '.2f' },
          color: { condition: { test: 'datum.value > 0.5', value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

/** Loss and accuracy per epoch (train and validation), two panels. */
export function trainingCurvesSpec(epochs: readonly EpochLog[], title: string): VegaLiteSpec {
  const values: { epoch: number; metric: string; set: string; value: number }[] = [];
  for (const e of epochs) {
    values.push({ epoch: e.epoch, metric: 'loss', set: 'train', value: e.loss });
    values.push({ epoch: e.epoch, metric: 'accuracy', set: 'train', value: e.accuracy });
    if (e.valLoss !== undefined) values.push({ epoch: e.epoch, metric: 'loss', set: 'validation', value: e.valLoss });
    if (e.valAccuracy !== undefined)
      values.push({ epoch: e.epoch, metric: 'accuracy', set: 'validation', value: e.valAccuracy });
  }
  return {
    title,
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: ['loss', 'accuracy'] } },
    spec: {
      width: 280,
      height: 200,
      mark: { type: 'line', point: epochs.length <= 30 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'set', type: 'nominal', title: null },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/** One class-map panel: the image's name and its per-pixel classes. */
export interface ClassMapPanel {
  name: string;
  rows: number;
  cols: number;
  /** -1 = background. */
  map: ArrayLike<number>;
}

/** Per-pixel prediction maps, one panel per image, pixels coloured by predicted class. */
export function classMapSpec(panels: readonly ClassMapPanel[], title: string, classes = 10): VegaLiteSpec {
  const values: { panel: string; r: number; c: number; cls: string }[] = [];
  for (const p of panels) {
    for (let r = 0; r < p.rows; r++) {
      for (let c = 0; c < p.cols; c++) {
        const k = p.map[r * p.cols + c]!;
        if (k >= 0) values.push({ panel: p.name, r, c, cls: String(k) });
      }
    }
  }
  const rows = panels[0]?.rows ?? 28;
  const cols = panels[0]?.cols ?? 28;
  const domain = Array.from({ length: classes }, (_, k) => String(k));
  return {
    title,
    data: { values },
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels.map((p) => p.name) },
    columns: Math.min(4, Math.max(1, panels.length)),
    spec: {
      width: 6 * cols,
      height: 6 * rows,
      view: { fill: 'black' },
      mark: 'rect',
      encoding: {
        x: { field: 'c', type: 'ordinal', scale: { domain: Array.from({ length: cols }, (_, i) => i) }, axis: null },
        y: { field: 'r', type: 'ordinal', scale: { domain: Array.from({ length: rows }, (_, i) => i) }, axis: null },
        color: {
          field: 'cls',
          type: 'nominal',
          title: 'predicted',
          scale: { domain, range: CLASS_COLORS.slice(0, classes) },
        },
      },
    },
  };
}

/** Fisher-Yates shuffle-free pick: the first index of each wanted label in `labels`. */
export function firstIndexOfLabel(ds: Dataset, label: number, from = 0): number {
  for (let i = from; i < ds.length; i++) if (ds.get(i).label === label) return i;
  return -1;
}

/** Elapsed seconds since `t0` (process.hrtime.bigint()). */
export function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Mean and sample standard deviation (n - 1 in the denominator; 0 for a single value) of `values`. */
export function meanAndStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}

/** Minutes between two saves of a training's state in the experiments (`--checkpoint-minutes`). */
export const DEFAULT_CHECKPOINT_MINUTES = 5;

/** Throws a RangeError naming `--checkpoint-minutes` unless `minutes` is a finite number >= 0. */
export function checkCheckpointMinutes(minutes: number): void {
  if (!(typeof minutes === 'number' && minutes >= 0 && Number.isFinite(minutes)))
    throw new RangeError(`--checkpoint-minutes ${String(minutes)}: must be a finite number >= 0 (0: no checkpoints)`);
}

/**
 * The share (0 to 1) of a unit's trainings that earlier runs did, from their checkpoints in
 * `out/checkpoints/` (a training that had ended counts whole, one without a checkpoint as not
 * begun), each training weighted alike: the runner's ETA (Experiment.resumedShare) uses it.
 */
export async function checkpointedShare(
  out: string,
  trainings: readonly { name: string; epochs: number }[],
): Promise<number> {
  if (trainings.length === 0) return 0;
  let sum = 0;
  for (const t of trainings) {
    const p = await checkpointProgress(path.join(out, 'checkpoints', `${t.name}.ckpt`));
    if (p) sum += p.stopped ? 1 : Math.min(1, p.epoch / Math.max(1, t.epochs));
  }
  return sum / trainings.length;
}

/**
 * The checkpoint of training `name` of a run in `out` (`out/checkpoints/<name>.ckpt`, saved at
 * most every `minutes`; docs/RUNNER.md "Training checkpoints"), or null for `minutes` 0. The unit
 * removes it once its result is complete.
 */
export function trainingCheckpoint(
  out: string,
  name: string,
  minutes: number = DEFAULT_CHECKPOINT_MINUTES,
): FitCheckpoint | null {
  checkCheckpointMinutes(minutes);
  return minutes > 0
    ? fileCheckpoint(path.join(out, 'checkpoints', `${name}.ckpt`), { everySeconds: 60 * minutes })
    : null;
}
