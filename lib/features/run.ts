/**
 * A featurize run: one streaming pass over a data set (or one shard of it) into features.npy,
 * labels.npy, centers.npy and a meta.json sidecar (files and the done rule: run-files.ts).
 *
 * Steps: check the options; open the data set; build the Soap; the run's config (meta.ts); skip
 * when the same run is already done, refuse when the folder holds a run or shards of other
 * parameters; plan (exact row count, sampling plan, bytes: plan.ts); stream the features into
 * the sinks (sinks.ts); optionally fit the scaler; write the meta file last. On any failure or
 * abort the files this run started are removed and its meta file is not written, so a rerun
 * (resume) recomputes exactly the runs and shards that are not done.
 *
 * The run prints nothing: it reports through `onEvent` (the CLI turns events into lines and a
 * progress bar).
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultThreshold, imageToPoints, type ImageToPointsOptions } from '../data/image';
import { Soap, type DType } from '../soap/soap';
import { writeFileAtomic, removeQuietly } from '../util/atomic-file';
import type { ShardSpec } from '../util/shard';
import { UsageError } from '../util/usage-error';
import { featurize } from './featurize';
import {
  arrayFilesMeta,
  configDifference,
  META_FORMAT,
  META_FORMAT_VERSION,
  readMeta,
  soapixVersion,
  type RunConfig,
  type RunMeta,
} from './meta';
import { countPoints, planRun, type RunPlan } from './plan';
import {
  checkDone,
  ensureOutputDir,
  findShardMetas,
  removeIfPresent,
  runFileNames,
  SCALER_FILE,
  type RunFiles,
} from './run-files';
import { sampleCenters } from './sampling';
import { fitAndSaveScaler, MAX_SCALER_VALUES } from './scaler-file';
import { RunSinks } from './sinks';
import { datasetSha256, openDataset, type DatasetSpec } from './source';

/** Options of {@link runFeaturize}. */
export interface FeaturizeRunOptions extends DatasetSpec {
  rCut: number;
  nMax: number;
  lMax: number;
  sigma: number;
  rbf: 'gto' | 'polynomial';
  zScale: number;
  zRounding: 'floor' | 'none';
  /** Keep pixel values >= threshold; default: the smallest intensity with z > 0. */
  threshold?: number;
  /** Gaussian noise on every point (sigma; none when absent or 0), seeded with noiseSeed. */
  noise?: number;
  noiseSeed: number;
  /** SOAP at this many random (image, point) pairs (Algorithm 3), drawn with `seed`; default every point. */
  sample?: number;
  seed: number;
  /** Only the first `limit` images. */
  limit?: number;
  /** Only this shard of the images (contiguous ranges). */
  shard?: ShardSpec;
  /** Images per native call, or 'auto' (see autoBatchSize in plan.ts). */
  batchSize: number | 'auto';
  /** Threads per native call (0: all cores). */
  threads: number;
  dtype: DType;
  /** Fit the robust scaler on the features (unsharded runs only). */
  fitScaler: boolean;
  /** Recompute even when done, or when the folder holds a run of other parameters. */
  force: boolean;
  /** The output folder. */
  out: string;
}

/** What a run reports while it works. */
export type FeaturizeEvent =
  /** The run (or shard) is done already: nothing is computed. */
  | { kind: 'skipped'; dir: string; metaFile: string; shard: ShardSpec | undefined }
  /** Points of many images are being counted (sent for 100000 images or more). */
  | { kind: 'counting'; images: number }
  /** The folder's file system has less free space than the output needs. */
  | { kind: 'lowSpace'; dir: string; neededBytes: number; freeBytes: number }
  /** Planned; the files are about to be written. */
  | { kind: 'start'; dir: string; datasetName: string; length: number; featureCount: number; plan: RunPlan }
  /** After every native batch. */
  | { kind: 'progress'; images: number; rows: number; elapsedSeconds: number }
  /** Every row is written (the files are about to be committed). */
  | { kind: 'computed'; images: number; rows: number; elapsedSeconds: number }
  /** The scaler is being fitted. */
  | { kind: 'fittingScaler'; rows: number; featureCount: number };

/** Streams of a run besides its options. */
export interface FeaturizeRunIO {
  /** Stops the run; it then rejects and removes its files. */
  signal?: AbortSignal;
  /** Recorded in the meta (`run.argv`). */
  argv?: readonly string[];
  onEvent?: (event: FeaturizeEvent) => void;
}

export interface FeaturizeRunResult {
  /** True when the run or shard was already done and nothing was computed. */
  skipped: boolean;
  dir: string;
  /** Names of the run's files in `dir`. */
  files: RunFiles;
  meta: RunMeta;
}

/** Checks the option combinations that do not depend on the data. */
function checkOptions(o: FeaturizeRunOptions): void {
  if (o.fitScaler && o.shard) {
    throw new UsageError(
      '--fit-scaler fits on the whole data set, not on one shard: run the shards without it, then `soapix merge --fit-scaler`',
    );
  }
}

