/**
 * The equivariant-autoencoder experiment (lib/experiments/equivariant.ts): explained variance of
 * wide codes against an exact PCA, the reusable code evaluation (invariance errors of exactly
 * invariant and of non-invariant codes, probes), the rows/trainings bookkeeping, Table 1 and the
 * claims, and `soapix experiment equivariant --tiny` end to end (sharded and parallel runs give
 * the same results as one process; bad flags give clear errors).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import type { ImageBatch } from '../lib/data/augment';
import {
  evaluateCodes,
  invarianceErrors,
  probeCodes,
  type CodeExtractor,
  type LabeledImages,
} from '../lib/experiments/code-evaluation';
import {
  checkEquivariantClaims,
  equivariantUnits,
  rowsOfTraining,
  tableOf,
  TABLE_ROWS,
  trainingOfRow,
  trainingsFor,
  unitId,
  type RowRecord,
  type TableEntry,
  type TrainingRecord,
} from '../lib/experiments/equivariant';
import { selectBackend } from '../lib/ml/backend';
import { explainedVariance } from '../lib/ml/explained-variance';
import type { CodeMatrix } from '../lib/ml/layers/mean-pooling';
import { Pca } from '../lib/ml/pca';
import { Rng } from '../lib/util/random';
import { buildIfStale, runCli } from './helpers/cli';

const work = mkdtempSync(path.join(tmpdir(), 'soapix-eqexp-'));

beforeAll(async () => {
  buildIfStale();
  await selectBackend({ prefer: 'wasm', strict: true, log: false });
}, 120_000);

/** Rows with a few strong directions plus noise, columns scaled unevenly. */
function lowRank(n: number, d: number, seed: number): CodeMatrix {
  const rng = new Rng(seed);
  const dirs = Array.from({ length: 3 }, () => Array.from({ length: d }, () => rng.normal()));
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const a = [5 * rng.normal(), 3 * rng.normal(), 2 * rng.normal()];
    for (let j = 0; j < d; j++)
      data[i * d + j] =
        (a[0]! * dirs[0]![j]! + a[1]! * dirs[1]![j]! + a[2]! * dirs[2]![j]! + 0.3 * rng.normal()) * (1 + (j % 5)) + 7;
  }
  return { data, rows: n, cols: d };
}

describe('explained variance of wide codes', () => {
  it('matches an exact PCA on the leading components (raw and standardised), and is exact when every direction is kept', () => {
    const x = lowRank(400, 60, 1);
    const exact = Pca.fit(x.data, x.rows, x.cols).explainedVarianceRatio();
    const ev = explainedVariance(x, { components: 5, seed: 2 });
    expect(ev.ratios.length).toBe(5);
    for (let k = 0; k < 5; k++) expect(Math.abs(ev.ratios[k]! - exact[k]!)).toBeLessThan(1e-4 + 1e-3 * exact[k]!);
    expect(ev.cumulative[4]).toBeCloseTo(
      ev.ratios.reduce((s, r) => s + r, 0),
      10,
    );
    // Standardised: the same as a PCA of the z-scored columns.
    const z = new Float32Array(x.data.length);
    for (let j = 0; j < x.cols; j++) {
      let m = 0;
      let s = 0;
      for (let i = 0; i < x.rows; i++) m += x.data[i * x.cols + j]!;
      m /= x.rows;
      for (let i = 0; i < x.rows; i++) s += (x.data[i * x.cols + j]! - m) ** 2;
      const sd = Math.sqrt(s / (x.rows - 1));
      for (let i = 0; i < x.rows; i++) z[i * x.cols + j] = (x.data[i * x.cols + j]! - m) / sd;
    }
    const exactZ = Pca.fit(z, x.rows, x.cols).explainedVarianceRatio();
    const evZ = explainedVariance(x, { components: 5, standardize: true, seed: 3 });
    expect(evZ.totalVariance).toBe(60);
    for (let k = 0; k < 5; k++) expect(Math.abs(evZ.ratios[k]! - exactZ[k]!)).toBeLessThan(1e-4 + 1e-3 * exactZ[k]!);
    // Narrow codes: the basis spans everything, all ratios sum to 1.
    const narrow = lowRank(100, 6, 4);
    const all = explainedVariance(narrow, { components: 6 });
    expect(all.cumulative[5]).toBeCloseTo(1, 5);
    const want = Pca.fit(narrow.data, 100, 6).explainedVarianceRatio();
    for (let k = 0; k < 6; k++) expect(all.ratios[k]).toBeCloseTo(want[k]!, 5);
  });

  it('rejects bad shapes, one row and non-finite values', () => {
    expect(() => explainedVariance({ data: new Float32Array(5), rows: 2, cols: 3 })).toThrow(/rows \* cols/);
    expect(() => explainedVariance({ data: new Float32Array(3), rows: 1, cols: 3 })).toThrow(/at least 2 rows/);
    expect(() => explainedVariance({ data: Float32Array.from([1, 2, Number.NaN, 4]), rows: 2, cols: 2 })).toThrow(
      /value 0 of row 1 is NaN/,
    );
  });
});

