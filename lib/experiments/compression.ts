/**
 * Experiment 2 of the paper (PAPER-FACTS §5): compression of SOAP spectra.
 *
 * The sampled data set at the paper's optimum (r_cut 63, n_max 7, l_max 10, sigma 3: 308
 * features; Algorithm 3 over the MNIST training images; 80:20 split; RobustScaler fitted on the
 * training part) is compressed to h_e dimensions by PCA, a linear autoencoder and deep
 * autoencoders (h_m in {2, 4, 10}). For every h_e and method: the reconstruction MSE on the
 * validation split (in scaled units), and the test accuracy of the Experiment-1 classifier
 * architecture retrained on the h_e-dimensional codes, relative to the same classifier trained on
 * the full features. Writes results.json, figures (MSE vs h_e, accuracy vs h_e, the correlation
 * matrix of the SOAP components) and report.html, with the paper's claims checked point by point.
 * Every trained autoencoder is saved as a model folder, models/<method>-he<h_e>/ (see
 * {@link Autoencoder.save}), with the SOAP parameters and the fitted scaler.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file';
import { mnistDataset } from '../data/datasets';
import { renderFigure } from '../report/figures';
import { Autoencoder } from '../ml/models/autoencoder';
import { selectBackend, type BackendName, type BackendSelection } from '../ml/backend';
import { MlpClassifier } from '../ml/models/mlp';
import type { LabeledData } from '../ml/train/types';
import { Pca } from '../ml/pca';
import { writeReport } from '../report/html';
import { trainValSplit } from '../features/sampling';
import type { RobustScaler } from '../features/scaler';
import { TINY_CLASSIFY } from './classify';
import { fitScaler, makeSoap, PAPER_OPTIMUM, sampleSpectra, takeRows, type SoapParams } from './common';
import { dealRoundRobin, runWorkers } from './workers';

/** Small SOAP parameters of tiny (CI) runs: those of `experiment classify --tiny` (50 features). */
export const TINY_SOAP: SoapParams = Object.freeze({ rCut: TINY_CLASSIFY.rCut, nMax: TINY_CLASSIFY.nMax, lMax: TINY_CLASSIFY.lMax, sigma: TINY_CLASSIFY.sigma });

/** Options of {@link runCompressionExperiment}. */
export interface CompressionExperimentOptions {
  /** Output folder (created). */
  out: string;
  /** T: train+val spectra (80:20). Default 120,000 (tiny: 2,000). */
  trainSamples?: number;
  /** Test spectra from the MNIST test images for the classifier accuracy. Default 10,000 (tiny: 500). */
  testSamples?: number;
  /** Code widths. Default 5,10,20,50,100,150,200,250 (tiny: 5,20). */
  he?: number[];
  /** Deep-AE hidden multipliers. Default 2,4,10 (tiny: 2). */
  hm?: number[];
  /** Maximum autoencoder epochs (early stopping on validation MSE). Default 300 (tiny: 2). */
  epochs?: number;
  /** Autoencoder early-stopping patience. Default 10. */
  patience?: number;
  /** Maximum classifier epochs (early stopping on validation loss). Default 50 (tiny: 1). */
  classifierEpochs?: number;
  /** Classifier early-stopping patience. Default 5. */
  classifierPatience?: number;
  /** Autoencoder learning rate. Default 1e-4 (the paper). */
  learningRate?: number;
  /** Autoencoder batch size. Default 512 (the paper). */
  batchSize?: number;
  /** Master seed. Default 0. */
  seed?: number;
  /** Small, fast settings for CI. */
  tiny?: boolean;
  /** SOAP parameters. Default the paper's optimum (tiny: 10/4/4/2). */
  soap?: SoapParams;
  /** Which methods. Default all. */
  methods?: ('pca' | 'linear-ae' | 'deep-ae')[];
  /** ML backend to prefer. */
  backend?: BackendName;
  /** OpenMP threads of featurization (0: all cores). */
  threads?: number;
  /** Skip the figures and the report (results.json only). */
  noFigures?: boolean;
  /** Progress lines. Default standard error. */
  log?: (message: string) => void;
  /** Parallel worker processes (forks of the CLI), each training a share of the h_e grid. Default 1 (this process). */
  workers?: number;
  /** This machine's share of the h_e grid: grid indices k (h_e ascending) with k mod count = index-1. */
  shard?: { index: number; count: number };
  /** Only these h_e (used by the workers; no merge). */
  only?: number[];
  /** The CLI script to fork for workers (default: dist/cli.js next to this file). */
  cliPath?: string;
  /** Stops the run (and the workers). */
  signal?: AbortSignal;
}