/** Image-to-points options, checked before any work. */
function imageOptions(o: FeaturizeRunOptions): ImageToPointsOptions {
  const image: ImageToPointsOptions = {
    zScale: o.zScale,
    zRounding: o.zRounding,
    ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
    ...(o.noise !== undefined && o.noise > 0 ? { displacement: { sigma: o.noise, seed: o.noiseSeed } } : {}),
  };
  try {
    imageToPoints({ pixels: [0], rows: 1, cols: 1 }, image);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^imageToPoints: /, ''));
  }
  return image;
}

/** Bytes free to an unprivileged user on the file system of `dir`, or undefined when unknown. */
async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const st = await fsp.statfs(dir);
    return st.bavail * st.bsize;
  } catch {
    return undefined;
  }
}

/**
 * Refuses when `dir` holds a finished run of other parameters under this run's names, or other
 * shards of the same count made with other parameters (merge would refuse them later). Returns
 * the meta of this very run when it is done and need not be recomputed.
 */
async function existingRun(
  o: FeaturizeRunOptions,
  dir: string,
  names: RunFiles,
  config: RunConfig,
): Promise<RunMeta | undefined> {
  const state = await checkDone(dir, names.meta);
  if (state.done) {
    const diff = configDifference(state.meta.config, config);
    if (diff === undefined && !o.force && (!o.fitScaler || state.meta.scaler !== null)) return state.meta;
    if (diff !== undefined && !o.force) {
      throw new UsageError(
        `${path.join(dir, names.meta)} holds a finished run with other parameters (${diff}); ` +
          'use another --out folder, or pass --force to replace it',
      );
    }
  }
  if (o.shard && !o.force) {
    const others = (await findShardMetas(dir)).get(o.shard.count) ?? [];
    for (const i of others) {
      if (i === o.shard.index) continue;
      const metaName = runFileNames({ index: i, count: o.shard.count }).meta;
      let other: RunMeta;
      try {
        other = await readMeta(path.join(dir, metaName));
      } catch {
        continue; // unreadable: that shard is not done and will be recomputed
      }
      const diff = configDifference(other.config, config);
      if (diff !== undefined) {
        throw new UsageError(
          `${path.join(dir, metaName)} was made with other parameters (${diff}); the shards of one --out folder must ` +
            'share all parameters: use another --out folder, or pass --force',
        );
      }
    }
  }
  return undefined;
}

/**
 * Runs a featurization into `o.out`. Resolves with the run's meta (also when the run was already
 * done and is skipped); rejects with an Error whose message is for the user (a UsageError for
 * bad options or data). On any failure or abort, the files this run started are removed, and its
 * meta file is not written.
 */
