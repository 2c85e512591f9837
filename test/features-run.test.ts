/**
 * The featurize run as a library (lib/features/run.ts, merge.ts, plan.ts), without the CLI: it
 * prints nothing and reports events; its point count pass counts exactly the points the
 * conversion produces (gray and colour); shards merged give the unsharded run's bytes; a
 * finished run is skipped on a rerun.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryDataset, mnistDataset } from '../lib/data/datasets';
import { imageToPoints } from '../lib/data/image';
import { mergeShards, type MergeEvent } from '../lib/features/merge';
import { countPoints, planRun } from '../lib/features/plan';
import { runFeaturize, type FeaturizeEvent, type FeaturizeRunOptions } from '../lib/features/run';
import { Rng } from '../lib/util/random';
import { UsageError } from '../lib/util/usage-error';

const tmp = mkdtempSync(path.join(tmpdir(), 'soapix-features-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const OPTIONS: FeaturizeRunOptions = {
  dataset: 'mnist',
  split: 'test',
  mode: 'gray',
  rCut: 5,
  nMax: 3,
  lMax: 2,
  sigma: 1,
  rbf: 'gto',
  zScale: 0.1,
  zRounding: 'floor',
  noiseSeed: 0,
  seed: 0,
  limit: 12,
  batchSize: 4,
  threads: 1,
  dtype: 'float32',
  fitScaler: false,
  force: false,
  out: path.join(tmp, 'whole'),
};

describe('countPoints', () => {
  it('counts what imageToPoints produces, for gray and colour images and any threshold', () => {
    const gray = mnistDataset('test');
    const rng = new Rng(5);
    const pixels = new Uint8Array(20 * 6 * 7 * 3);
    for (let i = 0; i < pixels.length; i++) pixels[i] = rng.nextInt(256);
    const rgb = new InMemoryDataset({
      name: 'random-rgb',
      pixels,
      labels: new Int32Array(20),
      rows: 6,
      cols: 7,
      channels: 3,
    });
    for (const ds of [gray, rgb]) {
      for (const image of [
        {},
        { threshold: 0 },
        { threshold: 128.5 },
        { zScale: 0.5, zRounding: 'none' as const },
        { threshold: 256 },
      ]) {
        const counts = countPoints(ds, 20, image);
        for (let i = 0; i < 20; i++) expect(counts[i]).toBe(imageToPoints(ds.get(i), image).count);
      }
    }
    // Not a constant: MNIST images differ in their point counts.
    expect(new Set(countPoints(gray, 20, {})).size).toBeGreaterThan(5);
  });

  it('refuses invalid conversion options', () => {
    expect(() => countPoints(mnistDataset('test'), 2, { threshold: 300 })).toThrow(/threshold = 300 is out of range/);
  });
});

describe('planRun', () => {
  it('gives each shard its image range and exact rows; the shards add up to the whole', () => {
    const pointCounts = Uint32Array.from([3, 0, 5, 7, 1, 2, 9]);
    const common = { length: 7, pointCounts, featureCount: 10, dtype: 'float64' as const, batchSize: 'auto' as const };
    const whole = planRun(common);
    expect(whole.expectedRows).toBe(27);
    expect(whole.expectedBytes).toBe(27 * (10 * 8 + 12) + 3 * 128);
    const parts = [1, 2, 3].map((index) => planRun({ ...common, shard: { index, count: 3 } }));
    expect(parts.map((p) => [p.start, p.end])).toEqual([
      [0, 2],
      [2, 4],
      [4, 7],
    ]);
    expect(parts.reduce((s, p) => s + p.expectedRows, 0)).toBe(27);
    const sampled = planRun({ ...common, sample: { count: 11, seed: 3 } });
    expect(sampled.expectedRows).toBe(11);
    expect(sampled.samples!.counts[1]).toBe(0); // an image without points is never drawn
    expect(() => planRun({ ...common, pointCounts: new Uint32Array(7), sample: { count: 4, seed: 1 } })).toThrow(
      UsageError,
    );
  });
});

describe('runFeaturize and mergeShards', () => {
  it('write files, report events, skip a finished run, and merge shards byte-identically', async () => {
    const events: FeaturizeEvent['kind'][] = [];
    const first = await runFeaturize(OPTIONS, { onEvent: (e) => events.push(e.kind) });
    expect(first.skipped).toBe(false);
    const counts = countPoints(mnistDataset('test'), 12, {});
    expect(first.meta.rows).toBe(counts.reduce((a, b) => a + b, 0));
    expect(events[0]).toBe('start');
    expect(events).toContain('progress');
    expect(events.at(-1)).toBe('computed');

    const again: FeaturizeEvent[] = [];
    const second = await runFeaturize(OPTIONS, { onEvent: (e) => again.push(e) });
    expect(second.skipped).toBe(true);
    expect(again.map((e) => e.kind)).toEqual(['skipped']);
    await expect(runFeaturize({ ...OPTIONS, sigma: 1.5 })).rejects.toThrow(
      /holds a finished run with other parameters \(soap\.sigma: 1 vs 1\.5/,
    );

    const sharded = path.join(tmp, 'sharded');
    for (const index of [2, 1, 3]) await runFeaturize({ ...OPTIONS, out: sharded, shard: { index, count: 3 } });
    const merged: MergeEvent['kind'][] = [];
    const m = await mergeShards(
      { out: sharded, fitScaler: false, force: false, removeShards: false },
      { onEvent: (e) => merged.push(e.kind) },
    );
    expect(merged).toEqual(['start', 'shard', 'shard', 'shard']);
    expect(m.shards).toBe(3);
    for (const f of ['features.npy', 'labels.npy', 'centers.npy']) {
      expect(readFileSync(path.join(sharded, f)).equals(readFileSync(path.join(OPTIONS.out, f)))).toBe(true);
    }
  });

  it('refuses a scaler fit on one shard before doing anything', async () => {
    await expect(
      runFeaturize({ ...OPTIONS, out: path.join(tmp, 'never'), fitScaler: true, shard: { index: 1, count: 2 } }),
    ).rejects.toThrow(UsageError);
  });
});
