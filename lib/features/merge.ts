/**
 * Merging the n shards of an output folder into one run: features.npy, labels.npy, centers.npy
 * and meta.json, streamed (memory does not grow with the data), optionally fitting the robust
 * scaler on the merged features. Refuses unless all n shards are done (run-files.ts) and share
 * every parameter, and their image ranges are those of shards 1..n of one data set; the merged
 * arrays are then byte-identical to an unsharded run's.
 */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { npyItemSize, readNpyChunks } from '../io/npy';
import { writeFileAtomic, removeQuietly } from '../util/atomic-file';
import { shardRange } from '../util/shard';
import { UsageError } from '../util/usage-error';
import {
  ARRAY_KINDS,
  arrayFilesMeta,
  configDifference,
  META_FORMAT,
  META_FORMAT_VERSION,
  soapixVersion,
  type RunMeta,
} from './meta';
import { checkDone, findShardMetas, removeIfPresent, runFileNames, SCALER_FILE, type RunFiles } from './run-files';
import { fitAndSaveScaler, MAX_SCALER_VALUES } from './scaler-file';
import { RunSinks } from './sinks';

export interface MergeOptions {
  /** The output folder of the shards. */
  out: string;
  /** n, when the folder holds shards of several shard counts. */
  shards?: number;
  fitScaler: boolean;
  /** Merge again even when the merged files are done. */
  force: boolean;
  /** Delete the shard files after a successful merge. */
  removeShards: boolean;
}

/** What a merge reports while it works. */
export type MergeEvent =
  | { kind: 'skipped'; dir: string; metaFile: string; rows: number }
  | { kind: 'start'; dir: string; shards: number; rows: number; featureCount: number; dtype: 'float32' | 'float64' }
  | { kind: 'shard'; index: number; count: number; rows: number }
  | { kind: 'fittingScaler'; rows: number; featureCount: number };

export interface MergeIO {
  signal?: AbortSignal;
  /** Recorded in the meta (`run.argv`). */
  argv?: readonly string[];
  onEvent?: (event: MergeEvent) => void;
}

export interface MergeResult {
  skipped: boolean;
  dir: string;
  /** Names of the merged files in `dir`. */
  files: RunFiles;
  /** Shards merged (n). */
  shards: number;
  meta: RunMeta;
}

/** Bytes per chunk when streaming a shard's array into the merged file. */
const CHUNK_BYTES = 8 * 1024 * 1024;

/** The shard count to merge: `shards` when given, else the only one the folder holds. */
async function shardCount(dir: string, out: string, shards: number | undefined): Promise<number> {
  if (shards !== undefined) return shards;
  const found = await findShardMetas(dir);
  if (found.size === 0) {
    throw new UsageError(
      `${dir} holds no shard meta files (meta.shard-i-of-n.json): run \`soapix featurize ... --shard i/n --out ${out}\` for i = 1..n first`,
    );
  }
  if (found.size > 1) {
    const list = [...found.keys()].sort((a, b) => a - b).map((k) => `${k} (shards ${found.get(k)!.join(', ')})`);
    throw new UsageError(
      `${dir} holds shards of several shard counts: n = ${list.join('; ')}; pick one with --shards N`,
    );
  }
  return [...found.keys()][0]!;
}

/** The metas of shards 1..n, checked: all done, one config, the image ranges of one split. */
async function shardMetas(dir: string, out: string, n: number): Promise<RunMeta[]> {
  const metas: RunMeta[] = [];
  const missing: string[] = [];
  for (let i = 1; i <= n; i++) {
    const state = await checkDone(dir, runFileNames({ index: i, count: n }).meta);
    if (state.done) metas.push(state.meta);
    else missing.push(`${i}/${n} (${state.reason})`);
  }
  if (missing.length > 0) {
    throw new UsageError(
      `${missing.length} of ${n} shards in ${dir} are not done: ${missing.slice(0, 10).join('; ')}` +
        `${missing.length > 10 ? `; and ${missing.length - 10} more` : ''}. ` +
        `Run (or rerun) \`soapix featurize ... --shard i/${n} --out ${out}\` for them; finished shards are skipped`,
    );
  }
  const first = metas[0]!;
  for (let k = 1; k < metas.length; k++) {
    const diff = configDifference(first.config, metas[k]!.config);
    if (diff !== undefined) {
      throw new UsageError(
        `shard ${k + 1}/${n} was made with other parameters than shard 1/${n} (${diff}); all shards must share every parameter`,
      );
    }
  }
  for (let k = 0; k < metas.length; k++) {
    const m = metas[k]!;
    const want = shardRange(first.config.dataset.length, { index: k + 1, count: n });
    if (
      !m.shard ||
      m.shard.index !== k + 1 ||
      m.shard.count !== n ||
      m.shard.imageStart !== want.start ||
      m.shard.imageEnd !== want.end
    ) {
      throw new UsageError(
        `${runFileNames({ index: k + 1, count: n }).meta} covers images ${m.shard?.imageStart}..${m.shard?.imageEnd} ` +
          `but shard ${k + 1}/${n} of ${first.config.dataset.length} images is ${want.start}..${want.end}`,
      );
    }
  }
  return metas;
}

