/**
 * The CODAE experiment (docs/CODAE.md; docs/RESULTS.md, "CODAE (seed 003)"): CODAE, its ablation
 * without the moment loss and the baselines (spatial-VAE, β-VAE, DAE) trained on one data set
 * (XYRCS-like, dSprites-like or MNIST-RT: our generators, not the paper's files) with several
 * seeds, each evaluated on a test set with every factor known (codae-eval.ts).
 *
 * On the runner (docs/RUNNER.md): one unit per (model, seed), file units/<model>-seed<s>.json; each
 * process generates the data once. A unit trains the model for a fixed number of epochs (no early
 * stopping), saves it in models/<id>/, evaluates it, and writes arrays/<id>-aligned.npy (aligned
 * reconstructions of the showcase inputs), figures/<id>-traversal.png and figures/<id>-series.png.
 * The merge writes results.json, the figures and report.html (codae-report.ts).
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';

import { writeNpy } from '../io/npy';
import { selectBackend } from '../ml/backend';
import { writeImageGrid } from '../report/image-grid';
import type { FitCheckpoint } from '../ml/train/checkpoint';
import { checkCheckpointMinutes, checkpointedShare, secondsSince, trainingCheckpoint } from './common';
import { codaeData, CODAE_DATASETS, type CodaeData, type CodaeDatasetName } from './codae-data';
import { canonicalCodes, evaluateModel, type CodaeEvaluation } from './codae-eval';
import {
  CODAE_MODELS,
  makeExperimentModel,
  type CodaeModelName,
  type CodaeScale,
  type CodeMatrix,
  type ExperimentModel,
} from './codae-models';
import { summarizeCodae, writeCodaeFigures, writeCodaeReport, type CodaeResults } from './codae-report';
import { defineExperiment } from './definition';
import { runToSummary, type ExperimentRunOptions } from './runner';
import type { CodaeRecord, CodaeSpec, CodaeUnit } from './codae-types';

export type { CodaeRecord, CodaeSpec, CodaeUnit } from './codae-types';

/** Sizes of a full run (per data set) and of a --tiny one (docs/RESULTS.md gives the scale of the recorded runs). */
export const CODAE_DEFAULTS: Readonly<
  Record<CodaeDatasetName, Pick<CodaeSpec, 'trainImages' | 'testImages' | 'epochs'>>
> = Object.freeze({
  xyrcs: { trainImages: 8000, testImages: 2000, epochs: 10 },
  dsprites: { trainImages: 8000, testImages: 2000, epochs: 8 },
  mnist: { trainImages: 8000, testImages: 2000, epochs: 8 },
});
export const CODAE_SCALE: Readonly<CodaeScale> = Object.freeze({
  widths: [4, 8, 16],
  hidden: 64,
  decoderWidth: 64,
  pixelSubsample: 256,
  mlpWidth: 128,
  batchSize: 64,
  learningRate: 2e-3,
});
export const TINY_CODAE: Readonly<Pick<CodaeSpec, 'trainImages' | 'testImages' | 'epochs' | 'scale'>> = Object.freeze({
  trainImages: 96,
  testImages: 120,
  epochs: 1,
  scale: {
    widths: [2, 4, 4],
    hidden: 8,
    decoderWidth: 8,
    pixelSubsample: 64,
    mlpWidth: 16,
    batchSize: 32,
    learningRate: 2e-3,
  },
});

export function unitId(u: CodaeUnit): string {
  return `${u.model}-seed${u.seed}`;
}

/** Checks a spec before anything is written. */
export function checkCodaeSpec(s: CodaeSpec): void {
  if (!CODAE_DATASETS.includes(s.dataset))
    throw new RangeError(`unknown data set '${String(s.dataset)}'; known: ${CODAE_DATASETS.join(', ')}`);
  if (!Array.isArray(s.models) || s.models.length === 0 || !s.models.every((m) => CODAE_MODELS.includes(m))) {
    throw new RangeError(
      `models must be a non-empty list of ${CODAE_MODELS.join(', ')}, got ${JSON.stringify(s.models)}`,
    );
  }
  if (
    !Array.isArray(s.seeds) ||
    s.seeds.length === 0 ||
    !s.seeds.every((v) => Number.isSafeInteger(v) && v >= 0) ||
    new Set(s.seeds).size !== s.seeds.length
  ) {
    throw new RangeError(`seeds must be distinct integers >= 0, got ${JSON.stringify(s.seeds)}`);
  }
  if (!Number.isInteger(s.testImages) || s.testImages < 50)
    throw new RangeError(
      `--test-images must be at least 50 (the metrics and the 5-fold kNN need them), got ${s.testImages}`,
    );
  if (!Number.isInteger(s.trainImages) || s.trainImages < 2)
    throw new RangeError(`--train-images must be at least 2, got ${s.trainImages}`);
  if (s.checkpointMinutes !== undefined) checkCheckpointMinutes(s.checkpointMinutes);
}