/** One (method, h_e) point. */
export interface CompressionPoint {
  method: string;
  he: number;
  /** Reconstruction MSE on the validation split, scaled units. */
  valMse: number;
  /** Test accuracy of the classifier retrained on the codes. */
  accuracy: number;
  /** accuracy / baseline accuracy. */
  relativeAccuracy: number;
  aeEpochs?: number;
  aeBestEpoch?: number | null;
  aeStoppedEarly?: boolean;
  classifierEpochs: number;
  classifierBestEpoch: number | null;
  seconds: number;
}

/** One of the paper's claims, checked. */
export interface ClaimCheck {
  claim: string;
  /** true / false, or null when the grid or methods do not test it. */
  holds: boolean | null;
  detail: string;
}

export interface CompressionResults {
  experiment: 'compression';
  command: string;
  soap: SoapParams;
  features: number;
  trainRows: number;
  valRows: number;
  testRows: number;
  seed: number;
  backend: string;
  settings: Record<string, unknown>;
  baseline: { accuracy: number; classifierEpochs: number; classifierBestEpoch: number | null; seconds: number };
  pcaCumulativeVariance: { he: number; cumulative: number }[];
  points: CompressionPoint[];
  claims: ClaimCheck[];
  seconds: number;
  figures: string[];
  finishedAt: string;
}

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

const FULL = { trainSamples: 120000, testSamples: 10000, he: [5, 10, 20, 50, 100, 150, 200, 250], hm: [2, 4, 10], epochs: 300, classifierEpochs: 50 };
const TINY = { trainSamples: 2000, testSamples: 500, he: [5, 20], hm: [2], epochs: 2, classifierEpochs: 1 };