/** 16 x 16 test images: a blob at a class-dependent radius from the centre, random angle. */
function images(n: number, seed: number): LabeledImages {
  const rng = new Rng(seed);
  const side = 16;
  const data = new Float32Array(n * side * side);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    labels[k] = k % 2;
    const r = k % 2 ? 5 : 2;
    const a = 2 * Math.PI * rng.nextFloat();
    const cx = 7.5 + r * Math.cos(a);
    const cy = 7.5 + r * Math.sin(a);
    for (let i = 0; i < side; i++)
      for (let j = 0; j < side; j++) data[k * 256 + i * side + j] = Math.exp(-((i - cy) ** 2 + (j - cx) ** 2) / 3);
  }
  return { data, count: n, height: side, width: side, labels };
}

/** Radial profile: the mean intensity in rings around the centre (invariant under the pixel grid's D4). */
const radial: CodeExtractor = {
  encode: async (im: ImageBatch) => {
    const px = im.height * im.width;
    const bins = 6;
    const data = new Float32Array(im.count * bins);
    for (let k = 0; k < im.count; k++) {
      for (let i = 0; i < im.height; i++) {
        for (let j = 0; j < im.width; j++) {
          const r = Math.hypot(i - (im.height - 1) / 2, j - (im.width - 1) / 2);
          data[k * bins + Math.min(bins - 1, Math.floor(r / 2))] += im.data[k * px + i * im.width + j]!;
        }
      }
    }
    return { data, rows: im.count, cols: bins };
  },
};
/** The raw pixels: not invariant. */
const pixels: CodeExtractor = {
  encode: async (im) => ({ data: im.data.slice(), rows: im.count, cols: im.height * im.width }),
};

describe('code evaluation (any extractor)', () => {
  it('an exactly invariant code has D4 errors at rounding level and small turn errors; raw pixels do not', async () => {
    const im = images(20, 1);
    const inv = await invarianceErrors(radial, im, { seed: 1 });
    expect(inv.map((e) => e.family)).toEqual(['d4', 'turn30', 'random']);
    expect(inv[0]!.transforms).toBe(7);
    expect(inv[0]!.max).toBeLessThan(1e-5);
    expect(inv[0]!.relativeToSpread).toBeLessThan(1e-4);
    expect(inv[1]!.mean).toBeLessThan(0.1);
    const raw = await invarianceErrors(pixels, im, { seed: 1 });
    expect(raw[0]!.mean).toBeGreaterThan(0.3);
    expect(raw[2]!.mean).toBeGreaterThan(0.3);
    // A blob moved elsewhere is as far from the original as another image: spread-relative error near or above 1.
    expect(raw[2]!.relativeToSpread).toBeGreaterThan(0.8);
    // A constant added to every code leaves the distances and the spread unchanged, but shrinks ||f(gx) - f(x)|| / ||f(x)||.
    const offset: CodeExtractor = {
      encode: async (x) => {
        const c = await pixels.encode(x);
        return { ...c, data: c.data.map((v) => v + 100) };
      },
    };
    const off = await invarianceErrors(offset, im, { seed: 1 });
    expect(off[2]!.relativeToSpread).toBeCloseTo(raw[2]!.relativeToSpread, 3);
    expect(off[2]!.mean).toBeLessThan(0.1 * raw[2]!.mean);
  });

  it('probes separate the classes of an invariant code, and the evaluation reports every part', async () => {
    const train = images(300, 2);
    const test = images(100, 3);
    const tr = await radial.encode(train);
    const te = await radial.encode(test);
    const p = await probeCodes(tr, train.labels, te, test.labels, { seed: 4, epochs: 60, patience: 10 });
    expect(p.logistic!.accuracy).toBeGreaterThan(0.95);
    expect(p.mlp!.accuracy).toBeGreaterThan(0.95);
    const ev = await evaluateCodes(
      radial,
      { train, test },
      { seed: 4, epochs: 5, invarianceImages: 10, components: 4 },
    );
    expect(ev.codeLength).toBe(6);
    expect(ev.encoding.images).toBe(400);
    expect(Object.keys(ev.probes).sort()).toEqual(['logistic', 'mlp']);
    expect(ev.invariance[0]!.images).toBe(10);
    expect(ev.explainedVariance.raw.ratios.length).toBe(4);
    expect(ev.explainedVariance.standardized.standardized).toBe(true);
  });
});

