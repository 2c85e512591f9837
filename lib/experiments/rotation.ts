/**
 * Experiment 4 of the paper (docs/PAPER-FACTS.md §7): SOAP against a CNN on local patches under rotation,
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
 * On the runner (runner.ts, docs/RUNNER.md): every (condition, model, size, run) is a unit, file
 * units/<task id>.json, most costly first (a CNN task costs about 4 SOAP ones of its size); each
 * process builds the patches and features of a run once, as its tasks need them. The merge writes
 * results.json, the learning-curve figure and report.html (rotation-results.ts).
 */
import * as path from 'node:path';
import type { Dataset } from '../data/dataset';
import { fashionMnistDataset, mnistDataset } from '../data/datasets';
import { renderFigure } from '../report/figures';
import { selectBackend } from '../ml/backend';
import { CnnClassifier } from '../ml/models/cnn';
import { MlpClassifier } from '../ml/models/mlp';
import type { EpochLog, LabeledData, TrainHistory } from '../ml/train/types';
import { deriveSeed } from '../features/sampling';
import { RobustScaler } from '../features/scaler';
import type { Soap } from '../soap/soap';
import { makeSoap, secondsSince, SETTING_FLAGS } from './common';
import { recordedCommand } from './command-line';
import { defineExperiment } from './definition';
import {
  checkPatchSize,
  imageOrder,
  makePatchSet,
  patchPixelFeatures,
  patchSoapFeatures,
  slicePatchSet,
  type PatchSet,
} from './patches';
import {
  checkRotationClaims,
  learningCurveSpec,
  ROTATION_CONDITIONS,
  ROTATION_MODELS,
  rotationCurves,
  writeRotationReport,
  type RotationCondition,
  type RotationModel,
  type RotationRecord,
  type RotationResults,
  type RotationSpec,
  type RotationTask,
} from './rotation-results';
import { runToSummary, type ExperimentRunOptions } from './runner';
import { simdPath } from '../soap/simd-path';

export {
  checkRotationClaims,
  learningCurveSpec,
  PAPER_ROTATION,
  PAPER_SIZES,
  ROTATION_CONDITIONS,
  ROTATION_MODELS,
  rotationCurves,
  TINY_ROTATION,
  TINY_ROTATION_SOAP,
  writeRotationReport,
  type RotationCondition,
  type RotationCurvePoint,
  type RotationDataset,
  type RotationModel,
  type RotationRecord,
  type RotationResults,
  type RotationSpec,
  type RotationTask,
} from './rotation-results';

/** Options of {@link runRotationExperiment}: the spec (with the run's threads and workers), and the rest of the run. */
export interface RotationExperimentOptions extends RotationSpec, Omit<ExperimentRunOptions, 'threads' | 'workers'> {}

export function taskId(t: RotationTask): string {
  return `${t.condition}-${t.model}-n${String(t.size).padStart(5, '0')}-r${String(t.run).padStart(2, '0')}`;
}

/** Every task of the protocol, in a fixed order (condition, model, size, run). */
export function rotationTasks(o: Pick<RotationSpec, 'conditions' | 'models' | 'sizes' | 'runs'>): RotationTask[] {
  const tasks: RotationTask[] = [];
  for (const condition of o.conditions)
    for (const model of o.models)
      for (const size of o.sizes) for (let run = 0; run < o.runs; run++) tasks.push({ condition, model, size, run });
  return tasks;
}

/** Relative cost of a task, for ordering and balancing them (a CNN epoch on a patch costs about 4 MLP ones). */
function taskCost(t: RotationTask): number {
  return t.size * (t.model === 'cnn' ? 4 : 1);
}

