/**
 * The equivariant-autoencoder experiment (Kuzminykh, Polykovskiy & Zhebrak, ACML 2018; Table 1 on
 * augmented MNIST, Table 2 with Fashion-MNIST standing in for Plankton; docs/EQUIVARIANT-AE.md):
 *
 *   data    one augmented copy of every image: angle uniform in [0°, 360°), mirror with p = 0.5,
 *           bilinear (or nearest) about the centre, zero fill (lib/data/augment.ts ROTATED_MIRRORED),
 *           one augmentation seed for the whole run;
 *   train   per seed five autoencoders: the plain ConvAutoencoder ('ae'), an EquivariantAutoencoder
 *           for D4 and for D12 without attention ('eq-d4', 'eq-d12': both give their mean- and
 *           Gram-pooled rows), and one with equivariant attention for each group ('att-d4',
 *           'att-d12'); Adam, early stopping on the validation MSE of a seeded split;
 *   probe   the frozen codes of the first `probeImages` augmented training images and of the
 *           augmented test images, standardised, into softmax regression ("LR") and a 256-unit MLP
 *           ("NN") (code-evaluation.ts), plus invariance errors and explained variance.
 *
 * On the runner (docs/RUNNER.md): one unit per (training, seed), id `<training>-s<seed>`, most
 * costly (D12) first; each trained model is saved to models/<id>/. The merge writes results.json,
 * the figures (equivariant-figures.ts) and report.html.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

import { augmentImages, ROTATED_MIRRORED, type AugmentedImages, type ImageBatch } from '../data/augment';
import type { Dataset } from '../data/dataset';
import { fashionMnistDataset, mnistDataset } from '../data/datasets';
import { deriveSeed } from '../features/sampling';
import { selectBackend } from '../ml/backend';
import type { CodeMatrix, EquivariantCodes } from '../ml/layers/mean-pooling';
import { gramPool } from '../ml/layers/gram-pooling';
import { meanPool } from '../ml/layers/mean-pooling';
import { ConvAutoencoder } from '../ml/models/conv-autoencoder';
import { EquivariantAutoencoder } from '../ml/models/equivariant-autoencoder';
import type { ImageAutoencoder } from '../ml/models/image-autoencoder';
import type { FitCheckpoint } from '../ml/train/checkpoint';
import { checkpointedShare, trainingCheckpoint } from './common';
import { Pca } from '../ml/pca';
import { evaluateCodes, firstImages, type CodeExtractor, type LabeledImages } from './code-evaluation';
import { defineExperiment } from './definition';
import { writeEquivariantFigures } from './equivariant-figures';
import { writeEquivariantReport } from './equivariant-report';
import {
  checkEquivariantClaims,
  datasetLabel,
  rowsOfTraining,
  scaleGroupOf,
  tableOf,
  trainingOfRow,
  TRAININGS,
  trainingSummaries,
  type EquivariantResults,
  type EquivariantSpec,
  type EquivariantUnit,
  type RowRecord,
  type TableRowName,
  type TrainingName,
  type TrainingRecord,
} from './equivariant-results';
import { runToSummary, type ExperimentRunOptions } from './runner';
import { recordedCommand } from './command-line';

export * from './equivariant-results';

/** Test images shown in the reconstruction figure. */
const RECONSTRUCTION_SAMPLES = 8;
/** Test images whose reconstruction MSE is reported. */
const TEST_MSE_IMAGES = 2000;
/** Test codes of the plain AE drawn in the PCA figure (the paper's Fig. 1). */
const PCA_POINTS = 2000;

/** Measured training rates, images per CPU-second on wasm (docs/EQUIVARIANT-AE.md, "Speed"): the units' relative costs. */
const TRAIN_RATE: Readonly<Record<TrainingName, number>> = Object.freeze({
  ae: 300,
  'eq-d4': 117,
  'att-d4': 117,
  'eq-d12': 49,
  'att-d12': 47,
});

const DOMAIN_TEST = 0x54455354; // "TEST"
const DOMAIN_FIT = 0x46495421; // "FIT!"
const DOMAIN_PROBE = 0x50524f42; // "PROB"