describe('rows, trainings and units', () => {
  it('one D4 and one D12 training serve the mean and Gram rows; attention and the AE train alone', () => {
    expect(TABLE_ROWS.map(trainingOfRow)).toEqual(['ae', 'eq-d4', 'eq-d12', 'att-d4', 'att-d12', 'eq-d4', 'eq-d12']);
    expect(rowsOfTraining('eq-d12')).toEqual(['mean-d12', 'gram-d12']);
    expect(rowsOfTraining('att-d4')).toEqual(['attention-d4']);
    expect(trainingsFor(['gram-d4', 'mean-d4', 'ae'])).toEqual(['ae', 'eq-d4']);
    const units = equivariantUnits({ models: [...TABLE_ROWS], seeds: [1, 2, 3] });
    expect(units.length).toBe(15);
    expect(new Set(units.map(unitId)).size).toBe(15);
    expect(unitId({ training: 'att-d12', seed: 2 })).toBe('att-d12-s2');
  });

  const row = (r: RowRecord['row'], lr: number, nn: number): RowRecord => ({
    row: r,
    codeLength: 4,
    encoding: { images: 1, seconds: 1, cpuSeconds: 1, imagesPerSecond: 1, imagesPerCpuSecond: 1 },
    probes: {
      logistic: {
        kind: 'logistic',
        accuracy: lr,
        valAccuracy: null,
        trainRows: 1,
        valRows: 1,
        testRows: 1,
        epochs: 1,
        bestEpoch: 1,
        seconds: 0,
      },
      mlp: {
        kind: 'mlp',
        accuracy: nn,
        valAccuracy: null,
        trainRows: 1,
        valRows: 1,
        testRows: 1,
        epochs: 1,
        bestEpoch: 1,
        seconds: 0,
      },
    },
    invariance: (['d4', 'turn30', 'random'] as const).map((family) => ({
      family,
      description: '',
      mean: 0.1,
      max: 0.2,
      relativeToSpread: 0.5,
      images: 1,
      transforms: 1,
    })),
    explainedVariance: {
      raw: { ratios: [0.5, 0.3], cumulative: [0.5, 0.8], totalVariance: 1, rows: 2, cols: 4, standardized: false },
      standardized: {
        ratios: [0.4, 0.2],
        cumulative: [0.4, 0.6],
        totalVariance: 4,
        rows: 2,
        cols: 4,
        standardized: true,
      },
    },
  });
  const record = (seed: number, rows: RowRecord[]): TrainingRecord => ({ seed, rows }) as unknown as TrainingRecord;

  it("averages seeds into Table 1 and checks the claims with the paper's exceptions", () => {
    // The paper's MNIST ordering, shifted: every claim holds.
    const paperLike = (s: number): TrainingRecord[] => [
      record(s, [row('ae', 0.4 + s / 100, 0.5)]),
      record(s, [row('mean-d4', 0.5, 0.55), row('gram-d4', 0.6, 0.62)]),
      record(s, [row('mean-d12', 0.75, 0.78), row('gram-d12', 0.85, 0.86)]),
      record(s, [row('attention-d4', 0.8, 0.82)]),
      record(s, [row('attention-d12', 0.7, 0.72)]),
    ];
    const table = tableOf([...paperLike(1), ...paperLike(3)], [...TABLE_ROWS], 'mnist');
    expect(table.map((t) => t.row)).toEqual([...TABLE_ROWS]);
    const ae = table[0] as TableEntry;
    expect(ae.seeds).toBe(2);
    expect(ae.lr.mean).toBeCloseTo(0.42, 12);
    expect(ae.lr.std).toBeCloseTo(Math.sqrt(0.0002), 12);
    expect(ae.paper).toEqual({ lr: 47.8, nn: 58.3 });
    expect(ae.explainedVariance.raw).toEqual([0.5, 0.3]);
    expect(checkEquivariantClaims(table, 'mnist').map((c) => c.holds)).toEqual([true, true, true, true]);
    expect(checkEquivariantClaims(table, 'mnist')[1]!.detail).toMatch(
      /The paper's exception: attention-d12 - attention-d4: LR -10\.0, NN -10\.0 \(paper, MNIST: -9\.0, -7\.3\)/,
    );
    // Gram D12 below Gram D4, mean D12 and attention D12 on the NN probe: claims (ii), (iii) and (iv) fail.
    const worse = [...paperLike(1)];
    worse[2] = record(1, [row('mean-d12', 0.75, 0.78), row('gram-d12', 0.85, 0.6)]);
    expect(checkEquivariantClaims(tableOf(worse, [...TABLE_ROWS], 'mnist'), 'mnist').map((c) => c.holds)).toEqual([
      true,
      false,
      false,
      false,
    ]);
    // Rows not run: the claims they need are not tested; Plankton's numbers for Fashion-MNIST.
    const part = tableOf(paperLike(1), ['ae', 'mean-d4'], 'fashion-mnist');
    expect(part.map((t) => t.row)).toEqual(['ae', 'mean-d4']);
    expect(part[1]!.paper).toEqual({ lr: 48.0, nn: 56.1 });
    expect(checkEquivariantClaims(part, 'fashion-mnist').map((c) => c.holds)).toEqual([true, null, null, null]);
  });
});