/** Checks the paper's Experiment-2 claims (PAPER-FACTS §5) against measured points. */
export function checkCompressionClaims(points: CompressionPoint[]): ClaimCheck[] {
  const by = (m: string, he: number) => points.find((p) => p.method === m && p.he === he);
  const hes = [...new Set(points.map((p) => p.he))].sort((a, b) => a - b);
  const fmt = (v: number) => v.toPrecision(4);
  const claims: ClaimCheck[] = [];
  // 1. PCA = linear AE below 200 (within 10 % of each other), PCA better at 200 and above.
  {
    const below = hes.filter((h) => h < 200 && by('pca', h) && by('linear-ae', h));
    const above = hes.filter((h) => h >= 200 && by('pca', h) && by('linear-ae', h));
    const d1 = below.map((h) => `h_e ${h}: PCA ${fmt(by('pca', h)!.valMse)} vs linear AE ${fmt(by('linear-ae', h)!.valMse)}`);
    const eq = below.every((h) => Math.abs(by('linear-ae', h)!.valMse - by('pca', h)!.valMse) <= 0.1 * by('pca', h)!.valMse);
    claims.push({
      claim: 'PCA and the linear AE reach the same reconstruction MSE for h_e < 200 (within 10 %)',
      holds: below.length ? eq : null,
      detail: below.length ? d1.join('; ') : 'no h_e < 200 with both methods',
    });
    const better = above.every((h) => by('pca', h)!.valMse < by('linear-ae', h)!.valMse);
    claims.push({
      claim: 'PCA reconstructs better than the linear AE for h_e >= 200',
      holds: above.length ? better : null,
      detail: above.length ? above.map((h) => `h_e ${h}: PCA ${fmt(by('pca', h)!.valMse)} vs linear AE ${fmt(by('linear-ae', h)!.valMse)}`).join('; ') : 'no h_e >= 200 in the grid',
    });
  }
  // 2. Deep AE better than PCA for h_e < 50.
  {
    const deepMethods = [...new Set(points.filter((p) => p.method.startsWith('deep-ae')).map((p) => p.method))];
    const small = hes.filter((h) => h < 50 && by('pca', h));
    const rows: string[] = [];
    let ok = true;
    let tested = false;
    for (const h of small) {
      const bestDeep = deepMethods.map((m) => by(m, h)).filter((p): p is CompressionPoint => !!p).sort((a, b) => a.valMse - b.valMse)[0];
      if (!bestDeep) continue;
      tested = true;
      rows.push(`h_e ${h}: best deep AE (${bestDeep.method}) ${fmt(bestDeep.valMse)} vs PCA ${fmt(by('pca', h)!.valMse)}`);
      if (!(bestDeep.valMse < by('pca', h)!.valMse)) ok = false;
    }
    claims.push({ claim: 'A deep AE reconstructs better than PCA for h_e < 50', holds: tested ? ok : null, detail: tested ? rows.join('; ') : 'no h_e < 50 with PCA and a deep AE' });
  }
  // 3. Every method > 95 % of baseline accuracy for h_e > 50.
  {
    const big = points.filter((p) => p.he > 50);
    claims.push({
      claim: 'Every method keeps > 95 % of the baseline accuracy for h_e > 50',
      holds: big.length ? big.every((p) => p.relativeAccuracy > 0.95) : null,
      detail: big.length ? big.map((p) => `${p.method} h_e ${p.he}: ${(100 * p.relativeAccuracy).toFixed(1)} %`).join('; ') : 'no h_e > 50 in the grid',
    });
  }
  // 4. h_e = 100 keeps about 98 % (we accept 96-100+ %).
  {
    const at = points.filter((p) => p.he === 100);
    claims.push({
      claim: 'h_e = 100 keeps about 98 % of the baseline accuracy (accepted: >= 96 %)',
      holds: at.length ? at.every((p) => p.relativeAccuracy >= 0.96) : null,
      detail: at.length ? at.map((p) => `${p.method}: ${(100 * p.relativeAccuracy).toFixed(1)} %`).join('; ') : 'h_e = 100 not in the grid',
    });
  }
  return claims;
}

/** One grid point's file (points/he-<h>.json): every method's point at that h_e, and the baseline of the process that trained them. */
export interface CompressionPointFile {
  he: number;
  /** The settings the point was computed with (a merge refuses files of other settings). */
  key: Record<string, unknown>;
  features: number;
  trainRows: number;
  valRows: number;
  testRows: number;
  backend: string;
  baseline: CompressionResults['baseline'];
  /** PCA cumulative explained variance at h_e (null without PCA). */
  pcaCumulative: number | null;
  points: CompressionPoint[];
}

/** Path of grid point h_e's file under `out`. */
export const compressionPointFile = (out: string, he: number): string => path.join(out, 'points', `he-${he}.json`);

/** Folder of the saved autoencoder `method` (e.g. 'linear-ae', 'deep-ae-hm2') at h_e under `out`. */
export const compressionModelDir = (out: string, method: string, he: number): string => path.join(out, 'models', `${method}-he${he}`);

