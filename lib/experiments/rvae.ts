/**
 * The rVAE experiment (Ziatdinov & Kalinin's rVAE essay; docs/RVAE.md, docs/RESULTS.md): the plain
 * VAE, the conditional VAE, the rVAE (optionally with translation) and the class-conditioned rVAE
 * trained on the notebook's rotated MNIST, their codes scored against the true angle and digit,
 * and the essay's figures.
 *
 * Data: the first `trainImages` MNIST training images, each turned by an integer angle uniform in
 * [-60°, 60°] (`--angles 60`, the notebook's set, `ROTATED_60`) or [-180°, 180°] (`--angles 180`),
 * bilinear, seed `dataSeed`; the first `testImages` test images turned the same way (seed
 * dataSeed + 1); the first `seriesDigits` test digits each turned through `seriesAngles` angles
 * (the invariance ratio).
 *
 * On the runner (runner.ts, docs/RUNNER.md): one unit per (model, seed), most costly first; each
 * process builds the data once. A unit trains the model, saves it to models/<id>/, evaluates the
 * -ELBO on training and test images, scores the test codes (`evaluateRvaeCodes`, the library
 * function other experiments reuse), measures how aligned its decoded digits are, and renders its
 * figures into figures/. The merge writes results.json (per-model summary over seeds, the issue's
 * aims and the essay's claims), the training-curve figure and report.html.
 */
import * as path from 'node:path';

import { augmentImages, rotationSeries, ROTATED_60, type AugmentedImages, type ImageBatch } from '../data/augment';
import { mnistDataset } from '../data/datasets';
import { selectBackend } from '../ml/backend';
import { orientationSpread } from '../ml/metrics/orientation';
import { MAX_TRAIN_ACTIVATIONS, Rvae } from '../ml/models/rvae';
import { evaluateRvaeCodes } from '../ml/models/rvae-codes';
import { RVAE_MODELS, resolveRvaeOptions, type RvaeModelName, type RvaeOptions } from '../ml/models/rvae-config';
import type { FitCheckpoint } from '../ml/train/checkpoint';
import { checkpointedShare, trainingCheckpoint } from './common';
import { renderFigure } from '../report/figures';
import { UsageError } from '../util/usage-error';
import { defineExperiment } from './definition';
import {
  angleScatterSpec,
  imageRowsFigure,
  latentScatterSpec,
  manifoldCodes,
  manifoldFigure,
  trainingLossSpec,
} from './rvae-figures';
import {
  checkRvaeAims,
  checkRvaeClaims,
  lossOverrides,
  RVAE_EXPERIMENT_MODELS,
  RVAE_MODEL_LABEL,
  summarizeRvae,
  writeRvaeReport,
  type RvaeOrientation,
  type RvaeRecord,
  type RvaeResults,
  type RvaeSpec,
  type RvaeUnit,
} from './rvae-results';
import { runToSummary, type ExperimentRunOptions } from './runner';
import { recordedCommand } from './command-line';

export * from './rvae-results';

/** Whether a model of the family uses the coordinate (spatial) decoder. */
export function isSpatialModel(m: RvaeModelName): boolean {
  return (RVAE_MODELS[m] as RvaeOptions).rotation === true || (RVAE_MODELS[m] as RvaeOptions).translation === true;
}

/** The options of `new Rvae(...)` for one unit. */
export function rvaeUnitOptions(spec: RvaeSpec, u: RvaeUnit): RvaeOptions {
  const spatial = isSpatialModel(u.model);
  return {
    ...RVAE_MODELS[u.model],
    latentDim: spec.latentDim,
    encoderWidth: spec.width,
    decoderWidth: spec.width,
    batchSize: spec.batch,
    learningRate: spec.learningRate,
    // The dense decoder computes every pixel anyway: subsampling would only add noise there.
    pixelSubsample: spatial ? spec.pixels : 0,
    ...lossOverrides(spec),
    seed: u.seed,
  };
}

export function rvaeUnitId(u: RvaeUnit): string {
  return `${u.model}-seed${u.seed}`;
}

