/**
 * Experiment 2 of the paper (docs/PAPER-FACTS.md §5): compression of SOAP spectra.
 *
 * The sampled data set at the paper's optimum (r_cut 63, n_max 7, l_max 10, sigma 3: 308
 * features; Algorithm 3 over the MNIST training images; 80:20 split; RobustScaler fitted on the
 * training part) is compressed to h_e dimensions by PCA, a linear autoencoder and deep
 * autoencoders (h_m in {2, 4, 10}). For every h_e and method: the reconstruction MSE on the
 * validation split (in scaled units), and the test accuracy of the Experiment-1 classifier
 * architecture retrained on the h_e-dimensional codes, relative to the same classifier trained on
 * the full features. Writes results.json, figures (MSE vs h_e, accuracy vs h_e, the correlation
 * matrix of the SOAP components) and report.html, with the paper's claims checked point by point
 * (compression-report.ts). Every trained autoencoder is saved as a model folder,
 * models/<method>-he<h_e>/ (see {@link Autoencoder.save}), with the SOAP parameters and the scaler.
 *
 * On the runner (runner.ts, docs/RUNNER.md): one unit per h_e (every method at that h_e), file
 * units/he-<h_e>.json. Each process featurizes the data and trains the full-feature baseline once
 * (its `setup`), then its share of the h_e grid.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file';
import { mnistDataset } from '../data/datasets';
import { Autoencoder } from '../ml/models/autoencoder';
import type { FitCheckpoint } from '../ml/train/checkpoint';
import { selectBackend } from '../ml/backend';
import { MlpClassifier } from '../ml/models/mlp';
import type { LabeledData } from '../ml/train/types';
import { Pca } from '../ml/pca';
import { trainValSplit } from '../features/sampling';
import type { RobustScaler } from '../features/scaler';
import { recordedCommand } from './command-line';
import {
  checkpointedShare,
  fitScaler,
  makeSoap,
  sampleSpectra,
  SETTING_FLAGS,
  takeRows,
  trainingCheckpoint,
} from './common';
import {
  checkCompressionClaims,
  writeCompressionFigures,
  writeCompressionReport,
  type CompressionPoint,
  type CompressionResults,
} from './compression-report';
import { defineExperiment, type UnitContext } from './definition';
import { runToSummary } from './runner';
import { simdPath } from '../soap/simd-path';
import {
  compressionSpec,
  type CompressionExperimentOptions,
  type CompressionSpec,
  type CompressionUnitResult,
} from './compression-spec';

export { checkCompressionClaims, type CompressionPoint, type CompressionResults } from './compression-report';

export {
  compressionSpec,
  TINY_SOAP,
  type CompressionExperimentOptions,
  type CompressionMethod,
  type CompressionSpec,
  type CompressionUnitResult,
} from './compression-spec';

/** Pearson correlation matrix (cols x cols, row-major) of row-major data; NaN for constant columns. */
export function correlationMatrix(x: Float32Array, rows: number, cols: number): Float64Array {
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) mean[j] += x[r * cols + j];
  for (let j = 0; j < cols; j++) mean[j] /= rows;
  const cov = new Float64Array(cols * cols);
  const c = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) c[j] = x[r * cols + j] - mean[j];
    for (let i = 0; i < cols; i++) {
      const ci = c[i];
      if (ci === 0) continue;
      for (let j = i; j < cols; j++) cov[i * cols + j] += ci * c[j];
    }
  }
  const out = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) {
      const den = Math.sqrt(cov[i * cols + i] * cov[j * cols + j]);
      const v = den > 0 ? cov[i * cols + j] / den : Number.NaN;
      out[i * cols + j] = v;
      out[j * cols + i] = v;
    }
  }
  return out;
}

/** Folder of the saved autoencoder `method` (e.g. 'linear-ae', 'deep-ae-hm2') at h_e under `out`. */
export const compressionModelDir = (out: string, method: string, he: number): string =>
  path.join(out, 'models', `${method}-he${he}`);

/** The correlation matrix of the scaled training spectra, written by the process that trains the grid's first h_e. */
const correlationFile = (out: string): string => path.join(out, 'correlation.json');