/** Runs Experiment 2 (or this shard / worker's share of its h_e grid) and writes its outputs to `options.out`. */
export async function runCompressionExperiment(options: CompressionExperimentOptions): Promise<CompressionResults | null> {
  const t0 = performance.now();
  const tiny = options.tiny ?? false;
  const base = tiny ? TINY : FULL;
  const log = options.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const soap = options.soap ?? (tiny ? TINY_SOAP : PAPER_OPTIMUM);
  const trainSamples = options.trainSamples ?? base.trainSamples;
  const testSamples = options.testSamples ?? base.testSamples;
  const seed = options.seed ?? 0;
  const epochs = options.epochs ?? base.epochs;
  const patience = options.patience ?? 10;
  const classifierEpochs = options.classifierEpochs ?? base.classifierEpochs;
  const classifierPatience = options.classifierPatience ?? 5;
  const learningRate = options.learningRate ?? 1e-4;
  const batchSize = options.batchSize ?? 512;
  const methods = options.methods ?? ['pca', 'linear-ae', 'deep-ae'];
  const hm = options.hm ?? base.hm;
  const soapObj = makeSoap(soap);
  const features = soapObj.featureCount;
  const he = [...new Set(options.he ?? base.he)].sort((a, b) => a - b);
  for (const h of he) if (!Number.isInteger(h) || h < 1 || h > features) throw new RangeError(`--he ${h}: code widths must be integers in 1..${features}`);
  for (const m of hm) if (!Number.isInteger(m) || m < 1) throw new RangeError(`--hm ${m}: hidden multipliers must be positive integers`);
  const workers = Math.max(1, options.workers ?? 1);
  const out = path.resolve(options.out);
  await mkdir(path.join(out, 'points'), { recursive: true });
  const settings = { tiny, he, hm, methods, epochs, patience, classifierEpochs, classifierPatience, learningRate, batchSize, classifier: 'MlpClassifier default widths 512-256-128, dropout 0.1, Adam 1e-3, batch 128' };
  const key: Record<string, unknown> = { soap, trainSamples, testSamples, seed, hm, methods, epochs, patience, classifierEpochs, classifierPatience, learningRate, batchSize };

  // This run's share of the grid: shard (grid index k with k mod n = i-1), then --only, then what is not done yet.
  let mine = he.filter((_, k) => !options.shard || k % options.shard.count === options.shard.index - 1);
  if (options.only) mine = mine.filter((h) => options.only!.includes(h));
  const todo = mine.filter((h) => !existsSync(compressionPointFile(out, h)));
  log(`compression: ${he.length} h_e grid points, ${mine.length} in this run, ${todo.length} to do, ${workers} worker(s)`);

  if (workers > 1 && todo.length > 1) {
    if (learningRate !== 1e-4 || batchSize !== 512) throw new RangeError('workers > 1 needs the default autoencoder learning rate and batch size (the CLI has no flags for them)');
    const cli = options.cliPath ?? path.join(__dirname, '..', 'cli.js');
    const groups = dealRoundRobin(todo, workers);
    const threads = options.threads && options.threads > 0 ? options.threads : Math.max(1, Math.floor(availableParallelism() / groups.length));
    const args = (g: number[]): string[] => [
      'experiment', 'compression', '--out', out, '--seed', String(seed), '--train-samples', String(trainSamples), '--test-samples', String(testSamples),
      '--he', he.join(','), '--hm', hm.join(','), '--methods', methods.join(','), '--epochs', String(epochs), '--patience', String(patience),
      '--classifier-epochs', String(classifierEpochs), '--classifier-patience', String(classifierPatience),
      '--r-cut', String(soap.rCut), '--n-max', String(soap.nMax), '--l-max', String(soap.lMax), '--sigma', String(soap.sigma),
      '--backend', options.backend ?? 'auto', '--threads', String(threads), '--workers', '1', '--only', g.join(','),
      ...(tiny ? ['--tiny'] : []),
    ];
    await runWorkers({ cli, groups, args, describe: (g) => `compression h_e ${g.join(',')}`, log, signal: options.signal });
  } else if (todo.length > 0) {
    await computeCompressionPoints({ ...options, out, soap, trainSamples, testSamples, seed, epochs, patience, classifierEpochs, classifierPatience, learningRate, batchSize, methods, hm, log }, he, todo, key, t0);
  }
  if (options.only) return null;

  // Merge when every grid point is done (by any shard or worker).
  const files: CompressionPointFile[] = [];
  for (const h of he) {
    const f = compressionPointFile(out, h);
    if (!existsSync(f)) continue;
    const p = JSON.parse(await readFile(f, 'utf8')) as CompressionPointFile;
    if (JSON.stringify(p.key) !== JSON.stringify(key)) {
      throw new Error(`${f} was computed with other settings (${JSON.stringify(p.key)}); remove it or use another --out`);
    }
    files.push(p);
  }
  if (files.length < he.length) {
    log(`compression: ${files.length}/${he.length} h_e grid points done; run the remaining shards, then any run without --shard (or the last shard) merges them`);
    return null;
  }
  const first = files[0]!;
  for (const f of files) {
    if (f.baseline.accuracy !== first.baseline.accuracy) log(`compression: warning: baseline accuracy differs between point files (h_e ${first.he}: ${first.baseline.accuracy}, h_e ${f.he}: ${f.baseline.accuracy})`);
  }
  const points = files.flatMap((f) => f.points);
  const backend = first.backend;
  const results: CompressionResults = {
    experiment: 'compression',
    command: process.argv.slice(1).join(' '),
    soap,
    features,
    trainRows: first.trainRows,
    valRows: first.valRows,
    testRows: first.testRows,
    seed,
    backend,
    settings,
    baseline: first.baseline,
    pcaCumulativeVariance: methods.includes('pca') ? files.map((f) => ({ he: f.he, cumulative: f.pcaCumulative as number })) : [],
    points,
    claims: checkCompressionClaims(points),
    seconds: 0,
    figures: [],
    finishedAt: '',
  };
  if (!options.noFigures) {
    const corrFile = path.join(out, 'points', 'correlation.json');
    let corr: Float64Array;
    if (existsSync(corrFile)) {
      corr = Float64Array.from((JSON.parse(await readFile(corrFile, 'utf8')) as { values: (number | null)[] }).values, (v) => (v === null ? Number.NaN : v));
    } else {
      const d = await prepareCompressionData(soapObj, trainSamples, testSamples, seed, options.threads, log, t0);
      corr = correlationMatrix(d.train.x, d.train.rows, d.train.cols);
    }
    results.figures = await writeCompressionFigures(out, results, corr, features);
  }
  results.seconds = (performance.now() - t0) / 1000;
  results.finishedAt = new Date().toISOString();
  await writeFileAtomic(path.join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  if (!options.noFigures) await writeCompressionReport(out, results);
  log(`compression: done in ${results.seconds.toFixed(1)} s; ${path.join(out, 'results.json')}`);
  return results;
}

/** The scaled train / validation / test spectra (deterministic for the parameters). */
async function prepareCompressionData(
  soapObj: ReturnType<typeof makeSoap>,
  trainSamples: number,
  testSamples: number,
  seed: number,
  threads: number | undefined,
  log: (m: string) => void,
  t0: number,
): Promise<{ train: LabeledData; val: LabeledData; test: LabeledData; scaler: RobustScaler }> {
  const all = await sampleSpectra(mnistDataset('train'), soapObj, trainSamples, seed, { threads });
  const split = trainValSplit(all.rows, 0.8, seed);
  const train = takeRows(all, split.train);
  const val = takeRows(all, split.val);
  const test = await sampleSpectra(mnistDataset('test'), soapObj, testSamples, seed + 1, { threads });
  const scaler = fitScaler(train, val, test);
  log(`compression: features ready (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return { train, val, test, scaler };
}

type ResolvedOptions = CompressionExperimentOptions &
  Required<Pick<CompressionExperimentOptions, 'soap' | 'trainSamples' | 'testSamples' | 'seed' | 'epochs' | 'patience' | 'classifierEpochs' | 'classifierPatience' | 'learningRate' | 'batchSize' | 'methods' | 'hm' | 'log'>>;

/** Trains every method at each h_e of `hs` in this process; writes points/he-<h>.json per h_e. */
async function computeCompressionPoints(o: ResolvedOptions, grid: number[], hs: number[], key: Record<string, unknown>, t0: number): Promise<void> {
  const { log, seed, methods, hm, epochs, patience, batchSize, learningRate } = o;
  const soapObj = makeSoap(o.soap);
  const features = soapObj.featureCount;
  const backend: BackendSelection = await selectBackend({ prefer: o.backend, strict: o.backend !== undefined, log });
  log(`compression: SOAP ${o.soap.rCut}/${o.soap.nMax}/${o.soap.lMax}/${o.soap.sigma} (${features} features), ${o.trainSamples} train/val + ${o.testSamples} test spectra; h_e ${hs.join(',')}`);
  const { train, val, test, scaler } = await prepareCompressionData(soapObj, o.trainSamples, o.testSamples, seed, o.threads, log, t0);
  const corrFile = path.join(o.out, 'points', 'correlation.json');
  // Written by the process that trains the grid's first h_e only (two processes never write the same file).
  if (!o.noFigures && hs.includes(grid[0]!) && !existsSync(corrFile)) {
    const corr = correlationMatrix(train.x, train.rows, train.cols);
    await writeFileAtomic(corrFile, JSON.stringify({ features, values: Array.from(corr, (v) => (Number.isFinite(v) ? v : null)) }) + '\n');
  }

  const classify = async (tr: LabeledData, va: LabeledData, te: LabeledData, what: string) => {
    const t = performance.now();
    const clf = MlpClassifier.create({ inputDim: tr.cols, seed });
    try {
      const hist = await clf.train(tr, { epochs: o.classifierEpochs, validation: va, earlyStopping: { patience: o.classifierPatience }, seed });
      const acc = clf.evaluate(te).accuracy;
      log(`compression: ${what}: test accuracy ${acc.toFixed(4)} (${hist.epochs.length} epochs, best ${hist.bestEpoch})`);
      return { accuracy: acc, epochs: hist.epochs.length, bestEpoch: hist.bestEpoch, seconds: (performance.now() - t) / 1000 };
    } finally {
      clf.dispose();
    }
  };
  const baselineRun = await classify(train, val, test, `baseline (${features} features)`);
  const baseline = { accuracy: baselineRun.accuracy, classifierEpochs: baselineRun.epochs, classifierBestEpoch: baselineRun.bestEpoch, seconds: baselineRun.seconds };

  const withX = (d: LabeledData, x: Float32Array, cols: number): LabeledData => ({ x, y: d.y, rows: d.rows, cols });
  let pca: Pca | null = null;
  if (methods.includes('pca')) pca = Pca.fit(train.x, train.rows, train.cols);
  const cumulative = pca ? pca.explainedVarianceRatio().reduce<number[]>((acc, v) => [...acc, (acc.at(-1) ?? 0) + v], []) : [];
  for (const h of hs) {
    o.signal?.throwIfAborted();
    const points: CompressionPoint[] = [];
    if (pca) {
      const t = performance.now();
      const valMse = pca.reconstructionMse(val.x, val.rows, h);
      const c = await classify(
        withX(train, pca.transform(train.x, train.rows, h), h),
        withX(val, pca.transform(val.x, val.rows, h), h),
        withX(test, pca.transform(test.x, test.rows, h), h),
        `PCA h_e ${h} (val MSE ${valMse.toPrecision(4)})`,
      );
      points.push({ method: 'pca', he: h, valMse, accuracy: c.accuracy, relativeAccuracy: c.accuracy / baseline.accuracy, classifierEpochs: c.epochs, classifierBestEpoch: c.bestEpoch, seconds: (performance.now() - t) / 1000 });
    }
    const aes: { method: string; kind: 'linear' | 'deep'; hm?: number }[] = [];
    if (methods.includes('linear-ae')) aes.push({ method: 'linear-ae', kind: 'linear' });
    if (methods.includes('deep-ae')) for (const m of hm) aes.push({ method: `deep-ae-hm${m}`, kind: 'deep', hm: m });
    for (const a of aes) {
      const t = performance.now();
      const ae = Autoencoder.create({ inputDim: features, codeDim: h, kind: a.kind, hiddenMultiplier: a.hm, learningRate, seed });
      try {
        const hist = await ae.train(train, { epochs, batchSize, validation: val, earlyStopping: { patience }, seed });
        const valMse = ae.reconstructionMse(val);
        log(`compression: ${a.method} h_e ${h}: val MSE ${valMse.toPrecision(4)} (${hist.epochs.length} epochs, best ${hist.bestEpoch}, ${hist.seconds.toFixed(1)} s)`);
        // Saved before the point file, so a finished point always has its model.
        await ae.save(compressionModelDir(o.out, a.method, h), {
          soap: o.soap,
          scaler: scaler.toJSON(),
          extra: {
            experiment: 'compression',
            method: a.method,
            he: h,
            valMse,
            epochs: hist.epochs.length,
            bestEpoch: hist.bestEpoch,
            stoppedEarly: hist.stoppedEarly,
            backend: backend.name,
            trainRows: train.rows,
            valRows: val.rows,
          },
        });
        const c = await classify(
          withX(train, ae.encode(train.x), h),
          withX(val, ae.encode(val.x), h),
          withX(test, ae.encode(test.x), h),
          `${a.method} h_e ${h}`,
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
          classifierEpochs: c.epochs,
          classifierBestEpoch: c.bestEpoch,
          seconds: (performance.now() - t) / 1000,
        });
      } finally {
        ae.dispose();
      }
    }
    const file: CompressionPointFile = {
      he: h,
      key,
      features,
      trainRows: train.rows,
      valRows: val.rows,
      testRows: test.rows,
      backend: backend.summary,
      baseline,
      pcaCumulative: pca ? cumulative[h - 1]! : null,
      points,
    };
    await writeFileAtomic(compressionPointFile(o.out, h), JSON.stringify(file, null, 2) + '\n');
  }
}

/** Renders the three figures; returns the PNG paths relative to `out`. */
export async function writeCompressionFigures(out: string, r: CompressionResults, corr: Float64Array, d: number): Promise<string[]> {
  
  const values = r.points.map((p) => ({ method: p.method, he: p.he, mse: p.valMse, rel: p.relativeAccuracy, acc: p.accuracy }));
  const mse = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Reconstruction MSE (validation, scaled units) vs h_e; ${r.trainRows + r.valRows} spectra`,
    width: 520,
    height: 340,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'he', type: 'quantitative', title: 'h_e (code width)' },
      y: { field: 'mse', type: 'quantitative', title: 'reconstruction MSE', scale: { type: 'log' } },
      color: { field: 'method', type: 'nominal', title: 'method' },
    },
  };
  const acc = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Classifier accuracy on codes / baseline (${(100 * r.baseline.accuracy).toFixed(1)} % on ${d} features)`,
    width: 520,
    height: 340,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'he', type: 'quantitative', title: 'h_e (code width)' },
          y: { field: 'rel', type: 'quantitative', title: 'accuracy relative to baseline', scale: { zero: false } },
          color: { field: 'method', type: 'nominal', title: 'method' },
        },
      },
      { data: { values: [{ y: 0.95 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  };
  const cells: { i: number; j: number; r: number | null }[] = [];
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    const v = corr[i * d + j];
    cells.push({ i, j, r: Number.isFinite(v) ? Math.round(v * 1000) / 1000 : null });
  }
  const side = Math.max(300, Math.min(640, 2 * d));
  const heat = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Correlation matrix of the ${d} SOAP components (scaled training spectra)`,
    width: side,
    height: side,
    data: { values: cells },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'i', type: 'ordinal', title: 'SOAP component', axis: { labels: false, ticks: false } },
      y: { field: 'j', type: 'ordinal', title: 'SOAP component', axis: { labels: false, ticks: false } },
      color: { field: 'r', type: 'quantitative', title: 'Pearson r', scale: { domain: [-1, 1], scheme: 'redblue', reverse: true } },
    },
    config: { view: { stroke: null } },
  };
  const files: string[] = [];
  for (const [name, spec] of [['mse_vs_he', mse], ['accuracy_vs_he', acc], ['correlation_matrix', heat]] as const) {
    await renderFigure(spec, path.join(out, name));
    files.push(`${name}.png`);
  }
  return files;
}

