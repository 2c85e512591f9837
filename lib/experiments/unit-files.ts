/**
 * The files of an experiment run (docs/RUNNER.md):
 *
 *   DIR/settings.json       the experiment's name and the settings every unit was computed with;
 *   DIR/units/<id>.json     one finished unit: its job, its result, the settings hash and a checksum.
 *
 * A unit file is written atomically (temporary name, fsync, rename), so a killed process leaves at
 * most a `.partial` file, never a half-written unit under its final name. A unit file counts as done
 * only when it parses, names this experiment, this unit and this job, carries the hash of these
 * settings, and its checksum (SHA-256 of the JSON of experiment, id, settings hash, job and result)
 * matches; anything else (truncated, corrupt, edited, of other settings) is recomputed.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file';

/** Folder of the unit files under the output folder. */
export const UNITS_DIR = 'units';
/** The settings file under the output folder. */
export const SETTINGS_FILE = 'settings.json';
/** `format` of a unit file. */
export const UNIT_FORMAT = 'soapix-experiment-unit';
/** `version` of the unit file layout. */
export const UNIT_FORMAT_VERSION = 1;

/** Unit ids name files: letters, digits, '.', '_', '-'; 1..120 characters, not starting with '.'. */
const UNIT_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,119}$/;

/** Throws unless `id` can name a unit file. */
export function checkUnitId(id: string): void {
  if (typeof id !== 'string' || !UNIT_ID.test(id)) {
    throw new Error(
      `unit id ${JSON.stringify(id)} cannot name a file: use 1-120 letters, digits, '.', '_' or '-' (not starting with '.')`,
    );
  }
}

/** Path of unit `id`'s file under `out`. */
export function unitFilePath(out: string, id: string): string {
  return path.join(out, UNITS_DIR, `${id}.json`);
}

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * `v` as JSON with object keys sorted (so equal settings give equal text whatever their key
 * order). Throws a TypeError naming `where` for values JSON cannot hold faithfully (typed arrays,
 * maps, functions, bigints, class instances).
 */
export function canonicalJson(v: unknown, where = 'value'): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return JSON.stringify(v); // non-finite -> null, as JSON.stringify does
  if (Array.isArray(v))
    return `[${v.map((x, i) => (x === undefined ? 'null' : canonicalJson(x, `${where}[${i}]`))).join(',')}]`;
  if (typeof v === 'object' && isPlainObject(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k], `${where}.${k}`)}`).join(',')}}`;
  }
  const what = typeof v === 'object' ? ((v as object).constructor?.name ?? 'object') : typeof v;
  throw new TypeError(
    `${where} is a ${what}: experiment settings, units and results must be plain JSON (objects, arrays, numbers, strings, booleans, null)`,
  );
}

const sha256 = (text: string): string => 'sha256:' + createHash('sha256').update(text).digest('hex');

/** The hash of a settings object that unit files record. */
export function settingsHash(settings: object): string {
  return sha256(canonicalJson(settings, 'settings'));
}

/** One finished unit on disk. */
export interface UnitFile<Unit, Result> {
  format: typeof UNIT_FORMAT;
  version: typeof UNIT_FORMAT_VERSION;
  experiment: string;
  id: string;
  settingsHash: string;
  unit: Unit;
  result: Result;
  checksum: string;
}

const checksumOf = (f: {
  experiment: string;
  id: string;
  settingsHash: string;
  unit: unknown;
  result: unknown;
}): string => sha256(JSON.stringify([f.experiment, f.id, f.settingsHash, f.unit, f.result]));

/** Writes unit `id`'s file atomically. */
export async function writeUnitFile<Unit, Result>(
  out: string,
  f: { experiment: string; id: string; settingsHash: string; unit: Unit; result: Result },
): Promise<void> {
  canonicalJson(f.result, `result of unit ${f.id}`);
  const file: UnitFile<Unit, Result> = {
    format: UNIT_FORMAT,
    version: UNIT_FORMAT_VERSION,
    ...f,
    checksum: checksumOf(f),
  };
  await writeFileAtomic(unitFilePath(out, f.id), JSON.stringify(file, null, 2) + '\n');
}

/** A unit file read back: done (with its result), missing, or present but not to be trusted (why). */
export type UnitFileState<Result> =
  { state: 'done'; result: Result } | { state: 'missing' } | { state: 'invalid'; reason: string };

