/**
 * Experiment 4 of the paper (PAPER-FACTS §7): SOAP against a CNN on local patches under rotation,
 * as learning curves.
 *
 * For each run r, a seeded permutation of the training images gives a pool of up to max(sizes)
 * images; a training set of size N is the first N patches of the pool (nested sets), cut from the
 * images either rotated by random angles ('rotated', i.e. rotation augmentation) or as they are
 * ('upright'). The test set is one patch from each of `testPatches` rotated test images, the same
 * for every run, condition and model. Models, each trained with an 80:20 train/validation split
 * and early stopping on validation loss with the best-validation checkpoint restored:
 *   - 'soap': SOAP at the patch centre from the patch's points, robust-scaled, the Experiment-1
 *     MLP (512-256-128, dropout 0.1, Adam 1e-3, batch 128);
 *   - 'soap-extra' (beyond the paper): the same plus the patch's mean intensity and point count;
 *   - 'cnn': the paper's CNN on the raw patch / 255 (Adam 1e-4, batch 2048).
 *
 * Every (condition, model, size, run) is an independent task with its own result file in
 * tasks/; `--workers` runs them in parallel processes (longest first, greedy balance),
 * `--shard i/n` across machines, and a rerun skips finished tasks. The run that finds every task
 * done writes results.json, the learning-curve figure and report.html.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';

import { writeFileAtomic } from '../util/atomic-file';
import type { Dataset } from '../data/dataset';
import { fashionMnistDataset, mnistDataset } from '../data/datasets';
import { renderFigure, type VegaLiteSpec } from '../report/figures';
import { selectBackend, type BackendName } from '../ml/backend';
import { CnnClassifier } from '../ml/models/cnn';
import { MlpClassifier } from '../ml/models/mlp';
import type { EpochLog, LabeledData, TrainHistory } from '../ml/train/types';
import { writeReport } from '../report/html';
import { deriveSeed } from '../features/sampling';
import { RobustScaler } from '../features/scaler';
import type { Soap } from '../soap/soap';
import type { Interpolation as RotationInterpolation } from '../data/transform';
import { differingSettings, makeSoap, PAPER_OPTIMUM, secondsSince, type SoapParams } from './common';
import type { ClaimCheck } from './compression';
import { checkPatchSize, imageOrder, makePatchSet, patchPixelFeatures, patchSoapFeatures, slicePatchSet, type PatchSet } from './patches';
import { dealByCost, runWorkers } from './workers';

export type RotationCondition = 'rotated' | 'upright';
export type RotationModel = 'soap' | 'soap-extra' | 'cnn';
export type RotationDataset = 'mnist' | 'fashion-mnist';

export const ROTATION_CONDITIONS: readonly RotationCondition[] = Object.freeze(['rotated', 'upright']);
export const ROTATION_MODELS: readonly RotationModel[] = Object.freeze(['soap', 'soap-extra', 'cnn']);

/** The paper's training sizes: 100 to 6,000 in steps of 100. */
export const PAPER_SIZES: readonly number[] = Object.freeze(Array.from({ length: 60 }, (_, i) => 100 * (i + 1)));

/** The paper's protocol (PAPER-FACTS §7); patience is ours (the paper trained 1,000 epochs and kept the best-validation weights). */
export const PAPER_ROTATION = Object.freeze({ sizes: PAPER_SIZES, runs: 10, testPatches: 10000, epochs: 1000, patience: 100, patchSize: 13 });

/** CI mode: the plumbing, not the numbers. */
export const TINY_ROTATION = Object.freeze({ sizes: [20, 40] as readonly number[], runs: 1, testPatches: 200, epochs: 2, patience: 2, patchSize: 13 });

/** SOAP parameters of --tiny (small and fast). */
export const TINY_ROTATION_SOAP: SoapParams = Object.freeze({ rCut: 8, nMax: 3, lMax: 2, sigma: 1.5 });