/** Writes report.html. */
export async function writeCompressionReport(out: string, r: CompressionResults): Promise<string> {
  
  const yesNo = (h: boolean | null) => (h === null ? 'not tested' : h ? 'holds' : 'does not hold');
  const unconverged = r.points.filter((p) => p.aeEpochs !== undefined && !p.aeStoppedEarly && p.aeBestEpoch === p.aeEpochs);
  const budget = unconverged.length
    ? `\n\nTraining budget: ${unconverged.length} of ${r.points.filter((p) => p.aeEpochs !== undefined).length} autoencoders were still improving when the epoch cap was reached ` +
      `(${unconverged.map((p) => `${p.method} h_e ${p.he}`).join(', ')}); their MSE is an upper bound of what the architecture reaches, so comparisons with PCA at this budget favour PCA.`
    : '';
  return writeReport(out, {
    title: 'Experiment 2: compression of SOAP spectra',
    sections: [
      {
        heading: 'Setup',
        text:
          `SOAP r_cut ${r.soap.rCut}, n_max ${r.soap.nMax}, l_max ${r.soap.lMax}, sigma ${r.soap.sigma} (${r.features} features). ` +
          `${r.trainRows + r.valRows} spectra sampled from the MNIST training images (Algorithm 3), split 80:20 (${r.trainRows} train, ${r.valRows} validation), ` +
          `RobustScaler fitted on the training part; ${r.testRows} test spectra from the MNIST test images. Backend: ${r.backend}.\n\n` +
          `Autoencoders: Adam lr ${String(r.settings['learningRate'])}, batch ${String(r.settings['batchSize'])}, at most ${String(r.settings['epochs'])} epochs with early stopping on the validation MSE (patience ${String(r.settings['patience'])}); the paper ran 10,000 epochs. ` +
          `Classifier: the Experiment-1 MLP (512-256-128) retrained on the codes, at most ${String(r.settings['classifierEpochs'])} epochs, early stopping on validation loss. ` +
          `Baseline test accuracy on the full features: ${r.baseline.accuracy.toFixed(4)}. Wall time ${r.seconds.toFixed(0)} s.` + budget,
      },
      {
        heading: 'Results',
        figures: r.figures,
        table: {
          columns: ['method', 'h_e', 'val MSE', 'test accuracy', 'relative accuracy', 'AE epochs', 'classifier epochs'],
          rows: r.points.map((p) => [p.method, p.he, p.valMse, p.accuracy, p.relativeAccuracy, p.aeEpochs ?? '-', p.classifierEpochs]),
        },
      },
      {
        heading: 'Comparison with the paper (PAPER-FACTS §5)',
        text: 'Each claim of the paper, checked on this run (at this run\'s data size and training budget, which may be far below the paper\'s 120,000 spectra and 10,000 epochs).',
        table: { columns: ['claim', 'this run', 'numbers'], rows: r.claims.map((c) => [c.claim, yesNo(c.holds), c.detail]) },
      },
    ],
  });
}
