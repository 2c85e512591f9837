/**
 * Experiment 3 of the paper (PAPER-FACTS §6): robustness to positional noise. The x, y and z of
 * every point of the test images are perturbed by N(0, sigma_d^2) (seeded, a different stream per
 * image), SOAP is computed at the same sampled points as without noise (Algorithm 3 over the test
 * images, one spectrum per image by default), and the Experiment-1 classifier (a saved model
 * folder, or one trained here) predicts them. Reported: accuracy relative to sigma_d = 0, for 20
 * log-spaced sigma_d in [0.1, 5.0] by default; results.json, a figure and report.html.
 *
 * That is protocol 'fixed-model'. Protocol 'retrain' is the reading of the paper's §4.4 that
 * reproduces its numbers (docs/RESULTS.md): at every sigma_d (and at 0) spectra are sampled from the
 * noisy test images, the images are split 80:20 (the same split at every level), a RobustScaler and a
 * fresh MLP are fitted on the 80 % and the metric is the accuracy on the 20 % ("validation accuracy").
 * Its levels (sigma_d = 0 and every sigma_d) are independent trainings, each with its own result file
 * levels/sigma-<sigma_d>.json; `--workers` runs them in parallel processes, `--shard i/n` across
 * machines, and a rerun skips finished levels (a level file of other settings is an error). The run
 * that finds every level done writes results.json, the figure and report.html.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file';
import { mnistDataset } from '../data/datasets';
import { renderFigure } from '../report/figures';
import type { ImageToPointsOptions } from '../data/image';
import { selectBackend, type BackendName } from '../ml/backend';
import { accuracy } from '../ml/metrics/classification';
import { MlpClassifier } from '../ml/models/mlp';
import type { LabeledData } from '../ml/train/types';
import { Rng } from '../util/random';
import { writeReport } from '../report/html';
import { RobustScaler, type RobustScalerJSON } from '../features/scaler';
import { PAPER_CLASSIFY, runClassify, TINY_CLASSIFY } from './classify';
import { differingSettings, IMAGE_OPTIONS, makeSoap, PAPER_OPTIMUM, sampleSpectra, type SoapParams } from './common';
import type { ClaimCheck } from './compression';
import { dealRoundRobin, runWorkers } from './workers';

/** `n` log-spaced values from `lo` to `hi` (both included). */
export function logSpace(lo: number, hi: number, n: number): number[] {
  if (n === 1) return [lo];
  return Array.from({ length: n }, (_, k) => lo * Math.pow(hi / lo, k / (n - 1)));
}

/** The paper's grid: 20 log-spaced sigma_d in [0.1, 5.0]. */
export const PAPER_SIGMAS: readonly number[] = Object.freeze(logSpace(0.1, 5.0, 20));

/** How accuracy at a noise level is measured (see the file comment). */
export const NOISE_PROTOCOLS = ['fixed-model', 'retrain'] as const;
export type NoiseProtocol = (typeof NOISE_PROTOCOLS)[number];

/** Options of {@link runNoiseExperiment}. */
export interface NoiseExperimentOptions {
  out: string;
  /** Default 'fixed-model'. */
  protocol?: NoiseProtocol;
  /** fixed-model: a saved Experiment-1 model folder (with soapix.json), or a classify output folder holding model/. Refused with 'retrain'. */
  model?: string;
  /** Noise levels sigma_d (sigma_d = 0 is always added as the reference). Default {@link PAPER_SIGMAS} (tiny: 0.1, 1, 5). */
  sigmas?: number[];
  /** Test images (one spectrum each, Algorithm 3). Default 10,000 (tiny: 200). */
  testImages?: number;
  /** Spectra drawn from them. Default: testImages. */
  testSamples?: number;
  /** Without `model`: train/val spectra and epochs of the quickly trained classifier. Defaults 20,000 / 30 (tiny: 2,000 / 2). */
  trainSamples?: number;
  /** Maximum epochs: of the classifier trained without `model`, or of each retrained one. Default 30 (tiny: 2). */
  epochs?: number;
  /** Early-stopping patience of those classifiers (retrain: on validation accuracy). Default 5. */
  patience?: number;
  /** retrain: spectra drawn per test image (Algorithm 3: testImages x perImage draws). Default 1. */
  perImage?: number;
  seed?: number;
  tiny?: boolean;
  backend?: BackendName;
  threads?: number;
  noFigures?: boolean;
  /** retrain: worker processes (forks of the CLI), each retraining a share of the levels; 1 (the default) = run them in this process. */
  workers?: number;
  /** retrain: run only levels k (sigma_d = 0, then ascending sigma_d) with k mod count = index - 1. */
  shard?: { index: number; count: number };
  /** retrain: only these levels (sigma_d values, 0 included; used by the workers). */
  only?: readonly number[];
  /** retrain: write results.json, the figure and the report when every level is done (default true). */
  summary?: boolean;
  /** The CLI script to fork for workers (default: dist/cli.js next to this file). */
  cliPath?: string;
  /** Extra CLI arguments for workers (e.g. --quiet). */
  workerArgs?: string[];
  log?: (message: string) => void;
  signal?: AbortSignal;
}