/** Options of {@link runRotationExperiment}. */
export interface RotationExperimentOptions {
  out: string;
  dataset: RotationDataset;
  /** Directory of the Fashion-MNIST IDX files (default Debian's). */
  fashionDir?: string;
  soap: SoapParams;
  patchSize: number;
  /** Resampling of the rotated images, training and test (default 'bilinear'). */
  interpolation?: RotationInterpolation;
  sizes: readonly number[];
  runs: number;
  testPatches: number;
  epochs: number;
  patience: number;
  conditions: readonly RotationCondition[];
  models: readonly RotationModel[];
  /** MLP widths of the SOAP models. */
  hidden: readonly number[];
  /** Adam learning rate of the CNN (the paper: 1e-4). */
  cnnLearningRate: number;
  seed: number;
  backend: 'auto' | BackendName;
  threads: number;
  /** Worker processes; 1 = run the tasks in this process. */
  workers: number;
  shard?: { index: number; count: number };
  /** Only these task ids (used by the workers). */
  only?: readonly string[];
  /** Write results.json, figure and report when every task is done (default true). */
  summary?: boolean;
  cliPath?: string;
  workerArgs?: string[];
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** One independent training. */
export interface RotationTask {
  condition: RotationCondition;
  model: RotationModel;
  size: number;
  run: number;
}

/** One task's record (tasks/<id>.json). */
export interface RotationRecord extends RotationTask {
  id: string;
  trainRows: number;
  valRows: number;
  testRows: number;
  testAccuracy: number;
  bestValAccuracy: number | null;
  epochsRun: number;
  bestEpoch: number | null;
  stoppedEarly: boolean;
  backend: string;
  seconds: number;
}

/** Mean and spread of the runs of one (condition, model, size). */
export interface RotationCurvePoint {
  condition: RotationCondition;
  model: RotationModel;
  size: number;
  runs: number;
  mean: number;
  /** Sample standard deviation over runs (0 for one run). */
  std: number;
  meanEpochs: number;
}

export interface RotationResults {
  experiment: 'rotation';
  command: string;
  dataset: string;
  soap: SoapParams;
  settings: Omit<RotationExperimentOptions, 'log' | 'signal' | 'only' | 'cliPath' | 'workerArgs' | 'out' | 'soap' | 'shard' | 'summary'>;
  curves: RotationCurvePoint[];
  claims: ClaimCheck[];
  records: RotationRecord[];
  figures: string[];
  finishedAt: string;
}

export function taskId(t: RotationTask): string {
  return `${t.condition}-${t.model}-n${String(t.size).padStart(5, '0')}-r${String(t.run).padStart(2, '0')}`;
}

/** Every task of the protocol, in a fixed order (condition, model, size, run). */
export function rotationTasks(o: Pick<RotationExperimentOptions, 'conditions' | 'models' | 'sizes' | 'runs'>): RotationTask[] {
  const tasks: RotationTask[] = [];
  for (const condition of o.conditions) for (const model of o.models) for (const size of o.sizes) for (let run = 0; run < o.runs; run++) tasks.push({ condition, model, size, run });
  return tasks;
}

/** Relative cost of a task, for balancing workers (a CNN epoch on a patch costs about 4 MLP ones). */
function taskCost(t: RotationTask): number {
  return t.size * (t.model === 'cnn' ? 4 : 1);
}

function loadDataset(o: Pick<RotationExperimentOptions, 'dataset' | 'fashionDir'>, split: 'train' | 'test'): Dataset {
  return o.dataset === 'mnist' ? mnistDataset(split) : fashionMnistDataset(split, o.fashionDir !== undefined ? { dir: o.fashionDir } : {});
}

const DOMAIN_POOL = 0x504f4f4c; // "POOL"
const DOMAIN_TEST = 0x54455354; // "TEST"
const DOMAIN_FIT = 0x46495421; // "FIT!"

/** Builds each run's patches and features once per process, as tasks need them. */
class PatchData {
  private readonly train: Dataset;
  private readonly test: Dataset;
  private readonly soap: Soap;
  private readonly pools = new Map<string, PatchSet>();
  private readonly features = new Map<string, { x: Float32Array; cols: number }>();
  private testSet: PatchSet | null = null;

