/**
 * `soapix experiment noise --protocol retrain` in parallel: one result file per level in levels/,
 * --workers (forks of the CLI) and --shard i/n give the results of one process, reruns resume,
 * level files of other settings are refused; --workers / --shard are refused with fixed-model.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NoiseResults } from '../lib/experiments/noise';
import { buildIfStale, runCli } from './helpers/cli';

const dir = mkdtempSync(path.join(tmpdir(), 'soapix-noise-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Tiny, but with enough spectra and epochs that the levels' accuracies differ (so equality means something). */
const RETRAIN = ['experiment', 'noise', '--protocol', 'retrain', '--tiny', '--seed', '3', '--per-image', '5', '--epochs', '8'];
const LEVEL_FILES = ['sigma-0.1.json', 'sigma-0.json', 'sigma-1.json', 'sigma-5.json'];

const read = (out: string): NoiseResults => JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as NoiseResults;
/** results.json without its timings and command line. */
const strip = (r: NoiseResults) => {
  const { seconds: _s, finishedAt: _f, command: _c, points, ...rest } = r;
  return { ...rest, points: points.map((p) => ({ ...p, seconds: 0 })) };
};

/** The single-process run every parallel one is compared with. */
const single = path.join(dir, 'single');
async function reference(): Promise<NoiseResults> {
  if (!existsSync(path.join(single, 'results.json'))) {
    const r = await runCli([...RETRAIN, '--out', single, '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }
  return read(single);
}

describe('experiment noise --protocol retrain: levels, workers, shards', () => {
  beforeAll(buildIfStale, 120_000);

  it('--workers 2 gives the same per-level accuracies and results.json as --workers 1', async () => {
    const ref = await reference();
    expect(ref.points.map((p) => p.sigma)).toEqual([0, 0.1, 1, 5]);
    // The comparison can only catch a mix-up of levels if their accuracies differ.
    expect(new Set(ref.points.map((p) => p.accuracy)).size).toBeGreaterThan(2);
    expect(readdirSync(path.join(single, 'levels')).sort()).toEqual(LEVEL_FILES);

    const out = path.join(dir, 'workers');
    const r = await runCli([...RETRAIN, '--workers', '2', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/4 in this run, 4 to do, 2 worker\(s\)/);
    expect(r.stderr).toMatch(/^\[worker 1\] noise: /m);
    expect(r.stderr).toMatch(/^\[worker 2\] noise: /m);
    expect(r.stderr).toMatch(/2 in this run, 2 to do, 1 worker\(s\)/);
    const res = read(out);
    expect(res.points.map((p) => p.accuracy)).toEqual(ref.points.map((p) => p.accuracy));
    expect(res.points.map((p) => p.relativeAccuracy)).toEqual(ref.points.map((p) => p.relativeAccuracy));
    expect(strip(res)).toEqual(strip(ref));
    expect(readdirSync(path.join(out, 'levels')).sort()).toEqual(LEVEL_FILES);
    expect(existsSync(path.join(out, 'accuracy_vs_sigma.png'))).toBe(true);
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
  }, 180_000);

  it('--shard 1/2 then --shard 2/2 into one folder: only the second writes results.json, equal to one process', async () => {
    const ref = await reference();
    const out = path.join(dir, 'shards');
    const r1 = await runCli([...RETRAIN, '--shard', '1/2', '--out', out, '-q']);
    expect(r1.code).toBe(0);
    // Levels in order sigma_d 0, 0.1, 1, 5: shard 1/2 takes k = 0, 2.
    expect(readdirSync(path.join(out, 'levels')).sort()).toEqual(['sigma-0.json', 'sigma-1.json']);
    expect(existsSync(path.join(out, 'results.json'))).toBe(false);
    expect(existsSync(path.join(out, 'report.html'))).toBe(false);
    expect(r1.stdout).toMatch(/still missing: sigma_d 0\.1, 5/);

    const r2 = await runCli([...RETRAIN, '--shard', '2/2', '--out', out]);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toMatch(/2 in this run, 2 to do/);
    expect(readdirSync(path.join(out, 'levels')).sort()).toEqual(LEVEL_FILES);
    const res = read(out);
    expect(res.points.map((p) => p.accuracy)).toEqual(ref.points.map((p) => p.accuracy));
    expect(strip(res)).toEqual(strip(ref));
  }, 180_000);

  it('a rerun skips the levels done; a rerun with another --seed into the same --out is refused', async () => {
    const ref = await reference();
    const levels = Object.fromEntries(LEVEL_FILES.map((f) => [f, readFileSync(path.join(single, 'levels', f), 'utf8')]));
    const again = await runCli([...RETRAIN, '--out', single]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/4 in this run, 0 to do/);
    // Nothing was trained: no backend was started, the level files are untouched.
    expect(again.stderr).not.toMatch(/ML backend/);
    for (const f of LEVEL_FILES) expect(readFileSync(path.join(single, 'levels', f), 'utf8')).toBe(levels[f]);
    expect(strip(read(single))).toEqual(strip(ref));

    const other = await runCli([...RETRAIN.map((a, i) => (RETRAIN[i - 1] === '--seed' ? '4' : a)), '--out', single, '-q']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/sigma-0\.json was written with other settings \(--seed 3 there, 4 in this run\); use another --out/);
    for (const f of LEVEL_FILES) expect(readFileSync(path.join(single, 'levels', f), 'utf8')).toBe(levels[f]);

    const epochs = await runCli([...RETRAIN, '--epochs', '3', '--out', single, '-q']);
    expect(epochs.code).toBe(1);
    expect(epochs.stderr).toMatch(/--epochs 8 there, 3 in this run/);
  }, 180_000);

  it('--workers and --shard are refused with --protocol fixed-model', async () => {
    const never = path.join(dir, 'never');
    const w = await runCli(['experiment', 'noise', '--tiny', '--workers', '2', '--out', never]);
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(/--workers applies to --protocol retrain only/);
    const s = await runCli(['experiment', 'noise', '--protocol', 'fixed-model', '--tiny', '--shard', '1/2', '--out', never]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--shard applies to --protocol retrain only/);
    expect(existsSync(never)).toBe(false);
  }, 60_000);
});
