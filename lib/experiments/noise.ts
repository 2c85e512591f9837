/**
 * Experiment 3 of the paper (docs/PAPER-FACTS.md §6): robustness to positional noise. The x, y and z of
 * every point of the test images are perturbed by N(0, sigma_d^2) (seeded, a different stream per
 * image), SOAP is computed at the same sampled points as without noise (Algorithm 3 over the test
 * images, one spectrum per image by default), and the Experiment-1 classifier (a saved model
 * folder, or one trained here) predicts them. Reported: accuracy relative to sigma_d = 0, for 20
 * log-spaced sigma_d in [0.1, 5.0] by default; results.json, a figure and report.html
 * (noise-results.ts).
 *
 * That is protocol 'fixed-model'. Protocol 'retrain' (noise-retrain.ts) is the reading of the
 * paper's §4.4 that reproduces its numbers (docs/RESULTS.md): a new scaler and classifier per noise
 * level, each level a unit of the experiment runner (`workers`, `shard`, resume; docs/RUNNER.md).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file';
import { mnistDataset } from '../data/datasets';
import type { ImageToPointsOptions } from '../data/image';
import { selectBackend, type BackendName } from '../ml/backend';
import { accuracy } from '../ml/metrics/classification';
import { MlpClassifier } from '../ml/models/mlp';
import { RobustScaler, type RobustScalerJSON } from '../features/scaler';
import { PAPER_CLASSIFY, runClassify, TINY_CLASSIFY } from './classify';
import { recordedCommand } from './command-line';
import { IMAGE_OPTIONS, makeSoap, sampleSpectra, type SoapParams } from './common';
import { noiseRetrainExperiment, noiseRetrainSpec } from './noise-retrain';
import {
  checkNoiseClaims,
  NOISE_PROTOCOLS,
  noiseSigmas,
  writeNoiseFigures,
  writeNoiseReport,
  type NoisePoint,
  type NoiseProtocol,
  type NoiseResults,
} from './noise-results';
import { runToSummary, type ExperimentRunOptions } from './runner';
import { simdPath } from '../soap/simd-path';

export {
  checkNoiseClaims,
  interpolateRelative,
  logSpace,
  NOISE_PROTOCOLS,
  noiseSigmas,
  PAPER_SIGMAS,
  protocolSummary,
  writeNoiseFigures,
  writeNoiseReport,
  type NoisePoint,
  type NoiseProtocol,
  type NoiseResults,
  type NoiseRetrainSettings,
} from './noise-results';
export {
  noiseRetrainExperiment,
  noiseRetrainSpec,
  retrainAndScore,
  splitImages,
  type NoiseRetrainSpec,
  type RetrainOptions,
  type RetrainScore,
} from './noise-retrain';

/** Options of {@link runNoiseExperiment}: the run (out, and for protocol retrain workers, shard, summary, progress) and the protocol. */
export interface NoiseExperimentOptions extends ExperimentRunOptions {
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
  noFigures?: boolean;
}

function resolveModelDir(dir: string): string {
  if (existsSync(path.join(dir, 'soapix.json'))) return dir;
  if (existsSync(path.join(dir, 'model', 'soapix.json'))) return path.join(dir, 'model');
  throw new Error(
    `--model ${dir}: no soapix.json there or in ${path.join(dir, 'model')} (give a saved Experiment-1 model folder)`,
  );
}

interface SavedSoap extends SoapParams {
  image?: ImageToPointsOptions;
}