  constructor(private readonly o: RotationExperimentOptions) {
    this.train = loadDataset(o, 'train');
    this.test = loadDataset(o, 'test');
    this.soap = makeSoap(o.soap);
    checkPatchSize(o.patchSize);
    const poolSize = Math.max(...o.sizes);
    // Spare images make up for the (rare) ones without any point after rotation.
    if (poolSize + 64 > this.train.length) throw new RangeError(`training size ${poolSize} needs more than the ${this.train.length} ${this.train.name} images`);
    if (o.testPatches > this.test.length) throw new RangeError(`--test-patches ${o.testPatches} exceeds the ${this.test.length} ${this.test.name} images`);
  }

  pool(condition: RotationCondition, run: number): PatchSet {
    const key = `${condition}/${run}`;
    let p = this.pools.get(key);
    if (!p) {
      const poolSize = Math.max(...this.o.sizes);
      const order = imageOrder(this.train.length, deriveSeed(this.o.seed, DOMAIN_POOL, run)).subarray(0, poolSize + 64);
      p = slicePatchSet(makePatchSet(this.train, order, { size: this.o.patchSize, rotate: condition === 'rotated', seed: deriveSeed(this.o.seed, DOMAIN_POOL, run, 1), interpolation: this.o.interpolation }), poolSize);
      if (p.count < poolSize) throw new Error(`run ${run}: only ${p.count} of ${poolSize} training images have a point`);
      this.pools.set(key, p);
    }
    return p;
  }

  testPatches(): PatchSet {
    if (!this.testSet) {
      const order = imageOrder(this.test.length, deriveSeed(this.o.seed, DOMAIN_TEST)).subarray(0, this.o.testPatches);
      this.testSet = makePatchSet(this.test, order, { size: this.o.patchSize, rotate: true, seed: deriveSeed(this.o.seed, DOMAIN_TEST, 1), interpolation: this.o.interpolation });
    }
    return this.testSet;
  }