/** Defaults of a run besides the grid, by group where trainings differ. */
export interface EquivariantDefaults {
  seeds: number;
  trainImages: Readonly<Record<'ae' | 'd4' | 'd12', number>>;
  epochs: Readonly<Record<'ae' | 'd4' | 'd12', number>>;
  validation: number;
  patience: number;
  batchSize: number;
  widths: Readonly<Record<'ae' | 'd4' | 'd12', readonly number[]>>;
  latentChannels: number;
  codeSize: number;
  entropyWeight: number;
  probeImages: number;
  testImages: number;
  probeEpochs: number;
  probePatience: number;
  probeHidden: number;
  invarianceImages: number;
}

/**
 * The reproduction's defaults (docs/RESULTS.md), chosen from the measured training rates (images
 * per CPU-second on wasm: plain AE ~330, D4 ~115, D12 ~40; docs/EQUIVARIANT-AE.md) for a machine
 * whose two cores are shared, so that one seed's five trainings and their probes take about one
 * core-hour: the plain AE and the D4 models on all 60,000 augmented training images (54,000 train,
 * 6,000 validation; at most 3 and 1 epochs), the D12 models on 20,000 (1 epoch); the model sizes of
 * docs/EQUIVARIANT-AE.md; the brief's probes (20,000 encoded training images, the 10,000 test
 * images) and 3 seeds.
 */
export const EQUIVARIANT_DEFAULTS: EquivariantDefaults = Object.freeze({
  seeds: 3,
  trainImages: Object.freeze({ ae: 60000, d4: 60000, d12: 20000 }),
  epochs: Object.freeze({ ae: 3, d4: 1, d12: 1 }),
  validation: 0.1,
  patience: 3,
  batchSize: 64,
  widths: Object.freeze({
    ae: Object.freeze([16, 32, 64]),
    d4: Object.freeze([8, 16, 32]),
    d12: Object.freeze([8, 16, 32]),
  }),
  latentChannels: 32,
  codeSize: 64,
  entropyWeight: 0.01,
  probeImages: 20000,
  testImages: 10000,
  probeEpochs: 200,
  probePatience: 10,
  probeHidden: 256,
  invarianceImages: 300,
});

/** CI mode: every training and probe runs, on a few images with tiny widths (the plumbing, not the numbers). */
export const TINY_EQUIVARIANT: EquivariantDefaults = Object.freeze({
  seeds: 1,
  trainImages: Object.freeze({ ae: 160, d4: 160, d12: 160 }),
  epochs: Object.freeze({ ae: 2, d4: 2, d12: 2 }),
  validation: 0.2,
  patience: 2,
  batchSize: 32,
  widths: Object.freeze({ ae: Object.freeze([4, 8, 8]), d4: Object.freeze([2, 4, 4]), d12: Object.freeze([2, 2, 4]) }),
  latentChannels: 4,
  codeSize: 8,
  entropyWeight: 0.01,
  probeImages: 200,
  testImages: 100,
  probeEpochs: 4,
  probePatience: 2,
  probeHidden: 16,
  invarianceImages: 6,
});

export function unitId(u: EquivariantUnit): string {
  return `${u.training}-s${u.seed}`;
}

/** The trainings the wanted rows need, in a fixed order. */
export function trainingsFor(models: readonly TableRowName[]): TrainingName[] {
  const need = new Set(models.map(trainingOfRow));
  return TRAININGS.filter((t) => need.has(t));
}

/** Every unit of a run: trainings x seeds, seed-major. */
export function equivariantUnits(o: Pick<EquivariantSpec, 'models' | 'seeds'>): EquivariantUnit[] {
  const ts = trainingsFor(o.models);
  return o.seeds.flatMap((seed) => ts.map((training) => ({ training, seed })));
}

function loadDataset(o: Pick<EquivariantSpec, 'dataset' | 'fashionDir'>, split: 'train' | 'test'): Dataset {
  return o.dataset === 'mnist'
    ? mnistDataset(split)
    : fashionMnistDataset(split, o.fashionDir !== undefined ? { dir: o.fashionDir } : {});
}

