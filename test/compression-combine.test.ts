/**
 * `soapix experiment compression-combine` (lib/experiments/compression-combine.ts): finished
 * Experiment-2 runs joined into one results.json. Checked on hand-made runs whose union is known:
 * the points of every run in method order, the paper's claims checked again on the union (a claim
 * no single run can test), settings kept only where the runs agree; runs of different data, a
 * point given twice, one run, missing / truncated / foreign files and an --out that is a run are
 * refused with a message, and the refused run's files are untouched.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  combineCompressionResults,
  readCompressionResults,
  readSourceCorrelation,
} from '../lib/experiments/compression-combine';
import type { CompressionPoint, CompressionResults } from '../lib/experiments/compression-report';
import { UsageError } from '../lib/util/usage-error';
import { buildIfStale, runCli } from './helpers/cli';

const work = mkdtempSync(path.join(tmpdir(), 'soapix-combine-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function point(method: string, he: number, valMse: number, relativeAccuracy: number): CompressionPoint {
  return {
    method,
    he,
    valMse,
    accuracy: 0.68 * relativeAccuracy,
    relativeAccuracy,
    classifierEpochs: 15,
    classifierBestEpoch: 12,
    seconds: 10,
  };
}

/** A finished run's results.json with the given points and settings. */
function fakeRun(
  points: CompressionPoint[],
  settings: Record<string, unknown>,
  extra: Partial<CompressionResults> = {},
): CompressionResults {
  return {
    experiment: 'compression',
    command: `soapix experiment compression --methods ${[...new Set(points.map((p) => p.method))].join(',')}`,
    simdPath: 'avx512',
    soap: { rCut: 63, nMax: 7, lMax: 10, sigma: 3 },
    features: 308,
    trainRows: 800,
    valRows: 200,
    testRows: 100,
    seed: 1,
    backend: 'wasm',
    settings: { tiny: false, epochs: 300, learningRate: 0.001, ...settings },
    baseline: { accuracy: 0.68, classifierEpochs: 15, classifierBestEpoch: 15, seconds: 5 },
    pcaCumulativeVariance: points.some((p) => p.method === 'pca') ? [{ he: 10, cumulative: 0.9 }] : [],
    points,
    claims: [],
    seconds: 100,
    figures: [],
    finishedAt: '2026-12-03T00:00:00.000Z',
    ...extra,
  };
}

// PCA + linear AE in one run, each deep depth in its own (as docs/RESULTS.md's paper-size runs).
const linear = fakeRun(
  [
    point('pca', 10, 0.32, 0.55),
    point('linear-ae', 10, 0.321, 0.56),
    point('pca', 200, 2e-6, 1.04),
    point('linear-ae', 200, 6e-5, 1.03),
  ],
  { methods: ['pca', 'linear-ae'] },
);
const deep4 = fakeRun([point('deep-ae-hm4', 200, 1e-4, 1.03), point('deep-ae-hm4', 10, 0.081, 0.76)], {
  methods: ['deep-ae'],
  hm: [4],
});
const deep2 = fakeRun([point('deep-ae-hm2', 10, 0.085, 0.74)], { methods: ['deep-ae'], hm: [2] });

