/**
 * The experiment runner (lib/experiments/runner.ts) on a toy experiment without SOAP or TensorFlow
 * (test/helpers/toy-experiment.cjs): resume, shards, workers, settings check, unit files checked
 * on read (truncated, edited, foreign), a worker killed in the middle of a unit, a failing unit
 * stopping the other workers, abort, progress.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Experiment } from '../lib/experiments/definition';
import { runExperiment, type RunOptions, type RunProgress } from '../lib/experiments/runner';
import { canonicalJson, settingDifferences, settingsHash, unitFilePath } from '../lib/experiments/unit-files';
import { buildIfStale, root } from './helpers/cli';

interface ToySpec {
  values: number[];
  factor: number;
  dir: string;
  hang?: string[];
  fail?: string[];
  waitFor?: string;
  resumed?: Record<string, number>;
  shareFails?: boolean;
}
interface ToySummary {
  experiment: 'toy';
  factor: number;
  sum: number;
  ids: string[];
}
type Toy = Experiment<
  ToySpec,
  { v: number },
  { v: number; y: number; worker: number },
  ToySummary,
  { pid: number; worker: number }
>;

const work = mkdtempSync(path.join(tmpdir(), 'soapix-runner-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const workerScript = path.join(root, 'dist', 'experiments', 'worker.js');
let toy: Toy;

beforeAll(() => {
  buildIfStale();
  toy = (createRequire(__filename)('./helpers/toy-experiment.cjs') as { toyExperiment: Toy }).toyExperiment;
}, 120_000);

let n = 0;
/** A fresh folder: `out` for the run, `dir` for the toy's counters and pid files. */
function folders(): { out: string; dir: string } {
  const base = path.join(work, `case-${++n}`);
  const dir = path.join(base, 'toy');
  mkdirSync(dir, { recursive: true });
  return { out: path.join(base, 'out'), dir };
}
const spec = (dir: string, more: Partial<ToySpec> = {}): ToySpec => ({ values: [1, 2, 3, 4], factor: 2, dir, ...more });
const run = (s: ToySpec, out: string, o: Partial<RunOptions> = {}) =>
  runExperiment(toy, s, { out, workerScript, ...o });
/** How often each unit ran (lines of its counter file). */
const counts = (dir: string): Record<string, number> =>
  Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.startsWith('count-'))
      .map((f) => [f.slice(6, -4), readFileSync(path.join(dir, f), 'utf8').trim().split('\n').length]),
  );
const stamps = (out: string, ids: string[]): Record<string, string> =>
  Object.fromEntries(
    ids.map((id) => [id, `${statSync(unitFilePath(out, id)).mtimeMs}:${readFileSync(unitFilePath(out, id), 'utf8')}`]),
  );