/** Checks the spec (sizes against the data sets, positive settings); returns the data sets. */
export function checkEquivariantSpec(o: EquivariantSpec): { train: Dataset; test: Dataset } {
  const positive = (v: number, what: string): void => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  };
  if (o.models.length === 0) throw new RangeError('--models: no rows chosen');
  if (o.seeds.length === 0) throw new RangeError('--seeds: no seeds');
  for (const g of ['ae', 'd4', 'd12'] as const) {
    positive(o.trainImages[g], `--train-images (${g})`);
    positive(o.epochs[g], `--epochs (${g})`);
    if (o.widths[g].length === 0 || !o.widths[g].every((w) => Number.isInteger(w) && w >= 1))
      throw new RangeError(`widths (${g}) must be positive integers, got ${o.widths[g].join(',')}`);
  }
  if (!(o.validation > 0 && o.validation < 1))
    throw new RangeError(`validation must be a fraction in (0, 1), got ${o.validation}`);
  for (const [v, what] of [
    [o.patience, '--patience'],
    [o.batchSize, '--batch-size'],
    [o.latentChannels, '--latent'],
    [o.codeSize, '--code-size'],
    [o.probeImages, '--probe-images'],
    [o.testImages, '--test-images'],
    [o.probeEpochs, '--probe-epochs'],
    [o.probePatience, '--probe-patience'],
    [o.probeHidden, '--probe-hidden'],
    [o.invarianceImages, '--invariance-images'],
  ] as const) {
    positive(v, what);
  }
  if (!(o.entropyWeight >= 0 && Number.isFinite(o.entropyWeight)))
    throw new RangeError(`--entropy-weight must be a finite number >= 0, got ${o.entropyWeight}`);
  const train = loadDataset(o, 'train');
  const test = loadDataset(o, 'test');
  const need = Math.max(o.probeImages, ...trainingsFor(o.models).map((t) => o.trainImages[scaleGroupOf(t)]));
  if (need > train.length)
    throw new RangeError(
      `${need} training images asked for (--train-images, --probe-images), but ${train.name} has ${train.length}`,
    );
  if (o.testImages > test.length)
    throw new RangeError(`--test-images ${o.testImages} exceeds the ${test.length} images of ${test.name}`);
  if (o.invarianceImages > o.testImages)
    throw new RangeError(`--invariance-images ${o.invarianceImages} exceeds --test-images ${o.testImages}`);
  return { train, test };
}

/** The augmented images of a process (built once, shared by its units). */
export interface EquivariantData {
  train: AugmentedImages;
  test: AugmentedImages;
}

/** Augments the images the run needs: training images from the data seed, test images from a seed derived from it. */
export function equivariantData(o: EquivariantSpec): EquivariantData {
  const { train, test } = checkEquivariantSpec(o);
  const need = Math.max(o.probeImages, ...trainingsFor(o.models).map((t) => o.trainImages[scaleGroupOf(t)]));
  const aug = { ...ROTATED_MIRRORED, interpolation: o.interpolation };
  return {
    train: augmentImages(train, { ...aug, seed: o.dataSeed, count: need }),
    test: augmentImages(test, { ...aug, seed: deriveSeed(o.dataSeed, DOMAIN_TEST) % 2 ** 31, count: o.testImages }),
  };
}

function makeModel(o: EquivariantSpec, t: TrainingName, seed: number): ConvAutoencoder | EquivariantAutoencoder {
  const g = scaleGroupOf(t);
  if (t === 'ae') return new ConvAutoencoder({ widths: [...o.widths.ae], codeSize: o.codeSize, seed });
  return new EquivariantAutoencoder({
    group: g === 'd4' ? 'D4' : 'D12',
    pooling: t.startsWith('att') ? 'attention' : 'mean',
    widths: [...o.widths[g]],
    latentChannels: o.latentChannels,
    codeSize: o.codeSize,
    entropyWeight: o.entropyWeight,
    seed,
  });
}

/**
 * The mean- and Gram-pooled extractors of one trained equivariant model, sharing the encoder's
 * pass: V of an image batch is computed once and pooled both ways.
 */