export interface NoisePoint {
  sigma: number;
  /** fixed-model: test accuracy of the model; retrain: the validation accuracy. */
  accuracy: number;
  relativeAccuracy: number;
  seconds: number;
  /** retrain only: the sigma_d = 0 accuracy this level is relative to, and the level's training. */
  baselineAccuracy?: number;
  valAccuracy?: number;
  trainRows?: number;
  valRows?: number;
  /** Epochs run (early stopping may end before the maximum) and the best (restored) one. */
  epochs?: number;
  bestEpoch?: number | null;
}

/** Settings of protocol 'retrain' in results.json. */
export interface NoiseRetrainSettings {
  perImage: number;
  hidden: number[];
  maxEpochs: number;
  patience: number;
  batchSize: number;
  learningRate: number;
  valFraction: number;
  trainImages: number;
  valImages: number;
}

export interface NoiseResults {
  experiment: 'noise';
  command: string;
  /** Absent in results written before protocols existed: 'fixed-model'. */
  protocol: NoiseProtocol;
  /** The classifier's folder (fixed-model); null with retrain. */
  model: string | null;
  modelTrainedHere: boolean;
  retrain?: NoiseRetrainSettings;
  soap: SoapParams;
  features: number;
  testImages: number;
  testRows: number;
  seed: number;
  backend: string;
  baselineAccuracy: number;
  points: NoisePoint[];
  claims: ClaimCheck[];
  seconds: number;
  figures: string[];
  finishedAt: string;
}

/** Relative accuracy at `sigma`, interpolated linearly in log sigma; null outside the measured range. */
export function interpolateRelative(points: NoisePoint[], sigma: number): number | null {
  const ps = points.filter((p) => p.sigma > 0).sort((a, b) => a.sigma - b.sigma);
  for (let i = 0; i < ps.length; i++) {
    if (Math.abs(ps[i].sigma - sigma) <= 1e-9 * sigma) return ps[i].relativeAccuracy;
    if (i + 1 < ps.length && ps[i].sigma < sigma && sigma < ps[i + 1].sigma) {
      const t = Math.log(sigma / ps[i].sigma) / Math.log(ps[i + 1].sigma / ps[i].sigma);
      return ps[i].relativeAccuracy + t * (ps[i + 1].relativeAccuracy - ps[i].relativeAccuracy);
    }
  }
  return null;
}

