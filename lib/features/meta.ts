/**
 * The JSON sidecar (meta file) of a featurize run, shard or merge: what determines the rows
 * (RunConfig, identical in all shards of one data set), what was written (RunMeta), and the
 * comparison that says how two configs differ (for "made with other parameters" refusals).
 * The files of a run and the rule that decides when it is done are in run-files.ts.
 */
import { readFileSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { NpyDType } from '../io/npy';
import type { ResolvedSoapOptions } from '../soap/soap';
import type { RobustScalerJSON } from './scaler';

/** Identifies the meta files. */
export const META_FORMAT = 'soapix-features';
export const META_FORMAT_VERSION = 1;

/** The three arrays of a run, in the order they are written. */
export const ARRAY_KINDS = ['features', 'labels', 'centers'] as const;
export type ArrayKind = (typeof ARRAY_KINDS)[number];

/** The soapix version, from package.json next to lib/ or dist/. */
export function soapixVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
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

/** The `files` entry of a meta file: the three arrays with their dtypes and shapes. */
export function arrayFilesMeta(
  names: Record<ArrayKind, string>,
  dtype: 'float32' | 'float64',
  rows: number,
  featureCount: number,
): Record<ArrayKind, ArrayFileMeta> {
  return {
    features: { file: names.features, dtype, shape: [rows, featureCount] },
    labels: { file: names.labels, dtype: 'int32', shape: [rows] },
    centers: { file: names.centers, dtype: 'int32', shape: [rows, 2] },
  };
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
  if (
    a !== null &&
    b !== null &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    for (const k of keys) {
      collectDifferences(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        where ? `${where}.${k}` : k,
        out,
      );
    }
    return;
  }
  const show = (v: unknown): string => {
    const s = v === undefined ? 'absent' : JSON.stringify(v);
    return s.length > 80 ? s.slice(0, 77) + '...' : s;
  };
  out.push(`${where || 'config'}: ${show(a)} vs ${show(b)}`);
}

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
  if (
    meta === null ||
    typeof meta !== 'object' ||
    meta.format !== META_FORMAT ||
    meta.formatVersion !== META_FORMAT_VERSION
  ) {
    throw new Error(`${metaPath} is not a soapix ${META_FORMAT} v${META_FORMAT_VERSION} meta file`);
  }
  if (!Number.isSafeInteger(meta.rows) || meta.rows < 0 || typeof meta.files !== 'object' || meta.files === null) {
    throw new Error(`${metaPath}: rows or files missing`);
  }
  return meta;
}