/** Merges the shards of `o.out`. Rejects with a user-facing Error; removes what it started on failure. */
export async function mergeShards(o: MergeOptions, io: MergeIO = {}): Promise<MergeResult> {
  const t0 = process.hrtime.bigint();
  const seconds = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
  const emit = (e: MergeEvent): void => io.onEvent?.(e);
  const dir = path.resolve(o.out);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`folder ${dir} does not exist`);

  const n = await shardCount(dir, o.out, o.shards);
  const metas = await shardMetas(dir, o.out, n);
  const first = metas[0]!;
  let totalRows = 0;
  let totalImages = 0;
  for (const m of metas) {
    totalRows += m.rows;
    totalImages += m.images;
  }
  const cols = first.config.soap.featureCount;
  const dtype = first.config.dtype;
  const names = runFileNames(undefined);

  const existing = await checkDone(dir, names.meta);
  if (
    existing.done &&
    !o.force &&
    configDifference(existing.meta.config, first.config) === undefined &&
    existing.meta.rows === totalRows &&
    (!o.fitScaler || existing.meta.scaler !== null)
  ) {
    emit({ kind: 'skipped', dir, metaFile: names.meta, rows: totalRows });
    return { skipped: true, dir, files: names, shards: n, meta: existing.meta };
  }
  if (o.fitScaler && totalRows * cols > MAX_SCALER_VALUES) {
    throw new UsageError(
      `merge --fit-scaler: the merged features hold ${totalRows} x ${cols} = ${totalRows * cols} values, more than the ` +
        `${MAX_SCALER_VALUES} (2^28) that are fitted in memory; featurize a random sample of centres instead ` +
        '(soapix featurize --sample T --seed S, e.g. --sample 120000 as in the paper) and fit on that',
    );
  }

  emit({ kind: 'start', dir, shards: n, rows: totalRows, featureCount: cols, dtype });
  const metaPath = path.join(dir, names.meta);
  await removeIfPresent(metaPath);
  if (o.fitScaler) await removeIfPresent(path.join(dir, SCALER_FILE));

  let sinks: RunSinks | undefined;
  try {
    sinks = await RunSinks.create(dir, names, dtype, cols);
    const empty = { count: 0, indices: [] as number[] };
    for (let k = 0; k < metas.length; k++) {
      const m = metas[k]!;
      for (const kind of ARRAY_KINDS) {
        const f = m.files[kind];
        const rowElems = f.shape.slice(1).reduce((a, b) => a * b, 1);
        const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, rowElems * npyItemSize(f.dtype))));
        let got = 0;
        for await (const chunk of readNpyChunks(path.join(dir, f.file), { rowsPerChunk })) {
          if (io.signal?.aborted) throw io.signal.reason ?? new Error('aborted');
          await sinks.write(kind, chunk.data);
          got += chunk.rows;
        }
        if (got !== m.rows) throw new Error(`${f.file} gave ${got} rows, its meta records ${m.rows}`);
      }
      empty.count += m.emptyImages.count;
      for (const i of m.emptyImages.indices) if (empty.indices.length < 1000) empty.indices.push(i);
      emit({ kind: 'shard', index: k + 1, count: n, rows: m.rows });
    }
    await sinks.close();
    let scalerJson: RunMeta['scaler'] = null;
    if (o.fitScaler) {
      emit({ kind: 'fittingScaler', rows: totalRows, featureCount: cols });
      scalerJson = await fitAndSaveScaler(dir, names.features, totalRows, cols, sinks.committed);
    }
    const meta: RunMeta = {
      format: META_FORMAT,
      formatVersion: META_FORMAT_VERSION,
      soapixVersion: soapixVersion(),
      created: new Date().toISOString(),
      config: first.config,
      shard: null,
      mergedFrom: metas.map((m) => ({
        index: m.shard!.index,
        count: m.shard!.count,
        imageStart: m.shard!.imageStart,
        imageEnd: m.shard!.imageEnd,
        rows: m.rows,
      })),
      rows: totalRows,
      images: totalImages,
      emptyImages: empty,
      files: arrayFilesMeta(names, dtype, totalRows, cols),
      featureLabels: first.featureLabels,
      scaler: scalerJson,
      run: { merged: true, seconds: seconds(), shardRuns: metas.map((m) => m.run), argv: io.argv ?? null },
      source: first.source,
    };
    if (io.signal?.aborted) throw io.signal.reason ?? new Error('aborted');
    await writeFileAtomic(metaPath, JSON.stringify(meta, null, 2) + '\n');
    if (o.removeShards) {
      for (let i = 1; i <= n; i++) {
        const f = runFileNames({ index: i, count: n });
        // The meta first: a shard is never left looking done with its arrays gone.
        await removeIfPresent(path.join(dir, f.meta));
        for (const kind of ARRAY_KINDS) await removeIfPresent(path.join(dir, f[kind]));
      }
    }
    return { skipped: false, dir, files: names, shards: n, meta };
  } catch (err) {
    await sinks?.discard();
    await removeQuietly(metaPath + '.partial');
    throw err;
  }
}