/** Every (model, seed), models in the order given. */
export function rvaeUnits(spec: Pick<RvaeSpec, 'models' | 'seeds'>): RvaeUnit[] {
  return spec.models.flatMap((model) => spec.seeds.map((seed) => ({ model, seed })));
}

/** The angle range in degrees of a run. */
function angleRange(spec: Pick<RvaeSpec, 'angles'>): [number, number] {
  return [-spec.angles, spec.angles];
}

/** The angles (degrees) every series digit is turned through: evenly over the range, without repeating a full turn. */
export function seriesDegrees(angles: number, k: number): number[] {
  if (angles >= 180) return Array.from({ length: k }, (_, j) => -180 + (360 * j) / k);
  return Array.from({ length: k }, (_, j) => -angles + (2 * angles * j) / (k - 1));
}

/** Checks the spec; throws a UsageError naming the flag. */
export function checkRvaeSpec(s: RvaeSpec): void {
  const int = (v: number, lo: number, hi: number, flag: string): void => {
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw new UsageError(`${flag} must be an integer in [${lo}, ${hi}], got ${v}`);
  };
  if (s.models.length === 0) throw new UsageError('--models must name at least one model');
  for (const m of s.models)
    if (!RVAE_EXPERIMENT_MODELS.includes(m))
      throw new UsageError(`--models: unknown model '${m}'; known: ${RVAE_EXPERIMENT_MODELS.join(', ')}`);
  if (s.seeds.length === 0 || new Set(s.seeds).size !== s.seeds.length)
    throw new UsageError('--seeds must be distinct integers');
  for (const seed of s.seeds) int(seed, 0, 2 ** 31 - 1, '--seeds');
  if (s.angles !== 60 && s.angles !== 180) throw new UsageError(`--angles must be 60 or 180, got ${String(s.angles)}`);
  int(s.trainImages, 10, 60000, '--train-images');
  int(s.testImages, 20, 10000, '--test-images');
  int(s.evalTrainImages, 1, s.trainImages, '--eval-train-images');
  int(s.epochs, 1, 100000, '--epochs');
  int(s.denseEpochs, 1, 100000, '--dense-epochs');
  int(s.width, 1, 4096, '--width');
  int(s.pixels, 0, 784, '--pixels');
  int(s.batch, 1, s.trainImages, '--batch');
  int(s.latentDim, 2, 64, '--latent-dim');
  int(s.seriesDigits, 1, 10000, '--series-digits');
  int(s.seriesAngles, 2, 360, '--series-angles');
  int(s.dataSeed, 0, 2 ** 31 - 1, '--data-seed');
  int(s.manifoldSize, 2, 40, '--manifold-size');
  if (!(s.learningRate > 0 && s.learningRate < 1))
    throw new UsageError(`--learning-rate must be in (0, 1), got ${s.learningRate}`);
  for (const u of rvaeUnits(s)) {
    try {
      resolveRvaeOptions(rvaeUnitOptions(s, u));
    } catch (err) {
      throw new UsageError(`${u.model}: ${(err as Error).message}`);
    }
    if (isSpatialModel(u.model)) {
      const act = s.batch * (s.pixels || 784) * s.width;
      if (act > MAX_TRAIN_ACTIVATIONS) {
        throw new UsageError(
          `--batch ${s.batch} x ${s.pixels || 784} pixels x --width ${s.width} is more than one training step of the coordinate decoder can hold ` +
            `(${MAX_TRAIN_ACTIVATIONS} activations): use --batch ${Math.floor(MAX_TRAIN_ACTIVATIONS / ((s.pixels || 784) * s.width))} or less, --pixels, or a smaller --width`,
        );
      }
    }
  }
}

/** The data of a run, built once per process. */
export interface RvaeData {
  backend: string;
  train: AugmentedImages;
  test: AugmentedImages;
  series: AugmentedImages;
  /** The first test images unrotated, and their orientation spreads (the same for every model). */
  inputs: OrientationRefs;
}