function pooledExtractors(model: EquivariantAutoencoder): { mean: CodeExtractor; gram: CodeExtractor } {
  const cache = new WeakMap<ImageBatch, EquivariantCodes>();
  const v = async (images: ImageBatch): Promise<EquivariantCodes> => {
    let codes = cache.get(images);
    if (!codes) cache.set(images, (codes = await model.encodeEquivariant(images)));
    return codes;
  };
  const strip = (c: CodeMatrix): CodeMatrix => ({ data: c.data, rows: c.rows, cols: c.cols });
  return {
    mean: { encode: async (images) => meanPool(await v(images)) },
    gram: {
      encode: async (images) =>
        strip(gramPool(await v(images), model.group, { permutations: model.options.gramPermutations })),
    },
  };
}

const toBytes = (a: Float32Array): number[] => Array.from(a, (x) => Math.max(0, Math.min(255, Math.round(255 * x))));

/** Trains, saves and evaluates one (training, seed). */
async function runTraining(
  u: EquivariantUnit,
  data: EquivariantData,
  o: EquivariantSpec,
  env: { out: string; log: (l: string) => void; signal: AbortSignal },
): Promise<TrainingRecord> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const id = unitId(u);
  const g = scaleGroupOf(u.training);
  const model = makeModel(o, u.training, u.seed);
  let checkpoint: FitCheckpoint | null = null;
  try {
    const images = firstImages(data.train, o.trainImages[g]);
    const fitSeed = deriveSeed(u.seed, DOMAIN_FIT) % 2 ** 31;
    checkpoint = trainingCheckpoint(env.out, id, o.checkpointMinutes);
    const tt = performance.now();
    const ct = process.cpuUsage();
    const h = await model.fit(images, {
      ...(checkpoint ? { checkpoint } : {}),
      epochs: o.epochs[g],
      batchSize: o.batchSize,
      validation: o.validation,
      earlyStopping: { patience: o.patience },
      seed: fitSeed,
      signal: env.signal,
      onEpoch: (e) =>
        env.log(
          `equivariant: ${id}: epoch ${e.epoch}/${o.epochs[g]}: loss ${e.loss.toPrecision(4)}, val MSE ${e.valLoss?.toPrecision(4) ?? '-'} (${e.seconds.toFixed(0)} s, ${e.samplesPerSecond.toFixed(1)} images/s)`,
        ),
    });
    // Over every process that ran the training (a resumed one counts its earlier part).
    const trainSeconds = h.seconds;
    const trainCpuSeconds = h.cpuSeconds;
    const cu = process.cpuUsage(ct);
    const earlierSeconds = Math.max(0, h.seconds - (performance.now() - tt) / 1000);
    const earlierCpu = Math.max(0, h.cpuSeconds - (cu.user + cu.system) / 1e6);
    const modelDir = path.join('models', id);
    await model.save(path.join(env.out, modelDir), {
      extra: { experiment: 'equivariant', dataset: o.dataset, training: u.training, seed: u.seed },
    });
    env.log(
      `equivariant: ${id}: trained ${h.epochs.length} epochs in ${trainSeconds.toFixed(0)} s (${trainCpuSeconds.toFixed(0)} CPU-s); encoding and probing`,
    );

    const test = data.test as LabeledImages;
    const probeData = { train: firstImages(data.train, o.probeImages) as LabeledImages, test };
    const probeSeed = deriveSeed(u.seed, DOMAIN_PROBE) % 2 ** 31;
    const evalOpts = {
      seed: probeSeed,
      epochs: o.probeEpochs,
      patience: o.probePatience,
      hidden: o.probeHidden,
      invarianceImages: o.invarianceImages,
    };
    const extractors: [TableRowName, CodeExtractor][] =
      model instanceof EquivariantAutoencoder && model.options.pooling !== 'attention'
        ? (() => {
            const p = pooledExtractors(model);
            return rowsOfTraining(u.training).map((row): [TableRowName, CodeExtractor] => [
              row,
              row.startsWith('mean') ? p.mean : p.gram,
            ]);
          })()
        : [[rowsOfTraining(u.training)[0]!, model]];
    const rows: RowRecord[] = [];
    for (const [row, extractor] of extractors) {
      env.signal.throwIfAborted();
      const ev = await evaluateCodes(extractor, probeData, evalOpts);
      rows.push({ row, ...ev });
      env.log(
        `equivariant: ${id}: ${row}: LR ${(100 * (ev.probes.logistic?.accuracy ?? Number.NaN)).toFixed(1)} %, NN ${(100 * (ev.probes.mlp?.accuracy ?? Number.NaN)).toFixed(1)} % ` +
          `(${ev.codeLength} values; D4 invariance error ${ev.invariance[0]!.mean.toExponential(1)})`,
      );
    }
    const attention = model instanceof EquivariantAutoencoder && model.options.pooling === 'attention';
    const sample = firstImages(test, RECONSTRUCTION_SAMPLES);
    const rec = model.reconstruct(sample);
    const px = sample.height * sample.width;
    const mseImages = firstImages(test, TEST_MSE_IMAGES);
    let pca: TrainingRecord['pca'] = null;
    if (model instanceof ConvAutoencoder) {
      const codes = await model.encode(test);
      const fit = Pca.fit(codes.data, codes.rows, codes.cols);
      const shown = Math.min(PCA_POINTS, codes.rows);
      const proj = fit.transform(codes.data.subarray(0, shown * codes.cols), shown, Math.min(3, codes.cols));
      const k = Math.min(3, codes.cols);
      const pc = [0, 1, 2].map((j) =>
        j < k ? Array.from({ length: shown }, (_, i) => proj[i * k + j]!) : new Array<number>(shown).fill(0),
      ) as [number[], number[], number[]];
      pca = {
        pc,
        labels: Array.from(test.labels.subarray(0, shown)),
        explained: Array.from(fit.explainedVarianceRatio().subarray(0, 10)),
      };
    }
    const cuAll = process.cpuUsage(c0);
    await checkpoint?.remove();
    return {
      id,
      training: u.training,
      seed: u.seed,
      group: model instanceof EquivariantAutoencoder ? (model.options.group as 'D4' | 'D12') : null,
      parameters: model.parameterCount,
      forwardMacs: model.macs(),
      modelOptions: JSON.parse(JSON.stringify(model.options)) as Record<string, unknown>,
      trainImages: h.trainRows,
      valImages: h.valRows,
      epochsRun: h.epochs.length,
      bestEpoch: h.bestEpoch,
      stoppedEarly: h.stoppedEarly,
      epochs: h.epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, valLoss: e.valLoss ?? null, seconds: e.seconds })),
      bestValMse: h.bestValLoss,
      finalValMse: h.epochs.at(-1)?.valLoss ?? null,
      testMse: model.reconstructionMse(mseImages),
      testMseImages: mseImages.count,
      trainSeconds,
      trainCpuSeconds,
      trainImagesPerCpuSecond: (h.trainRows * h.epochs.length) / Math.max(trainCpuSeconds, 1e-9),
      attentionEntropy: attention ? await (model as EquivariantAutoencoder).meanAttentionEntropy(test) : null,
      attentionEntropyMax: attention ? Math.log((model as EquivariantAutoencoder).group.order) : null,
      rows,
      reconstructions: {
        indices: Array.from({ length: sample.count }, (_, i) => i),
        originals: Array.from({ length: sample.count }, (_, i) => toBytes(sample.data.subarray(i * px, (i + 1) * px))),
        reconstructed: Array.from({ length: sample.count }, (_, i) => toBytes(rec.data.subarray(i * px, (i + 1) * px))),
      },
      pca,
      modelDir,
      backend: tf.getBackend(),
      seconds: earlierSeconds + (performance.now() - t0) / 1000,
      cpuSeconds: earlierCpu + (cuAll.user + cuAll.system) / 1e6,
    };
  } finally {
    model.dispose();
  }
}