function loadDataset(o: Pick<RotationSpec, 'dataset' | 'fashionDir'>, split: 'train' | 'test'): Dataset {
  return o.dataset === 'mnist'
    ? mnistDataset(split)
    : fashionMnistDataset(split, o.fashionDir !== undefined ? { dir: o.fashionDir } : {});
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

  constructor(
    private readonly o: RotationSpec,
    private readonly threads: number,
  ) {
    ({ train: this.train, test: this.test } = checkRotationSpec(o));
    this.soap = makeSoap(o.soap);
  }

  pool(condition: RotationCondition, run: number): PatchSet {
    const key = `${condition}/${run}`;
    let p = this.pools.get(key);
    if (!p) {
      const poolSize = Math.max(...this.o.sizes);
      const order = imageOrder(this.train.length, deriveSeed(this.o.seed, DOMAIN_POOL, run)).subarray(0, poolSize + 64);
      p = slicePatchSet(
        makePatchSet(this.train, order, {
          size: this.o.patchSize,
          rotate: condition === 'rotated',
          seed: deriveSeed(this.o.seed, DOMAIN_POOL, run, 1),
          interpolation: this.o.interpolation,
        }),
        poolSize,
      );
      if (p.count < poolSize)
        throw new Error(`run ${run}: only ${p.count} of ${poolSize} training images have a point`);
      this.pools.set(key, p);
    }
    return p;
  }

  testPatches(): PatchSet {
    if (!this.testSet) {
      const order = imageOrder(this.test.length, deriveSeed(this.o.seed, DOMAIN_TEST)).subarray(0, this.o.testPatches);
      this.testSet = makePatchSet(this.test, order, {
        size: this.o.patchSize,
        rotate: true,
        seed: deriveSeed(this.o.seed, DOMAIN_TEST, 1),
        interpolation: this.o.interpolation,
      });
    }
    return this.testSet;
  }

  /** Features of a patch set for a model (cached per set and model). */
  async featuresOf(key: string, s: PatchSet, model: RotationModel): Promise<{ x: Float32Array; cols: number }> {
    const k = `${key}/${model === 'cnn' ? 'pixels' : model}`;
    let f = this.features.get(k);
    if (!f) {
      f =
        model === 'cnn'
          ? { x: patchPixelFeatures(s), cols: s.size * s.size }
          : await patchSoapFeatures(this.soap, s, { extras: model === 'soap-extra', threads: this.threads });
      this.features.set(k, f);
    }
    return f;
  }
}

