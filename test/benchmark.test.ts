/**
 * The invariance benchmark (lib/benchmark/, docs/BENCHMARK.md): exact invariance of the exactly
 * invariant extractors under the 90° turns and mirrors (SOAP image descriptors, mean, Gram and
 * attention pooling of equivariant autoencoders) at float rounding, and its absence for pixels;
 * CODAE's latents exact under the quarter turns but not under mirrors (so not flagged exact); the
 * data protocol (disjoint splits, nested seeded label budgets); the crVAE encoded without labels;
 * the `--tiny` run end to end through the CLI; workers and shards give one process's results.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { augmentImages, ROTATED_MIRRORED } from '../lib/data/augment';
import { mnistDataset } from '../lib/data/datasets';
import { transformFloatImage } from '../lib/data/transform';
import { selectBackend } from '../lib/ml/backend';
import { Rvae } from '../lib/ml/models/rvae';
import { budgetIndices, benchmarkData } from '../lib/benchmark/data';
import type { Extractor, ExtractorContext } from '../lib/benchmark/extractor';
import { equivariantExtractors } from '../lib/benchmark/extractors/autoencoders';
import { codaeExtractors } from '../lib/benchmark/extractors/codae';
import { RawPixels } from '../lib/benchmark/extractors/pixels';
import { rvaeExtractors } from '../lib/benchmark/extractors/rvae';
import { imageBytes, soapExtractors, SOAP_SETTINGS } from '../lib/benchmark/extractors/soap';
import { D4_TRANSFORMS, measureInvariance } from '../lib/benchmark/invariance';
import { markdownTable } from '../lib/benchmark/results';
import { buildIfStale, runCli } from './helpers/cli';

const ctx: ExtractorContext = { threads: 1, log: () => undefined };
const work = mkdtempSync(path.join(tmpdir(), 'soapix-benchmark-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Six rotated, mirrored MNIST test images (bilinear: grey levels that are not the source's). */
function images(count = 6) {
  return augmentImages(mnistDataset('test'), { ...ROTATED_MIRRORED, seed: 7, count });
}

async function d4Error(e: Extractor, n = 6): Promise<{ max: number; turns: number }> {
  const r = await measureInvariance(e, images(n), { randomAngles: 1, seed: 3 }, ctx);
  return { max: r.d4.max, turns: r.turns30.bilinear.median };
}

