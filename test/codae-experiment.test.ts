// `soapix experiment codae --tiny` end to end through the compiled CLI (dist/cli.js, rebuilt when
// stale): the files it writes, the same results in one process, with two workers and in two
// shards, the saved models, and the other two data sets.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { selectBackend } from '../lib/ml/backend';
import { Codae } from '../lib/ml/models/codae';
import { buildIfStale, runCli } from './helpers/cli';

const work = mkdtempSync(path.join(tmpdir(), 'soapix-codae-exp-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeAll(buildIfStale, 120_000);

/** Keys that depend on the run's timing or command line. */
const TIMING = new Set(['seconds', 'trainSeconds', 'trainCpuSeconds', 'finishedAt', 'command', 'samplesPerSecond']);

function content(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(content);
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !TIMING.has(k))
        .map(([k, x]) => [k, content(x)]),
    );
  return v;
}

const read = (dir: string, file = 'results.json') => JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
const base = ['experiment', 'codae', '--tiny', '--seeds', '1,2', '--models', 'codae,codae-nomoment,dae'];

describe('soapix experiment codae --tiny', () => {
  const one = path.join(work, 'one');

  it('writes results, figures, models and a report that names the data as ours', async () => {
    const r = await runCli([...base, '--out', one], 300_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^codae: average score [\d.]+ ± [\d.]+ with x, y, θ/m);
    expect(r.stdout).toMatch(/our procedural generator/);
    const res = read(one);
    expect(res.experiment).toBe('codae');
    expect(res.data).toMatch(/our procedural generator.*not the original XYRCS files/);
    expect(res.models.map((m: { model: string }) => m.model)).toEqual(['codae', 'codae-nomoment', 'dae']);
    expect(res.records).toHaveLength(6);
    for (const m of res.models) {
      for (const which of ['withPose', 'withoutPose']) {
        for (const k of ['zDiff', 'zMinVar', 'mig', 'sap', 'dci', 'irs', 'jemmig', 'modularity', 'average']) {
          expect(m[which][k].mean).toBeGreaterThanOrEqual(0);
          expect(m[which][k].mean).toBeLessThanOrEqual(1);
        }
      }
    }
    const dae = res.records.find((x: { model: string }) => x.model === 'dae');
    expect(dae.poseColumns.identified).toBe(true);
    expect(dae.contentColumns).toHaveLength(2);
    expect(res.claims.length).toBeGreaterThanOrEqual(3);
    expect(res.aims.length).toBe(6);
    for (const f of [
      'scores_with_pose.png',
      'scores_without_pose.png',
      'pose_estimates.png',
      'aligned.png',
      'report.html',
      'figures/codae-seed1-traversal.png',
      'figures/dae-seed2-series.png',
      'arrays/codae-seed2-aligned.npy',
    ]) {
      expect(existsSync(path.join(one, f)), f).toBe(true);
    }
    const html = readFileSync(path.join(one, 'report.html'), 'utf8');
    expect(html).toMatch(/not the original XYRCS files/);
    expect(html).toMatch(/Aligned reconstructions of the same inputs/);
    // The saved model encodes the test images as it did in the run.
    await selectBackend({ prefer: 'wasm', log: false });
    const model = await Codae.load(path.join(one, 'models', 'codae-seed1'));
    expect(model.savedInfo?.extra).toMatchObject({ experiment: 'codae', dataset: 'xyrcs', seed: 1 });
    model.dispose();
  }, 320_000);

  it('gives the same results with two workers and in two shards', async () => {
    const workers = path.join(work, 'workers');
    expect((await runCli([...base, '--out', workers, '--workers', '2'], 300_000)).code).toBe(0);
    expect(content(read(workers))).toEqual(content(read(one)));
    const shards = path.join(work, 'shards');
    const first = await runCli([...base, '--out', shards, '--shard', '1/2', '-q'], 300_000);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/still missing/);
    expect((await runCli([...base, '--out', shards, '--shard', '2/2', '-q'], 300_000)).code).toBe(0);
    expect(content(read(shards))).toEqual(content(read(one)));
  }, 620_000);

  it('runs on the dSprites-like set and MNIST-RT', async () => {
    const ds = path.join(work, 'dsprites');
    const r = await runCli(
      [
        'experiment',
        'codae',
        '--tiny',
        '--dataset',
        'dsprites',
        '--seeds',
        '1',
        '--models',
        'codae,beta-vae',
        '--out',
        ds,
        '-q',
      ],
      300_000,
    );
    expect(r.code).toBe(0);
    expect(read(ds).data).toMatch(/dSprites-like: our procedural generator/);
    expect(read(ds).aims).toEqual([]);
    const mn = path.join(work, 'mnist');
    const m = await runCli(
      [
        'experiment',
        'codae',
        '--tiny',
        '--dataset',
        'mnist',
        '--seeds',
        '1',
        '--models',
        'codae,spatial-vae',
        '--out',
        mn,
        '-q',
      ],
      300_000,
    );
    expect(m.code).toBe(0);
    const res = read(mn);
    expect(res.data).toMatch(/MNIST-RT/);
    expect(res.records[0].content.knnAccuracy).toBeGreaterThan(0);
  }, 620_000);

  it('rejects bad options with a usage message', async () => {
    const r = await runCli(
      ['experiment', 'codae', '--tiny', '--models', 'codae,vae', '--out', path.join(work, 'bad')],
      60_000,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /--models must be a comma-separated subset of codae,codae-nomoment,spatial-vae,beta-vae,dae/,
    );
    const s = await runCli(
      ['experiment', 'codae', '--tiny', '--seeds', '1,1', '--out', path.join(work, 'bad2')],
      60_000,
    );
    expect(s.code).not.toBe(0);
    expect(s.stderr).toMatch(/--seeds must be distinct/);
  }, 130_000);
});