const waitFor = async (what: () => boolean, label: string): Promise<void> => {
  for (let i = 0; i < 600; i++) {
    if (what()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${label}`);
};
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const ALL = ['v-1', 'v-2', 'v-3', 'v-4'];

describe('runner, one process', () => {
  it('runs every unit once, merges into results.json, calls the report hook; a rerun computes nothing', async () => {
    const { out, dir } = folders();
    const events: RunProgress[] = [];
    const r = await run(spec(dir), out, { onProgress: (p) => events.push(p) });
    expect(r.summary).toEqual({ experiment: 'toy', factor: 2, sum: 20, ids: ALL });
    expect(JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'))).toEqual(r.summary);
    expect(readFileSync(path.join(dir, 'report.txt'), 'utf8')).toBe('sum 20\n');
    // Most costly first.
    expect(r.computed).toEqual(['v-4', 'v-3', 'v-2', 'v-1']);
    expect(counts(dir)).toEqual({ 'v-1': 1, 'v-2': 1, 'v-3': 1, 'v-4': 1 });
    expect(readdirSync(path.join(out, 'units')).sort()).toEqual(ALL.map((id) => `${id}.json`));
    expect(JSON.parse(readFileSync(path.join(out, 'settings.json'), 'utf8'))).toEqual({
      experiment: 'toy',
      settingsHash: settingsHash({ factor: 2 }),
      settings: { factor: 2 },
    });
    expect(events.map((e) => `${e.event}${e.unit ? ' ' + e.unit : ''} ${e.done}/${e.total}`)).toEqual([
      'start 0/4',
      'unit-started v-4 0/4',
      'unit-done v-4 1/4',
      'unit-started v-3 1/4',
      'unit-done v-3 2/4',
      'unit-started v-2 2/4',
      'unit-done v-2 3/4',
      'unit-started v-1 3/4',
      'unit-done v-1 4/4',
      'end 4/4',
    ]);
    expect(events[2]!.running).toEqual([]);
    expect(events[1]!.running).toEqual(['v-4']);

    const before = stamps(out, ALL);
    const lines: string[] = [];
    const again = await run(spec(dir), out, { log: (l) => lines.push(l) });
    expect(again.computed).toEqual([]);
    expect(again.summary).toEqual(r.summary);
    expect(lines[0]).toBe('toy: 4 toy units, 4 in this run, 0 to do, 1 worker(s)');
    expect(stamps(out, ALL)).toEqual(before);
    expect(counts(dir)).toEqual({ 'v-1': 1, 'v-2': 1, 'v-3': 1, 'v-4': 1 });
  });

  it('gives an ETA once a unit finished; asks resumedShare about the units to do only; runs on when it throws', async () => {
    const { out, dir } = folders();
    await run(spec(dir, { values: [1, 2] }), out);
    for (const f of readdirSync(dir).filter((f) => f.startsWith('share-'))) rmSync(path.join(dir, f));
    const events: RunProgress[] = [];
    await run(spec(dir, { resumed: { 'v-4': 0.5 } }), out, { onProgress: (p) => events.push(p) });
    expect(
      readdirSync(dir)
        .filter((f) => f.startsWith('share-'))
        .sort(),
    ).toEqual(['share-v-3.txt', 'share-v-4.txt']);
    expect(readFileSync(path.join(dir, 'share-v-4.txt'), 'utf8')).toBe(path.resolve(out));
    const eta = events.map((e) => `${e.event} ${e.done}/${e.total} ${e.etaSeconds === null ? 'none' : 'number'}`);
    expect(eta).toEqual([
      'start 0/2 none',
      'unit-started 0/2 none',
      'unit-done 1/2 number',
      'unit-started 1/2 number',
      'unit-done 2/2 none',
      'end 2/2 none',
    ]);
    const first = events[2]!.etaSeconds!;
    expect(Number.isFinite(first) && first >= 0).toBe(true);

    const other = folders();
    const r = await run(spec(other.dir, { shareFails: true }), other.out, { onProgress: () => undefined });
    expect(r.summary!.sum).toBe(20);
    expect(readdirSync(other.dir).filter((f) => f.startsWith('share-'))).toHaveLength(4);

    // Without a progress listener the shares are not read at all.
    const quiet = folders();
    expect((await run(spec(quiet.dir), quiet.out)).summary!.sum).toBe(20);
    expect(readdirSync(quiet.dir).filter((f) => f.startsWith('share-'))).toEqual([]);
  });

  it('recomputes a truncated, an edited and a foreign unit file, and only those', async () => {
    const { out, dir } = folders();
    await run(spec(dir), out);
    const other = folders();
    await run(spec(other.dir, { factor: 3 }), other.out);
    const good = stamps(out, ['v-4']);
    const text = readFileSync(unitFilePath(out, 'v-1'), 'utf8');
    writeFileSync(unitFilePath(out, 'v-1'), text.slice(0, Math.floor(text.length / 2)));
    writeFileSync(unitFilePath(out, 'v-2'), readFileSync(unitFilePath(out, 'v-2'), 'utf8').replace('"y": 4', '"y": 5'));
    writeFileSync(unitFilePath(out, 'v-3'), readFileSync(unitFilePath(other.out, 'v-3')));
    const lines: string[] = [];
    const r = await run(spec(dir), out, { log: (l) => lines.push(l) });
    expect(r.computed.sort()).toEqual(['v-1', 'v-2', 'v-3']);
    expect(r.summary!.sum).toBe(20);
    expect(counts(dir)).toEqual({ 'v-1': 2, 'v-2': 2, 'v-3': 2, 'v-4': 1 });
    expect(stamps(out, ['v-4'])).toEqual(good);
    expect(lines).toContain('toy: units/v-1.json is not valid JSON (truncated or corrupt); computing it again');
    expect(lines).toContain('toy: units/v-2.json fails its checksum (edited or corrupt); computing it again');
    expect(lines).toContain('toy: units/v-3.json was computed with other settings; computing it again');
  });

  it('refuses to mix units of other settings, naming each differing setting', async () => {
    const { out, dir } = folders();
    await run(spec(dir), out);
    await expect(run(spec(dir, { factor: 3 }), out)).rejects.toThrow(
      /holds units of other settings \(--factor 2 there, 3 in this run\); use another --out/,
    );
    expect(counts(dir)).toEqual({ 'v-1': 1, 'v-2': 1, 'v-3': 1, 'v-4': 1 });
    // More units of the same settings are fine (a grid that grows).
    const more = await run(spec(dir, { values: [1, 2, 3, 4, 5] }), out);
    expect(more.computed).toEqual(['v-5']);
    expect(more.summary!.sum).toBe(30);
  });

  it('validates the spec before writing settings.json or starting a unit', async () => {
    const { out, dir } = folders();
    await expect(run(spec(dir, { factor: Number.NaN }), out)).rejects.toThrow(/factor must be a finite number/);
    expect(existsSync(path.join(out, 'settings.json'))).toBe(false);
    expect(counts(dir)).toEqual({});
  });

  it('runs a shard i/n of the units; the shard that completes the set merges', async () => {
    const { out, dir } = folders();
    const first = await run(spec(dir), out, { shard: { index: 1, count: 2 } });
    expect(first.computed.sort()).toEqual(['v-1', 'v-3']);
    expect(first.summary).toBeNull();
    expect(first.missingIds).toEqual(['v-2', 'v-4']);
    expect(existsSync(path.join(out, 'results.json'))).toBe(false);
    const second = await run(spec(dir), out, { shard: { index: 2, count: 2 } });
    expect(second.computed.sort()).toEqual(['v-2', 'v-4']);
    expect(second.summary).toEqual({ experiment: 'toy', factor: 2, sum: 20, ids: ALL });
    await expect(run(spec(dir), out, { shard: { index: 3, count: 2 } })).rejects.toThrow(/1 <= i <= n/);
    const noMerge = await run(spec(dir, { values: [1, 2, 3, 4, 6] }), out, { merge: false });
    expect(noMerge.computed).toEqual(['v-6']);
    expect(noMerge.summary).toBeNull();
  });

  it('shards started at the same moment on a fresh folder (a Slurm job array) all succeed', async () => {
    // Each writes settings.json at its start; they once shared one temporary name, and the second
    // rename failed (ENOENT). Repeated, because the interleaving that broke it is a race.
    for (let round = 0; round < 5; round++) {
      const { out, dir } = folders();
      const runs = await Promise.all([1, 2, 3, 4].map((index) => run(spec(dir), out, { shard: { index, count: 4 } })));
      expect(runs.flatMap((r) => r.computed).sort()).toEqual(ALL);
      expect(JSON.parse(readFileSync(path.join(out, 'settings.json'), 'utf8'))).toMatchObject({ experiment: 'toy' });
      expect(readdirSync(out).filter((f) => f.endsWith('.partial'))).toEqual([]);
    }
  });

  it('rejects unit ids that cannot name files, repeated ids and results that are not plain JSON', async () => {
    const { out, dir } = folders();
    await expect(runExperiment({ ...toy, unitId: (u) => `v/${u.v}` }, spec(dir), { out })).rejects.toThrow(
      /unit id "v\/1" cannot name a file/,
    );
    await expect(runExperiment({ ...toy, unitId: () => 'same' }, spec(dir), { out })).rejects.toThrow(
      /two units have the id same/,
    );
    const typed = { ...toy, run: async (u: { v: number }) => ({ v: u.v, y: new Float32Array(2) }) } as unknown as Toy;
    await expect(runExperiment(typed, spec(dir), { out })).rejects.toThrow(
      /unit v-4: result of unit v-4\.y is a Float32Array/,
    );
  });

  it('stops between units when aborted, leaving no file for an unfinished unit', async () => {
    const { out, dir } = folders();
    const ac = new AbortController();
    const r = run(spec(dir, { hang: ['v-3'] }), out, { signal: ac.signal });
    await waitFor(() => existsSync(path.join(dir, 'hang-v-3.pid')), 'the hanging unit');
    ac.abort(Object.assign(new Error('interrupted by SIGINT'), { name: 'AbortError' }));
    await expect(r).rejects.toThrow(/interrupted by SIGINT/);
    expect(existsSync(unitFilePath(out, 'v-4'))).toBe(true);
    expect(existsSync(unitFilePath(out, 'v-3'))).toBe(false);
    expect(existsSync(unitFilePath(out, 'v-2'))).toBe(false);
  });
});

describe('runner, worker processes', () => {
  it('gives the results of one process; units are spread over the workers', async () => {
    const one = folders();
    const ref = await run(spec(one.dir), one.out);
    const { out, dir } = folders();
    const lines: string[] = [];
    const r = await run(spec(dir), out, { workers: 2, log: (l) => lines.push(l) });
    expect(r.summary).toEqual(ref.summary);
    expect(r.computed.sort()).toEqual(ALL);
    expect(lines[0]).toBe('toy: 4 toy units, 4 in this run, 4 to do, 2 worker(s)');
    expect(lines.some((l) => /^\[worker 1\] toy: unit v-\d in worker 1$/.test(l))).toBe(true);
    expect(lines.some((l) => /^\[worker 2\] toy: unit v-\d in worker 2$/.test(l))).toBe(true);
    const pids = new Set(
      readdirSync(dir)
        .filter((f) => f.startsWith('count-'))
        .map((f) => readFileSync(path.join(dir, f), 'utf8').trim()),
    );
    expect(pids.size).toBe(2);
    expect(pids.has(String(process.pid))).toBe(false);
    // Results equal file by file, except the worker number the toy records.
    for (const id of ALL) {
      const a = JSON.parse(readFileSync(unitFilePath(one.out, id), 'utf8'));
      const b = JSON.parse(readFileSync(unitFilePath(out, id), 'utf8'));
      expect({ ...b.result, worker: 0 }).toEqual(a.result);
    }
  }, 60_000);

  it('a worker killed (SIGKILL) in the middle of a unit: the run fails naming it; the resume recomputes only that unit', async () => {
    const { out, dir } = folders();
    const r = run(spec(dir, { hang: ['v-3'] }), out, { workers: 2 });
    const others = ['v-1', 'v-2', 'v-4'];
    await waitFor(
      () => existsSync(path.join(dir, 'hang-v-3.pid')) && others.every((id) => existsSync(unitFilePath(out, id))),
      'the other units and the hanging one',
    );
    const pid = Number(readFileSync(path.join(dir, 'hang-v-3.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await expect(r).rejects.toThrow(/worker \d was killed by SIGKILL while running unit v-3/);
    expect(existsSync(unitFilePath(out, 'v-3'))).toBe(false);
    const before = stamps(out, others);
    const again = await run(spec(dir), out, { workers: 2 });
    expect(again.computed).toEqual(['v-3']);
    expect(again.summary!.sum).toBe(20);
    expect(stamps(out, others)).toEqual(before);
    expect(counts(dir)).toEqual({ 'v-1': 1, 'v-2': 1, 'v-3': 2, 'v-4': 1 });
  }, 60_000);

  it('a unit failing in one worker stops the others (SIGTERM) and the error names the unit', async () => {
    const { out, dir } = folders();
    const hangPid = path.join(dir, 'hang-v-4.pid');
    const r = run(spec(dir, { hang: ['v-4'], fail: ['v-3'], waitFor: hangPid }), out, { workers: 2 });
    await expect(r).rejects.toThrow(/unit v-3 failed in worker \d: toy failure at v-3/);
    const pid = Number(readFileSync(hangPid, 'utf8'));
    await waitFor(() => !isAlive(pid), 'the other worker to stop');
    expect(existsSync(unitFilePath(out, 'v-4'))).toBe(false);
    expect(existsSync(unitFilePath(out, 'v-3'))).toBe(false);
    // Nothing else was started after the failure.
    expect(counts(dir)).toEqual({ 'v-3': 1, 'v-4': 1 });
  }, 60_000);

  it('aborting stops the workers; the unfinished unit has no file', async () => {
    const { out, dir } = folders();
    const ac = new AbortController();
    const r = run(spec(dir, { hang: ['v-4'] }), out, { workers: 2, signal: ac.signal });
    await waitFor(
      () =>
        existsSync(path.join(dir, 'hang-v-4.pid')) &&
        ['v-1', 'v-2', 'v-3'].every((id) => existsSync(unitFilePath(out, id))),
      'the units',
    );
    const pid = Number(readFileSync(path.join(dir, 'hang-v-4.pid'), 'utf8'));
    ac.abort(Object.assign(new Error('interrupted by SIGINT'), { name: 'AbortError' }));
    await expect(r).rejects.toThrow(/interrupted by SIGINT/);
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(unitFilePath(out, 'v-4'))).toBe(false);
  }, 60_000);

  it('says clearly when the worker entry module is missing', async () => {
    const { out, dir } = folders();
    await expect(run(spec(dir), out, { workers: 2, workerScript: path.join(work, 'nowhere.js') })).rejects.toThrow(
      /worker entry .*nowhere\.js does not exist/,
    );
  });
});

describe('unit files and settings', () => {
  it('canonical JSON sorts keys and refuses values JSON cannot hold', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: null }], u: undefined })).toBe('{"a":[1,{"c":null,"d":2}],"b":1}');
    expect(settingsHash({ a: 1, b: 2 })).toBe(settingsHash({ b: 2, a: 1 }));
    expect(settingsHash({ a: 1 })).not.toBe(settingsHash({ a: 2 }));
    expect(() => canonicalJson({ x: new Map() }, 'settings')).toThrow(/settings\.x is a Map/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/value\.f is a function/);
  });

  it('names the innermost differing setting', () => {
    expect(
      settingDifferences(
        { seed: 1, soap: { rCut: 20, nMax: 4 }, hidden: [64] },
        { seed: 1, soap: { rCut: 63, nMax: 4 }, hidden: [64, 32] },
      ),
    ).toEqual([
      { path: 'soap.rCut', have: 20, want: 63 },
      { path: 'hidden', have: [64], want: [64, 32] },
    ]);
    expect(settingDifferences({ a: 1, gone: 2 }, { a: 1, added: 3 })).toEqual([
      { path: 'added', have: undefined, want: 3 },
      { path: 'gone', have: 2, want: undefined },
    ]);
  });

  it('keeps no temporary file after a run', async () => {
    const { out, dir } = folders();
    await run(spec(dir), out);
    expect(readdirSync(path.join(out, 'units')).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(readdirSync(out).sort()).toEqual(['results.json', 'settings.json', 'units']);
  });
});