  /** Features of a patch set for a model (cached per set and model). */
  async featuresOf(key: string, s: PatchSet, model: RotationModel): Promise<{ x: Float32Array; cols: number }> {
    const k = `${key}/${model === 'cnn' ? 'pixels' : model}`;
    let f = this.features.get(k);
    if (!f) {
      f = model === 'cnn' ? { x: patchPixelFeatures(s), cols: s.size * s.size } : await patchSoapFeatures(this.soap, s, { extras: model === 'soap-extra', threads: this.o.threads });
      this.features.set(k, f);
    }
    return f;
  }
}

/** Trains and tests one task. */
async function runTask(t: RotationTask, data: PatchData, o: RotationExperimentOptions): Promise<RotationRecord> {
  const t0 = process.hrtime.bigint();
  const pool = data.pool(t.condition, t.run);
  const test = data.testPatches();
  const poolF = await data.featuresOf(`${t.condition}/${t.run}`, pool, t.model);
  const testF = await data.featuresOf('test', test, t.model);
  const cols = poolF.cols;
  const train: LabeledData = { x: poolF.x.slice(0, t.size * cols), y: pool.labels.slice(0, t.size), rows: t.size, cols };
  const testX = testF.x.slice();
  const seed = deriveSeed(o.seed, DOMAIN_FIT, ROTATION_MODELS.indexOf(t.model), ROTATION_CONDITIONS.indexOf(t.condition), t.size, t.run) % 2 ** 31;
  const log = o.log ?? (() => undefined);
  let lastLog = performance.now();
  const onEpoch = (e: EpochLog): void => {
    // A progress line at most every 30 s: a large CNN task runs for many minutes.
    if (performance.now() - lastLog < 30_000) return;
    lastLog = performance.now();
    log(`rotation: ${taskId(t)}: epoch ${e.epoch}/${o.epochs}, loss ${e.loss.toFixed(4)}, val loss ${e.valLoss?.toFixed(4)}, val accuracy ${e.valAccuracy?.toFixed(4)}`);
  };
  const trainOpts = { epochs: o.epochs, validation: 0.2, earlyStopping: { patience: o.patience }, seed, onEpoch };
  let history: TrainHistory;
  let predicted: Int32Array;
  if (t.model === 'cnn') {
    const cnn = CnnClassifier.create({ height: o.patchSize, learningRate: o.cnnLearningRate, seed });
    try {
      history = await cnn.train(train, trainOpts);
      predicted = cnn.predictClasses(testX);
    } finally {
      cnn.dispose();
    }
  } else {
    // The robust scaler is fitted on this task's training rows (train + validation) only.
    const scaler = new RobustScaler().fit(train.x, train.rows, cols);
    scaler.transformInPlace(train.x, train.rows, cols);
    scaler.transformInPlace(testX, test.count, cols);
    const mlp = MlpClassifier.create({ inputDim: cols, hidden: [...o.hidden], seed });
    try {
      history = await mlp.train(train, { ...trainOpts, batchSize: 128 });
      predicted = mlp.predictClasses(testX);
    } finally {
      mlp.dispose();
    }
  }
  let correct = 0;
  for (let i = 0; i < test.count; i++) if (predicted[i] === test.labels[i]) correct++;
  const best = history.bestEpoch !== null ? history.epochs[history.bestEpoch - 1] : undefined;
  return {
    id: taskId(t),
    ...t,
    trainRows: history.trainRows,
    valRows: history.valRows,
    testRows: test.count,
    testAccuracy: correct / test.count,
    bestValAccuracy: best?.valAccuracy ?? null,
    epochsRun: history.epochs.length,
    bestEpoch: history.bestEpoch,
    stoppedEarly: history.stoppedEarly,
    backend: history.backend,
    seconds: secondsSince(t0),
  };
}

const taskFile = (out: string, id: string): string => path.join(out, 'tasks', `${id}.json`);

/** What a task's result depends on besides its condition, model, size and run. */
function protocolOf(o: RotationExperimentOptions): Record<string, unknown> {
  return {
    dataset: o.dataset,
    soap: { rCut: o.soap.rCut, nMax: o.soap.nMax, lMax: o.soap.lMax, sigma: o.soap.sigma },
    patchSize: o.patchSize,
    interpolation: o.interpolation ?? 'bilinear',
    testPatches: o.testPatches,
    epochs: o.epochs,
    patience: o.patience,
    hidden: [...o.hidden],
    cnnLearningRate: o.cnnLearningRate,
    seed: o.seed,
  };
}

/**
 * Task files of other settings must not be mixed into one learning curve: the first run with
 * tasks to do writes OUT/protocol.json (after the settings were validated), later runs (more
 * sizes or runs are fine) must match it.
 */
async function checkProtocol(out: string, o: RotationExperimentOptions, write: boolean): Promise<void> {
  const file = path.join(out, 'protocol.json');
  const want = protocolOf(o);
  if (!existsSync(file)) {
    if (write) await writeFileAtomic(file, JSON.stringify(want, null, 2) + '\n');
    return;
  }
  const have = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const key = differingSettings(have, want)[0];
  if (key !== undefined) {
    throw new Error(
      `${out} holds tasks of other settings: ${key} is ${JSON.stringify(have[key])} there and ${JSON.stringify(want[key])} in this run ` +
        `(${file}); use another --out for these settings, or remove that folder to start over`,
    );
  }
}

/**
 * Runs (this shard of) the experiment. Returns the results when every task of the protocol is
 * done (and writes results.json, the figure and report.html unless `summary` is false), else null.
 */
export async function runRotationExperiment(o: RotationExperimentOptions): Promise<RotationResults | null> {
  const t0 = process.hrtime.bigint();
  const log = o.log ?? (() => undefined);
  const out = path.resolve(o.out);
  await mkdir(path.join(out, 'tasks'), { recursive: true });
  const all = rotationTasks(o);
  let mine = all.filter((_, k) => !o.shard || k % o.shard.count === o.shard.index - 1);
  if (o.only) mine = mine.filter((t) => o.only!.includes(taskId(t)));
  const todo = mine.filter((t) => !existsSync(taskFile(out, taskId(t))));
  log(`rotation: ${o.dataset}, ${all.length} tasks, ${mine.length} in this run, ${todo.length} to do, ${o.workers} worker(s)`);

  // With tasks to do, the settings are validated (sizes against the data set, patch size) and
  // recorded before any starts; workers then only compare (two writing at once would collide).
  // Without, they are only compared, so that a summary never mixes protocols.
  const data = todo.length > 0 ? new PatchData(o) : null;
  await checkProtocol(out, o, data !== null);
  if (o.workers > 1 && todo.length > 1) {
    const cli = o.cliPath ?? path.join(__dirname, '..', 'cli.js');
    const groups = dealByCost(todo, o.workers, taskCost);
    const args = (g: RotationTask[]): string[] => [
      ...rotationCliArgs(o),
      '--workers', '1', '--threads', '1', '--only', g.map(taskId).join(','), '--no-summary', ...(o.workerArgs ?? []),
    ];
    await runWorkers({ cli, groups, args, describe: (g) => `${g.length} tasks from ${taskId(g[0]!)}`, log, signal: o.signal });
  } else if (data) {
    await selectBackend({ prefer: o.backend === 'auto' ? undefined : o.backend, strict: o.backend !== 'auto', log });
    // Longest first, so that a shard's progress lines show the big ones early.
    for (const t of [...todo].sort((a, b) => taskCost(b) - taskCost(a))) {
      if (o.signal?.aborted) throw o.signal.reason;
      const rec = await runTask(t, data, o);
      await writeFileAtomic(taskFile(out, rec.id), JSON.stringify(rec, null, 2) + '\n');
      log(`rotation: ${rec.id}: test accuracy ${rec.testAccuracy.toFixed(4)} (${rec.epochsRun} epochs, best ${rec.bestEpoch ?? '-'}; ${rec.seconds.toFixed(1)} s)`);
    }
  }

  const records: RotationRecord[] = [];
  for (const t of all) {
    const f = taskFile(out, taskId(t));
    if (existsSync(f)) records.push(JSON.parse(await readFile(f, 'utf8')) as RotationRecord);
  }
  log(`rotation: ${records.length}/${all.length} tasks done (${secondsSince(t0).toFixed(1)} s)`);
  if (records.length < all.length || o.summary === false) return null;

  const curves = rotationCurves(records);
  const { log: _l, signal: _s, only: _o, cliPath: _c, workerArgs: _w, out: _out, soap, shard: _sh, summary: _su, ...settings } = o;
  const results: RotationResults = {
    experiment: 'rotation',
    command: process.argv.slice(1).join(' '),
    dataset: o.dataset,
    soap,
    settings,
    curves,
    claims: checkRotationClaims(curves),
    records,
    figures: [],
    finishedAt: '',
  };
  await renderFigure(learningCurveSpec(curves, o.dataset), path.join(out, 'learning_curves'));
  results.figures = ['learning_curves.png'];
  results.finishedAt = new Date().toISOString();
  await writeFileAtomic(path.join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  await writeRotationReport(out, results);
  return results;
}

/** The CLI arguments that reproduce `o`'s protocol (for worker processes). */
function rotationCliArgs(o: RotationExperimentOptions): string[] {
  return [
    'experiment', 'rotation', '--out', path.resolve(o.out), '--dataset', o.dataset, ...(o.fashionDir ? ['--fashion-dir', o.fashionDir] : []),
    '--r-cut', String(o.soap.rCut), '--n-max', String(o.soap.nMax), '--l-max', String(o.soap.lMax), '--sigma', String(o.soap.sigma),
    '--patch-size', String(o.patchSize), '--interpolation', o.interpolation ?? 'bilinear', '--sizes', o.sizes.join(','), '--runs', String(o.runs), '--test-patches', String(o.testPatches),
    '--epochs', String(o.epochs), '--patience', String(o.patience), '--conditions', o.conditions.join(','), '--models', o.models.join(','),
    '--hidden', o.hidden.join(','), '--cnn-learning-rate', String(o.cnnLearningRate), '--seed', String(o.seed), '--backend', o.backend,
  ];
}

/** Mean and sample standard deviation of test accuracy per (condition, model, size). */
export function rotationCurves(records: readonly RotationRecord[]): RotationCurvePoint[] {
  const groups = new Map<string, RotationRecord[]>();
  for (const r of records) {
    const k = `${r.condition}|${r.model}|${r.size}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const points: RotationCurvePoint[] = [];
  for (const rs of groups.values()) {
    const n = rs.length;
    const mean = rs.reduce((s, r) => s + r.testAccuracy, 0) / n;
    const std = n > 1 ? Math.sqrt(rs.reduce((s, r) => s + (r.testAccuracy - mean) ** 2, 0) / (n - 1)) : 0;
    const { condition, model, size } = rs[0]!;
    points.push({ condition, model, size, runs: n, mean, std, meanEpochs: rs.reduce((s, r) => s + r.epochsRun, 0) / n });
  }
  const ci = (c: RotationCondition): number => ROTATION_CONDITIONS.indexOf(c);
  const mi = (m: RotationModel): number => ROTATION_MODELS.indexOf(m);
  return points.sort((a, b) => ci(a.condition) - ci(b.condition) || mi(a.model) - mi(b.model) || a.size - b.size);
}

function curveAt(curves: readonly RotationCurvePoint[], condition: RotationCondition, model: RotationModel): Map<number, RotationCurvePoint> {
  return new Map(curves.filter((c) => c.condition === condition && c.model === model).map((c) => [c.size, c]));
}

/** The paper's two claims, with explicit thresholds: "far ahead" = at least 10 points; "comparable" = within 5 points. */
export function checkRotationClaims(curves: readonly RotationCurvePoint[]): ClaimCheck[] {
  const pts = (v: number): string => `${(100 * v).toFixed(1)}`;
  const claims: ClaimCheck[] = [];
  const diffs = (condition: RotationCondition, minSize = 0): { size: number; d: number }[] => {
    const soap = curveAt(curves, condition, 'soap');
    const cnn = curveAt(curves, condition, 'cnn');
    return [...soap.keys()].filter((s) => s >= minSize && cnn.has(s)).sort((a, b) => a - b).map((s) => ({ size: s, d: soap.get(s)!.mean - cnn.get(s)!.mean }));
  };
  const up = diffs('upright');
  claims.push({
    claim: 'Trained without rotation, SOAP is far ahead of the CNN on rotated test patches (accepted: SOAP mean accuracy >= CNN + 10 points at every size)',
    holds: up.length === 0 ? null : up.every((x) => x.d >= 0.1),
    detail: up.length === 0 ? 'condition or model not run' : up.map((x) => `${x.size}: ${x.d >= 0 ? '+' : ''}${pts(x.d)}`).join(', ') + ' points (SOAP - CNN)',
  });
  const rot = diffs('rotated', 1000);
  claims.push({
    claim: 'Trained with rotation augmentation, the two are comparable above ~1,000 samples (accepted: |SOAP - CNN| <= 5 points at every size >= 1,000)',
    holds: rot.length === 0 ? null : rot.every((x) => Math.abs(x.d) <= 0.05),
    detail: rot.length === 0 ? 'no size >= 1,000 run in this condition' : rot.map((x) => `${x.size}: ${x.d >= 0 ? '+' : ''}${pts(x.d)}`).join(', ') + ' points (SOAP - CNN)',
  });
  return claims;
}

const MODEL_LABEL: Record<RotationModel, string> = { soap: 'SOAP + MLP', 'soap-extra': 'SOAP + mean intensity + point count', cnn: 'CNN (raw patch)' };
const MODEL_COLOR: Record<RotationModel, string> = { soap: '#4c78a8', 'soap-extra': '#54a24b', cnn: '#e45756' };
const CONDITION_LABEL: Record<RotationCondition, string> = { rotated: 'trained on rotated patches', upright: 'trained on unrotated patches' };

/** Mean ± standard deviation of test accuracy vs training size, one panel per condition. */
export function learningCurveSpec(curves: readonly RotationCurvePoint[], dataset: string): VegaLiteSpec {
  const values = curves.map((c) => ({ ...c, label: MODEL_LABEL[c.model], lo: c.mean - c.std, hi: c.mean + c.std, panel: CONDITION_LABEL[c.condition] }));
  const present = ROTATION_MODELS.filter((m) => curves.some((c) => c.model === m));
  const scale = { domain: present.map((m) => MODEL_LABEL[m]), range: present.map((m) => MODEL_COLOR[m]) };
  const color = { field: 'label', type: 'nominal', title: 'model', scale, legend: { labelLimit: 400, symbolType: 'stroke', symbolStrokeWidth: 3 } };
  // Accuracies here sit near chance (0.1): the y axis ends a little above the highest band, the
  // same in both panels, so that differences of a few points stay visible.
  const top = Math.max(0.2, ...values.map((v) => v.hi));
  const yScale = { domain: [0, Math.min(1, Math.ceil((top + 0.02) / 0.05) * 0.05)] };
  const panel = (condition: RotationCondition): VegaLiteSpec => ({
    title: CONDITION_LABEL[condition],
    width: 380,
    height: 280,
    data: { values: values.filter((v) => v.condition === condition) },
    layer: [
      // The ± std bands, one layer per model in its colour (a colour encoding would add faded legend entries).
      ...present.map((m) => ({
        transform: [{ filter: { field: 'model', equal: m } }],
        mark: { type: 'area', opacity: 0.18, color: MODEL_COLOR[m] },
        encoding: { x: { field: 'size', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
      })),
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'size', type: 'quantitative', title: 'training patches (train + validation)' },
          y: { field: 'mean', type: 'quantitative', title: 'test accuracy on rotated patches', scale: yScale },
          color,
          tooltip: [{ field: 'label' }, { field: 'size' }, { field: 'mean', format: '.3f' }, { field: 'std', format: '.3f' }, { field: 'runs' }],
        },
      },
      // Chance level: ten classes.
      {
        data: { values: [{ chance: 0.1, text: 'chance (1 in 10)' }] },
        layer: [
          { mark: { type: 'rule', color: '#888888', strokeDash: [5, 4] }, encoding: { y: { field: 'chance', type: 'quantitative', scale: yScale } } },
          {
            mark: { type: 'text', align: 'right', baseline: 'bottom', dx: -4, dy: -2, color: '#666666', x: 'width' },
            encoding: { y: { field: 'chance', type: 'quantitative', scale: yScale }, text: { field: 'text' } },
          },
        ],
      },
    ],
  });
  const conditions = ROTATION_CONDITIONS.filter((c) => curves.some((p) => p.condition === c));
  return {
    title: `Experiment 4 (${dataset}): test accuracy on rotated patches, mean ± std over runs`,
    hconcat: conditions.map(panel),
    resolve: { scale: { color: 'shared' } },
  };
}

async function writeRotationReport(out: string, r: RotationResults): Promise<string> {
  const s = r.settings;
  const yesNo = (h: boolean | null): string => (h === null ? 'not tested' : h ? 'holds' : 'does not hold');
  return writeReport(out, {
    title: `Experiment 4: SOAP vs CNN under rotation (${r.dataset})`,
    sections: [
      {
        heading: 'Setup',
        text:
          `${s.patchSize}x${s.patchSize} patches centred on a random point pixel (intensity >= 10) of ${r.dataset} images; test: ${s.testPatches} patches of randomly rotated test images (${s.interpolation ?? 'bilinear'} resampling, 28x28 kept). ` +
          `Training sizes ${s.sizes.join(', ')}; ${s.runs} run(s) each (own image pool, split and initialisation); 80:20 train/validation; at most ${s.epochs} epochs, ` +
          `early stopping after ${s.patience} epochs without a lower validation loss, best-validation weights restored. ` +
          `SOAP r_cut ${r.soap.rCut}, n_max ${r.soap.nMax}, l_max ${r.soap.lMax}, sigma ${r.soap.sigma} at the patch centre from the patch's points; MLP ${s.hidden.join('-')} (Adam 1e-3, batch 128). ` +
          `CNN: conv 16 3x3 + ReLU + max-pool 2, conv 32 3x3 + ReLU + max-pool 2, dense 64 + ReLU, softmax (valid padding; Adam ${s.cnnLearningRate}, batch 2048). Seed ${s.seed}. Backend ${r.records[0]?.backend ?? '?'}.`,
      },
      { heading: 'Learning curves', figures: r.figures },
      {
        heading: "Comparison with the paper's claims (PAPER-FACTS §7)",
        table: { columns: ['claim', 'this run', 'numbers'], rows: r.claims.map((c) => [c.claim, yesNo(c.holds), c.detail]) },
      },
      {
        heading: 'Mean test accuracy',
        table: {
          columns: ['condition', 'model', 'size', 'runs', 'mean', 'std', 'mean epochs'],
          rows: r.curves.map((c) => [c.condition, c.model, c.size, c.runs, c.mean, c.std, c.meanEpochs]),
        },
      },
    ],
  });
}