describe('exactly invariant extractors under the 90° turns and mirrors', () => {
  beforeAll(async () => void (await selectBackend({ prefer: 'wasm' })), 60_000);

  it('a quarter turn or mirror is the same pixel permutation under bilinear and nearest resampling, so bytes come back exactly', () => {
    const x = images(1);
    for (const t of D4_TRANSFORMS) {
      const a = transformFloatImage(x.data, 28, 28, { ...t, interpolation: 'bilinear' });
      const b = transformFloatImage(x.data, 28, 28, { ...t, interpolation: 'nearest' });
      expect(Array.from(a)).toEqual(Array.from(b));
      const sortedA = [...a].sort((p, q) => p - q);
      expect(sortedA).toEqual([...x.data].sort((p, q) => p - q));
    }
    // float32(b / 255) * 255 rounds back to b for every byte.
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const floats = { data: Float32Array.from(bytes, (v) => v / 255), count: 1, height: 16, width: 16 };
    expect(Array.from(imageBytes(floats, 0))).toEqual(Array.from(bytes));
  });

  it('SOAP inner, outer, centroid and mean+std (small and paper parameters) change by float rounding only', async () => {
    for (const e of [
      ...soapExtractors('small', SOAP_SETTINGS.small),
      ...soapExtractors('paper', SOAP_SETTINGS.paper, ['outer', 'centroid']),
    ]) {
      const r = await d4Error(e, 4);
      expect(r.max, e.name).toBeLessThan(1e-6);
      // ... and not under 30° turns (bilinear resampling changes the point cloud), so the test can fail.
      expect(r.turns, e.name).toBeGreaterThan(1e-3);
      expect(e.exactD4Invariant).toBe(true);
    }
  }, 60_000);

  it('raw pixels are not invariant (the measurement sees a change)', async () => {
    const r = await d4Error(new RawPixels());
    expect(r.max).toBeGreaterThan(0.5);
  });

  it('equivariant autoencoder mean, Gram (D4, D12) and attention (D4) codes change by float rounding only', async () => {
    const small = { widths: [2, 4, 4], latentChannels: 4, decoderWidths: [4, 2, 2] };
    const fitData = { train: images(8), validation: images(4) };
    const t = { epochs: 1, images: 8 };
    const sets = [
      equivariantExtractors('D4', ['mean', 'gram'], t, 1, undefined, small),
      equivariantExtractors('D12', ['mean', 'gram'], t, 1, undefined, small),
      equivariantExtractors('D4', ['attention'], t, 1, undefined, { ...small, codeSize: 8, attentionHidden: 4 }),
    ];
    for (const set of sets) {
      try {
        for (const e of set) {
          await e.fit(fitData, ctx);
          expect(e.trainingCoreSeconds).toBeGreaterThan(0);
          const r = await d4Error(e, 3);
          expect(r.max, e.name).toBeLessThan(1e-5);
          expect(r.turns, e.name).toBeGreaterThan(1e-4);
          expect(e.exactD4Invariant).toBe(true);
        }
      } finally {
        set[0]!.dispose();
      }
    }
  }, 240_000);

  it('CODAE invariant latents change by float rounding only under the quarter turns, but not under mirrors (so not flagged exact)', async () => {
    const [e] = codaeExtractors(4, { epochs: 1, images: 8 }, 1, undefined, {
      widths: [2, 4, 4],
      hidden: 8,
      decoderWidth: 8,
      pixelSubsample: 64,
    });
    try {
      await e!.fit({ train: images(8), validation: images(4) }, ctx);
      expect(e!.trainingCoreSeconds).toBeGreaterThan(0);
      const x = images(3);
      const z = await e!.encode(x, ctx);
      expect([z.rows, z.cols]).toEqual([3, 4]);
      const relErr = async (t: (typeof D4_TRANSFORMS)[number]): Promise<number> => {
        const data = new Float32Array(x.data.length);
        for (let i = 0; i < x.count; i++)
          data.set(
            transformFloatImage(x.data.subarray(i * 784, (i + 1) * 784), 28, 28, { ...t, interpolation: 'nearest' }),
            i * 784,
          );
        const zt = await e!.encode({ data, count: x.count, height: 28, width: 28 }, ctx);
        let worst = 0;
        for (let i = 0; i < x.count; i++) {
          let d = 0;
          let n = 0;
          for (let k = 0; k < 4; k++) {
            d += (zt.data[i * 4 + k]! - z.data[i * 4 + k]!) ** 2;
            n += z.data[i * 4 + k]! ** 2;
          }
          worst = Math.max(worst, Math.sqrt(d / n));
        }
        return worst;
      };
      for (const t of D4_TRANSFORMS.filter((g) => !g.mirror))
        expect(await relErr(t), JSON.stringify(t)).toBeLessThan(1e-5);
      for (const t of D4_TRANSFORMS.filter((g) => g.mirror))
        expect(await relErr(t), JSON.stringify(t)).toBeGreaterThan(1e-3);
      expect(e!.exactD4Invariant).toBe(false);
      expect(e!.labels).toBe('none');
    } finally {
      e!.dispose();
    }
  }, 120_000);

  it('the crVAE (encoder not conditioned) encodes test images without labels; a conditioned encoder still needs them', async () => {
    const [e] = rvaeExtractors('crvae', 2, { epochs: 1, images: 16 }, 1);
    try {
      await e!.fit({ train: images(16), validation: images(4) }, ctx);
      const x = images(5);
      const z = await e!.encode({ data: x.data, count: x.count, height: 28, width: 28 }, ctx);
      expect([z.rows, z.cols]).toEqual([5, 2]);
      expect(e!.labels).toBe('train');
    } finally {
      e!.dispose();
    }
    const conditioned = new Rvae({ rotation: true, classes: 10, decoderWidth: 8, encoderWidth: 8 });
    try {
      await expect(
        conditioned.encode({ data: new Float32Array(784), count: 1, height: 28, width: 28 }),
      ).rejects.toThrow(/needs labels/);
    } finally {
      conditioned.dispose();
    }
  }, 120_000);
});