interface OrientationRefs {
  count: number;
  inputs: RvaeOrientation['inputs'];
  originals: RvaeOrientation['originals'];
}

/** Images of the orientation measurements (the first test images). */
const ORIENTATION_IMAGES = 1000;

/** The rotated training and test sets and the rotation series of a spec. */
export function rvaeData(spec: RvaeSpec): Omit<RvaeData, 'backend'> {
  const angles = angleRange(spec);
  const rotation = { ...ROTATED_60, angles };
  const trainDs = mnistDataset('train');
  const testDs = mnistDataset('test');
  const train = augmentImages(trainDs, { ...rotation, seed: spec.dataSeed, count: spec.trainImages });
  const test = augmentImages(testDs, { ...rotation, seed: spec.dataSeed + 1, count: spec.testImages });
  const series = rotationSeries(testDs, {
    degrees: seriesDegrees(spec.angles, spec.seriesAngles),
    count: spec.seriesDigits,
    interpolation: rotation.interpolation,
  });
  const count = Math.min(ORIENTATION_IMAGES, test.count);
  const originals = augmentImages(testDs, { angles: [0, 0], seed: 0, count });
  return {
    train,
    test,
    series,
    inputs: { count, inputs: orientationSpread(firstImages(test, count)), originals: orientationSpread(originals) },
  };
}

function firstImages<T extends ImageBatch>(b: T, count: number): ImageBatch {
  return { data: b.data.subarray(0, count * b.height * b.width), count, height: b.height, width: b.width };
}

function subset(b: AugmentedImages, count: number): AugmentedImages {
  const n = b.height * b.width;
  return {
    ...b,
    data: b.data.subarray(0, count * n),
    count,
    labels: b.labels.subarray(0, count),
    angles: b.angles.subarray(0, count),
    mirrored: b.mirrored.subarray(0, count),
    shifts: b.shifts.subarray(0, 2 * count),
    source: b.source.subarray(0, count),
  };
}

