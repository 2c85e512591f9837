/**
 * The output folder of `soapix featurize` / `soapix merge`: file names, the JSON sidecar
 * (meta), and the rule that decides whether a run or shard is done.
 *
 * Files of one run (unsharded, or a merge):
 *   features.npy  (rows x featureCount, float32 or float64)
 *   labels.npy    (rows, int32: the label of each row's image)
 *   centers.npy   (rows x 2, int32: image index, pixel index = row * cols + col)
 *   meta.json     (the sidecar, written last)
 *   scaler.json   (with --fit-scaler)
 * Files of shard i of n: features.shard-i-of-n.npy, labels.shard-i-of-n.npy,
 * centers.shard-i-of-n.npy, meta.shard-i-of-n.json.
 *
 * Every file is written as `<name>.partial` and renamed when complete; the meta file is
 * written last. A run counts as done only when its meta file exists, parses, and every
 * .npy file it lists exists with a valid header, the size the header implies, and the
 * row count, dtype and columns the meta records. Before a run writes anything it deletes
 * its old meta file, so a meta file never describes files of another run.
 */
import { existsSync, readFileSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { readNpy, readNpyHeader, type NpyDType } from '../io/npy';
import { fileOutputError, removeQuietly } from '../util/atomic-file';
import { RobustScaler, type RobustScalerJSON } from '../features/scaler';
import type { ResolvedSoapOptions } from '../soap/soap';
import type { ShardSpec } from '../cli/parse';

/** Identifies the meta files. */
export const META_FORMAT = 'soapix-features';
export const META_FORMAT_VERSION = 1;

/** The three arrays of a run, in the order they are written. */
export const ARRAY_KINDS = ['features', 'labels', 'centers'] as const;
export type ArrayKind = (typeof ARRAY_KINDS)[number];

/** An error caused by the command line or the data, whose message is meant for the user as is. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Largest number of feature values `--fit-scaler` loads into memory (2^28). */
export const MAX_SCALER_VALUES = 2 ** 28;

/** The soapix version, from package.json next to lib/ or dist/. */
export function soapixVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

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

/** The scaler file written with --fit-scaler. */
export const SCALER_FILE = 'scaler.json';

/** Contiguous image range of shard i of n over `length` images: [floor((i-1)N/n), floor(iN/n)). */
export function shardRange(length: number, shard: ShardSpec | undefined | null): { start: number; end: number } {
  if (!shard) return { start: 0, end: length };
  // Exact in integers for any length and count below 2^53 / count.
  const start = Math.floor(((shard.index - 1) * length) / shard.count);
  const end = Math.floor((shard.index * length) / shard.count);
  return { start, end };
}

/** Everything that determines the content of the rows: identical in all shards of one data set. */
export interface RunConfig {
  soap: ResolvedSoapOptions & { featureCount: number };
  dataset: {
    /** mnist, fashion-mnist, idx, folder. */
    kind: string;
    /** e.g. "mnist/train". */
    name: string;
    split: string | null;
    /** Images used (after --limit). */
    length: number;
    /** Images in the source. */
    sourceLength: number;
    limit: number | null;
    rows: number;
    cols: number;
    channels: number;
    /** Folder images: resize as [rows, cols], or null. */
    resize: [number, number] | null;
    /** SHA-256 of the used images' pixels followed by their labels (int32 little-endian). */
    sha256: string;
  };
  image: {
    zScale: number;
    zRounding: 'floor' | 'none';
    /** The intensity threshold in effect (the default resolved). */
    threshold: number;
    noise: { sigma: number; seed: number } | null;
  };
  centers: { mode: 'all' } | { mode: 'sample'; count: number; seed: number };
  dtype: 'float32' | 'float64';
}

/** One array file as recorded in the meta. */
export interface ArrayFileMeta {
  file: string;
  dtype: NpyDType;
  shape: number[];
}

/** The JSON sidecar of a run, shard or merge. */
export interface RunMeta {
  format: typeof META_FORMAT;
  formatVersion: typeof META_FORMAT_VERSION;
  soapixVersion: string;
  created: string;
  config: RunConfig;
  /** This file's part: a shard, or null (unsharded run or merge). */
  shard: { index: number; count: number; imageStart: number; imageEnd: number } | null;
  /** For a merge: the shards it joined. */
  mergedFrom?: { index: number; count: number; imageStart: number; imageEnd: number; rows: number }[];
  /** Feature rows (= rows of every array file). */
  rows: number;
  /** Images processed. */
  images: number;
  /** Images without any point (0 rows): their number and the first indices (up to 1000). */
  emptyImages: { count: number; indices: number[] };
  files: Record<ArrayKind, ArrayFileMeta>;
  featureLabels: string[];
  scaler: RobustScalerJSON | null;
  /** How it was run (does not affect the content). */
  run: Record<string, unknown>;
  /** Where the data came from (paths; does not affect identity). */
  source: Record<string, unknown>;
}

/** JSON with object keys sorted at every level: equal configs give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/**
 * The differences between two configs, as "soap.sigma: 1 vs 1.5; soap.neighbourCutoff: ..." (at most
 * `max`, user-facing keys before derived ones), or undefined if they are equal.
 */
export function configDifference(a: unknown, b: unknown, max = 3): string | undefined {
  const diffs: string[] = [];
  collectDifferences(a, b, '', diffs);
  if (diffs.length === 0) return undefined;
  // Derived values (the neighbour cutoff follows from rCut and sigma) last.
  diffs.sort((x, y) => Number(x.includes('neighbourCutoff')) - Number(y.includes('neighbourCutoff')));
  return diffs.slice(0, max).join('; ') + (diffs.length > max ? `; and ${diffs.length - max} more` : '');
}

function collectDifferences(a: unknown, b: unknown, where: string, out: string[]): void {
  if (canonicalJson(a) === canonicalJson(b)) return;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    for (const k of keys) {
      collectDifferences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], where ? `${where}.${k}` : k, out);
    }
    return;
  }
  const show = (v: unknown): string => {
    const s = v === undefined ? 'absent' : JSON.stringify(v);
    return s.length > 80 ? s.slice(0, 77) + '...' : s;
  };
  out.push(`${where || 'config'}: ${show(a)} vs ${show(b)}`);
}

