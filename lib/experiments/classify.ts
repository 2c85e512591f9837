/**
 * Experiment 1b (docs/PAPER-FACTS.md §3-§4): pixel-wise classification of MNIST at given SOAP parameters.
 *
 * T training spectra from the 60,000 training images (Algorithm 3; label = the image's digit),
 * split 80:20 into train / validation; test spectra from the 10,000 test images. A RobustScaler
 * is fitted on train and applied to validation and test. The MLP (Adam 1e-3, batch 128, dropout
 * 0.1) trains with early stopping on the validation loss; the test set gives accuracy, weighted
 * precision / recall / F1 and the row-normalised confusion matrix.
 *
 * Writes into `out`: results.json, model/ (model.json, weights.bin, soapix.json with the SOAP
 * parameters and the scaler), confusion.{svg,png}, training.{svg,png}, prediction-maps.{svg,png},
 * report.html.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';

import { writeFileAtomic } from '../util/atomic-file';
import type { Dataset } from '../data/dataset';
import { mnistDataset } from '../data/datasets';
import { renderFigure } from '../report/figures';
import { writeReport, type ReportSection } from '../report/html';
import { trainValSplit } from '../features/sampling';
import type { BackendName, BackendSelection } from '../ml/backend';
import type { ClassificationMetrics } from '../ml/metrics/classification';
import type { TrainHistory } from '../ml/train/types';
import {
  IMAGE_OPTIONS,
  PAPER_OPTIMUM,
  classHistogram,
  classMapSpec,
  confusionSpec,
  firstIndexOfLabel,
  fitScaler,
  makeSoap,
  predictClassMap,
  sampleSpectra,
  secondsSince,
  takeRows,
  trainingCurvesSpec,
  type ClassMapPanel,
  type SoapParams,
} from './common';
import { mirrorImage, rotateImage } from '../data/transform';
import { simdPath } from '../soap/simd-path';

/** Options of {@link runClassify}. */
export interface ClassifyOptions extends SoapParams {
  out: string;
  trainSamples: number;
  testSamples: number;
  epochs: number;
  patience: number;
  seed: number;
  hidden: number[];
  backend: 'auto' | BackendName;
  batchSize?: number;
  /** Write figures, report, prediction maps and the model (default true; hparam-search trials skip them). */
  artifacts?: boolean;
  /** OpenMP threads of featurization (0: all cores). */
  threads?: number;
  /** Log lines (default: nothing). */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Data sets (default MNIST train / test). */
  trainSet?: Dataset;
  testSet?: Dataset;
}

/** The data and training settings of a classify run (shared by hparam-search trials and repeated runs). */
export type ClassifyTraining = Pick<
  ClassifyOptions,
  'trainSamples' | 'testSamples' | 'epochs' | 'patience' | 'seed' | 'hidden' | 'backend'
>;

/** The settings of `--tiny` (CI): small sizes and parameters, finishes in seconds. */
export const TINY_CLASSIFY = Object.freeze({
  trainSamples: 2000,
  testSamples: 500,
  epochs: 2,
  patience: 20,
  rCut: 20,
  nMax: 4,
  lMax: 4,
  sigma: 2,
  hidden: [64, 32],
});

/** The paper's full protocol (docs/PAPER-FACTS.md §3-§4). */
export const PAPER_CLASSIFY = Object.freeze({
  trainSamples: 120000,
  testSamples: 10000,
  epochs: 300,
  patience: 20,
  ...PAPER_OPTIMUM,
  hidden: [512, 256, 128],
});

/** results.json of a classify run. */
export interface ClassifyResults {
  experiment: 'classify';
  soap: SoapParams & { featureCount: number; rbf: 'gto' };
  data: { trainSamples: number; trainRows: number; valRows: number; testRows: number; seed: number };
  mlp: { hidden: number[]; dropout: number; learningRate: number; batchSize: number; parameters: number };
  training: {
    maxEpochs: number;
    epochsRun: number;
    patience: number;
    bestEpoch: number | null;
    stoppedEarly: boolean;
    bestValAccuracy: number | null;
    bestValLoss: number | null;
    seconds: number;
    samplesPerSecond: number;
    history: TrainHistory['epochs'];
  };
  backend: { name: string; summary: string; threads: number; tfjsVersion: string };
  /** The native engine's SIMD kernel path that computed the SOAP features (docs/DETERMINISM.md). */
  simdPath: string;
  test: {
    accuracy: number;
    precision: number;
    recall: number;
    f1: number;
    n: number;
    confusion: number[][];
    confusionNormalized: number[][];
    perClass: ClassificationMetrics['perClass'];
  };
  predictionMaps?: { name: string; label: number; majority: number; counts: number[] }[];
  seconds: { featurize: number; train: number; total: number };
  files: string[];
}

/**
 * Test digits whose prediction maps are drawn: the first test image of each of a few digits, and
 * the first 7 rotated by 120 degrees and mirrored (the paper's Figure 13).
 */