/** Reads unit `id`'s file and checks it against what this run expects. */
export async function readUnitFile<Result>(
  out: string,
  want: { experiment: string; id: string; settingsHash: string; unit: unknown },
): Promise<UnitFileState<Result>> {
  const file = unitFilePath(out, want.id);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return { state: 'missing' };
    return { state: 'invalid', reason: `cannot be read (${(err as Error).message})` };
  }
  let f: Partial<UnitFile<unknown, Result>>;
  try {
    f = JSON.parse(text) as Partial<UnitFile<unknown, Result>>;
  } catch {
    return { state: 'invalid', reason: 'is not valid JSON (truncated or corrupt)' };
  }
  if (typeof f !== 'object' || f === null || f.format !== UNIT_FORMAT)
    return { state: 'invalid', reason: 'is not a unit file' };
  if (f.version !== UNIT_FORMAT_VERSION)
    return { state: 'invalid', reason: `has layout version ${String(f.version)}, not ${UNIT_FORMAT_VERSION}` };
  if (f.experiment !== want.experiment)
    return { state: 'invalid', reason: `belongs to experiment ${JSON.stringify(f.experiment)}` };
  if (f.id !== want.id) return { state: 'invalid', reason: `holds unit ${JSON.stringify(f.id)}` };
  if (f.settingsHash !== want.settingsHash) return { state: 'invalid', reason: 'was computed with other settings' };
  let sameJob: boolean;
  try {
    sameJob = canonicalJson(f.unit) === canonicalJson(want.unit);
  } catch {
    sameJob = false;
  }
  if (!sameJob) return { state: 'invalid', reason: 'holds another job under this id' };
  if (!('result' in f) || f.checksum !== checksumOf(f as UnitFile<unknown, Result>))
    return { state: 'invalid', reason: 'fails its checksum (edited or corrupt)' };
  return { state: 'done', result: f.result as Result };
}

/** One setting that differs from the recorded one: its path (e.g. `soap.rCut`), the recorded and the new value. */
export interface SettingDifference {
  path: string;
  have: unknown;
  want: unknown;
}

/**
 * The settings whose values differ between `have` (recorded) and `want` (this run), compared as
 * JSON; plain objects are compared key by key so that the path names the innermost difference.
 * Keys of either side are listed (a setting added or removed is a difference too).
 */
export function settingDifferences(have: unknown, want: unknown, prefix = ''): SettingDifference[] {
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (obj(have) && obj(want)) {
    const keys = [...Object.keys(want), ...Object.keys(have).filter((k) => !(k in want))];
    return keys.flatMap((k) => settingDifferences(have[k], want[k], prefix ? `${prefix}.${k}` : k));
  }
  const same =
    (have === undefined ? undefined : canonicalJson(have)) === (want === undefined ? undefined : canonicalJson(want));
  return same ? [] : [{ path: prefix || '(settings)', have, want }];
}

/** Contents of DIR/settings.json. */
export interface SettingsFile {
  experiment: string;
  settingsHash: string;
  settings: object;
}

/**
 * Refuses to mix units of other settings: when `out`/settings.json exists and names another
 * experiment or other settings, throws an error naming each differing setting (recorded value vs
 * this run's), using `names` (setting path -> flag) where given.
 */
export async function checkSettingsFile(
  out: string,
  experiment: string,
  settings: object,
  names: Readonly<Record<string, string>> = {},
): Promise<void> {
  const file = path.join(out, SETTINGS_FILE);
  if (!existsSync(file)) return;
  let have: Partial<SettingsFile>;
  try {
    have = JSON.parse(await readFile(file, 'utf8')) as Partial<SettingsFile>;
  } catch (err) {
    throw new Error(
      `${file} cannot be read as JSON (${(err as Error).message}); remove it (the unit files are checked one by one) or use another --out`,
    );
  }
  if (have.experiment !== experiment) {
    throw new Error(
      `${out} holds a run of experiment ${JSON.stringify(have.experiment)}, not ${experiment} (${file}); use another --out`,
    );
  }
  const diffs = settingDifferences(have.settings, settings);
  if (diffs.length === 0) return;
  const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));
  const label = (p: string): string =>
    names[p] ?? (names[p.split('.')[0]!] !== undefined ? `${names[p.split('.')[0]!]} (${p})` : p);
  const list = diffs.map((d) => `${label(d.path)} ${show(d.have)} there, ${show(d.want)} in this run`).join('; ');
  throw new Error(
    `${out} holds units of other settings (${list}); use another --out for these settings, or remove ${out} to start over`,
  );
}

/** Records `settings` in `out`/settings.json (atomically). */
export async function writeSettingsFile(out: string, experiment: string, settings: object): Promise<void> {
  const f: SettingsFile = { experiment, settingsHash: settingsHash(settings), settings };
  // Every shard of a job array writes it at its start, often at the same moment.
  await writeFileAtomic(path.join(out, SETTINGS_FILE), JSON.stringify(f, null, 2) + '\n', { unique: true });
}