/** Result of {@link checkDone}. */
export type DoneState =
  | { done: true; meta: RunMeta }
  | { done: false; reason: string; meta?: RunMeta };

/** Reads and checks a meta file; throws with a reason when it is not a valid soapix meta. */
export async function readMeta(metaPath: string): Promise<RunMeta> {
  let text: string;
  try {
    text = await fsp.readFile(metaPath, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${metaPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let meta: RunMeta;
  try {
    meta = JSON.parse(text) as RunMeta;
  } catch (err) {
    throw new Error(`${metaPath} is not valid JSON: ${(err as Error).message}`);
  }
  if (meta === null || typeof meta !== 'object' || meta.format !== META_FORMAT || meta.formatVersion !== META_FORMAT_VERSION) {
    throw new Error(`${metaPath} is not a soapix ${META_FORMAT} v${META_FORMAT_VERSION} meta file`);
  }
  if (!Number.isSafeInteger(meta.rows) || meta.rows < 0 || typeof meta.files !== 'object' || meta.files === null) {
    throw new Error(`${metaPath}: rows or files missing`);
  }
  return meta;
}

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

export { removeQuietly };

/**
 * Fits a RobustScaler on a features .npy file, loaded whole: refused above
 * {@link MAX_SCALER_VALUES} values.
 */
export async function fitScalerOnFile(filePath: string, rows: number, cols: number): Promise<RobustScaler> {
  const values = rows * cols;
  if (values > MAX_SCALER_VALUES) {
    throw new Error(
      `--fit-scaler: the features hold ${rows} x ${cols} = ${values} values, more than the ${MAX_SCALER_VALUES} (2^28) ` +
        'that are fitted in memory; fit the scaler on a random sample of centres instead ' +
        '(soapix featurize --sample T --seed S --fit-scaler, e.g. --sample 120000 as in the paper)',
    );
  }
  if (rows < 1) throw new Error('--fit-scaler: there are no feature rows to fit on (every image was empty)');
  const arr = await readNpy(filePath);
  if (arr.dtype !== 'float32' && arr.dtype !== 'float64') throw new Error(`${filePath}: expected float features, found ${arr.dtype}`);
  return new RobustScaler().fit(arr.data, rows, cols);
}

/**
 * Fits the robust scaler on a finished features file, saves it as `scaler.json` in `dir` (recorded
 * in `committed` so a failed run can remove it) and returns its JSON for the meta file.
 */
export async function fitAndSaveScaler(
  dir: string,
  featuresFile: string,
  rows: number,
  cols: number,
  committed: string[],
): Promise<ReturnType<RobustScaler['toJSON']>> {
  const scaler = await fitScalerOnFile(path.join(dir, featuresFile), rows, cols);
  const scalerPath = path.join(dir, SCALER_FILE);
  await scaler.save(scalerPath);
  committed.push(scalerPath);
  return scaler.toJSON();
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
