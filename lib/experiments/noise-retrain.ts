/**
 * Protocol 'retrain' of Experiment 3 (noise.ts; the reading of the paper's §4.4 that reproduces its
 * numbers, docs/RESULTS.md): at every sigma_d (and at 0) spectra are sampled from the noisy test
 * images (SOAP at the paper optimum; tiny: TINY_CLASSIFY's), the images are split 80:20 (the same
 * split at every level), a RobustScaler and a fresh MLP are fitted on the 80 % and the metric is the
 * accuracy on the 20 % ("validation accuracy"), relative to sigma_d = 0.
 *
 * On the runner (runner.ts, docs/RUNNER.md): one unit per level (sigma_d = 0, then ascending
 * sigma_d), file units/sigma-<sigma_d>.json; the merge writes results.json, the figure and
 * report.html.
 */
import * as path from 'node:path';
import { mnistDataset } from '../data/datasets';
import type { Dataset } from '../data/dataset';
import type { ImageToPointsOptions } from '../data/image';
import { selectBackend, type BackendName } from '../ml/backend';
import { MlpClassifier } from '../ml/models/mlp';
import type { LabeledData } from '../ml/train/types';
import { Rng } from '../util/random';
import { RobustScaler } from '../features/scaler';
import type { Soap } from '../soap/soap';
import { PAPER_CLASSIFY, TINY_CLASSIFY } from './classify';
import { recordedCommand } from './command-line';
import { IMAGE_OPTIONS, makeSoap, PAPER_OPTIMUM, sampleSpectra, type SoapParams } from './common';
import { defineExperiment } from './definition';
import {
  checkNoiseClaims,
  writeNoiseFigures,
  writeNoiseReport,
  type NoisePoint,
  type NoiseResults,
  type NoiseRetrainSettings,
} from './noise-results';
import { simdPath } from '../soap/simd-path';

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
  /** Stops the training before its next batch (the run's abort). */
  signal?: AbortSignal;
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
export async function retrainAndScore(
  data: LabeledData,
  imageOfRow: ArrayLike<number>,
  isVal: ArrayLike<number>,
  o: RetrainOptions,
): Promise<RetrainScore> {
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
  if (tr.rows === 0 || va.rows === 0)
    throw new Error(
      `retrain: the split by image left ${tr.rows} training and ${va.rows} validation spectra; use more images`,
    );
  const scaler = new RobustScaler().fit(tr.x, tr.rows, cols);
  scaler.transformInPlace(tr.x, tr.rows, cols);
  scaler.transformInPlace(va.x, va.rows, cols);
  const m = MlpClassifier.create({
    inputDim: cols,
    hidden: [...o.hidden],
    dropout: o.dropout,
    learningRate: o.learningRate,
    seed: o.seed,
  });
  try {
    const h = await m.train(tr, {
      epochs: o.epochs,
      batchSize: o.batchSize ?? 128,
      validation: va,
      earlyStopping: { patience: o.patience, monitor: 'valAccuracy' },
      seed: o.seed,
      signal: o.signal,
    });
    return {
      valAccuracy: m.evaluate(va).accuracy,
      trainRows: tr.rows,
      valRows: va.rows,
      epochs: h.epochs.length,
      bestEpoch: h.bestEpoch,
      seconds: (performance.now() - t) / 1000,
    };
  } finally {
    m.dispose();
  }
}

/** Everything a retrain run depends on (JSON: it travels to the workers). */
export interface NoiseRetrainSpec {
  tiny: boolean;
  seed: number;
  /** The noise levels sigma_d > 0, ascending (sigma_d = 0 is always added). */
  sigmas: number[];
  testImages: number;
  /** Spectra drawn per test image (Algorithm 3: testImages x perImage draws). */
  perImage: number;
  maxEpochs: number;
  patience: number;
  hidden: number[];
  batchSize: number;
  learningRate: number;
  valFraction: number;
  soap: SoapParams;
  backend?: BackendName;
  noFigures: boolean;
}

/** The spec of a retrain run from the experiment's options (defaults: the paper's; tiny: TINY_CLASSIFY's SOAP and MLP, 2 epochs). */
export function noiseRetrainSpec(o: {
  tiny: boolean;
  seed: number;
  sigmas: number[];
  testImages: number;
  perImage?: number;
  epochs?: number;
  patience?: number;
  backend?: BackendName;
  noFigures?: boolean;
}): NoiseRetrainSpec {
  const perImage = o.perImage ?? 1;
  if (!(Number.isInteger(perImage) && perImage >= 1))
    throw new RangeError(`--per-image must be a positive integer, got ${perImage}`);
  const p = o.tiny ? TINY_CLASSIFY : PAPER_CLASSIFY;
  return {
    tiny: o.tiny,
    seed: o.seed,
    sigmas: o.sigmas,
    testImages: o.testImages,
    perImage,
    maxEpochs: o.epochs ?? (o.tiny ? 2 : 30),
    patience: o.patience ?? 5,
    hidden: [...p.hidden],
    batchSize: 128,
    learningRate: 1e-3,
    valFraction: 0.2,
    soap: o.tiny ? { rCut: p.rCut, nMax: p.nMax, lMax: p.lMax, sigma: p.sigma } : { ...PAPER_OPTIMUM },
    ...(o.backend !== undefined ? { backend: o.backend } : {}),
    noFigures: o.noFigures ?? false,
  };
}