describe('soapix experiment equivariant --tiny', () => {
  const args = (out: string, ...more: string[]): string[] => [
    'experiment',
    'equivariant',
    '--tiny',
    '--quiet',
    '--out',
    out,
    ...more,
  ];
  /** Every unit's numbers without timings. */
  const numbers = (out: string): Record<string, unknown> =>
    Object.fromEntries(
      readdirSync(path.join(out, 'units')).map((f) => {
        const r = JSON.parse(readFileSync(path.join(out, 'units', f), 'utf8')).result as TrainingRecord;
        return [
          f,
          {
            epochs: r.epochs.map((e) => [e.loss, e.valLoss]),
            testMse: r.testMse,
            rows: r.rows.map((x) => [
              x.row,
              x.probes.logistic?.accuracy,
              x.probes.mlp?.accuracy,
              x.invariance.map((e) => e.mean),
            ]),
            entropy: r.attentionEntropy,
          },
        ];
      }),
    );

  it('trains all five models, probes all seven rows, writes results, figures, report and models; shards and workers agree', async () => {
    const one = path.join(work, 'one');
    const r = await runCli(args(one));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Gram pooling D12 +LR [\d.]+ ± 0\.0 \[87\.9\]/);
    const res = JSON.parse(readFileSync(path.join(one, 'results.json'), 'utf8'));
    expect(res.table.map((t: TableEntry) => t.row)).toEqual([...TABLE_ROWS]);
    expect(res.claims.length).toBe(4);
    expect(res.records.length).toBe(5);
    // Every training saved its end state (checkpoints on by default) and the finished unit removed it.
    expect(readdirSync(path.join(one, 'checkpoints'))).toEqual([]);
    for (const rec of res.records as TrainingRecord[]) {
      // The loss fell over the two epochs; the model folder was written.
      expect(rec.epochs[1]!.loss).toBeLessThan(rec.epochs[0]!.loss);
      expect(existsSync(path.join(one, rec.modelDir, 'soapix.json'))).toBe(true);
      expect(rec.trainCpuSeconds).toBeGreaterThan(0);
      for (const x of rec.rows) {
        expect(x.probes.logistic!.accuracy).toBeGreaterThanOrEqual(0);
        expect(x.probes.mlp!.testRows).toBe(100);
      }
    }
    // Exact D4 invariance of every pooled code; the plain AE's code is not invariant.
    for (const t of res.table as TableEntry[]) {
      if (t.row === 'ae') expect(t.invariance.d4.mean).toBeGreaterThan(1e-2);
      else expect(t.invariance.d4.max).toBeLessThan(1e-4);
    }
    const att = (res.records as TrainingRecord[]).find((x) => x.training === 'att-d12')!;
    expect(att.attentionEntropy).toBeGreaterThanOrEqual(0);
    expect(att.attentionEntropy!).toBeLessThanOrEqual(att.attentionEntropyMax! + 1e-6);
    for (const f of [
      'probe_accuracy.png',
      'reconstructions.png',
      'ae_pca.png',
      'explained_variance.png',
      'report.html',
    ])
      expect(existsSync(path.join(one, f))).toBe(true);
    expect(readFileSync(path.join(one, 'report.html'), 'utf8')).toMatch(/Gram pooling D12/);

    const sharded = path.join(work, 'sharded');
    const s1 = await runCli(args(sharded, '--shard', '1/2'));
    expect(s1.code).toBe(0);
    expect(s1.stdout).toMatch(/this run's trainings are done \(3 of 5\); still missing: /);
    expect(existsSync(path.join(sharded, 'results.json'))).toBe(false);
    const s2 = await runCli(args(sharded, '--shard', '2/2'));
    expect(s2.code).toBe(0);
    expect(numbers(sharded)).toEqual(numbers(one));

    const parallel = path.join(work, 'parallel');
    const p = await runCli(args(parallel, '--workers', '2'));
    expect(p.code).toBe(0);
    expect(numbers(parallel)).toEqual(numbers(one));
    expect(JSON.parse(readFileSync(path.join(parallel, 'results.json'), 'utf8')).table).toEqual(res.table);
  }, 240_000);

  it('runs a subset of rows on Fashion-MNIST, labelled as the stand-in for Plankton; other settings are refused in the same folder', async () => {
    const out = path.join(work, 'fashion');
    const r = await runCli(
      args(out, '--dataset', 'fashion-mnist', '--models', 'ae,gram-d4', '--interpolation', 'nearest'),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/stand-in for Plankton/);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(res.table.map((t: TableEntry) => t.row)).toEqual(['ae', 'gram-d4']);
    expect(res.table[1].paper).toEqual({ lr: 55.2, nn: 57.8 });
    expect(res.settings.interpolation).toBe('nearest');
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(/stands in for it/);
    const mixed = await runCli(args(out, '--dataset', 'fashion-mnist', '--models', 'ae', '--epochs', '3'));
    expect(mixed.code).not.toBe(0);
    expect(mixed.stderr).toMatch(/holds units of other settings/);
    expect(mixed.stderr).toMatch(/--epochs/);
  }, 120_000);

  it('rejects bad flags with what is allowed', async () => {
    const out = path.join(work, 'bad');
    const cases: [string[], RegExp][] = [
      [['--models', 'ae,gram-d8'], /--models takes a comma-separated subset of ae,mean-d4/],
      [['--epochs', 'd16=3'], /--epochs takes integers >= 1, for all trainings .* per group ae, d4, d12/],
      [['--epochs', 'ae=2,ae=3'], /gives ae twice/],
      [['--train-images', '70000'], /70000 training images asked for .* has 60000/],
      [['--widths', '8,x'], /--widths takes comma-separated channel counts/],
      [['--dataset', 'plankton'], /Allowed choices are mnist, fashion-mnist/],
      [['--invariance-images', '500', '--test-images', '50'], /--invariance-images 500 exceeds --test-images 50/],
      [['--seeds', '0'], /must be an integer in 1\.\.1000/],
    ];
    for (const [flags, want] of cases) {
      const r = await runCli(args(out, ...flags));
      expect(r.code, flags.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(want);
    }
  }, 120_000);
});
