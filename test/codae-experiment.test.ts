// `soapix experiment codae --tiny` end to end through the compiled CLI (dist/cli.js, rebuilt when
// stale): the files it writes, the same results in one process, with two workers and in two
// shards, the saved models, and the other two data sets.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCodaeExperiment, TINY_CODAE, type CodaeSpec } from '../lib/experiments/codae';
import { selectBackend } from '../lib/ml/backend';
import { fileCheckpoint } from '../lib/ml/train/checkpoint';
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

  it('a training interrupted mid-way continues from its checkpoint to the uninterrupted result', async () => {
    await selectBackend({ prefer: 'wasm', log: false });
    const spec: CodaeSpec = {
      ...TINY_CODAE,
      dataset: 'xyrcs',
      models: ['codae'],
      seeds: [1],
      epochs: 8,
      dataSeed: 1,
      backend: 'wasm',
    };
    const quiet = { log: () => undefined };
    const whole = await runCodaeExperiment({
      ...spec,
      ...quiet,
      out: path.join(work, 'ckpt-whole'),
      checkpointMinutes: 0,
    });
    expect(existsSync(path.join(work, 'ckpt-whole', 'checkpoints'))).toBe(false);

    // A checkpoint after every epoch (1e-6 minutes); stop the run once the first one is on disk
    // (checkpoint writes are asynchronous, so the poll runs between epochs).
    const out = path.join(work, 'ckpt-resumed');
    const file = path.join(out, 'checkpoints', 'codae-seed1.ckpt');
    const ac = new AbortController();
    const poll = setInterval(() => existsSync(file) && ac.abort(new Error('stopped after a checkpoint')), 1);
    try {
      await expect(
        runCodaeExperiment({ ...spec, ...quiet, out, checkpointMinutes: 1e-6, signal: ac.signal }),
      ).rejects.toThrow(/stopped after a checkpoint/);
    } finally {
      clearInterval(poll);
    }
    const saved = await fileCheckpoint(file).load();
    expect(saved!.epoch).toBeGreaterThanOrEqual(1);
    expect(saved!.epoch).toBeLessThan(8);
    expect(existsSync(path.join(out, 'units', 'codae-seed1.json'))).toBe(false);

    const resumed = await runCodaeExperiment({ ...spec, ...quiet, out, checkpointMinutes: 1e-6 });
    // Resumed, not restarted: the epochs before the checkpoint keep the timings they were logged with.
    const epochs = resumed!.records[0]!.epochs;
    expect(epochs).toHaveLength(8);
    expect(epochs.slice(0, saved!.epoch).map((e) => e.seconds)).toEqual(
      (saved!.logs as { seconds: number }[]).map((l) => l.seconds),
    );
    expect(content(resumed)).toEqual(content(whole));
    expect(readdirSync(path.join(out, 'checkpoints'))).toEqual([]);
  }, 120_000);

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
    const c = await runCli(
      ['experiment', 'codae', '--tiny', '--checkpoint-minutes', '-1', '--out', path.join(work, 'bad3')],
      60_000,
    );
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(/--checkpoint-minutes/);
  }, 190_000);
});