export async function runFeaturize(o: FeaturizeRunOptions, io: FeaturizeRunIO = {}): Promise<FeaturizeRunResult> {
  const emit = (e: FeaturizeEvent): void => io.onEvent?.(e);
  checkOptions(o);
  const dir = path.resolve(o.out);
  const names = runFileNames(o.shard);
  const image = imageOptions(o);

  const { ds, source } = await openDataset(o);
  const length = Math.min(ds.length, o.limit ?? ds.length);
  const channels = ds.channels;
  let soap: Soap;
  try {
    soap = new Soap({
      species: channels === 1 ? ['H'] : Array.from({ length: channels }, (_, c) => c + 1),
      rCut: o.rCut,
      nMax: o.nMax,
      lMax: o.lMax,
      sigma: o.sigma,
      rbf: o.rbf,
    });
  } catch (err) {
    throw new UsageError(`invalid SOAP parameters: ${(err as Error).message}`);
  }
  const featureCount = soap.featureCount;

  const config: RunConfig = {
    soap: { ...soap.options, featureCount },
    dataset: {
      kind: o.dataset,
      name: ds.name,
      split: o.dataset === 'mnist' || o.dataset === 'fashion-mnist' ? o.split : null,
      length,
      sourceLength: ds.length,
      limit: o.limit ?? null,
      rows: ds.rows,
      cols: ds.cols,
      channels,
      resize: o.resize ?? null,
      sha256: datasetSha256(ds, length),
    },
    image: {
      zScale: o.zScale,
      zRounding: o.zRounding,
      threshold: o.threshold ?? defaultThreshold(o.zScale, o.zRounding),
      noise: image.displacement ? { sigma: image.displacement.sigma, seed: image.displacement.seed } : null,
    },
    centers: o.sample !== undefined ? { mode: 'sample', count: o.sample, seed: o.seed } : { mode: 'all' },
    dtype: o.dtype,
  };

  await ensureOutputDir(dir);
  const done = await existingRun(o, dir, names, config);
  if (done) {
    emit({ kind: 'skipped', dir, metaFile: names.meta, shard: o.shard });
    return { skipped: true, dir, files: names, meta: done };
  }

  // Points per image (cheap: no conversion), hence the exact row count before any SOAP work.
  if (length >= 100000) emit({ kind: 'counting', images: length });
  const pointCounts = countPoints(ds, length, image);
  const plan = planRun({
    length,
    shard: o.shard,
    pointCounts,
    ...(o.sample !== undefined ? { sample: { count: o.sample, seed: o.seed } } : {}),
    featureCount,
    dtype: o.dtype,
    batchSize: o.batchSize,
  });
  const { start, end, samples, expectedRows } = plan;
  if (o.fitScaler && expectedRows * featureCount > MAX_SCALER_VALUES) {
    throw new UsageError(
      `--fit-scaler: the features will hold ${expectedRows} x ${featureCount} = ${expectedRows * featureCount} values, ` +
        `more than the ${MAX_SCALER_VALUES} (2^28) that are fitted in memory; fit on a random sample of centres ` +
        'instead (--sample T --seed S, e.g. --sample 120000 as in the paper)',
    );
  }
  const free = await freeBytes(dir);
  if (free !== undefined && free < plan.expectedBytes)
    emit({ kind: 'lowSpace', dir, neededBytes: plan.expectedBytes, freeBytes: free });
  emit({ kind: 'start', dir, datasetName: ds.name, length, featureCount, plan });

  // From here on the run writes files. Its old meta goes first: a meta file never describes
  // files of another run.
  const metaPath = path.join(dir, names.meta);
  await removeIfPresent(metaPath);
  if (o.fitScaler) await removeIfPresent(path.join(dir, SCALER_FILE));

  const internal = new AbortController();
  const onAbort = (): void => internal.abort(io.signal?.reason);
  io.signal?.addEventListener('abort', onAbort, { once: true });
  if (io.signal?.aborted) internal.abort(io.signal.reason);

  let sinks: RunSinks | undefined;
  let rows = 0;
  let emptyCount = 0;
  const emptyIndices: number[] = [];
  const noteEmpty = (i: number): void => {
    emptyCount++;
    if (emptyIndices.length < 1000) emptyIndices.push(i);
  };
  try {
    sinks = await RunSinks.create(dir, names, o.dtype, featureCount);
    const tRun = process.hrtime.bigint();
    const runSeconds = (): number => Number(process.hrtime.bigint() - tRun) / 1e9;

    if (samples) for (let i = start; i < end; i++) if (pointCounts[i] === 0) noteEmpty(i);
    for await (const r of featurize(ds, soap, {
      start,
      end,
      batchSize: plan.batchSize,
      image,
      dtype: o.dtype,
      threads: o.threads,
      signal: internal.signal,
      ...(samples ? { centers: sampleCenters(samples) } : {}),
      onProgress: (p) => emit({ kind: 'progress', images: p.done, rows: p.rows, elapsedSeconds: runSeconds() }),
    })) {
      if (!samples && r.numPoints === 0) noteEmpty(r.index);
      await sinks.writeImage(r.features.data, r.features.rows, r.label, r.index, r.pixelIndex);
      rows += r.features.rows;
    }
    if (internal.signal.aborted) throw internal.signal.reason ?? new Error('aborted');
    const images = end - start;
    if (rows !== expectedRows) {
      throw new Error(`internal error: ${rows} rows were computed, the point count pass expected ${expectedRows}`);
    }
    const runTime = runSeconds();
    emit({ kind: 'computed', images, rows, elapsedSeconds: runTime });
    await sinks.close();

    let scalerJson: RunMeta['scaler'] = null;
    if (o.fitScaler) {
      emit({ kind: 'fittingScaler', rows, featureCount });
      scalerJson = await fitAndSaveScaler(dir, names.features, rows, featureCount, sinks.committed);
    }

    const meta: RunMeta = {
      format: META_FORMAT,
      formatVersion: META_FORMAT_VERSION,
      soapixVersion: soapixVersion(),
      created: new Date().toISOString(),
      config,
      shard: o.shard ? { index: o.shard.index, count: o.shard.count, imageStart: start, imageEnd: end } : null,
      rows,
      images,
      emptyImages: { count: emptyCount, indices: emptyIndices },
      files: arrayFilesMeta(names, o.dtype, rows, featureCount),
      featureLabels: soap.featureLabels().map((l) => l.name),
      scaler: scalerJson,
      run: {
        seconds: runTime,
        imagesPerSecond: runTime > 0 ? images / runTime : null,
        threads: o.threads,
        batchSize: plan.batchSize,
        host: os.hostname(),
        node: process.version,
        argv: io.argv ?? null,
      },
      source,
    };
    if (internal.signal.aborted) throw internal.signal.reason ?? new Error('aborted');
    await writeFileAtomic(metaPath, JSON.stringify(meta, null, 2) + '\n');
    return { skipped: false, dir, files: names, meta };
  } catch (err) {
    internal.abort(err);
    await sinks?.discard();
    await removeQuietly(metaPath + '.partial');
    throw err;
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
  }
}