/** The scaled train / validation / test spectra (deterministic for the parameters). */
async function prepareCompressionData(
  spec: CompressionSpec,
  threads: number,
  log: (m: string) => void,
): Promise<{ train: LabeledData; val: LabeledData; test: LabeledData; scaler: RobustScaler }> {
  const t0 = performance.now();
  const soapObj = makeSoap(spec.soap);
  const all = await sampleSpectra(mnistDataset('train'), soapObj, spec.trainSamples, spec.seed, { threads });
  const split = trainValSplit(all.rows, 0.8, spec.seed);
  const train = takeRows(all, split.train);
  const val = takeRows(all, split.val);
  const test = await sampleSpectra(mnistDataset('test'), soapObj, spec.testSamples, spec.seed + 1, { threads });
  const scaler = fitScaler(train, val, test);
  log(`compression: features ready (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return { train, val, test, scaler };
}

/** Trains the Experiment-1 classifier on `tr` (early stopping on `va`) and tests it on `te`. */
async function classifierAccuracy(
  spec: CompressionSpec,
  tr: LabeledData,
  va: LabeledData,
  te: LabeledData,
  what: string,
  log: (m: string) => void,
  signal?: AbortSignal,
) {
  const t = performance.now();
  const clf = MlpClassifier.create({ inputDim: tr.cols, seed: spec.seed });
  try {
    const hist = await clf.train(tr, {
      epochs: spec.classifierEpochs,
      validation: va,
      earlyStopping: { patience: spec.classifierPatience },
      seed: spec.seed,
      signal,
    });
    const acc = clf.evaluate(te).accuracy;
    log(`compression: ${what}: test accuracy ${acc.toFixed(4)} (${hist.epochs.length} epochs, best ${hist.bestEpoch})`);
    return {
      accuracy: acc,
      epochs: hist.epochs.length,
      bestEpoch: hist.bestEpoch,
      seconds: (performance.now() - t) / 1000,
    };
  } finally {
    clf.dispose();
  }
}

/** What every h_e of one process shares: the data, the baseline, the PCA fit. */
interface CompressionState {
  /** The backend's name ('wasm', ...) and its description. */
  backendName: string;
  backend: string;
  features: number;
  train: LabeledData;
  val: LabeledData;
  test: LabeledData;
  scaler: RobustScaler;
  baseline: CompressionResults['baseline'];
  pca: Pca | null;
  cumulative: number[];
}

async function setupCompression(spec: CompressionSpec, ctx: UnitContext): Promise<CompressionState> {
  const { log } = ctx;
  const features = makeSoap(spec.soap).featureCount;
  const backend = await selectBackend({ prefer: spec.backend, strict: spec.backend !== undefined, log });
  const s = spec.soap;
  log(
    `compression: SOAP ${s.rCut}/${s.nMax}/${s.lMax}/${s.sigma} (${features} features), ${spec.trainSamples} train/val + ${spec.testSamples} test spectra`,
  );
  const { train, val, test, scaler } = await prepareCompressionData(spec, ctx.threads, log);
  const b = await classifierAccuracy(spec, train, val, test, `baseline (${features} features)`, log, ctx.signal);
  const baseline = {
    accuracy: b.accuracy,
    classifierEpochs: b.epochs,
    classifierBestEpoch: b.bestEpoch,
    seconds: b.seconds,
  };
  const pca = spec.methods.includes('pca') ? Pca.fit(train.x, train.rows, train.cols) : null;
  const cumulative = pca
    ? pca.explainedVarianceRatio().reduce<number[]>((acc, v) => [...acc, (acc.at(-1) ?? 0) + v], [])
    : [];
  return {
    backendName: backend.name,
    backend: backend.summary,
    features,
    train,
    val,
    test,
    scaler,
    baseline,
    pca,
    cumulative,
  };
}

/** The autoencoders a unit trains, in order; `method` names their checkpoints (`<method>-he<h_e>`). */
function autoencodersOf(spec: CompressionSpec): { method: string; kind: 'linear' | 'deep'; hm?: number }[] {
  const aes: { method: string; kind: 'linear' | 'deep'; hm?: number }[] = [];
  if (spec.methods.includes('linear-ae')) aes.push({ method: 'linear-ae', kind: 'linear' });
  if (spec.methods.includes('deep-ae'))
    for (const m of spec.hm) aes.push({ method: `deep-ae-hm${m}`, kind: 'deep', hm: m });
  return aes;
}

/** Every method at one h_e; saves each autoencoder's model folder. */
async function compressionUnit(
  h: number,
  spec: CompressionSpec,
  st: CompressionState,
  ctx: UnitContext,
): Promise<CompressionUnitResult> {
  const { log } = ctx;
  const { train, val, test, baseline, pca, features } = st;
  if (!spec.noFigures && h === spec.he[0] && !existsSync(correlationFile(ctx.out))) {
    const corr = correlationMatrix(train.x, train.rows, train.cols);
    await writeFileAtomic(
      correlationFile(ctx.out),
      JSON.stringify({ features, values: Array.from(corr, (v) => (Number.isFinite(v) ? v : null)) }) + '\n',
    );
  }
  const withX = (d: LabeledData, x: Float32Array): LabeledData => ({ x, y: d.y, rows: d.rows, cols: h });
  const points: CompressionPoint[] = [];
  if (pca) {
    const t = performance.now();
    const valMse = pca.reconstructionMse(val.x, val.rows, h);
    const c = await classifierAccuracy(
      spec,
      withX(train, pca.transform(train.x, train.rows, h)),
      withX(val, pca.transform(val.x, val.rows, h)),
      withX(test, pca.transform(test.x, test.rows, h)),
      `PCA h_e ${h} (val MSE ${valMse.toPrecision(4)})`,
      log,
      ctx.signal,
    );
    points.push({
      method: 'pca',
      he: h,
      valMse,
      accuracy: c.accuracy,
      relativeAccuracy: c.accuracy / baseline.accuracy,
      classifierEpochs: c.epochs,
      classifierBestEpoch: c.bestEpoch,
      seconds: (performance.now() - t) / 1000,
    });
  }
  const aes = autoencodersOf(spec);
  // Each autoencoder's state, kept until the unit's file is about to be written: a rerun after an
  // interruption continues the unfinished one and takes the finished ones' results at once.
  const checkpoints: FitCheckpoint[] = [];
  for (const a of aes) {
    ctx.signal.throwIfAborted();
    const checkpoint = trainingCheckpoint(ctx.out, `${a.method}-he${h}`, spec.checkpointMinutes);
    if (checkpoint) checkpoints.push(checkpoint);
    const ae = Autoencoder.create({
      inputDim: features,
      codeDim: h,
      kind: a.kind,
      hiddenMultiplier: a.hm,
      learningRate: spec.learningRate,
      seed: spec.seed,
    });
    try {
      const hist = await ae.train(train, {
        epochs: spec.epochs,
        batchSize: spec.batchSize,
        validation: val,
        earlyStopping: { patience: spec.patience },
        ...(spec.lrPatience > 0
          ? {
              reduceLrOnPlateau: {
                patience: spec.lrPatience,
                factor: spec.lrFactor,
                minLearningRate: spec.minLearningRate,
              },
            }
          : {}),
        seed: spec.seed,
        signal: ctx.signal,
        ...(checkpoint ? { checkpoint } : {}),
        onEpoch: (e) => {
          if (e.epoch % 25 === 0)
            log(
              `compression: ${a.method} h_e ${h}: epoch ${e.epoch}, val MSE ${e.valLoss?.toPrecision(4)}, learning rate ${e.learningRate ?? spec.learningRate}`,
            );
        },
      });
      const tTrained = performance.now();
      const valMse = ae.reconstructionMse(val);
      const pcaMse = points.find((p) => p.method === 'pca')?.valMse;
      const pcaRatio = pcaMse !== undefined ? `, ${(valMse / pcaMse).toFixed(4)} x PCA` : '';
      log(
        `compression: ${a.method} h_e ${h}: val MSE ${valMse.toPrecision(4)}${pcaRatio} (${hist.epochs.length} epochs, best ${hist.bestEpoch}, final learning rate ${hist.finalLearningRate}, ${hist.seconds.toFixed(1)} s)`,
      );
      // Saved before the unit file, so a finished unit always has its models.
      await ae.save(compressionModelDir(ctx.out, a.method, h), {
        soap: spec.soap,
        scaler: st.scaler.toJSON(),
        extra: {
          experiment: 'compression',
          method: a.method,
          he: h,
          valMse,
          epochs: hist.epochs.length,
          bestEpoch: hist.bestEpoch,
          stoppedEarly: hist.stoppedEarly,
          finalLearningRate: hist.finalLearningRate,
          backend: st.backendName,
          trainRows: train.rows,
          valRows: val.rows,
        },
      });
      const c = await classifierAccuracy(
        spec,
        withX(train, ae.encode(train.x)),
        withX(val, ae.encode(val.x)),
        withX(test, ae.encode(test.x)),
        `${a.method} h_e ${h}`,
        log,
        ctx.signal,
      );
      points.push({
        method: a.method,
        he: h,
        valMse,
        accuracy: c.accuracy,
        relativeAccuracy: c.accuracy / baseline.accuracy,
        aeEpochs: hist.epochs.length,
        aeBestEpoch: hist.bestEpoch,
        aeStoppedEarly: hist.stoppedEarly,
        ...(spec.lrPatience > 0 ? { aeFinalLearningRate: hist.finalLearningRate } : {}),
        classifierEpochs: c.epochs,
        classifierBestEpoch: c.bestEpoch,
        // Training time over every process that ran it (a resumed training counts its earlier part).
        seconds: hist.seconds + (performance.now() - tTrained) / 1000,
      });
    } finally {
      ae.dispose();
    }
  }
  for (const c of checkpoints) await c.remove();
  return {
    he: h,
    features,
    trainRows: train.rows,
    valRows: val.rows,
    testRows: test.rows,
    backend: st.backend,
    baseline,
    pcaCumulative: pca ? st.cumulative[h - 1]! : null,
    points,
  };
}

/** Experiment 2 on the runner: one unit per h_e. */
export const compressionExperiment = defineExperiment({
  name: 'compression',
  module: __filename,
  unitNoun: 'h_e grid points',
  settingNames: {
    ...SETTING_FLAGS,
    hm: '--hm',
    methods: '--methods',
    classifierEpochs: '--classifier-epochs',
    classifierPatience: '--classifier-patience',
    learningRate: 'autoencoder learning rate',
    batchSize: 'autoencoder batch size',
  },
  settings: (s: CompressionSpec) => {
    const { tiny: _t, he: _he, backend: _b, noFigures: _f, checkpointMinutes: _c, soap, ...rest } = s;
    return { ...soap, ...rest };
  },
  units: (s: CompressionSpec) => s.he.map((he) => ({ he })),
  unitId: (u: { he: number }) => `he-${u.he}`,
  resumedShare: (u: { he: number }, s: CompressionSpec, out: string) =>
    checkpointedShare(
      out,
      autoencodersOf(s).map((a) => ({ name: `${a.method}-he${u.he}`, epochs: s.epochs })),
    ),
  setup: setupCompression,
  run: (u: { he: number }, env) => compressionUnit(u.he, env.spec, env.state, env),
  merge: mergeCompression,
  report: async (r: CompressionResults, s: CompressionSpec, ctx) => {
    if (!s.noFigures) await writeCompressionReport(ctx.out, r);
    ctx.log(`compression: done in ${r.seconds.toFixed(1)} s; ${path.join(ctx.out, 'results.json')}`);
  },
});

/** Every h_e's points into results.json (and the figures). */
async function mergeCompression(
  units: readonly { result: CompressionUnitResult }[],
  spec: CompressionSpec,
  ctx: { out: string; threads: number; log: (m: string) => void; startedAt: number },
): Promise<CompressionResults> {
  const files = units.map((u) => u.result);
  const first = files[0]!;
  for (const f of files) {
    if (f.baseline.accuracy !== first.baseline.accuracy)
      ctx.log(
        `compression: warning: baseline accuracy differs between units (h_e ${first.he}: ${first.baseline.accuracy}, h_e ${f.he}: ${f.baseline.accuracy})`,
      );
  }
  const points = files.flatMap((f) => f.points);
  const { tiny, he, hm, methods, epochs, patience, classifierEpochs, classifierPatience, learningRate, batchSize } =
    spec;
  const { lrPatience, lrFactor, minLearningRate } = spec;
  const results: CompressionResults = {
    experiment: 'compression',
    command: recordedCommand(),
    simdPath: simdPath(),
    soap: spec.soap,
    features: first.features,
    trainRows: first.trainRows,
    valRows: first.valRows,
    testRows: first.testRows,
    seed: spec.seed,
    backend: first.backend,
    settings: {
      tiny,
      he,
      hm,
      methods,
      epochs,
      patience,
      classifierEpochs,
      classifierPatience,
      learningRate,
      ...(lrPatience > 0 ? { lrPatience, lrFactor, minLearningRate } : {}),
      batchSize,
      classifier: 'MlpClassifier default widths 512-256-128, dropout 0.1, Adam 1e-3, batch 128',
    },
    baseline: first.baseline,
    pcaCumulativeVariance: methods.includes('pca')
      ? files.map((f) => ({ he: f.he, cumulative: f.pcaCumulative as number }))
      : [],
    points,
    claims: checkCompressionClaims(points),
    seconds: 0,
    figures: [],
    finishedAt: '',
  };
  if (!spec.noFigures) {
    let corr: Float64Array;
    if (existsSync(correlationFile(ctx.out))) {
      corr = Float64Array.from(
        (JSON.parse(await readFile(correlationFile(ctx.out), 'utf8')) as { values: (number | null)[] }).values,
        (v) => (v === null ? Number.NaN : v),
      );
    } else {
      const d = await prepareCompressionData(spec, ctx.threads, ctx.log);
      corr = correlationMatrix(d.train.x, d.train.rows, d.train.cols);
    }
    results.figures = await writeCompressionFigures(ctx.out, results, corr, first.features);
  }
  results.seconds = (performance.now() - ctx.startedAt) / 1000;
  results.finishedAt = new Date().toISOString();
  return results;
}

/** Runs Experiment 2 (or this shard's share of its h_e grid) into `options.out`; the results when every h_e is done, else null. */
export async function runCompressionExperiment(
  options: CompressionExperimentOptions,
): Promise<CompressionResults | null> {
  return runToSummary(compressionExperiment, compressionSpec(options), {
    ...options,
    log: options.log ?? ((m: string) => void process.stderr.write(m + '\n')),
  });
}