/** Runs Experiment 3 (protocol retrain: this shard's share of its levels) and writes its outputs to `options.out`; null when levels are missing or `summary` is false. */
export async function runNoiseExperiment(options: NoiseExperimentOptions): Promise<NoiseResults | null> {
  const t0 = performance.now();
  const tiny = options.tiny ?? false;
  const log = options.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const seed = options.seed ?? 0;
  const sigmas = noiseSigmas(options);
  const testImages = options.testImages ?? (tiny ? 200 : 10000);
  const testSamples = options.testSamples ?? testImages;
  const protocol = options.protocol ?? 'fixed-model';
  if (!(NOISE_PROTOCOLS as readonly string[]).includes(protocol))
    throw new Error(`unknown protocol '${String(protocol)}'; known: ${NOISE_PROTOCOLS.join(', ')}`);
  if (protocol === 'retrain' && options.model)
    throw new Error(
      '--model is for --protocol fixed-model: --protocol retrain trains a new classifier at every noise level',
    );
  if (protocol !== 'retrain' && options.perImage !== undefined)
    throw new Error('--per-image applies to --protocol retrain only');
  if (protocol !== 'retrain' && ((options.workers ?? 1) !== 1 || options.shard || options.summary === false)) {
    throw new Error(
      'workers, shards and --no-summary apply to --protocol retrain only (fixed-model trains at most one classifier)',
    );
  }
  const out = path.resolve(options.out);
  await mkdir(out, { recursive: true });
  if (protocol === 'retrain') {
    const spec = noiseRetrainSpec({
      tiny,
      seed,
      sigmas,
      testImages,
      perImage: options.perImage,
      epochs: options.epochs,
      patience: options.patience,
      backend: options.backend,
      noFigures: options.noFigures,
    });
    return runToSummary(noiseRetrainExperiment, spec, { ...options, out, log });
  }

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
    if (!info.soap || !info.scaler)
      throw new Error(
        `${modelDir}/soapix.json has no SOAP parameters or scaler (train it with soapix experiment classify)`,
      );
    const soapParams: SoapParams = {
      rCut: info.soap.rCut,
      nMax: info.soap.nMax,
      lMax: info.soap.lMax,
      sigma: info.soap.sigma,
    };
    const imageOpts: ImageToPointsOptions = info.soap.image ?? IMAGE_OPTIONS;
    const soap = makeSoap(soapParams);
    if (soap.featureCount !== classifier.config.inputDim)
      throw new Error(
        `the model takes ${classifier.config.inputDim} features but its SOAP parameters give ${soap.featureCount}`,
      );
    const scaler = RobustScaler.fromJSON(info.scaler);
    const testSet = mnistDataset('test');
    log(
      `noise: model ${modelDir}; SOAP ${soapParams.rCut}/${soapParams.nMax}/${soapParams.lMax}/${soapParams.sigma}; ${testSamples} spectra from ${testImages} test images; ${sigmas.length} noise levels`,
    );
    const points: NoisePoint[] = [];
    for (const sigma of [0, ...sigmas]) {
      const t = performance.now();
      const image: ImageToPointsOptions =
        sigma > 0 ? { ...imageOpts, displacement: { sigma, seed: seed + 12345 } } : { ...imageOpts };
      // The same plan seed for every sigma: the same images and point indices (noise moves points, never removes them).
      const d = await sampleSpectra(testSet, soap, testSamples, seed + 2, {
        limit: testImages,
        image,
        threads: options.threads,
      });
      scaler.transformInPlace(d.x, d.rows, d.cols);
      const acc = accuracy(d.y, classifier.predictClasses(d.x));
      const base = points.length ? points[0].accuracy : acc;
      points.push({
        sigma,
        accuracy: acc,
        relativeAccuracy: base > 0 ? acc / base : Number.NaN,
        seconds: (performance.now() - t) / 1000,
      });
      log(
        `noise: sigma_d ${sigma.toPrecision(3)}: accuracy ${acc.toFixed(4)} (${(100 * points[points.length - 1].relativeAccuracy).toFixed(1)} % of sigma_d = 0)`,
      );
    }
    const results: NoiseResults = {
      experiment: 'noise',
      command: recordedCommand(),
      simdPath: simdPath(),
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

/** Figures, results.json and the report of protocol fixed-model. */
async function finishNoise(
  out: string,
  results: NoiseResults,
  t0: number,
  noFigures: boolean,
  log: (m: string) => void,
): Promise<NoiseResults> {
  if (!noFigures) results.figures = await writeNoiseFigures(out, results);
  results.seconds = (performance.now() - t0) / 1000;
  results.finishedAt = new Date().toISOString();
  await writeFileAtomic(path.join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  if (!noFigures) await writeNoiseReport(out, results);
  log(`noise: done in ${results.seconds.toFixed(1)} s; ${path.join(out, 'results.json')}`);
  return results;
}
