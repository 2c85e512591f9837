/**
 * `soapix merge`: joins the n shards of an output folder into features.npy, labels.npy,
 * centers.npy and meta.json (streamed: memory does not grow with the data), optionally fitting a
 * RobustScaler on the merged features. Refuses unless all n shards are done and share every
 * parameter.
 */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file';
import { NpyWriter, npyItemSize, readNpyChunks } from '../io/npy';
import type { ProgressStream } from '../cli/progress';
import { formatDuration } from '../cli/parse';
import {
  ARRAY_KINDS,
  checkDone,
  configDifference,
  findShardMetas,
  fitAndSaveScaler,
  MAX_SCALER_VALUES,
  META_FORMAT,
  META_FORMAT_VERSION,
  removeIfPresent,
  removeQuietly,
  runFileNames,
  SCALER_FILE,
  shardRange,
  soapixVersion,
  type ArrayKind,
  type RunMeta,
  UsageError,
} from './outputs';

export interface MergeCommandOptions {
  out: string;
  /** n, when the folder holds shards of several shard counts. */
  shards?: number;
  fitScaler: boolean;
  force: boolean;
  /** Delete the shard files after a successful merge. */
  removeShards: boolean;
  quiet: boolean;
}

export interface MergeCommandResult {
  skipped: boolean;
  dir: string;
  meta: RunMeta;
}

/** Bytes per chunk when streaming a shard's array into the merged file. */
const CHUNK_BYTES = 8 * 1024 * 1024;

/** Runs `soapix merge`. Rejects with a user-facing Error; removes what it started on failure. */
export async function runMerge(o: MergeCommandOptions, io: { stdout: ProgressStream; signal?: AbortSignal; argv?: readonly string[] }): Promise<MergeCommandResult> {
  const t0 = process.hrtime.bigint();
  const seconds = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
  const say = (text: string): void => {
    if (!o.quiet) io.stdout.write(`merge: ${text}\n`);
  };
  const dir = path.resolve(o.out);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`folder ${dir} does not exist`);

  const found = await findShardMetas(dir);
  let n = o.shards;
  if (n === undefined) {
    if (found.size === 0) {
      throw new UsageError(
        `${dir} holds no shard meta files (meta.shard-i-of-n.json): run \`soapix featurize ... --shard i/n --out ${o.out}\` for i = 1..n first`,
      );
    }
    if (found.size > 1) {
      const list = [...found.keys()].sort((a, b) => a - b).map((k) => `${k} (shards ${found.get(k)!.join(', ')})`);
      throw new UsageError(`${dir} holds shards of several shard counts: n = ${list.join('; ')}; pick one with --shards N`);
    }
    n = [...found.keys()][0]!;
  }

  // Every shard done?
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
        `Run (or rerun) \`soapix featurize ... --shard i/${n} --out ${o.out}\` for them; finished shards are skipped`,
    );
  }
  // Same parameters, and the shard ranges of one split.
  const first = metas[0]!;
  for (let k = 1; k < metas.length; k++) {
    const diff = configDifference(first.config, metas[k]!.config);
    if (diff !== undefined) {
      throw new UsageError(`shard ${k + 1}/${n} was made with other parameters than shard 1/${n} (${diff}); all shards must share every parameter`);
    }
  }
  let totalRows = 0;
  let totalImages = 0;
  for (let k = 0; k < metas.length; k++) {
    const m = metas[k]!;
    const want = shardRange(first.config.dataset.length, { index: k + 1, count: n });
    if (!m.shard || m.shard.index !== k + 1 || m.shard.count !== n || m.shard.imageStart !== want.start || m.shard.imageEnd !== want.end) {
      throw new UsageError(
        `${runFileNames({ index: k + 1, count: n }).meta} covers images ${m.shard?.imageStart}..${m.shard?.imageEnd} ` +
          `but shard ${k + 1}/${n} of ${first.config.dataset.length} images is ${want.start}..${want.end}`,
      );
    }
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
    say(`${path.join(dir, names.meta)} already done (${totalRows} rows), skipping`);
    return { skipped: true, dir, meta: existing.meta };
  }
  if (o.fitScaler && totalRows * cols > MAX_SCALER_VALUES) {
    throw new UsageError(
      `merge --fit-scaler: the merged features hold ${totalRows} x ${cols} = ${totalRows * cols} values, more than the ` +
        `${MAX_SCALER_VALUES} (2^28) that are fitted in memory; featurize a random sample of centres instead ` +
        '(soapix featurize --sample T --seed S, e.g. --sample 120000 as in the paper) and fit on that',
    );
  }

  say(`${n} shards, ${totalRows} rows x ${cols} features (${dtype}) -> ${dir}`);
  const metaPath = path.join(dir, names.meta);
  await removeIfPresent(metaPath);
  if (o.fitScaler) await removeIfPresent(path.join(dir, SCALER_FILE));

  const writers: Partial<Record<ArrayKind, NpyWriter>> = {};
  const committed: string[] = [];
  try {
    writers.features = await NpyWriter.create(path.join(dir, names.features), { dtype, columns: cols });
    writers.labels = await NpyWriter.create(path.join(dir, names.labels), { dtype: 'int32', columns: 0 });
    writers.centers = await NpyWriter.create(path.join(dir, names.centers), { dtype: 'int32', columns: 2 });
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
          await writers[kind]!.write(chunk.data);
          got += chunk.rows;
        }
        if (got !== m.rows) throw new Error(`${f.file} gave ${got} rows, its meta records ${m.rows}`);
      }
      empty.count += m.emptyImages.count;
      for (const i of m.emptyImages.indices) if (empty.indices.length < 1000) empty.indices.push(i);
      say(`shard ${k + 1}/${n}: ${m.rows} rows`);
    }
    for (const kind of ARRAY_KINDS) {
      const w = writers[kind]!;
      await w.close();
      committed.push(w.path);
    }
    let scalerJson: RunMeta['scaler'] = null;
    if (o.fitScaler) {
      say(`fitting the robust scaler on ${totalRows} x ${cols} features`);
      scalerJson = await fitAndSaveScaler(dir, names.features, totalRows, cols, committed);
    }
    const meta: RunMeta = {
      format: META_FORMAT,
      formatVersion: META_FORMAT_VERSION,
      soapixVersion: soapixVersion(),
      created: new Date().toISOString(),
      config: first.config,
      shard: null,
      mergedFrom: metas.map((m) => ({ index: m.shard!.index, count: m.shard!.count, imageStart: m.shard!.imageStart, imageEnd: m.shard!.imageEnd, rows: m.rows })),
      rows: totalRows,
      images: totalImages,
      emptyImages: empty,
      files: {
        features: { file: names.features, dtype, shape: [totalRows, cols] },
        labels: { file: names.labels, dtype: 'int32', shape: [totalRows] },
        centers: { file: names.centers, dtype: 'int32', shape: [totalRows, 2] },
      },
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
    say(
      `done: ${totalRows} rows from ${n} shards in ${formatDuration(seconds())} -> ${path.join(dir, names.features)}, ` +
        `${names.labels}, ${names.centers}, ${names.meta}${scalerJson ? ', ' + SCALER_FILE : ''}${o.removeShards ? ' (shard files removed)' : ''}`,
    );
    return { skipped: false, dir, meta };
  } catch (err) {
    for (const kind of ARRAY_KINDS) await writers[kind]?.abort().catch(() => undefined);
    for (const f of committed) await removeQuietly(f);
    await removeQuietly(metaPath + '.partial');
    throw err;
  }
}
