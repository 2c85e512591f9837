/**
 * `soapix experiment noise --protocol retrain` on the runner: one unit file per level in units/,
 * --workers (worker processes) and --shard i/n give the results of one process, reruns resume,
 * units of other settings are refused, SIGINT stops the workers and leaves only finished units;
 * --workers / --shard are refused with fixed-model.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NoiseResults } from '../lib/experiments/noise';
import { noiseRetrainExperiment, noiseRetrainSpec } from '../lib/experiments/noise-retrain';
import { readUnitFile, settingsHash } from '../lib/experiments/unit-files';
import { buildIfStale, cli, root, runCli } from './helpers/cli';

const dir = mkdtempSync(path.join(tmpdir(), 'soapix-noise-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Tiny, but with enough spectra and epochs that the levels' accuracies differ (so equality means something). */
const RETRAIN = [
  'experiment',
  'noise',
  '--protocol',
  'retrain',
  '--tiny',
  '--seed',
  '3',
  '--per-image',
  '5',
  '--epochs',
  '8',
];
const LEVEL_FILES = ['sigma-0.1.json', 'sigma-0.json', 'sigma-1.json', 'sigma-5.json'];

const read = (out: string): NoiseResults =>
  JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as NoiseResults;
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
    expect(readdirSync(path.join(single, 'units')).sort()).toEqual(LEVEL_FILES);

    const out = path.join(dir, 'workers');
    const r = await runCli([...RETRAIN, '--workers', '2', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/4 in this run, 4 to do, 2 worker\(s\)/);
    expect(r.stderr).toMatch(/^\[worker 1\] noise: /m);
    expect(r.stderr).toMatch(/^\[worker 2\] noise: /m);
    expect(r.stderr).toMatch(/^noise-retrain: 4\/4 noise levels done \(100%\)/m);
    const res = read(out);
    expect(res.points.map((p) => p.accuracy)).toEqual(ref.points.map((p) => p.accuracy));
    expect(res.points.map((p) => p.relativeAccuracy)).toEqual(ref.points.map((p) => p.relativeAccuracy));
    expect(strip(res)).toEqual(strip(ref));
    expect(readdirSync(path.join(out, 'units')).sort()).toEqual(LEVEL_FILES);
    expect(existsSync(path.join(out, 'accuracy_vs_sigma.png'))).toBe(true);
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
  }, 180_000);

  it('--shard 1/2 then --shard 2/2 into one folder: only the second writes results.json, equal to one process', async () => {
    const ref = await reference();
    const out = path.join(dir, 'shards');
    const r1 = await runCli([...RETRAIN, '--shard', '1/2', '--out', out, '-q']);
    expect(r1.code).toBe(0);
    // Levels in order sigma_d 0, 0.1, 1, 5: shard 1/2 takes k = 0, 2.
    expect(readdirSync(path.join(out, 'units')).sort()).toEqual(['sigma-0.json', 'sigma-1.json']);
    expect(existsSync(path.join(out, 'results.json'))).toBe(false);
    expect(existsSync(path.join(out, 'report.html'))).toBe(false);
    expect(r1.stdout).toMatch(/still missing: sigma-0\.1, sigma-5;/);

    const r2 = await runCli([...RETRAIN, '--shard', '2/2', '--out', out]);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toMatch(/2 in this run, 2 to do/);
    expect(readdirSync(path.join(out, 'units')).sort()).toEqual(LEVEL_FILES);
    const res = read(out);
    expect(res.points.map((p) => p.accuracy)).toEqual(ref.points.map((p) => p.accuracy));
    expect(strip(res)).toEqual(strip(ref));
  }, 180_000);

  it('a rerun skips the levels done; a rerun with another --seed into the same --out is refused', async () => {
    const ref = await reference();
    const levels = Object.fromEntries(LEVEL_FILES.map((f) => [f, readFileSync(path.join(single, 'units', f), 'utf8')]));
    const again = await runCli([...RETRAIN, '--out', single]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/4 in this run, 0 to do/);
    // Nothing was trained: no backend was started, the level files are untouched.
    expect(again.stderr).not.toMatch(/ML backend/);
    for (const f of LEVEL_FILES) expect(readFileSync(path.join(single, 'units', f), 'utf8')).toBe(levels[f]);
    expect(strip(read(single))).toEqual(strip(ref));

    const other = await runCli([
      ...RETRAIN.map((a, i) => (RETRAIN[i - 1] === '--seed' ? '4' : a)),
      '--out',
      single,
      '-q',
    ]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/holds units of other settings \(--seed 3 there, 4 in this run\); use another --out/);
    for (const f of LEVEL_FILES) expect(readFileSync(path.join(single, 'units', f), 'utf8')).toBe(levels[f]);

    const epochs = await runCli([...RETRAIN, '--epochs', '3', '--out', single, '-q']);
    expect(epochs.code).toBe(1);
    expect(epochs.stderr).toMatch(/--epochs 8 there, 3 in this run/);
  }, 180_000);

  it('SIGINT stops the run and its workers; a unit file left behind is a finished one', async () => {
    const out = path.join(dir, 'interrupted');
    // Long levels, so that the signal comes while both workers train.
    const args = [...RETRAIN, '--epochs', '1000', '--patience', '1000', '--workers', '2', '--out', out];
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const waitFor = async (what: () => boolean, label: string): Promise<void> => {
      for (let i = 0; i < 1200 && !what(); i++) await new Promise((r) => setTimeout(r, 50));
      if (!what()) throw new Error(`timed out waiting for ${label}; stderr so far:\n${stderr}`);
    };
    await waitFor(
      () => (stderr.match(/^\[worker [12]\] noise: protocol retrain/gm) ?? []).length === 2,
      'both workers to start a level',
    );
    const workers = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)])
      .toString()
      .trim()
      .split(/\s+/)
      .map(Number);
    expect(workers.length).toBe(2);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/soapix experiment: interrupted by SIGINT/);
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(() => workers.every((pid) => !alive(pid)), 'the workers to stop');
    // Whatever is in units/ is a complete unit of these settings; nothing half-written counts.
    const spec = noiseRetrainSpec({
      tiny: true,
      seed: 3,
      sigmas: [0.1, 1, 5],
      testImages: 200,
      perImage: 5,
      epochs: 1000,
      patience: 1000,
    });
    const hash = settingsHash(noiseRetrainExperiment.settings(spec));
    for (const f of readdirSync(path.join(out, 'units')).filter((n) => n.endsWith('.json'))) {
      const sigma = Number(f.slice('sigma-'.length, -'.json'.length));
      const s = await readUnitFile(out, {
        experiment: 'noise-retrain',
        id: f.slice(0, -5),
        settingsHash: hash,
        unit: { sigma },
      });
      expect(s.state, f).toBe('done');
    }
    expect(existsSync(path.join(out, 'results.json'))).toBe(false);
  }, 120_000);

  it('--workers and --shard are refused with --protocol fixed-model', async () => {
    const never = path.join(dir, 'never');
    const w = await runCli(['experiment', 'noise', '--tiny', '--workers', '2', '--out', never]);
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(/--workers applies to --protocol retrain only/);
    const s = await runCli([
      'experiment',
      'noise',
      '--protocol',
      'fixed-model',
      '--tiny',
      '--shard',
      '1/2',
      '--out',
      never,
    ]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--shard applies to --protocol retrain only/);
    expect(existsSync(never)).toBe(false);
  }, 60_000);
});