function cpuSecondsSince(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

/** The decoded manifold of a model: one grid, or one per class 0..min(classes, 3)-1 of a conditional model. */
async function decodeManifolds(model: Rvae, size: number): Promise<{ label: number | null; images: ImageBatch }[]> {
  const z = manifoldCodes(size, model.latentDim);
  const classes = model.options.classes ? Math.min(3, model.options.classes) : 0;
  if (classes === 0) return [{ label: null, images: await model.decode(z) }];
  const out: { label: number; images: ImageBatch }[] = [];
  for (let c = 0; c < classes; c++)
    out.push({ label: c, images: await model.decode(z, { labels: new Int32Array(z.rows).fill(c) }) });
  return out;
}

/** Concatenates image batches of one size. */
function concatImages(batches: readonly ImageBatch[]): ImageBatch {
  const { height, width } = batches[0]!;
  const count = batches.reduce((s, b) => s + b.count, 0);
  const data = new Float32Array(count * height * width);
  let at = 0;
  for (const b of batches) {
    data.set(b.data, at);
    at += b.data.length;
  }
  return { data, count, height, width };
}

/** Trains, saves, evaluates and draws one (model, seed). */
async function runRvaeUnit(
  u: RvaeUnit,
  spec: RvaeSpec,
  data: RvaeData,
  out: string,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<RvaeRecord> {
  const id = rvaeUnitId(u);
  const spatial = isSpatialModel(u.model);
  const epochs = spatial ? spec.epochs : spec.denseEpochs;
  const model = new Rvae(rvaeUnitOptions(spec, u));
  let checkpoint: FitCheckpoint | null = null;
  try {
    log(
      `rvae: ${id}: ${model.describe()}; ${model.parameterCount} parameters; ${data.train.count} images x ${epochs} epochs`,
    );
    checkpoint = trainingCheckpoint(out, id, spec.checkpointMinutes);
    let tEpoch = performance.now();
    const history = await model.fit(data.train, {
      epochs,
      signal,
      ...(checkpoint ? { checkpoint } : {}),
      onEpoch: (e) => {
        const now = performance.now();
        log(
          `rvae: ${id}: epoch ${e.epoch}/${epochs}, loss ${e.loss.toFixed(2)} (beta ${e.beta}), ${((now - tEpoch) / 1000).toFixed(1)} s`,
        );
        tEpoch = now;
      },
    });
    const training = {
      epochs,
      imageSteps: data.train.count * epochs,
      loss: history.epochs.map((e) => e.loss),
      // Over every process that ran the training (a resumed one counts its earlier part).
      seconds: history.seconds,
      cpuSeconds: history.cpuSeconds,
    };
    const modelDir = path.join('models', id);
    await model.save(path.join(out, modelDir), {
      extra: {
        experiment: 'rvae',
        model: u.model,
        seed: u.seed,
        angles: spec.angles,
        trainImages: spec.trainImages,
        dataSeed: spec.dataSeed,
        epochs,
      },
    });

    // Evaluation runs for minutes at full scale: stop between its steps when the run is aborted.
    signal.throwIfAborted();
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const beta = model.options.beta;
    const elbo = {
      train: model.evaluate(subset(data.train, spec.evalTrainImages), { beta, seed: u.seed }),
      test: model.evaluate(data.test, { beta, seed: u.seed }),
    };
    signal.throwIfAborted();
    const { metrics, encoding } = await evaluateRvaeCodes(model, data.test, {
      series: { images: data.series, groupSize: spec.seriesAngles },
      seed: u.seed,
    });
    // Orientation: the first test images decoded from their content codes at angle 0 (no shift).
    const n = data.inputs.count;
    const zFirst = { data: encoding.z.data.subarray(0, n * encoding.z.cols), rows: n, cols: encoding.z.cols };
    const labels = model.options.classes ? data.test.labels.subarray(0, n) : undefined;
    const canonical = await model.decode(zFirst, { labels });
    const pose = {
      ...(model.options.rotation ? { angle: encoding.angle.subarray(0, n) } : {}),
      ...(model.options.translation ? { shift: encoding.shift.subarray(0, 2 * n) } : {}),
    };
    const reconstructions =
      model.options.rotation || model.options.translation ? await model.decode(zFirst, { labels, ...pose }) : canonical;
    const manifolds = await decodeManifolds(model, spec.manifoldSize);
    const orientation: RvaeOrientation = {
      manifold: orientationSpread(concatImages(manifolds.map((m) => m.images))),
      canonical: orientationSpread(canonical),
      reconstructions: orientationSpread(reconstructions),
      inputs: data.inputs.inputs,
      originals: data.inputs.originals,
    };
    signal.throwIfAborted();
    const figures = await drawUnitFigures(model, u, spec, data, encoding, manifolds, out);
    const evaluation = { seconds: (performance.now() - t1) / 1000, cpuSeconds: cpuSecondsSince(c1) };
    const a = metrics.angle;
    log(
      `rvae: ${id}: -ELBO train ${elbo.train.negativeElbo.toFixed(2)}, test ${elbo.test.negativeElbo.toFixed(2)}; ` +
        (a ? `angle |r| ${a.absR.toFixed(3)}, slope ${a.slope.toFixed(3)}; ` : '') +
        `largest content |r| ${metrics.leakage.max.toFixed(3)}; kNN ${metrics.knn.accuracy.toFixed(3)}, k-means ${metrics.kmeans.accuracy.toFixed(3)}; ` +
        `training ${training.seconds.toFixed(0)} s (${training.cpuSeconds.toFixed(0)} core-s)`,
    );
    await checkpoint?.remove();
    return {
      id,
      ...u,
      description: model.describe(),
      options: { ...model.options },
      parameters: model.parameterCount,
      backend: data.backend,
      training,
      elbo,
      metrics,
      orientation,
      evaluation,
      modelDir,
      figures,
    };
  } finally {
    model.dispose();
  }
}

/** The unit's figures (paths relative to `out`): latent scatter, encoded angle, manifold, reconstructions. */
async function drawUnitFigures(
  model: Rvae,
  u: RvaeUnit,
  spec: RvaeSpec,
  data: RvaeData,
  encoding: Awaited<ReturnType<Rvae['encode']>>,
  manifolds: { label: number | null; images: ImageBatch }[],
  out: string,
): Promise<string[]> {
  const id = rvaeUnitId(u);
  const name = RVAE_MODEL_LABEL[u.model];
  const files: string[] = [];
  const draw = async (spec_: Record<string, unknown>, what: string): Promise<void> => {
    const base = path.join('figures', `${id}-${what}`);
    await renderFigure(spec_, path.join(out, base));
    files.push(`${base}.png`);
  };
  const test = data.test;
  const count = Math.min(spec.scatterPoints, test.count);
  const z = encoding.z;
  const deg = (r: number): number => (r * 180) / Math.PI;
  const points = Array.from({ length: count }, (_, i) => ({
    z1: z.data[i * z.cols],
    z2: z.data[i * z.cols + 1],
    angle: Math.round(deg(test.angles[i])),
    digit: test.labels[i],
  }));
  await draw(latentScatterSpec(points, `${name}: content latents of ${count} test images`, spec.angles), 'latents');
  if (model.options.rotation) {
    const pts = Array.from({ length: count }, (_, i) => ({
      truth: Math.round(deg(test.angles[i])),
      encoded: Number(deg(encoding.angle[i]).toFixed(2)),
    }));
    await draw(angleScatterSpec(pts, `${name}: encoded vs true angle`), 'angle');
  }
  const panels = await Promise.all(
    manifolds.map((m) =>
      manifoldFigure(
        m.images,
        spec.manifoldSize,
        m.label === null
          ? `${name}: decoded latent manifold${model.options.rotation ? ' (angle 0)' : ''}`
          : `${name}, digit ${m.label}`,
      ),
    ),
  );
  await draw(
    panels.length === 1
      ? panels[0]!
      : {
          hconcat: panels,
          title: `${name}: decoded latent manifold per class${model.options.rotation ? ' (angle 0)' : ''}`,
        },
    'manifold',
  );
  // Reconstructions: the first test image of every digit; rows: input, reconstruction, and for a model with an angle its upright decode.
  const picks: number[] = [];
  for (let d = 0; d < 10; d++) {
    const i = test.labels.findIndex((l) => l === d);
    if (i >= 0) picks.push(i);
  }
  const P = test.height * test.width;
  const sel = (idx: readonly number[]): ImageBatch & { labels: Int32Array } => {
    const out_ = new Float32Array(idx.length * P);
    idx.forEach((i, k) => out_.set(test.data.subarray(i * P, (i + 1) * P), k * P));
    return {
      data: out_,
      count: idx.length,
      height: test.height,
      width: test.width,
      labels: Int32Array.from(idx, (i) => test.labels[i]),
    };
  };
  const inputs = sel(picks);
  const enc = await model.encode(inputs, { labels: inputs.labels });
  const labels = model.options.classes ? inputs.labels : undefined;
  const recon = await model.decode(enc.z, {
    labels,
    ...(model.options.rotation ? { angle: enc.angle } : {}),
    ...(model.options.translation ? { shift: enc.shift } : {}),
  });
  const rows = [inputs, recon];
  if (model.options.rotation) rows.push(await model.decode(enc.z, { labels }));
  await draw(
    await imageRowsFigure(
      concatImages(rows),
      picks.length,
      `${name}: reconstructions of test digits`,
      model.options.rotation ? 'rows: input, reconstruction, decoded at angle 0' : 'rows: input, reconstruction',
    ),
    'reconstructions',
  );
  return files;
}

/** The experiment on the runner: one unit per (model, seed). */
export const rvaeExperiment = defineExperiment({
  name: 'rvae',
  module: __filename,
  unitNoun: 'trainings',
  settingNames: {
    angles: '--angles',
    trainImages: '--train-images',
    testImages: '--test-images',
    evalTrainImages: '--eval-train-images',
    epochs: '--epochs',
    denseEpochs: '--dense-epochs',
    width: '--width',
    pixels: '--pixels',
    batch: '--batch',
    learningRate: '--learning-rate',
    beta: '--beta',
    anglePrior: '--angle-prior',
    angleKl: '--angle-kl',
    latentDim: '--latent-dim',
    seriesDigits: '--series-digits',
    seriesAngles: '--series-angles',
    dataSeed: '--data-seed',
    manifoldSize: '--manifold-size',
  },
  /** What a unit's result depends on besides its model and seed (more models or seeds can be added to a folder). */
  settings: (s: RvaeSpec) => ({
    angles: s.angles,
    trainImages: s.trainImages,
    testImages: s.testImages,
    evalTrainImages: s.evalTrainImages,
    epochs: s.epochs,
    denseEpochs: s.denseEpochs,
    width: s.width,
    pixels: s.pixels,
    batch: s.batch,
    learningRate: s.learningRate,
    ...lossOverrides(s),
    latentDim: s.latentDim,
    seriesDigits: s.seriesDigits,
    seriesAngles: s.seriesAngles,
    dataSeed: s.dataSeed,
    manifoldSize: s.manifoldSize,
  }),
  units: (s: RvaeSpec) => rvaeUnits(s),
  unitId: (u: RvaeUnit) => rvaeUnitId(u),
  // The coordinate decoder costs far more per image than the dense one (docs/RVAE.md, "Speed"): those units start first.
  cost: (u: RvaeUnit) => (isSpatialModel(u.model) ? 10 : 1),
  resumedShare: (u: RvaeUnit, s: RvaeSpec, out: string) =>
    checkpointedShare(out, [{ name: rvaeUnitId(u), epochs: isSpatialModel(u.model) ? s.epochs : s.denseEpochs }]),
  validate: (s: RvaeSpec) => checkRvaeSpec(s),
  setup: async (s: RvaeSpec, ctx): Promise<RvaeData> => {
    const backend = await selectBackend({
      prefer: s.backend === 'auto' ? undefined : s.backend,
      strict: s.backend !== 'auto',
      log: ctx.log,
    });
    const t = performance.now();
    const d = rvaeData(s);
    ctx.log(
      `rvae: data: ${d.train.count} training, ${d.test.count} test images (±${s.angles}°), ${d.series.count} series images; ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    return { backend: backend.summary, ...d };
  },
  run: async (u: RvaeUnit, env) => runRvaeUnit(u, env.spec, env.state, env.out, env.log, env.signal),
  merge: async (units, s: RvaeSpec, ctx): Promise<RvaeResults> => {
    const records = units.map((x) => x.result as RvaeRecord);
    const summaries = summarizeRvae(records);
    await renderFigure(
      trainingLossSpec(records.map((r) => ({ id: r.id, loss: r.training.loss }))),
      path.join(ctx.out, 'training'),
    );
    const { models, seeds, ...settings } = s;
    return {
      experiment: 'rvae',
      command: recordedCommand(),
      settings,
      models: [...models],
      seeds: [...seeds],
      summaries,
      aims: checkRvaeAims(summaries, s.angles),
      claims: checkRvaeClaims(summaries, s.angles),
      records,
      figures: ['training.png'],
      finishedAt: new Date().toISOString(),
    };
  },
  report: async (r: RvaeResults, _s, ctx) => void (await writeRvaeReport(ctx.out, r)),
});

/** Options of {@link runRvaeExperiment}: the spec and the rest of the run. */
export interface RvaeExperimentOptions extends RvaeSpec, Omit<ExperimentRunOptions, 'threads' | 'workers'> {}

/** Runs (this shard of) the experiment; resolves with the results when every unit is done, else null. */
export async function runRvaeExperiment(o: RvaeExperimentOptions): Promise<RvaeResults | null> {
  const { out: _o, shard: _s, summary: _m, log: _l, onProgress: _p, signal: _g, workerScript: _w, ...spec } = o;
  return runToSummary(rvaeExperiment, spec, o);
}
