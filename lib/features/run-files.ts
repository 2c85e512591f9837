/**
 * The output folder of a featurize run or merge: file names, and the rule that decides whether
 * a run or shard is done.
 *
 * Files of one run (unsharded, or a merge):
 *   features.npy  (rows x featureCount, float32 or float64)
 *   labels.npy    (rows, int32: the label of each row's image)
 *   centers.npy   (rows x 2, int32: image index, pixel index = row * cols + col)
 *   meta.json     (the sidecar, written last; see meta.ts)
 *   scaler.json   (with fitScaler)
 * Files of shard i of n: features.shard-i-of-n.npy, labels.shard-i-of-n.npy,
 * centers.shard-i-of-n.npy, meta.shard-i-of-n.json.
 *
 * Every file is written as `<name>.partial` and renamed when complete; the meta file is
 * written last. A run counts as done only when its meta file exists, parses, and every
 * .npy file it lists exists with a valid header, the size the header implies, and the
 * row count, dtype and columns the meta records. Before a run writes anything it deletes
 * its old meta file, so a meta file never describes files of another run.
 */
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { readNpyHeader } from '../io/npy';
import { fileOutputError } from '../util/atomic-file';
import type { ShardSpec } from '../util/shard';
import { ARRAY_KINDS, readMeta, type RunMeta } from './meta';

/** File names of one run: `shard` undefined for an unsharded run or a merge. */
export interface RunFiles {
  features: string;
  labels: string;
  centers: string;
  meta: string;
}

/** The suffix of shard files: `.shard-3-of-8`. */
export function shardSuffix(shard: ShardSpec | undefined | null): string {
  return shard ? `.shard-${shard.index}-of-${shard.count}` : '';
}

/** Names (not paths) of a run's files. */
export function runFileNames(shard: ShardSpec | undefined | null): RunFiles {
  const s = shardSuffix(shard);
  return { features: `features${s}.npy`, labels: `labels${s}.npy`, centers: `centers${s}.npy`, meta: `meta${s}.json` };
}

/** The scaler file written with fitScaler. */
export const SCALER_FILE = 'scaler.json';

/** Result of {@link checkDone}. */
export type DoneState = { done: true; meta: RunMeta } | { done: false; reason: string; meta?: RunMeta };

/**
 * Is the run whose meta file is `dir/metaName` done? Done means: the meta file exists and is
 * valid, and each array file it lists exists with a valid .npy header, the size the header
 * implies, and the dtype, row count and columns the meta records (and scaler.json when the meta
 * records a scaler).
 */
export async function checkDone(dir: string, metaName: string): Promise<DoneState> {
  const metaPath = path.join(dir, metaName);
  if (!existsSync(metaPath)) return { done: false, reason: `${metaName} does not exist` };
  let meta: RunMeta;
  try {
    meta = await readMeta(metaPath);
  } catch (err) {
    return { done: false, reason: (err as Error).message };
  }
  for (const kind of ARRAY_KINDS) {
    const f = meta.files[kind];
    if (!f || typeof f.file !== 'string') return { done: false, reason: `${metaName} lists no ${kind} file`, meta };
    const p = path.join(dir, f.file);
    let h;
    try {
      h = await readNpyHeader(p);
    } catch (err) {
      return { done: false, reason: (err as Error).message, meta };
    }
    const expected = [meta.rows, ...f.shape.slice(1)];
    if (h.dtype !== f.dtype || h.shape.length !== expected.length || h.shape.some((d, i) => d !== expected[i])) {
      return {
        done: false,
        reason: `${f.file} has shape (${h.shape.join(', ')}) ${h.dtype}; ${metaName} records (${expected.join(', ')}) ${f.dtype}`,
        meta,
      };
    }
  }
  if (meta.scaler !== null && meta.scaler !== undefined && !existsSync(path.join(dir, SCALER_FILE))) {
    return { done: false, reason: `${SCALER_FILE} is missing`, meta };
  }
  return { done: true, meta };
}

/** Lists `meta.shard-i-of-n.json` files in `dir`: n -> indices found. */
export async function findShardMetas(dir: string): Promise<Map<number, number[]>> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    throw new Error(`cannot read the folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const out = new Map<number, number[]>();
  for (const name of names) {
    const m = /^meta\.shard-(\d+)-of-(\d+)\.json$/.exec(name);
    if (!m) continue;
    const i = Number(m[1]);
    const n = Number(m[2]);
    if (i < 1 || i > n) continue;
    const list = out.get(n) ?? [];
    list.push(i);
    out.set(n, list);
  }
  for (const list of out.values()) list.sort((a, b) => a - b);
  return out;
}

/** Creates the output folder (and parents); a clear error when that is impossible. */
export async function ensureOutputDir(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (err) {
    throw fileOutputError('create the output folder', dir, err);
  }
  let st;
  try {
    st = await fsp.stat(dir);
  } catch (err) {
    throw fileOutputError('use the output folder', dir, err);
  }
  if (!st.isDirectory()) throw new Error(`cannot use the output folder ${dir}: it is not a folder`);
}

/** Deletes a file if present; errors other than "does not exist" are reported. */
export async function removeIfPresent(filePath: string): Promise<void> {
  try {
    await fsp.unlink(filePath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileOutputError('remove', filePath, err);
  }
}
