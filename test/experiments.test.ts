/**
 * The experiments end to end in --tiny mode, through the compiled CLI (dist/cli.js, rebuilt when
 * stale): classify, predict with its model, classify --runs, hparam-search with 2 trials.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

import { mirrorImage, rotateImage } from '../lib/data/transform';
import { trialParams } from '../lib/experiments/hparam-search';
import { buildIfStale, runCli } from './helpers/cli';

const work = mkdtempSync(path.join(tmpdir(), 'soapix-exp-'));
const run = (args: string[]) => runCli(args);

beforeAll(buildIfStale, 120_000);

describe('image helpers', () => {
  it('rotates by 0 degrees to the same image, by 180 twice back, and mirrors', () => {
    const pixels = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    const img = { pixels, rows: 3, cols: 4 };
    expect(Array.from(rotateImage(img, 0).pixels)).toEqual(Array.from(pixels));
    expect(Array.from(rotateImage(rotateImage(img, 180), 180).pixels)).toEqual(Array.from(pixels));
    expect(Array.from(mirrorImage(img).pixels.slice(0, 4))).toEqual([60, 40, 20, 0]);
  });

  it('draws trial parameters in the paper ranges, reproducibly', () => {
    for (let k = 0; k < 50; k++) {
      const p = trialParams(1, k);
      expect(p).toEqual(trialParams(1, k));
      expect(p.rCut).toBeGreaterThanOrEqual(2);
      expect(p.rCut).toBeLessThanOrEqual(100);
      expect(p.nMax).toBeGreaterThanOrEqual(2);
      expect(p.nMax).toBeLessThanOrEqual(11);
      expect(p.lMax).toBeGreaterThanOrEqual(2);
      expect(p.lMax).toBeLessThanOrEqual(11);
      expect(p.sigma).toBeGreaterThanOrEqual(1);
      expect(p.sigma).toBeLessThanOrEqual(10);
    }
  });
});

describe('soapix experiment (tiny)', () => {
  const out = path.join(work, 'classify');

  it('classify --tiny writes results, model, figures and report', async () => {
    const r = await run(['experiment', 'classify', '--tiny', '--out', out]);
    expect(r.stderr).toMatch(/backend/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/test accuracy [\d.]+ +precision [\d.]+ +recall [\d.]+ +F1 [\d.]+/);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    for (const k of ['accuracy', 'precision', 'recall', 'f1']) {
      expect(res.test[k]).toBeGreaterThanOrEqual(0);
      expect(res.test[k]).toBeLessThanOrEqual(1);
    }
    expect(res.test.confusionNormalized).toHaveLength(10);
    expect(res.training.epochsRun).toBe(2);
    expect(typeof res.backend.name).toBe('string');
    for (const f of [
      'confusion.png',
      'confusion.svg',
      'training.png',
      'prediction-maps.png',
      'report.html',
      'model/soapix.json',
      'model/model.json',
    ]) {
      expect(existsSync(path.join(out, f)), f).toBe(true);
    }
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('confusion.png');
    expect(html).toContain('prediction-maps.png');
  });

  it('predict writes a class map of a PNG with the tiny model', async () => {
    const img = Buffer.alloc(28 * 28);
    for (let r = 6; r < 22; r++) for (let c = 12; c < 16; c++) img[r * 28 + c] = 255; // a "1"
    const png = path.join(work, 'one.png');
    await sharp(img, { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(png);
    const map = path.join(work, 'one-map.png');
    const r = await run(['predict', '--model', path.join(out, 'model'), png, '--out', map, '--scale', '2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/64 points classified/);
    expect(r.stdout).toMatch(/majority vote: \d/);
    const { data, info } = await sharp(map).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([56, 56]);
    expect(data[0]).toBe(0); // background black
    const k = (14 * 2 * 56 + 13 * 2) * info.channels;
    expect(data[k]! + data[k + 1]! + data[k + 2]!).toBeGreaterThan(0); // a stroke pixel is coloured
  });

  it('classify --tiny --runs 2: seeds 1 and 2 as units in 2 workers, mean ± std; the seed-1 run equals the single run', async () => {
    const dir = path.join(work, 'runs');
    const r = await run(['experiment', 'classify', '--tiny', '--runs', '2', '--workers', '2', '--out', dir, '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^2 runs \(seeds 1\.\.2\): test accuracy [\d.]+ ± [\d.]+ +precision [\d.]+ ± [\d.]+/);
    const res = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    const single = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(res.perRun.map((p: { seed: number }) => p.seed)).toEqual([1, 2]);
    const [a, b] = res.perRun;
    for (const k of ['accuracy', 'precision', 'recall', 'f1']) expect(a[k], k).toBe(single.test[k]);
    expect(a.bestValAccuracy).toBe(single.training.bestValAccuracy);
    expect(b.accuracy).not.toBe(a.accuracy);
    expect(res.mean.accuracy).toBeCloseTo((a.accuracy + b.accuracy) / 2, 15);
    expect(res.std.accuracy).toBeCloseTo(Math.abs(a.accuracy - b.accuracy) / Math.SQRT2, 12);
    expect(existsSync(path.join(dir, 'runs', 'seed-2', 'results.json'))).toBe(true);
    expect(readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain('mean ± std');
    const refused = await run([
      'experiment',
      'classify',
      '--tiny',
      '--workers',
      '2',
      '--out',
      path.join(work, 'never'),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--workers applies to --runs N with N > 1/);
  });

  it('hparam-search --tiny --trials 2 writes trial files, search.json, scatter plots and a report', async () => {
    const dir = path.join(work, 'search');
    const r = await run(['experiment', 'hparam-search', '--tiny', '--trials', '2', '--out', dir, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2\/2 trials done; best: trial \d/);
    const s = JSON.parse(readFileSync(path.join(dir, 'search.json'), 'utf8'));
    expect(s.records).toHaveLength(2);
    for (const rec of s.records) expect(rec.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(existsSync(path.join(dir, 'scatter.png'))).toBe(true);
    expect(readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain('scatter.png');
  });
});