describe('data protocol', () => {
  it('splits are disjoint source ranges; budgets are nested, seeded and differ between seeds', () => {
    const d = benchmarkData({
      dataset: 'mnist',
      interpolation: 'nearest',
      trainImages: 30,
      validationImages: 10,
      testImages: 5,
      seed: 4,
    });
    expect(Array.from(d.train.source)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(Array.from(d.validation.source)).toEqual(Array.from({ length: 10 }, (_, i) => 59990 + i));
    expect(d.test.count).toBe(5);
    expect(d.seeds.test).not.toBe(d.seeds.train);
    const a = budgetIndices(4, 0, 30, 20);
    expect(Array.from(budgetIndices(4, 0, 30, 10))).toEqual(Array.from(a.subarray(0, 10)));
    expect(Array.from(budgetIndices(4, 0, 30, 20))).toEqual(Array.from(a));
    expect(Array.from(budgetIndices(4, 1, 30, 20))).not.toEqual(Array.from(a));
    expect(new Set(a).size).toBe(20);
    expect(() => budgetIndices(4, 0, 30, 31)).toThrow(/1\.\.30/);
  });

  it('Markdown tables right-align numeric columns only', () => {
    const md = markdownTable({
      columns: ['name', 'acc'],
      rows: [
        ['a', '91.2 ± 0.4'],
        ['b', '–'],
      ],
    });
    expect(md.split('\n')[1]).toBe('| --- | ---: |');
  });
});

describe('soapix benchmark invariance --tiny', () => {
  beforeAll(buildIfStale, 120_000);
  const args = (out: string, ...more: string[]): string[] => [
    'benchmark',
    'invariance',
    '--tiny',
    '--quiet',
    '--threads',
    '1',
    '--out',
    out,
    ...more,
  ];

  it('runs every member end to end and writes results.json, leaderboard.md, the figures and report.html', async () => {
    const out = path.join(work, 'tiny');
    const r = await runCli(args(out), 300_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1\. .*mlp @ 40 labels/);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    const names = res.leaderboard.map((x: { name: string }) => x.name).sort();
    expect(names).toEqual(
      [
        'codae',
        'convae',
        'crvae',
        'eqae-attention-d4',
        'eqae-gram-d12',
        'eqae-gram-d4',
        'eqae-mean-d12',
        'eqae-mean-d4',
        'pixels',
        'pixels-pca8',
        'rvae',
        'soap-centroid-small',
        'soap-inner-small',
        'soap-meanstd-small',
        'soap-outer-small',
      ].sort(),
    );
    for (const row of res.leaderboard) {
      // 3 probes x 1 budget x 2 seeds; accuracies are fractions.
      expect(row.probes.length, row.name).toBe(6);
      for (const p of row.probes) expect(p.accuracy).toBeGreaterThanOrEqual(0);
      expect(row.summary.length).toBe(3);
      expect(row.encodeImagesPerCoreSecond).toBeGreaterThan(0);
      expect(row.clustering.nmi).toBeGreaterThanOrEqual(0);
      for (const k of ['bilinear', 'nearest']) expect(Number.isFinite(row.invariance.random[k].median)).toBe(true);
      if (row.exactD4Invariant) expect(row.invariance.d4.max, row.name).toBeLessThan(1e-5);
      else expect(row.invariance.d4.max, row.name).toBeGreaterThan(1e-3);
    }
    expect(res.leaderboard.find((x: { name: string }) => x.name === 'crvae').labels).toBe('train');
    expect(res.reference.summary.map((c: { condition: string }) => c.condition).sort()).toEqual([
      'augmented',
      'upright',
    ]);
    expect(res.reference.records.length).toBe(4);
    expect(res.leaderboard.find((x: { name: string }) => x.name === 'codae').family).toBe('codae');
    expect(res.gaps).toEqual(['not run in this folder: soap-paper.']);
    for (const f of [
      'accuracy_vs_labels.png',
      'accuracy_vs_invariance.png',
      'accuracy_vs_cost.png',
      'report.html',
      'leaderboard.md',
    ])
      expect(existsSync(path.join(out, f)), f).toBe(true);
    const md = readFileSync(path.join(out, 'leaderboard.md'), 'utf8');
    expect(md).toMatch(/^Command: `.*benchmark invariance --tiny/);
    expect(md).toMatch(/Scale "tiny"/);
  }, 300_000);

  it('workers and shards give the results of one process', async () => {
    const members = ['--members', 'pixels,soap-small,eqae-d4,cnn-upright'];
    const content = (dir: string): unknown => {
      const r = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
      // Times and rates depend on the machine and the moment, not on the computation.
      const drop = new Set([
        'coreSeconds',
        'seconds',
        'encodeImagesPerCoreSecond',
        'encodeTiming',
        'trainingCoreSeconds',
        'finishedAt',
        'command',
        'totalCoreSeconds',
        'workers',
        'figures',
      ]);
      const strip = (v: unknown): unknown =>
        Array.isArray(v)
          ? v.map(strip)
          : typeof v === 'object' && v !== null
            ? Object.fromEntries(
                Object.entries(v)
                  .filter(([k]) => !drop.has(k))
                  .map(([k, x]) => [k, strip(x)]),
              )
            : v;
      return strip(r);
    };
    const one = path.join(work, 'one');
    expect((await runCli(args(one, ...members), 300_000)).code).toBe(0);
    const parallel = path.join(work, 'parallel');
    expect((await runCli(args(parallel, ...members, '--workers', '2'), 300_000)).code).toBe(0);
    expect(content(parallel)).toEqual(content(one));
    const sharded = path.join(work, 'sharded');
    const s1 = await runCli(args(sharded, ...members, '--shard', '1/2'), 300_000);
    expect(s1.code).toBe(0);
    expect(s1.stdout).toMatch(/this run's members are done \(2 of 4\); still missing: /);
    expect(existsSync(path.join(sharded, 'results.json'))).toBe(false);
    expect((await runCli(args(sharded, ...members, '--shard', '2/2'), 300_000)).code).toBe(0);
    expect(content(sharded)).toEqual(content(one));
    // A rerun finds every member done and reloads nothing: no training, same results.
    const again = await runCli(args(one, ...members), 300_000);
    expect(again.code).toBe(0);
    expect(content(one)).toEqual(content(sharded));
  }, 600_000);

  it('refuses bad flags with a clear message', async () => {
    const r = await runCli([
      'benchmark',
      'invariance',
      '--tiny',
      '--out',
      path.join(work, 'bad'),
      '--members',
      'pixels,nope',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--members must be a comma-separated subset of pixels,soap-paper/);
    const e = await runCli([
      'benchmark',
      'invariance',
      '--tiny',
      '--out',
      path.join(work, 'bad2'),
      '--epochs',
      'convae=0',
    ]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/--epochs takes a positive integer/);
    const b = await runCli(['benchmark', 'invariance', '--tiny', '--out', path.join(work, 'bad3'), '--budgets', '500']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/label budget 500 must be an integer in 10\.\.200/);
  }, 60_000);
});