describe('combineCompressionResults', () => {
  it('joins the points in method order and checks the claims on the union', () => {
    const alone = combineCompressionResults(
      [
        { path: 'a', results: deep4 },
        { path: 'b', results: deep2 },
      ],
      'cmd',
    );
    // Without PCA no run can test "a deep AE beats PCA below h_e 50" ...
    expect(alone.claims.find((c) => c.claim.startsWith('A deep AE'))!.holds).toBeNull();
    const c = combineCompressionResults(
      [
        { path: 'deep4', results: deep4 },
        { path: 'linear', results: linear },
        { path: 'deep2', results: deep2 },
      ],
      'soapix experiment compression-combine deep4 linear deep2 --out all',
    );
    expect(c.points.map((p) => `${p.method}:${p.he}`)).toEqual([
      'pca:10',
      'pca:200',
      'linear-ae:10',
      'linear-ae:200',
      'deep-ae-hm2:10',
      'deep-ae-hm4:10',
      'deep-ae-hm4:200',
    ]);
    // ... the union can: 0.081 (best deep, h_m 4) < 0.32 (PCA) at h_e 10.
    const deepClaim = c.claims.find((x) => x.claim.startsWith('A deep AE'))!;
    expect(deepClaim.holds).toBe(true);
    expect(deepClaim.detail).toContain('deep-ae-hm4');
    expect(c.claims.find((x) => x.claim.startsWith('PCA and the linear AE'))!.holds).toBe(true);
    expect(c.claims.find((x) => x.claim.startsWith('PCA reconstructs better'))!.holds).toBe(true);
    expect(c.command).toBe('soapix experiment compression-combine deep4 linear deep2 --out all');
    expect(c.seconds).toBe(300);
    expect(c.pcaCumulativeVariance).toEqual(linear.pcaCumulativeVariance);
    // Settings the runs share stay; the ones they differ in (methods, hm) go.
    expect(c.settings).toEqual({ tiny: false, epochs: 300, learningRate: 0.001, combined: 3 });
    expect(c.sources.map((s) => [s.path, s.methods, s.he])).toEqual([
      ['deep4', ['deep-ae-hm4'], [10, 200]],
      ['linear', ['pca', 'linear-ae'], [10, 200]],
      ['deep2', ['deep-ae-hm2'], [10]],
    ]);
    // The inputs are not modified.
    expect(deep4.points[0]!.he).toBe(200);
  });

  it('refuses runs of different data, a point given twice and a single run', () => {
    const other = fakeRun(
      [point('deep-ae-hm2', 50, 0.01, 0.99)],
      {},
      { soap: { rCut: 40, nMax: 7, lMax: 10, sigma: 3 } },
    );
    const run = (results: CompressionResults, p: string) => ({ path: p, results });
    expect(() => combineCompressionResults([run(linear, 'a'), run(other, 'b')], 'c')).toThrow(
      /b and a measured different things \(SOAP parameters: .*"rCut":40.* against .*"rCut":63/,
    );
    const smaller = fakeRun([point('deep-ae-hm2', 50, 0.01, 0.99)], {}, { trainRows: 80 });
    expect(() => combineCompressionResults([run(linear, 'a'), run(smaller, 'b')], 'c')).toThrow(
      /train \/ validation \/ test spectra: \[80,200,100\] against \[800,200,100\]/,
    );
    const tiny = fakeRun([point('deep-ae-hm2', 50, 0.01, 0.99)], { tiny: true });
    expect(() => combineCompressionResults([run(linear, 'a'), run(tiny, 'b')], 'c')).toThrow(/protocol/);
    expect(() => combineCompressionResults([run(deep2, 'x'), run(deep2, 'y')], 'c')).toThrow(
      /deep-ae-hm2 h_e 10 is in both x and y; give each \(method, h_e\) point once/,
    );
    expect(() => combineCompressionResults([run(deep2, 'x')], 'c')).toThrow(UsageError);
  });

  it('warns when the baselines differ and keeps each point its own relative accuracy', () => {
    const lines: string[] = [];
    const other = fakeRun(
      [point('deep-ae-hm2', 10, 0.085, 0.74)],
      {},
      {
        baseline: { accuracy: 0.69, classifierEpochs: 15, classifierBestEpoch: 15, seconds: 5 },
      },
    );
    const c = combineCompressionResults(
      [
        { path: 'a', results: linear },
        { path: 'b', results: other },
      ],
      'c',
      (l) => lines.push(l),
    );
    expect(lines.join('\n')).toMatch(/baseline accuracies differ \(a: 0\.68, b: 0\.69\)/);
    expect(c.points.find((p) => p.method === 'deep-ae-hm2')!.relativeAccuracy).toBe(0.74);
  });
});

describe('readCompressionResults', () => {
  it('reads a folder or its file and refuses missing, truncated and foreign files', async () => {
    const d = path.join(work, 'read');
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, 'results.json'), JSON.stringify(deep2));
    expect((await readCompressionResults(d)).points).toHaveLength(1);
    expect((await readCompressionResults(path.join(d, 'results.json'))).points).toHaveLength(1);
    await expect(readCompressionResults(path.join(work, 'nope'))).rejects.toThrow(/cannot read .*nope.*finished/);
    writeFileSync(path.join(d, 'cut.json'), JSON.stringify(deep2).slice(0, 100));
    await expect(readCompressionResults(path.join(d, 'cut.json'))).rejects.toThrow(/not valid JSON \(truncated/);
    writeFileSync(path.join(d, 'other.json'), JSON.stringify({ experiment: 'noise', points: [] }));
    await expect(readCompressionResults(path.join(d, 'other.json'))).rejects.toThrow(
      /not the results.json of 'soapix experiment compression'/,
    );
    writeFileSync(path.join(d, 'null.json'), 'null');
    await expect(readCompressionResults(path.join(d, 'null.json'))).rejects.toThrow(/no JSON object/);
    writeFileSync(path.join(d, 'bad.json'), JSON.stringify({ ...deep2, points: [{ method: 'pca' }] }));
    await expect(readCompressionResults(path.join(d, 'bad.json'))).rejects.toThrow(/lacks its method, h_e/);
  });

  it('finds a correlation matrix in a source folder, skipping broken ones', async () => {
    const a = path.join(work, 'corr-a');
    const b = path.join(work, 'corr-b');
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    writeFileSync(path.join(a, 'correlation.json'), '{"features": 2, "values": [1, 0.5');
    writeFileSync(path.join(b, 'correlation.json'), JSON.stringify({ features: 2, values: [1, 0.5, 0.5, null] }));
    const c = await readSourceCorrelation([path.join(work, 'none'), a, b]);
    expect(c!.features).toBe(2);
    expect(Array.from(c!.values)).toEqual([1, 0.5, 0.5, Number.NaN]);
    expect(await readSourceCorrelation([a])).toBeNull();
  });
});