/** Everything figures need that a unit saves next to its record. */
async function writeUnitFiles(
  model: ExperimentModel,
  data: CodaeData,
  codes: CodeMatrix,
  ev: CodaeEvaluation,
  out: string,
  id: string,
): Promise<CodaeRecord['files']> {
  const size = data.size;
  const P = size * size;
  const centre = (size - 1) / 2;
  const pick = (m: CodeMatrix, rows: number[]): CodeMatrix => {
    const d = new Float32Array(rows.length * m.cols);
    rows.forEach((r, i) => d.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
    return { data: d, rows: rows.length, cols: m.cols };
  };
  const show = pick(codes, data.showcase);
  const aligned = await model.decode(canonicalCodes(show, ev.poseColumns, centre, codes));
  const files = {
    model: path.join('models', id),
    aligned: path.join('arrays', `${id}-aligned.npy`),
    traversal: path.join('figures', `${id}-traversal.png`),
    series: path.join('figures', `${id}-series.png`),
  };
  await mkdir(path.join(out, 'arrays'), { recursive: true });
  await writeNpy(path.join(out, files.aligned), aligned.data, { shape: [aligned.count, size, size] });
  // Traversals: from the first showcase image, each code column through 7 values from its 5th to its 95th percentile.
  const steps = 7;
  const rows: Float32Array[] = [];
  for (let j = 0; j < codes.cols; j++) {
    const col = Float64Array.from({ length: codes.rows }, (_, i) => codes.data[i * codes.cols + j]!).sort();
    const lo = col[Math.floor(0.05 * (col.length - 1))]!;
    const hi = col[Math.floor(0.95 * (col.length - 1))]!;
    for (let s = 0; s < steps; s++) {
      const r = show.data.slice(0, codes.cols);
      r[j] = lo + ((hi - lo) * s) / (steps - 1);
      rows.push(r);
    }
  }
  const trav = { data: new Float32Array(rows.length * codes.cols), rows: rows.length, cols: codes.cols };
  rows.forEach((r, i) => trav.data.set(r, i * codes.cols));
  await writeImageGrid(path.join(out, files.traversal), await model.decode(trav), { columns: steps });
  // One object in 8 poses: the inputs, then their aligned reconstructions, object by object.
  const seriesCodes = await model.encode(data.series);
  const alignedSeries = await model.decode(canonicalCodes(seriesCodes, ev.poseColumns, centre, codes));
  const n = data.series.count;
  const grid = new Float32Array(2 * n * P);
  for (let g = 0; g * 8 < n; g++) {
    grid.set(data.series.data.subarray(g * 8 * P, (g + 1) * 8 * P), 2 * g * 8 * P);
    grid.set(alignedSeries.data.subarray(g * 8 * P, (g + 1) * 8 * P), (2 * g + 1) * 8 * P);
  }
  await writeImageGrid(
    path.join(out, files.series),
    { data: grid, count: 2 * n, height: size, width: size },
    { columns: 8 },
  );
  return files;
}

async function runUnit(
  u: CodaeUnit,
  data: CodaeData,
  s: CodaeSpec,
  out: string,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<CodaeRecord> {
  const t0 = process.hrtime.bigint();
  const id = unitId(u);
  const model = makeExperimentModel(u.model, data, s.scale, u.seed);
  let checkpoint: FitCheckpoint | null = null;
  try {
    checkpoint = trainingCheckpoint(out, id, s.checkpointMinutes);
    let last = performance.now();
    const history = await model.fit(data.train, {
      epochs: s.epochs,
      seed: u.seed,
      signal,
      ...(checkpoint ? { checkpoint } : {}),
      onEpoch: (l) => {
        if (performance.now() - last > 30_000 || l.epoch === s.epochs) {
          last = performance.now();
          log(
            `codae: ${id}: epoch ${l.epoch}/${s.epochs}, loss ${l.loss.toPrecision(4)} (${l.samplesPerSecond.toFixed(0)} images/s)`,
          );
        }
      },
    });
    // From the history, not this process's clocks: a resumed training counts its earlier part too.
    const epochs: CodaeRecord['epochs'] = history.epochs.map((l) => ({
      epoch: l.epoch,
      loss: l.loss,
      seconds: l.seconds,
    }));
    await model.save(path.join(out, 'models', id), {
      experiment: 'codae',
      dataset: s.dataset,
      seed: u.seed,
      trainImages: s.trainImages,
      epochs: s.epochs,
    });
    const { evaluation, codes } = await evaluateModel(model, data, u.seed);
    const files = await writeUnitFiles(model, data, codes, evaluation, out, id);
    const tf = await import('@tensorflow/tfjs');
    const record: CodaeRecord = {
      id,
      model: u.model,
      seed: u.seed,
      description: model.describe(),
      parameters: model.parameterCount,
      epochs,
      trainSeconds: history.seconds,
      trainCpuSeconds: history.cpuSeconds,
      backend: tf.getBackend(),
      ...evaluation,
      seconds: secondsSince(t0),
      files,
    };
    await checkpoint?.remove();
    return record;
  } finally {
    model.dispose();
  }
}

/** The experiment on the runner: one unit per (model, seed). */
export const codaeExperiment = defineExperiment({
  name: 'codae',
  module: __filename,
  unitNoun: 'trainings',
  settingNames: {
    dataset: '--dataset',
    trainImages: '--train-images',
    testImages: '--test-images',
    epochs: '--epochs',
    dataSeed: '--data-seed',
    scale: '--tiny or the network sizes',
  },
  settings: (s: CodaeSpec) => ({
    dataset: s.dataset,
    trainImages: s.trainImages,
    testImages: s.testImages,
    epochs: s.epochs,
    dataSeed: s.dataSeed,
    scale: { ...s.scale, widths: [...s.scale.widths] },
  }),
  units: (s: CodaeSpec) => s.models.flatMap((model) => s.seeds.map((seed) => ({ model, seed }))),
  unitId: (u: CodaeUnit) => unitId(u),
  cost: (u: CodaeUnit) => (u.model.startsWith('codae') ? 4 : u.model === 'spatial-vae' ? 3 : 1),
  resumedShare: (u: CodaeUnit, s: CodaeSpec, out: string) =>
    checkpointedShare(out, [{ name: unitId(u), epochs: s.epochs }]),
  validate: (s: CodaeSpec) => checkCodaeSpec(s),
  setup: async (s: CodaeSpec, ctx) => {
    await selectBackend({
      prefer: s.backend === 'auto' ? undefined : s.backend,
      strict: s.backend !== 'auto',
      log: ctx.log,
    });
    return codaeData(s.dataset, { trainImages: s.trainImages, testImages: s.testImages, dataSeed: s.dataSeed });
  },
  run: async (u: CodaeUnit, env) => {
    const r = await runUnit(u, env.state, env.spec, env.out, env.log, env.signal);
    env.log(
      `codae: ${r.id}: mean score ${(r.totalWithPose / 8).toFixed(3)} with x, y, θ, ${(r.totalWithoutPose / 8).toFixed(3)} without; |r| x ${r.pose.absRx.toFixed(3)}, y ${r.pose.absRy.toFixed(3)}; ` +
        `kNN ${r.content.knnAccuracy.toFixed(3)} (${r.trainSeconds.toFixed(0)} s training)`,
    );
    return r;
  },
  merge: async (units, s: CodaeSpec, ctx): Promise<CodaeResults> => {
    const records = units.map((u) => u.result as CodaeRecord);
    const results = summarizeCodae(records, s);
    results.figures = await writeCodaeFigures(results, ctx.out);
    return results;
  },
  report: async (r: CodaeResults, _s, ctx) => void (await writeCodaeReport(ctx.out, r)),
});

/** Options of {@link runCodaeExperiment}. */
export interface CodaeExperimentOptions extends CodaeSpec, Omit<ExperimentRunOptions, 'threads' | 'workers'> {}

/** Runs (this shard of) the experiment; the results when every unit is done, else null. */
export async function runCodaeExperiment(o: CodaeExperimentOptions): Promise<CodaeResults | null> {
  const { out: _o, shard: _s, summary: _m, log: _l, onProgress: _p, signal: _g, workerScript: _w, ...spec } = o;
  return runToSummary(codaeExperiment, spec, o);
}