/** Trains and tests one task. */
async function runTask(
  t: RotationTask,
  data: PatchData,
  o: RotationSpec,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<RotationRecord> {
  const t0 = process.hrtime.bigint();
  const pool = data.pool(t.condition, t.run);
  const test = data.testPatches();
  const poolF = await data.featuresOf(`${t.condition}/${t.run}`, pool, t.model);
  const testF = await data.featuresOf('test', test, t.model);
  const cols = poolF.cols;
  const train: LabeledData = {
    x: poolF.x.slice(0, t.size * cols),
    y: pool.labels.slice(0, t.size),
    rows: t.size,
    cols,
  };
  const testX = testF.x.slice();
  const seed =
    deriveSeed(
      o.seed,
      DOMAIN_FIT,
      ROTATION_MODELS.indexOf(t.model),
      ROTATION_CONDITIONS.indexOf(t.condition),
      t.size,
      t.run,
    ) %
    2 ** 31;
  let lastLog = performance.now();
  const onEpoch = (e: EpochLog): void => {
    // A progress line at most every 30 s: a large CNN task runs for many minutes.
    if (performance.now() - lastLog < 30_000) return;
    lastLog = performance.now();
    log(
      `rotation: ${taskId(t)}: epoch ${e.epoch}/${o.epochs}, loss ${e.loss.toFixed(4)}, val loss ${e.valLoss?.toFixed(4)}, val accuracy ${e.valAccuracy?.toFixed(4)}`,
    );
  };
  // The signal stops a long CNN task within a second (SIGTERM, a Slurm time limit), not after it.
  const trainOpts = {
    epochs: o.epochs,
    validation: 0.2,
    earlyStopping: { patience: o.patience },
    seed,
    onEpoch,
    signal,
  };
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

/** Checks the spec against the data sets (patch size, pool and test sizes); returns the data sets. */
function checkRotationSpec(o: RotationSpec): { train: Dataset; test: Dataset } {
  checkPatchSize(o.patchSize);
  const train = loadDataset(o, 'train');
  const test = loadDataset(o, 'test');
  const poolSize = Math.max(...o.sizes);
  // Spare images make up for the (rare) ones without any point after rotation.
  if (poolSize + 64 > train.length)
    throw new RangeError(`training size ${poolSize} needs more than the ${train.length} ${train.name} images`);
  if (o.testPatches > test.length)
    throw new RangeError(`--test-patches ${o.testPatches} exceeds the ${test.length} ${test.name} images`);
  return { train, test };
}

/** Experiment 4 on the runner: one unit per (condition, model, size, run). */
export const rotationExperiment = defineExperiment({
  name: 'rotation',
  module: __filename,
  unitNoun: 'tasks',
  settingNames: {
    ...SETTING_FLAGS,
    dataset: '--dataset',
    patchSize: '--patch-size',
    interpolation: '--interpolation',
    testPatches: '--test-patches',
    cnnLearningRate: '--cnn-learning-rate',
  },
  /** What a task's result depends on besides its condition, model, size and run (more sizes or runs can be added to a folder). */
  settings: (o: RotationSpec) => ({
    dataset: o.dataset,
    ...o.soap,
    patchSize: o.patchSize,
    interpolation: o.interpolation ?? 'bilinear',
    testPatches: o.testPatches,
    epochs: o.epochs,
    patience: o.patience,
    hidden: [...o.hidden],
    cnnLearningRate: o.cnnLearningRate,
    seed: o.seed,
  }),
  units: (o: RotationSpec) => rotationTasks(o),
  unitId: (t: RotationTask) => taskId(t),
  cost: taskCost,
  validate: (o: RotationSpec) => void checkRotationSpec(o),
  setup: async (o: RotationSpec, ctx) => {
    await selectBackend({
      prefer: o.backend === 'auto' ? undefined : o.backend,
      strict: o.backend !== 'auto',
      log: ctx.log,
    });
    return new PatchData(o, ctx.threads);
  },
  run: async (t: RotationTask, env) => {
    const rec = await runTask(t, env.state, env.spec, env.log, env.signal);
    env.log(
      `rotation: ${rec.id}: test accuracy ${rec.testAccuracy.toFixed(4)} (${rec.epochsRun} epochs, best ${rec.bestEpoch ?? '-'}; ${rec.seconds.toFixed(1)} s)`,
    );
    return rec;
  },
  merge: async (units, o: RotationSpec, ctx): Promise<RotationResults> => {
    const records = units.map((u) => u.result as RotationRecord);
    const curves = rotationCurves(records);
    const { soap, ...settings } = o;
    await renderFigure(learningCurveSpec(curves, o.dataset), path.join(ctx.out, 'learning_curves'));
    return {
      experiment: 'rotation',
      command: recordedCommand(),
      simdPath: simdPath(),
      dataset: o.dataset,
      soap,
      settings,
      curves,
      claims: checkRotationClaims(curves),
      records,
      figures: ['learning_curves.png'],
      finishedAt: new Date().toISOString(),
    };
  },
  report: async (r: RotationResults, _o, ctx) => void (await writeRotationReport(ctx.out, r)),
});

/** The spec part of `o`. */
export function rotationSpec(o: RotationExperimentOptions): RotationSpec {
  const { out: _o, shard: _s, summary: _m, log: _l, onProgress: _p, signal: _g, workerScript: _w, ...spec } = o;
  return spec;
}

/**
 * Runs (this shard of) the experiment. Returns the results when every task of the protocol is
 * done (and writes results.json, the figure and report.html unless `summary` is false), else null.
 */
export async function runRotationExperiment(o: RotationExperimentOptions): Promise<RotationResults | null> {
  return runToSummary(rotationExperiment, rotationSpec(o), o);
}