/** Settings every unit depends on (the grid, models and seeds, is left out: a later run may add rows or seeds). */
function settingsOf(o: EquivariantSpec): object {
  const { models: _m, seeds: _s, workers: _w, backend: _b, checkpointMinutes: _c, ...settings } = o;
  return { ...settings, interpolation: o.interpolation, fashionDir: o.fashionDir ?? null };
}

/** The experiment on the runner: one unit per (training, seed). */
export const equivariantExperiment = defineExperiment({
  name: 'equivariant',
  module: __filename,
  unitNoun: 'trainings',
  settingNames: {
    dataset: '--dataset',
    fashionDir: '--fashion-dir',
    interpolation: '--interpolation',
    dataSeed: '--data-seed',
    trainImages: '--train-images',
    epochs: '--epochs',
    patience: '--patience',
    batchSize: '--batch-size',
    widths: '--widths / --d12-widths / --ae-widths',
    latentChannels: '--latent',
    codeSize: '--code-size',
    entropyWeight: '--entropy-weight',
    probeImages: '--probe-images',
    testImages: '--test-images',
    probeEpochs: '--probe-epochs',
    probePatience: '--probe-patience',
    probeHidden: '--probe-hidden',
    invarianceImages: '--invariance-images',
  },
  settings: settingsOf,
  units: (o: EquivariantSpec) => equivariantUnits(o),
  unitId,
  // Relative cost per training image (the cost function sees no spec): D12 first, the AE last.
  cost: (u: EquivariantUnit) => 1 / TRAIN_RATE[u.training],
  resumedShare: (u: EquivariantUnit, o: EquivariantSpec, out: string) =>
    checkpointedShare(out, [{ name: unitId(u), epochs: o.epochs[scaleGroupOf(u.training)] }]),
  validate: (o: EquivariantSpec) => void checkEquivariantSpec(o),
  setup: async (o: EquivariantSpec, ctx) => {
    await selectBackend({
      prefer: o.backend === 'auto' ? undefined : o.backend,
      strict: o.backend !== 'auto',
      log: ctx.log,
    });
    return equivariantData(o);
  },
  run: async (u: EquivariantUnit, env) => {
    const rec = await runTraining(u, env.state, env.spec, env);
    env.log(`equivariant: ${rec.id}: done in ${rec.seconds.toFixed(0)} s (${rec.cpuSeconds.toFixed(0)} CPU-s)`);
    return rec;
  },
  merge: async (units, o: EquivariantSpec, ctx): Promise<EquivariantResults> => {
    const records = units.map((u) => u.result as TrainingRecord);
    const table = tableOf(records, o.models, o.dataset);
    const figures = await writeEquivariantFigures(ctx.out, records, table, o);
    return {
      experiment: 'equivariant',
      command: recordedCommand(),
      dataset: o.dataset,
      datasetLabel: datasetLabel(o.dataset),
      settings: o,
      table,
      claims: checkEquivariantClaims(table, o.dataset),
      trainings: trainingSummaries(records),
      unitSeconds: records.reduce((s, r) => s + r.seconds, 0),
      unitCpuSeconds: records.reduce((s, r) => s + r.cpuSeconds, 0),
      records: records.map(({ reconstructions: _r, pca: _p, ...rest }) => rest),
      figures,
      finishedAt: new Date().toISOString(),
    };
  },
  report: async (r: EquivariantResults, _o, ctx) => void (await writeEquivariantReport(ctx.out, r)),
});

/** Options of {@link runEquivariantExperiment}: the spec and the rest of a run. */
export interface EquivariantExperimentOptions extends EquivariantSpec, Omit<ExperimentRunOptions, 'workers'> {}

/** The spec part of `o`. */
export function equivariantSpec(o: EquivariantExperimentOptions): EquivariantSpec {
  const {
    out: _o,
    shard: _s,
    summary: _m,
    log: _l,
    onProgress: _p,
    signal: _g,
    workerScript: _w,
    threads: _t,
    ...spec
  } = o;
  return spec;
}

/** Runs (this shard of) the experiment; the results when every unit is done, else null. */
export async function runEquivariantExperiment(o: EquivariantExperimentOptions): Promise<EquivariantResults | null> {
  return runToSummary(equivariantExperiment, equivariantSpec(o), o);
}