describe('soapix experiment compression-combine', () => {
  beforeAll(buildIfStale, 120_000);

  it('writes results.json, report.html and the figures; refuses an --out that is a run', async () => {
    const dirs = [linear, deep2, deep4].map((r, i) => {
      const d = path.join(work, `run-${i}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, 'results.json'), JSON.stringify(r));
      return d;
    });
    const out = path.join(work, 'all');
    const r = await runCli(['experiment', 'compression-combine', ...dirs, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^7 points \(pca, linear-ae, deep-ae-hm2, deep-ae-hm4\) from 3 runs\n/);
    expect(r.stdout).toMatch(/holds: A deep AE reconstructs better than PCA for h_e < 50/);
    for (const f of ['results.json', 'report.html', 'mse_vs_he.png', 'accuracy_vs_he.png'])
      expect(existsSync(path.join(out, f)), f).toBe(true);
    expect(existsSync(path.join(out, 'correlation_matrix.png'))).toBe(false); // no source had correlation.json
    const written = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as CompressionResults;
    expect(written.sources).toHaveLength(3);
    expect(written.figures).toEqual(['mse_vs_he.png', 'accuracy_vs_he.png']);
    expect(written.command).toMatch(/^soapix experiment compression-combine /);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('Runs combined');
    // Combining again into the same folder replaces the combination.
    expect((await runCli(['experiment', 'compression-combine', ...dirs, '--out', out, '--no-figures'])).code).toBe(0);

    const before = readFileSync(path.join(dirs[0]!, 'results.json'), 'utf8');
    const into = await runCli(['experiment', 'compression-combine', ...dirs, '--out', dirs[0]!]);
    expect(into.code).toBe(2);
    expect(into.stderr).toMatch(/is one of the runs; give a folder of its own/);
    const other = path.join(work, 'other-run');
    mkdirSync(other, { recursive: true });
    writeFileSync(path.join(other, 'results.json'), JSON.stringify(deep2));
    const over = await runCli(['experiment', 'compression-combine', dirs[0]!, dirs[2]!, '--out', other]);
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/exists and is not a combination/);
    expect(readFileSync(path.join(dirs[0]!, 'results.json'), 'utf8')).toBe(before);
    expect(JSON.parse(readFileSync(path.join(other, 'results.json'), 'utf8'))).toEqual(deep2);
  }, 60_000);
});