function mapImages(ds: Dataset): { name: string; label: number; pixels: Uint8Array; rows: number; cols: number }[] {
  const out: { name: string; label: number; pixels: Uint8Array; rows: number; cols: number }[] = [];
  for (const d of [0, 1, 3, 6, 9, 7]) {
    const i = firstIndexOfLabel(ds, d);
    if (i < 0) continue;
    const img = ds.get(i);
    out.push({ name: `test #${i}: ${d}`, label: d, pixels: img.pixels, rows: img.rows, cols: img.cols });
    if (d === 7) {
      const rm = mirrorImage(rotateImage(img, 120));
      out.push({ name: `test #${i}: 7 rotated 120° + mirrored`, label: 7, ...rm });
    }
  }
  return out;
}

/** Runs experiment 1b; resolves with the results (also written to out/results.json). */
export async function runClassify(o: ClassifyOptions): Promise<ClassifyResults> {
  const t0 = process.hrtime.bigint();
  const log = o.log ?? (() => undefined);
  const artifacts = o.artifacts ?? true;
  const out = path.resolve(o.out);
  await mkdir(out, { recursive: true });
  const soap = makeSoap(o);
  const soapInfo = {
    rCut: o.rCut,
    nMax: o.nMax,
    lMax: o.lMax,
    sigma: o.sigma,
    featureCount: soap.featureCount,
    rbf: 'gto' as const,
  };

  // Data (Algorithm 3).
  const trainSet = o.trainSet ?? mnistDataset('train');
  const testSet = o.testSet ?? mnistDataset('test');
  log(
    `SOAP rCut ${o.rCut} nMax ${o.nMax} lMax ${o.lMax} sigma ${o.sigma} -> ${soap.featureCount} features; ` +
      `sampling ${o.trainSamples} train/val spectra from ${trainSet.length} images, ${o.testSamples} test spectra from ${testSet.length}`,
  );
  const tf0 = process.hrtime.bigint();
  const all = await sampleSpectra(trainSet, soap, o.trainSamples, o.seed, { threads: o.threads, signal: o.signal });
  const test = await sampleSpectra(testSet, soap, o.testSamples, o.seed + 1, { threads: o.threads, signal: o.signal });
  const split = trainValSplit(all.rows, 0.8, o.seed);
  const train = takeRows(all, split.train);
  const val = takeRows(all, split.val);
  const scaler = fitScaler(train, val, test);
  const featurizeSeconds = secondsSince(tf0);
  log(`featurized in ${featurizeSeconds.toFixed(1)} s: train ${train.rows}, val ${val.rows}, test ${test.rows} rows`);

  // Model (tfjs loaded only here).
  const ml = await import('../ml/index.js');
  let backend: BackendSelection;
  try {
    backend = await ml.selectBackend({
      ...(o.backend !== 'auto' ? { prefer: o.backend, strict: true } : {}),
      log: (m) => log(m.replace(/^soapix: /, '')),
    });
  } catch (err) {
    throw new Error((err as Error).message);
  }
  const batchSize = o.batchSize ?? 128;
  const clf = ml.MlpClassifier.create({ inputDim: soap.featureCount, hidden: o.hidden, classes: 10, seed: o.seed });
  const tt0 = process.hrtime.bigint();
  const history = await clf.train(train, {
    epochs: o.epochs,
    batchSize,
    validation: val,
    earlyStopping: { patience: o.patience, monitor: 'valLoss', restoreBestWeights: true },
    seed: o.seed,
    signal: o.signal,
    onEpoch: (e) => {
      log(
        `epoch ${e.epoch}/${o.epochs}: loss ${e.loss.toFixed(4)} acc ${e.accuracy.toFixed(4)} ` +
          `val_loss ${e.valLoss?.toFixed(4)} val_acc ${e.valAccuracy?.toFixed(4)} (${e.seconds.toFixed(1)} s, ${Math.round(e.samplesPerSecond)} samples/s)`,
      );
    },
  });
  const trainSeconds = secondsSince(tt0);
  const pred = clf.predictClasses(test.x);
  const m = ml.classificationMetrics(test.y, pred, 10);
  const best = history.bestEpoch !== null ? history.epochs[history.bestEpoch - 1] : undefined;
  const trainedSamples = history.epochs.reduce((s) => s + train.rows, 0);

  const results: ClassifyResults = {
    experiment: 'classify',
    soap: soapInfo,
    data: { trainSamples: o.trainSamples, trainRows: train.rows, valRows: val.rows, testRows: test.rows, seed: o.seed },
    mlp: {
      hidden: clf.config.hidden,
      dropout: clf.config.dropout,
      learningRate: clf.config.learningRate,
      batchSize,
      parameters: clf.parameterCount,
    },
    training: {
      maxEpochs: o.epochs,
      epochsRun: history.epochs.length,
      patience: o.patience,
      bestEpoch: history.bestEpoch,
      stoppedEarly: history.stoppedEarly,
      bestValAccuracy: best?.valAccuracy ?? null,
      bestValLoss: best?.valLoss ?? null,
      seconds: history.seconds,
      samplesPerSecond: history.seconds > 0 ? trainedSamples / history.seconds : 0,
      history: history.epochs,
    },
    backend: {
      name: backend.name,
      summary: backend.summary,
      threads: backend.threads,
      tfjsVersion: backend.tfjsVersion,
    },
    simdPath: simdPath(),
    test: {
      accuracy: m.accuracy,
      precision: m.precision,
      recall: m.recall,
      f1: m.f1,
      n: m.n,
      confusion: m.confusion,
      confusionNormalized: m.confusionNormalized,
      perClass: m.perClass,
    },
    seconds: { featurize: featurizeSeconds, train: trainSeconds, total: 0 },
    files: ['results.json'],
  };

  if (artifacts) {
    await clf.save(path.join(out, 'model'), {
      soap: { ...soapInfo, species: ['H'], image: IMAGE_OPTIONS },
      scaler: scaler.toJSON(),
      extra: {
        experiment: 'classify',
        test: { accuracy: m.accuracy, precision: m.precision, recall: m.recall, f1: m.f1 },
        backend: backend.name,
      },
    });
    results.files.push('model/');

    // Per-pixel prediction maps.
    const panels: ClassMapPanel[] = [];
    results.predictionMaps = [];
    for (const img of mapImages(testSet)) {
      const map = predictClassMap(clf, scaler, soap, img);
      const h = classHistogram(map, 10);
      panels.push({ name: `${img.name} → ${h.majority}`, rows: img.rows, cols: img.cols, map });
      results.predictionMaps.push({ name: img.name, label: img.label, majority: h.majority, counts: h.counts });
    }
    const figs = [
      await renderFigure(
        confusionSpec(
          m.confusionNormalized,
          `Row-normalised confusion matrix (test accuracy ${m.accuracy.toFixed(4)})`,
        ),
        path.join(out, 'confusion'),
      ),
      await renderFigure(
        trainingCurvesSpec(history.epochs, `Training (${backend.name}; best epoch ${history.bestEpoch ?? '-'})`),
        path.join(out, 'training'),
      ),
      await renderFigure(
        classMapSpec(panels, 'Per-pixel predictions of test digits (colour = predicted class)'),
        path.join(out, 'prediction-maps'),
      ),
    ];
    for (const f of figs) results.files.push(path.basename(f.svg), path.basename(f.png));

    const sections: ReportSection[] = [
      {
        heading: 'Setup',
        text:
          `SOAP (gto) r_cut ${o.rCut}, n_max ${o.nMax}, l_max ${o.lMax}, sigma ${o.sigma}: ${soap.featureCount} features per spectrum.\n` +
          `${o.trainSamples} spectra sampled from the MNIST training images (Algorithm 3), split 80:20 into ${train.rows} train / ${val.rows} validation; ` +
          `${test.rows} test spectra from the test images; RobustScaler fitted on train.\n` +
          `MLP ${soap.featureCount}-${clf.config.hidden.join('-')}-10, ReLU, dropout ${clf.config.dropout}, Adam ${clf.config.learningRate}, batch ${batchSize}, ` +
          `at most ${o.epochs} epochs, early stopping on validation loss with patience ${o.patience}: ran ${history.epochs.length} epochs, best ${history.bestEpoch ?? '-'}` +
          `${history.stoppedEarly ? ' (stopped early)' : ''}.\nBackend: ${backend.summary}. Seed ${o.seed}.`,
      },
      {
        heading: 'Test metrics',
        table: {
          columns: ['metric', 'value', 'paper (docs/PAPER-FACTS.md §4)'],
          rows: [
            ['accuracy', m.accuracy, 0.6863],
            ['precision (weighted)', m.precision, 0.6821],
            ['recall (weighted)', m.recall, 0.6863],
            ['F1 (weighted)', m.f1, 0.6832],
            ['best validation accuracy', best?.valAccuracy ?? NaN, 0.6844],
          ],
        },
      },
      { heading: 'Confusion matrix', figures: ['confusion.png'] },
      {
        heading: 'Per-class metrics',
        table: {
          columns: ['class', 'precision', 'recall', 'F1', 'support'],
          rows: m.perClass.precision.map((p, k) => [
            String(k),
            p,
            m.perClass.recall[k]!,
            m.perClass.f1[k]!,
            m.perClass.support[k]!,
          ]),
        },
      },
      { heading: 'Training curves', figures: ['training.png'] },
      {
        heading: 'Per-pixel prediction maps',
        text: 'Every point of each image is a SOAP centre; each pixel is coloured by the class the classifier predicts from its spectrum (background black). The last panel is the test 7 rotated by 120 degrees (bilinear) and mirrored.',
        figures: ['prediction-maps.png'],
        table: {
          columns: ['image', 'majority vote', ...Array.from({ length: 10 }, (_, k) => `#${k}`)],
          rows: results.predictionMaps.map((p) => [p.name, p.majority, ...p.counts]),
        },
      },
    ];
    await writeReport(out, { title: 'soapix experiment classify', sections });
    results.files.push('report.html');
  }
  clf.dispose();
  results.seconds.total = secondsSince(t0);
  await writeFileAtomic(path.join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  return results;
}