/** Checks the paper's Experiment-3 claims (PAPER-FACTS §6). */
export function checkNoiseClaims(points: NoisePoint[]): ClaimCheck[] {
  const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)} %`);
  const at1 = interpolateRelative(points, 1.0);
  const at05 = interpolateRelative(points, 0.5);
  const at39 = interpolateRelative(points, 3.9);
  const at01 = interpolateRelative(points, 0.1);
  return [
    {
      claim: 'At sigma_d = 1.0 accuracy is 92 % of the sigma_d = 0 baseline (accepted: 87-97 %)',
      holds: at1 === null ? null : at1 >= 0.87 && at1 <= 0.97,
      detail: `measured ${pct(at1)}`,
    },
    {
      claim: 'Sharp decline beyond sigma_d = 0.5 (accepted: >= 95 % at 0.5, and the loss from 0.5 to 1.0 larger than from 0.1 to 0.5)',
      holds: at05 === null || at1 === null || at01 === null ? null : at05 >= 0.95 && at05 - at1 > at01 - at05,
      detail: `0.1: ${pct(at01)}, 0.5: ${pct(at05)}, 1.0: ${pct(at1)}`,
    },
    {
      claim: 'About 51 % of baseline at sigma_d = 3.9 (accepted: 41-61 %)',
      holds: at39 === null ? null : at39 >= 0.41 && at39 <= 0.61,
      detail: `measured ${pct(at39)}`,
    },
  ];
}

/**
 * The 80:20 split by image of protocol 'retrain': per image 1 (validation) with probability
 * `valFraction`, else 0 (training), drawn from Rng(seed) in image order.
 */
export function splitImages(images: number, seed: number, valFraction = 0.2): Uint8Array {
  const rng = new Rng(seed);
  const isVal = new Uint8Array(images);
  for (let i = 0; i < images; i++) isVal[i] = rng.nextFloat() < valFraction ? 1 : 0;
  return isVal;
}

/** Options of {@link retrainAndScore}. */
export interface RetrainOptions {
  hidden: readonly number[];
  /** Default 0.1 (MlpClassifier's). */
  dropout?: number;
  epochs: number;
  patience: number;
  /** Seed of the weights, the shuffling and the dropout masks. */
  seed: number;
  /** Default 128. */
  batchSize?: number;
  /** Adam's; default 1e-3. */
  learningRate?: number;
}

export interface RetrainScore {
  /** Accuracy on the validation rows with the best epoch's weights. */
  valAccuracy: number;
  trainRows: number;
  valRows: number;
  epochs: number;
  bestEpoch: number | null;
  seconds: number;
}

/**
 * One level of protocol 'retrain': the rows of images with `isVal[image] = 0` train, the others
 * validate; a RobustScaler is fitted on the training rows (applied to both, on copies), a fresh
 * MLP is trained (Adam, early stopping on validation accuracy, best weights restored) and its
 * validation accuracy returned. `imageOfRow[r]` is the image of row r.
 */
export async function retrainAndScore(data: LabeledData, imageOfRow: ArrayLike<number>, isVal: ArrayLike<number>, o: RetrainOptions): Promise<RetrainScore> {
  const t = performance.now();
  const { cols } = data;
  const take = (want: number): LabeledData => {
    const rows: number[] = [];
    for (let r = 0; r < data.rows; r++) if ((isVal[imageOfRow[r]!] ? 1 : 0) === want) rows.push(r);
    const x = new Float32Array(rows.length * cols);
    const y = new Int32Array(rows.length);
    rows.forEach((r, k) => {
      x.set(data.x.subarray(r * cols, (r + 1) * cols), k * cols);
      y[k] = data.y[r]!;
    });
    return { x, y, rows: rows.length, cols };
  };
  const tr = take(0);
  const va = take(1);
  if (tr.rows === 0 || va.rows === 0) throw new Error(`retrain: the split by image left ${tr.rows} training and ${va.rows} validation spectra; use more images`);
  const scaler = new RobustScaler().fit(tr.x, tr.rows, cols);
  scaler.transformInPlace(tr.x, tr.rows, cols);
  scaler.transformInPlace(va.x, va.rows, cols);
  const m = MlpClassifier.create({ inputDim: cols, hidden: [...o.hidden], dropout: o.dropout, learningRate: o.learningRate, seed: o.seed });
  try {
    const h = await m.train(tr, {
      epochs: o.epochs,
      batchSize: o.batchSize ?? 128,
      validation: va,
      earlyStopping: { patience: o.patience, monitor: 'valAccuracy' },
      seed: o.seed,
    });
    return { valAccuracy: m.evaluate(va).accuracy, trainRows: tr.rows, valRows: va.rows, epochs: h.epochs.length, bestEpoch: h.bestEpoch, seconds: (performance.now() - t) / 1000 };
  } finally {
    m.dispose();
  }
}

function resolveModelDir(dir: string): string {
  if (existsSync(path.join(dir, 'soapix.json'))) return dir;
  if (existsSync(path.join(dir, 'model', 'soapix.json'))) return path.join(dir, 'model');
  throw new Error(`--model ${dir}: no soapix.json there or in ${path.join(dir, 'model')} (give a saved Experiment-1 model folder)`);
}

interface SavedSoap extends SoapParams {
  image?: ImageToPointsOptions;
}

/** The noise levels sigma_d > 0 of a run, ascending (the paper's grid by default; tiny: 0.1, 1, 5). */
export function noiseSigmas(options: Pick<NoiseExperimentOptions, 'sigmas' | 'tiny'>): number[] {
  const sigmas = [...new Set(options.sigmas ?? (options.tiny ? [0.1, 1, 5] : [...PAPER_SIGMAS]))].filter((s) => s > 0).sort((a, b) => a - b);
  for (const s of sigmas) if (!Number.isFinite(s)) throw new RangeError(`--sigmas: ${s} is not a finite number`);
  return sigmas;
}

/** Path of the result file of level `sigma` (protocol retrain) under `out`: levels/sigma-<shortest exact decimal of sigma>.json. */
export const noiseLevelFile = (out: string, sigma: number): string => path.join(out, 'levels', `sigma-${String(sigma)}.json`);

/** The settings a level of protocol 'retrain' was computed with; a rerun refuses level files of other settings. */
export interface NoiseLevelSettings {
  seed: number;
  testImages: number;
  perImage: number;
  maxEpochs: number;
  patience: number;
  hidden: number[];
  batchSize: number;
  learningRate: number;
  valFraction: number;
  soap: SoapParams;
}

/** One level's file (levels/sigma-<sigma_d>.json): its point without the accuracy relative to sigma_d = 0. */
export interface NoiseLevelFile extends RetrainScore {
  sigma: number;
  /** The validation accuracy. */
  accuracy: number;
  backend: string;
  settings: NoiseLevelSettings;
}

/** How each setting of a level file is chosen, for the message on a mismatch. */
const LEVEL_SETTING_NAMES: Record<keyof NoiseLevelSettings, string> = {
  seed: '--seed',
  testImages: '--test-images',
  perImage: '--per-image',
  maxEpochs: '--epochs',
  patience: '--patience',
  hidden: 'MLP widths (--tiny or not)',
  batchSize: 'batch size',
  learningRate: 'learning rate',
  valFraction: 'validation fraction',
  soap: 'SOAP parameters (--tiny or not)',
};

/** Throws when the level file `file` was written with other settings than `want`, naming what differs. */
function checkLevelSettings(file: string, have: Partial<NoiseLevelSettings> | undefined, want: NoiseLevelSettings): void {
  const diffs = differingSettings(have, want).map((k) => `${LEVEL_SETTING_NAMES[k]} ${JSON.stringify(have?.[k] ?? null)} there, ${JSON.stringify(want[k])} in this run`);
  if (diffs.length) {
    throw new Error(`${file} was written with other settings (${diffs.join('; ')}); use another --out for these settings, or remove ${path.dirname(file)} to start over`);
  }
}

/** Runs Experiment 3 (protocol retrain: this shard / worker's share of its levels) and writes its outputs to `options.out`; null when levels are missing or `summary` is false. */
export async function runNoiseExperiment(options: NoiseExperimentOptions): Promise<NoiseResults | null> {
  const t0 = performance.now();
  const tiny = options.tiny ?? false;
  const log = options.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const seed = options.seed ?? 0;
  const sigmas = noiseSigmas(options);
  const testImages = options.testImages ?? (tiny ? 200 : 10000);
  const testSamples = options.testSamples ?? testImages;
  const protocol = options.protocol ?? 'fixed-model';
  if (!(NOISE_PROTOCOLS as readonly string[]).includes(protocol)) throw new Error(`unknown protocol '${String(protocol)}'; known: ${NOISE_PROTOCOLS.join(', ')}`);
  if (protocol === 'retrain' && options.model) throw new Error('--model is for --protocol fixed-model: --protocol retrain trains a new classifier at every noise level');
  if (protocol !== 'retrain' && options.perImage !== undefined) throw new Error('--per-image applies to --protocol retrain only');
  if (protocol !== 'retrain' && ((options.workers ?? 1) !== 1 || options.shard || options.only || options.summary === false)) {
    throw new Error('workers, shards, --only and --no-summary apply to --protocol retrain only (fixed-model trains at most one classifier)');
  }
  const out = path.resolve(options.out);
  await mkdir(out, { recursive: true });
  if (protocol === 'retrain') return runRetrainProtocol(options, { t0, tiny, log, seed, sigmas, testImages, out });

  let modelDir: string;
  let trainedHere = false;
  if (options.model) {
    modelDir = resolveModelDir(path.resolve(options.model));
  } else {
    const p = tiny ? TINY_CLASSIFY : PAPER_CLASSIFY;
    const trainDir = path.join(out, 'classifier');
    log(`noise: no --model given; training an Experiment-1 classifier in ${trainDir}`);
    await runClassify({
      out: trainDir,
      rCut: p.rCut,
      nMax: p.nMax,
      lMax: p.lMax,
      sigma: p.sigma,
      hidden: [...p.hidden],
      trainSamples: options.trainSamples ?? (tiny ? 2000 : 20000),
      testSamples: tiny ? 200 : 2000,
      epochs: options.epochs ?? (tiny ? 2 : 30),
      patience: options.patience ?? 5,
      seed,
      backend: options.backend ?? 'auto',
      threads: options.threads,
      log: (m) => log(`noise: classifier: ${m}`),
    });
    modelDir = path.join(trainDir, 'model');
    trainedHere = true;
  }
  const backend = await selectBackend({ prefer: options.backend, strict: options.backend !== undefined, log });
  const { classifier, info } = await MlpClassifier.load<SavedSoap, RobustScalerJSON>(modelDir);
  try {
    if (!info.soap || !info.scaler) throw new Error(`${modelDir}/soapix.json has no SOAP parameters or scaler (train it with soapix experiment classify)`);
    const soapParams: SoapParams = { rCut: info.soap.rCut, nMax: info.soap.nMax, lMax: info.soap.lMax, sigma: info.soap.sigma };
    const imageOpts: ImageToPointsOptions = info.soap.image ?? IMAGE_OPTIONS;
    const soap = makeSoap(soapParams);
    if (soap.featureCount !== classifier.config.inputDim) throw new Error(`the model takes ${classifier.config.inputDim} features but its SOAP parameters give ${soap.featureCount}`);
    const scaler = RobustScaler.fromJSON(info.scaler);
    const testSet = mnistDataset('test');
    log(`noise: model ${modelDir}; SOAP ${soapParams.rCut}/${soapParams.nMax}/${soapParams.lMax}/${soapParams.sigma}; ${testSamples} spectra from ${testImages} test images; ${sigmas.length} noise levels`);
    const points: NoisePoint[] = [];
    for (const sigma of [0, ...sigmas]) {
      const t = performance.now();
      const image: ImageToPointsOptions = sigma > 0 ? { ...imageOpts, displacement: { sigma, seed: seed + 12345 } } : { ...imageOpts };
      // The same plan seed for every sigma: the same images and point indices (noise moves points, never removes them).
      const d = await sampleSpectra(testSet, soap, testSamples, seed + 2, { limit: testImages, image, threads: options.threads });
      scaler.transformInPlace(d.x, d.rows, d.cols);
      const acc = accuracy(d.y, classifier.predictClasses(d.x));
      const base = points.length ? points[0].accuracy : acc;
      points.push({ sigma, accuracy: acc, relativeAccuracy: base > 0 ? acc / base : Number.NaN, seconds: (performance.now() - t) / 1000 });
      log(`noise: sigma_d ${sigma.toPrecision(3)}: accuracy ${acc.toFixed(4)} (${(100 * points[points.length - 1].relativeAccuracy).toFixed(1)} % of sigma_d = 0)`);
    }
    const results: NoiseResults = {
      experiment: 'noise',
      command: process.argv.slice(1).join(' '),
      protocol: 'fixed-model',
      model: modelDir,
      modelTrainedHere: trainedHere,
      soap: soapParams,
      features: soap.featureCount,
      testImages,
      testRows: testSamples,
      seed,
      backend: backend.summary,
      baselineAccuracy: points[0].accuracy,
      points,
      claims: checkNoiseClaims(points),
      seconds: 0,
      figures: [],
      finishedAt: '',
    };
    return await finishNoise(out, results, t0, options.noFigures ?? false, log);
  } finally {
    classifier.dispose();
  }
}

/** Figures, results.json and the report of either protocol. */
async function finishNoise(out: string, results: NoiseResults, t0: number, noFigures: boolean, log: (m: string) => void): Promise<NoiseResults> {
  if (!noFigures) results.figures = await writeNoiseFigures(out, results);
  results.seconds = (performance.now() - t0) / 1000;
  results.finishedAt = new Date().toISOString();
  await writeFileAtomic(path.join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  if (!noFigures) await writeNoiseReport(out, results);
  log(`noise: done in ${results.seconds.toFixed(1)} s; ${path.join(out, 'results.json')}`);
  return results;
}

/**
 * Protocol 'retrain': SOAP at the paper optimum (tiny: TINY_CLASSIFY's), testImages x perImage
 * spectra (the same images and points at every level, as fixed-model with perImage 1), the same
 * split by image at every level, a fresh scaler + MLP per level; relative to the sigma_d = 0 run.
 * Each level is written to levels/sigma-<sigma_d>.json by the process that trains it (this one, or
 * its workers); the run that finds every level done merges them into results.json.
 */
async function runRetrainProtocol(
  options: NoiseExperimentOptions,
  c: { t0: number; tiny: boolean; log: (m: string) => void; seed: number; sigmas: number[]; testImages: number; out: string },
): Promise<NoiseResults | null> {
  const { tiny, log, seed, sigmas, testImages, out } = c;
  const perImage = options.perImage ?? 1;
  if (!(Number.isInteger(perImage) && perImage >= 1)) throw new RangeError(`--per-image must be a positive integer, got ${perImage}`);
  const workers = Math.max(1, options.workers ?? 1);
  const p = tiny ? TINY_CLASSIFY : PAPER_CLASSIFY;
  const soapParams: SoapParams = tiny ? { rCut: p.rCut, nMax: p.nMax, lMax: p.lMax, sigma: p.sigma } : { ...PAPER_OPTIMUM };
  const settings: NoiseRetrainSettings = {
    perImage,
    hidden: [...p.hidden],
    maxEpochs: options.epochs ?? (tiny ? 2 : 30),
    patience: options.patience ?? 5,
    batchSize: 128,
    learningRate: 1e-3,
    valFraction: 0.2,
    trainImages: 0,
    valImages: 0,
  };
  const isVal = splitImages(testImages, seed + 99, settings.valFraction);
  settings.valImages = isVal.reduce((a, v) => a + v, 0);
  settings.trainImages = testImages - settings.valImages;
  const key: NoiseLevelSettings = {
    seed,
    testImages,
    perImage,
    maxEpochs: settings.maxEpochs,
    patience: settings.patience,
    hidden: settings.hidden,
    batchSize: settings.batchSize,
    learningRate: settings.learningRate,
    valFraction: settings.valFraction,
    soap: soapParams,
  };
  const soap = makeSoap(soapParams);
  const rows = testImages * perImage;
  await mkdir(path.join(out, 'levels'), { recursive: true });

  // Level files already there must have been computed with these settings (a rerun resumes, it never mixes).
  // Each file is read and checked once: those found now, those this process writes, and at the merge
  // those written meanwhile by workers or other shards.
  const levels = [0, ...sigmas];
  const known = new Map<number, NoiseLevelFile>();
  const readLevel = async (sigma: number): Promise<NoiseLevelFile | undefined> => {
    const cached = known.get(sigma);
    if (cached) return cached;
    const f = noiseLevelFile(out, sigma);
    if (!existsSync(f)) return undefined;
    const l = JSON.parse(await readFile(f, 'utf8')) as NoiseLevelFile;
    checkLevelSettings(f, l.settings, key);
    known.set(sigma, l);
    return l;
  };
  for (const sigma of levels) await readLevel(sigma);

  // This run's share: shard (level k, sigma_d = 0 first, with k mod n = i-1), then --only, then what is not done yet.
  let mine = levels.filter((_, k) => !options.shard || k % options.shard.count === options.shard.index - 1);
  if (options.only) mine = mine.filter((s) => options.only!.includes(s));
  const todo = mine.filter((s) => !known.has(s));
  log(
    `noise: protocol retrain; SOAP ${soapParams.rCut}/${soapParams.nMax}/${soapParams.lMax}/${soapParams.sigma}; ${rows} spectra from ${testImages} test images ` +
      `(${settings.trainImages} train / ${settings.valImages} validation images); MLP ${settings.hidden.join('-')}, <= ${settings.maxEpochs} epochs; ` +
      `${levels.length} levels (sigma_d = 0 and ${sigmas.length} noise levels), ${mine.length} in this run, ${todo.length} to do, ${workers} worker(s)`,
  );

  if (workers > 1 && todo.length > 1) {
    const cli = options.cliPath ?? path.join(__dirname, '..', 'cli.js');
    const groups = dealRoundRobin(todo, workers);
    const args = (g: number[]): string[] => [
      'experiment', 'noise', '--protocol', 'retrain', '--out', out, '--sigmas', sigmas.map(String).join(','), '--test-images', String(testImages),
      '--per-image', String(perImage), '--epochs', String(settings.maxEpochs), '--patience', String(settings.patience), '--seed', String(seed),
      '--backend', options.backend ?? 'auto', '--workers', '1', '--threads', '1', '--only', g.map(String).join(','), '--no-summary',
      ...(tiny ? ['--tiny'] : []), ...(options.workerArgs ?? []),
    ];
    await runWorkers({ cli, groups, args, describe: (g) => `sigma_d ${g.join(',')}`, log, signal: options.signal });
  } else if (todo.length > 0) {
    const backend = await selectBackend({ prefer: options.backend, strict: options.backend !== undefined, log });
    const testSet = mnistDataset('test');
    for (const sigma of todo) {
      if (options.signal?.aborted) throw options.signal.reason;
      const t = performance.now();
      const image: ImageToPointsOptions = sigma > 0 ? { ...IMAGE_OPTIONS, displacement: { sigma, seed: seed + 12345 } } : { ...IMAGE_OPTIONS };
      const d = await sampleSpectra(testSet, soap, rows, seed + 2, { limit: testImages, image, threads: options.threads, signal: options.signal });
      const s = await retrainAndScore(d, d.image, isVal, { hidden: settings.hidden, epochs: settings.maxEpochs, patience: settings.patience, seed, batchSize: settings.batchSize, learningRate: settings.learningRate });
      const level: NoiseLevelFile = {
        sigma,
        accuracy: s.valAccuracy,
        valAccuracy: s.valAccuracy,
        trainRows: s.trainRows,
        valRows: s.valRows,
        epochs: s.epochs,
        bestEpoch: s.bestEpoch,
        seconds: (performance.now() - t) / 1000,
        backend: backend.summary,
        settings: key,
      };
      await writeFileAtomic(noiseLevelFile(out, sigma), JSON.stringify(level, null, 2) + '\n');
      known.set(sigma, level);
      const base = sigma > 0 ? (await readLevel(0))?.accuracy : s.valAccuracy;
      log(
        `noise: sigma_d ${sigma.toPrecision(3)}: validation accuracy ${s.valAccuracy.toFixed(4)}` +
          (base !== undefined ? ` (${(100 * (base > 0 ? s.valAccuracy / base : Number.NaN)).toFixed(1)} % of sigma_d = 0)` : '') +
          `; ${s.trainRows} / ${s.valRows} spectra, ${s.epochs} epochs (best ${s.bestEpoch})`,
      );
    }
  }

  // Merge when every level is done (by any shard or worker).
  const files: NoiseLevelFile[] = [];
  for (const sigma of levels) {
    const l = await readLevel(sigma);
    if (l) files.push(l);
  }
  const missing = levels.filter((s) => !files.some((f) => f.sigma === s));
  log(
    `noise: ${files.length}/${levels.length} levels done` +
      (missing.length && !options.only ? `; still missing: sigma_d ${missing.map(String).join(', ')} (run the remaining shards; the run that finds every level done writes results.json)` : ''),
  );
  if (missing.length > 0 || options.summary === false) return null;

  const base = files[0]!.accuracy;
  const points: NoisePoint[] = files.map((l) => ({
    sigma: l.sigma,
    accuracy: l.accuracy,
    relativeAccuracy: base > 0 ? l.accuracy / base : Number.NaN,
    seconds: l.seconds,
    baselineAccuracy: base,
    valAccuracy: l.valAccuracy,
    trainRows: l.trainRows,
    valRows: l.valRows,
    epochs: l.epochs,
    bestEpoch: l.bestEpoch,
  }));
  const backends = [...new Set(files.map((l) => l.backend))];
  if (backends.length > 1) log(`noise: warning: the levels were trained on different backends: ${backends.join(' | ')}`);
  const results: NoiseResults = {
    experiment: 'noise',
    command: process.argv.slice(1).join(' '),
    protocol: 'retrain',
    model: null,
    modelTrainedHere: false,
    retrain: settings,
    soap: soapParams,
    features: soap.featureCount,
    testImages,
    testRows: rows,
    seed,
    backend: files[0]!.backend,
    baselineAccuracy: base,
    points,
    claims: checkNoiseClaims(points),
    seconds: 0,
    figures: [],
    finishedAt: '',
  };
  return finishNoise(out, results, c.t0, options.noFigures ?? false, log);
}

/** One line on how the accuracies were measured, for the figure and the report. */
export function protocolSummary(r: NoiseResults): string {
  if ((r.protocol ?? 'fixed-model') === 'retrain') {
    return 'protocol retrain: a new scaler + MLP fitted at every sigma_d on 80 % of the noisy test images, validation accuracy on the other 20 %';
  }
  return 'protocol fixed-model: the Experiment-1 classifier, trained without noise, predicts the noisy test spectra';
}

/** The accuracy-vs-sigma figure (log x); returns PNG paths relative to `out`. */
export async function writeNoiseFigures(out: string, r: NoiseResults): Promise<string[]> {
  const values = r.points.filter((p) => p.sigma > 0).map((p) => ({ sigma: p.sigma, rel: p.relativeAccuracy, acc: p.accuracy }));
  const sig = values.map((v) => v.sigma);
  const domain = sig.length ? [Math.min(...sig, 1) * 0.9, Math.max(...sig, 3.9) * 1.1] : [0.09, 5.5];
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `Accuracy under positional noise, relative to sigma_d = 0 (${(100 * r.baselineAccuracy).toFixed(1)} %)`, subtitle: protocolSummary(r) },
    width: 520,
    height: 340,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'sigma', type: 'quantitative', title: 'sigma_d (pixels)', scale: { type: 'log', domain, nice: false } },
          y: { field: 'rel', type: 'quantitative', title: 'accuracy / accuracy at sigma_d = 0', scale: { domain: [0, 1.05] } },
        },
      },
      {
        data: { values: [{ sigma: 1.0, rel: 0.92, label: 'paper: 92 % at 1.0' }, { sigma: 3.9, rel: 0.51, label: 'paper: 51 % at 3.9' }] },
        mark: { type: 'point', shape: 'diamond', color: '#e15759', size: 90, filled: true },
        encoding: { x: { field: 'sigma', type: 'quantitative' }, y: { field: 'rel', type: 'quantitative' }, tooltip: { field: 'label' } },
      },
    ],
  };
  await renderFigure(spec, path.join(out, 'accuracy_vs_sigma'));
  return ['accuracy_vs_sigma.png'];
}

export async function writeNoiseReport(out: string, r: NoiseResults): Promise<string> {
  const yesNo = (h: boolean | null) => (h === null ? 'not tested' : h ? 'holds' : 'does not hold');
  return writeReport(out, {
    title: 'Experiment 3: positional noise',
    sections: [
      {
        heading: 'Setup',
        text:
          `Protocol: ${(r.protocol ?? 'fixed-model') === 'retrain' ? 'retrain' : 'fixed-model'} (${protocolSummary(r).replace(/^protocol [a-z-]+: /, '')}). ` +
          (r.retrain
            ? `At every noise level (and at 0) a RobustScaler and a fresh ${r.retrain.hidden.join('-')} MLP (Adam ${r.retrain.learningRate}, batch ${r.retrain.batchSize}, ` +
              `<= ${r.retrain.maxEpochs} epochs, early stopping after ${r.retrain.patience} without a better validation accuracy, best weights kept) are fitted on the spectra of ` +
              `${r.retrain.trainImages} images and scored on those of the other ${r.retrain.valImages} (the same split at every level); this is the paper's "validation accuracy" (§4.4). `
            : `Model: ${r.model}${r.modelTrainedHere ? ' (trained by this run)' : ''}. `) +
          `SOAP r_cut ${r.soap.rCut}, n_max ${r.soap.nMax}, l_max ${r.soap.lMax}, sigma ${r.soap.sigma} (${r.features} features). ` +
          `${r.testRows} spectra from the first ${r.testImages} MNIST test images (Algorithm 3; the same images and points at every noise level); x, y and z of every point perturbed by N(0, sigma_d^2). ` +
          `Accuracy at sigma_d = 0: ${r.baselineAccuracy.toFixed(4)}. Backend: ${r.backend}. Wall time ${r.seconds.toFixed(0)} s.\n\n` +
          'Red diamonds in the figure: the paper\'s reported points.',
      },
      {
        heading: 'Results',
        figures: r.figures,
        table: r.retrain
          ? {
              columns: ['sigma_d', 'validation accuracy', 'relative to sigma_d = 0', 'train / validation spectra', 'epochs (best)'],
              rows: r.points.map((p) => [p.sigma, p.accuracy, p.relativeAccuracy, `${p.trainRows} / ${p.valRows}`, `${p.epochs} (${p.bestEpoch})`]),
            }
          : { columns: ['sigma_d', 'accuracy', 'relative to sigma_d = 0'], rows: r.points.map((p) => [p.sigma, p.accuracy, p.relativeAccuracy]) },
      },
      {
        heading: 'Comparison with the paper (PAPER-FACTS §6)',
        table: { columns: ['claim', 'this run', 'numbers'], rows: r.claims.map((c) => [c.claim, yesNo(c.holds), c.detail]) },
      },
    ],
  });
}