/** One level's result (units/sigma-<sigma_d>.json): its point without the accuracy relative to sigma_d = 0. */
export interface NoiseLevelResult extends RetrainScore {
  sigma: number;
  /** The validation accuracy. */
  accuracy: number;
  backend: string;
}

/** The images of the 80:20 split (its seed: seed + 99). */
const splitOf = (s: NoiseRetrainSpec): Uint8Array => splitImages(s.testImages, s.seed + 99, s.valFraction);

/** Protocol 'retrain' on the runner: one unit per noise level. */
export const noiseRetrainExperiment = defineExperiment({
  name: 'noise-retrain',
  module: __filename,
  unitNoun: 'noise levels',
  settingNames: {
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
  },
  settings: (s: NoiseRetrainSpec) => {
    const { tiny: _t, sigmas: _s, backend: _b, noFigures: _f, ...settings } = s;
    return settings;
  },
  units: (s: NoiseRetrainSpec) => [0, ...s.sigmas].map((sigma) => ({ sigma })),
  unitId: (u: { sigma: number }) => `sigma-${String(u.sigma)}`,
  setup: async (
    s: NoiseRetrainSpec,
    ctx,
  ): Promise<{ backend: string; testSet: Dataset; soap: Soap; isVal: Uint8Array }> => {
    const backend = await selectBackend({ prefer: s.backend, strict: s.backend !== undefined, log: ctx.log });
    const isVal = splitOf(s);
    const valImages = isVal.reduce((a, v) => a + v, 0);
    ctx.log(
      `noise: protocol retrain; SOAP ${s.soap.rCut}/${s.soap.nMax}/${s.soap.lMax}/${s.soap.sigma}; ${s.testImages * s.perImage} spectra from ${s.testImages} test images ` +
        `(${s.testImages - valImages} train / ${valImages} validation images); MLP ${s.hidden.join('-')}, <= ${s.maxEpochs} epochs`,
    );
    return { backend: backend.summary, testSet: mnistDataset('test'), soap: makeSoap(s.soap), isVal };
  },
  run: async (u: { sigma: number }, env): Promise<NoiseLevelResult> => {
    const { spec: s, state, sigma } = { ...env, sigma: u.sigma };
    const t = performance.now();
    const image: ImageToPointsOptions =
      sigma > 0 ? { ...IMAGE_OPTIONS, displacement: { sigma, seed: s.seed + 12345 } } : { ...IMAGE_OPTIONS };
    const d = await sampleSpectra(state.testSet, state.soap, s.testImages * s.perImage, s.seed + 2, {
      limit: s.testImages,
      image,
      threads: env.threads,
      signal: env.signal,
    });
    const r = await retrainAndScore(d, d.image, state.isVal, {
      hidden: s.hidden,
      epochs: s.maxEpochs,
      patience: s.patience,
      seed: s.seed,
      batchSize: s.batchSize,
      learningRate: s.learningRate,
      signal: env.signal,
    });
    env.log(
      `noise: sigma_d ${sigma.toPrecision(3)}: validation accuracy ${r.valAccuracy.toFixed(4)}; ${r.trainRows} / ${r.valRows} spectra, ${r.epochs} epochs (best ${r.bestEpoch})`,
    );
    return { sigma, accuracy: r.valAccuracy, ...r, seconds: (performance.now() - t) / 1000, backend: state.backend };
  },
  merge: async (units, s: NoiseRetrainSpec, ctx): Promise<NoiseResults> => {
    const files = units.map((u) => u.result);
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
    if (backends.length > 1)
      ctx.log(`noise: warning: the levels were trained on different backends: ${backends.join(' | ')}`);
    const valImages = splitOf(s).reduce((a, v) => a + v, 0);
    const retrain: NoiseRetrainSettings = {
      perImage: s.perImage,
      hidden: s.hidden,
      maxEpochs: s.maxEpochs,
      patience: s.patience,
      batchSize: s.batchSize,
      learningRate: s.learningRate,
      valFraction: s.valFraction,
      trainImages: s.testImages - valImages,
      valImages,
    };
    const results: NoiseResults = {
      experiment: 'noise',
      command: recordedCommand(),
      simdPath: simdPath(),
      protocol: 'retrain',
      model: null,
      modelTrainedHere: false,
      retrain,
      soap: s.soap,
      features: makeSoap(s.soap).featureCount,
      testImages: s.testImages,
      testRows: s.testImages * s.perImage,
      seed: s.seed,
      backend: files[0]!.backend,
      baselineAccuracy: base,
      points,
      claims: checkNoiseClaims(points),
      seconds: 0,
      figures: [],
      finishedAt: '',
    };
    if (!s.noFigures) results.figures = await writeNoiseFigures(ctx.out, results);
    results.seconds = (performance.now() - ctx.startedAt) / 1000;
    results.finishedAt = new Date().toISOString();
    return results;
  },
  report: async (r: NoiseResults, s: NoiseRetrainSpec, ctx) => {
    if (!s.noFigures) await writeNoiseReport(ctx.out, r);
    ctx.log(`noise: done in ${r.seconds.toFixed(1)} s; ${path.join(ctx.out, 'results.json')}`);
  },
});
