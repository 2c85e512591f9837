// `soapix experiment rvae` (lib/experiments/rvae.ts): the unit bookkeeping, the aims and claims
// with their thresholds, and --tiny end to end through the CLI (results, figures, report, model
// folders that load); workers and shards give the same records as one process; bad flags get clear
// errors. The runner itself is tested in test/runner.test.ts.
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  checkRvaeAims,
  checkRvaeClaims,
  checkRvaeSpec,
  isSpatialModel,
  rvaeUnitId,
  rvaeUnits,
  seriesDegrees,
  TINY_RVAE,
  type RvaeModelSummary,
  type RvaeRecord,
  type RvaeSpec,
} from '../lib/experiments/rvae';
import { selectBackend } from '../lib/ml/backend';
import { Rvae } from '../lib/ml/models/rvae';
import { buildIfStale, runCli } from './helpers/cli';

const work = mkdtempSync(path.join(tmpdir(), 'soapix-rvae-exp-'));

beforeAll(async () => {
  buildIfStale();
  await selectBackend({ prefer: 'wasm', strict: true, log: false });
}, 120_000);

const tinySpec = (more: Partial<RvaeSpec> = {}): RvaeSpec => ({
  ...TINY_RVAE,
  denseEpochs: TINY_RVAE.epochs,
  models: ['vae', 'cvae', 'rvae', 'crvae'],
  seeds: [1],
  angles: 60,
  backend: 'wasm',
  threads: 0,
  workers: 1,
  ...more,
});

describe('units and checks', () => {
  it('one unit per (model, seed) with stable ids; the coordinate-decoder models are the rotation ones', () => {
    const units = rvaeUnits({ models: ['vae', 'crvae'], seeds: [0, 3] });
    expect(units.map(rvaeUnitId)).toEqual(['vae-seed0', 'vae-seed3', 'crvae-seed0', 'crvae-seed3']);
    expect(['vae', 'cvae', 'rvae', 'trvae', 'crvae'].map((m) => isSpatialModel(m as 'vae'))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it('series angles spread evenly over the range, without a repeated full turn', () => {
    expect(seriesDegrees(60, 9)).toEqual([-60, -45, -30, -15, 0, 15, 30, 45, 60]);
    expect(seriesDegrees(180, 4)).toEqual([-180, -90, 0, 90]);
  });

  it('refuses absurd specs, naming the flag', () => {
    expect(() => checkRvaeSpec(tinySpec())).not.toThrow();
    expect(() => checkRvaeSpec(tinySpec({ evalTrainImages: 301 }))).toThrow(
      /--eval-train-images must be an integer in \[1, 300\]/,
    );
    expect(() => checkRvaeSpec(tinySpec({ models: ['bvae' as 'vae'] }))).toThrow(
      /unknown model 'bvae'; known: vae, cvae, rvae, trvae, crvae/,
    );
    expect(() => checkRvaeSpec(tinySpec({ seeds: [1, 1] }))).toThrow(/--seeds must be distinct/);
    expect(() => checkRvaeSpec(tinySpec({ angles: 90 as 60 }))).toThrow(/--angles must be 60 or 180/);
    expect(() => checkRvaeSpec(tinySpec({ trainImages: 1000, batch: 1000, width: 128, pixels: 0 }))).toThrow(
      /--batch 1000 x 784 pixels x --width 128 .* use --batch 400 or less/,
    );
    // The same batch is fine for the dense models alone.
    expect(() =>
      checkRvaeSpec(tinySpec({ models: ['vae'], trainImages: 1000, batch: 1000, width: 128, pixels: 0 })),
    ).not.toThrow();
  });
});

/** A summary with the given numbers (the rest neutral). */
function summary(model: RvaeModelSummary['model'], o: Partial<Record<string, number | null>>): RvaeModelSummary {
  const s = (v: number | null | undefined): { mean: number; std: number } | null =>
    v === null || v === undefined ? null : { mean: v, std: 0 };
  return {
    model,
    label: model,
    seeds: [1],
    epochs: 10,
    angleAbsR: s(o['absR']),
    angleAbsSlope: s(o['absR']),
    angleResidualStdDegrees: s(o['residual']),
    angleAgreement: s(o['agreement']),
    leakage: s(o['leakage'] ?? 0)!,
    circularLeakage: s(o['circular'] ?? o['leakage'] ?? 0)!,
    polarAngleCorrelation: s(o['polar'] ?? 0),
    invarianceRatio: s(o['invariance'] ?? 0.5),
    knnAccuracy: s(o['knn'] ?? 0.5)!,
    kmeansAccuracy: s(0.4)!,
    kmeansNmi: s(0.3)!,
    negativeElboTrain: s(o['elbo'] ?? 150)!,
    negativeElboTest: s(o['elbo'] ?? 150)!,
    objectiveTrain: s(160)!,
    objectiveTest: s(160)!,
    reconstructionTest: s(140)!,
    canonicalSpreadDegrees: s(o['canonical'] ?? 30),
    reconstructionSpreadDegrees: s(o['recon'] ?? 40),
    manifoldSpreadDegrees: s(20),
    inputSpreadDegrees: 45,
    originalSpreadDegrees: 20,
    trainingCpuSeconds: s(100)!,
    imagesPerCpuSecond: s(1000)!,
  };
}

describe('aims and claims', () => {
  const good = [
    summary('vae', { leakage: 0.7, knn: 0.5, canonical: 40, recon: 40, invariance: 0.8 }),
    summary('cvae', { leakage: 0.6, polar: 0.8, knn: 0.2 }),
    summary('rvae', {
      absR: 0.9,
      residual: 12,
      leakage: 0.1,
      knn: 0.6,
      canonical: 22,
      recon: 44,
      invariance: 0.2,
      elbo: 140,
    }),
    summary('crvae', { absR: 0.85, residual: 10, leakage: 0.1, knn: 0.15, canonical: 20, recon: 43, elbo: 120 }),
  ];

  it('hold when the numbers pass their thresholds', () => {
    expect(checkRvaeAims(good, 60).map((a) => a.holds)).toEqual([true, true, true, null]);
    expect(checkRvaeClaims(good, 60).map((c) => c.holds)).toEqual([true, true, true, true, true, true, true, true]);
    expect(checkRvaeAims(good, 60)[3]!.detail).toMatch(
      /crVAE after 10 epochs: objective \(BCE \+ 3 KL\) train 160\.00/,
    );
  });

  it('fail on the number that misses, and are not tested without the model', () => {
    const bad = good.map((s) =>
      s.model === 'rvae'
        ? summary('rvae', {
            absR: 0.7,
            residual: 12,
            leakage: 0.35,
            knn: 0.52,
            canonical: 40,
            recon: 44,
            invariance: 0.9,
          })
        : s,
    );
    expect(checkRvaeAims(bad, 60).map((a) => a.holds)).toEqual([false, false, true, null]);
    expect(
      checkRvaeClaims(bad, 60)
        .slice(2, 6)
        .map((c) => c.holds),
    ).toEqual([false, false, false, true]);
    // One blob for every image: aligned at angle 0, but the reconstructions do not follow the inputs.
    const blob = good.map((s) =>
      s.model === 'crvae' ? summary('crvae', { absR: 0.85, residual: 10, knn: 0.15, canonical: 1, recon: 1 }) : s,
    );
    expect(checkRvaeClaims(blob, 60)[6]!.holds).toBe(false);
    const onlyVae = [good[0]!];
    expect(checkRvaeAims(onlyVae, 60).map((a) => a.holds)).toEqual([null, null, true, null]);
    expect(checkRvaeClaims(onlyVae, 60)[1]!.detail).toBe('cVAE not run');
  });

  it('use the wrap-proof measures for full turns', () => {
    const full = good.map((s) =>
      s.model === 'rvae' ? { ...s, angleAbsR: { mean: 0.2, std: 0 }, angleAgreement: { mean: 0.9, std: 0 } } : s,
    );
    expect(checkRvaeAims(full, 180)[0]!.holds).toBe(true);
    expect(checkRvaeAims(full, 180)[0]!.claim).toMatch(/agreement/);
    expect(checkRvaeAims(full, 60)[0]!.holds).toBe(false);
  });
});

describe('soapix experiment rvae --tiny', () => {
  const args = (out: string, ...more: string[]): string[] => [
    'experiment',
    'rvae',
    '--tiny',
    '--quiet',
    '--backend',
    'wasm',
    '--out',
    out,
    ...more,
  ];
  /** Each unit's result without timings. */
  const records = (out: string): Record<string, unknown> =>
    Object.fromEntries(
      readdirSync(path.join(out, 'units')).map((f) => {
        const r = JSON.parse(readFileSync(path.join(out, 'units', f), 'utf8')).result as RvaeRecord;
        const { training, evaluation: _e, ...rest } = r;
        const { seconds: _s, cpuSeconds: _c, ...train } = training;
        return [f, { ...rest, training: train }];
      }),
    );

  it('trains every model, writes results, figures, report and loadable models; workers and shards agree with one process', async () => {
    const one = path.join(work, 'one');
    const r = await runCli(args(one));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^VAE: angle \|r\| -, largest content \|r\| [\d.]+, invariance ratio [\d.]+, kNN [\d.]+/m);
    expect(r.stdout).toMatch(/^rVAE: angle \|r\| [\d.]+/m);
    expect(r.stdout).toMatch(/rVAE recovers the angle: \|Pearson r\| of encoded vs true angle >= 0\.8/);
    const res = JSON.parse(readFileSync(path.join(one, 'results.json'), 'utf8'));
    expect(res.records.map((x: RvaeRecord) => x.id)).toEqual(['vae-seed1', 'cvae-seed1', 'rvae-seed1', 'crvae-seed1']);
    expect(res.summaries.map((x: RvaeModelSummary) => x.model)).toEqual(['vae', 'cvae', 'rvae', 'crvae']);
    expect(res.aims.length).toBe(4);
    expect(res.claims.length).toBe(8);
    // Every training saved its end state (checkpoints on by default) and the finished unit removed it.
    expect(readdirSync(path.join(one, 'checkpoints'))).toEqual([]);
    expect(res.settings.trainImages).toBe(TINY_RVAE.trainImages);
    const rv = res.records.find((x: RvaeRecord) => x.model === 'rvae') as RvaeRecord;
    expect(rv.options.pixelSubsample).toBe(TINY_RVAE.pixels);
    expect(rv.training.loss.length).toBe(TINY_RVAE.epochs);
    expect(rv.metrics.angle).not.toBeNull();
    expect(rv.metrics.images).toBe(TINY_RVAE.testImages);
    expect(rv.metrics.invariance!.groups).toBe(TINY_RVAE.seriesDigits);
    expect(res.records.find((x: RvaeRecord) => x.model === 'vae').metrics.angle).toBeNull();
    expect(res.records.find((x: RvaeRecord) => x.model === 'vae').options.pixelSubsample).toBe(0);
    for (const rec of res.records as RvaeRecord[]) {
      for (const f of rec.figures) expect(existsSync(path.join(one, f))).toBe(true);
      expect(rec.figures.length).toBe(rec.model === 'vae' || rec.model === 'cvae' ? 3 : 4);
    }
    for (const f of ['report.html', 'training.png', 'results.json', 'settings.json'])
      expect(existsSync(path.join(one, f))).toBe(true);
    const html = readFileSync(path.join(one, 'report.html'), 'utf8');
    expect(html).toMatch(/figures\/crvae-seed1-manifold\.png/);
    expect(html).toMatch(/The essay&#39;s claims/);
    // The saved crVAE encodes the test images as the run did.
    const model = await Rvae.load(path.join(one, 'models', 'crvae-seed1'));
    expect(model.options.classes).toBe(10);
    expect(model.savedInfo!.extra).toMatchObject({ experiment: 'rvae', model: 'crvae', seed: 1, angles: 60 });
    model.dispose();

    const sharded = path.join(work, 'sharded');
    const s1 = await runCli(args(sharded, '--shard', '1/2'));
    expect(s1.code).toBe(0);
    expect(s1.stdout).toMatch(
      /this run's trainings are done \(2 of 4\); still missing: .*; results.json is written by the run that finds every one done/,
    );
    expect(existsSync(path.join(sharded, 'results.json'))).toBe(false);
    const s2 = await runCli(args(sharded, '--shard', '2/2'));
    expect(s2.code).toBe(0);
    expect(existsSync(path.join(sharded, 'results.json'))).toBe(true);
    expect(records(sharded)).toEqual(records(one));

    const parallel = path.join(work, 'parallel');
    const p = await runCli(args(parallel, '--workers', '2'));
    expect(p.code).toBe(0);
    expect(records(parallel)).toEqual(records(one));
  }, 240_000);

  it('adds seeds and models to a folder, and refuses other settings there', async () => {
    const out = path.join(work, 'grow');
    const a = await runCli(args(out, '--models', 'rvae', '--angles', '180'));
    expect(a.code).toBe(0);
    const b = await runCli(args(out, '--models', 'rvae,trvae', '--angles', '180', '--seeds', '1,2'));
    expect(b.code).toBe(0);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(res.records.map((x: RvaeRecord) => x.id)).toEqual([
      'rvae-seed1',
      'rvae-seed2',
      'trvae-seed1',
      'trvae-seed2',
    ]);
    expect(res.settings.angles).toBe(180);
    expect(res.summaries[0].seeds).toEqual([1, 2]);
    expect(res.aims[0].claim).toMatch(/full turns/);
    const trv = res.records.find((x: RvaeRecord) => x.model === 'trvae') as RvaeRecord;
    expect(trv.options.translation).toBe(true);
    const mixed = await runCli(args(out, '--models', 'rvae', '--angles', '60'));
    expect(mixed.code).not.toBe(0);
    expect(mixed.stderr).toMatch(/holds units of other settings \(--angles 180 there, 60 in this run\)/);

    // The angle prior and beta reach the model and the settings; a folder trained with them refuses a run without them.
    const prior = path.join(work, 'prior');
    const c = await runCli(
      args(
        prior,
        '--models',
        'rvae',
        '--angles',
        '180',
        '--angle-kl',
        'width',
        '--angle-prior',
        '0.5',
        '--beta',
        '1.5',
      ),
    );
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    const pres = JSON.parse(readFileSync(path.join(prior, 'results.json'), 'utf8'));
    expect(pres.settings).toMatchObject({ anglePrior: 0.5, angleKl: 'width', beta: 1.5 });
    expect((pres.records[0] as RvaeRecord).options).toMatchObject({ anglePrior: 0.5, angleKl: 'width', beta: 1.5 });
    const saved = await Rvae.load(path.join(prior, 'models', 'rvae-seed1'));
    expect(saved.options).toMatchObject({ anglePrior: 0.5, angleKl: 'width', beta: 1.5 });
    saved.dispose();
    const without = await runCli(args(prior, '--models', 'rvae', '--angles', '180'));
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/holds units of other settings \(.*--(angle-prior|angle-kl|beta)/);
  }, 180_000);

  it('rejects bad flags with the allowed values', async () => {
    const out = path.join(work, 'bad');
    const cases: [string[], RegExp][] = [
      [['--angles', '90'], /--angles.*Allowed choices are 60, 180/],
      [
        ['--models', 'vae,bvae'],
        /--models must be a comma-separated subset of vae,cvae,rvae,trvae,crvae, got 'vae,bvae'/,
      ],
      [['--seeds', '1,1'], /--seeds must be distinct comma-separated integers/],
      [['--seeds', '1,2', '--seed', '3'], /give --seed or --seeds, not both/],
      [['--pixels', '785'], /--pixels.*must be an integer in 0\.\.784/],
      [['--train-images', '100', '--eval-train-images', '200'], /--eval-train-images must be an integer in \[1, 100\]/],
      [
        ['--width', '128', '--batch', '500', '--pixels', '0', '--train-images', '600'],
        /--batch 500 x 784 pixels x --width 128 .*use --batch 400 or less/,
      ],
      [['--learning-rate', '0'], /--learning-rate.*> 0/],
      [['--angle-kl', 'cauchy'], /--angle-kl.*Allowed choices are normal, width/],
      [['--angle-prior', '0'], /--angle-prior.*> 0/],
      [['--beta', '-1'], /--beta.*>= 0/],
    ];
    for (const [flags, msg] of cases) {
      const r = await runCli(args(out, ...flags));
      expect(r.code, flags.join(' ')).not.toBe(0);
      expect(r.stderr, flags.join(' ')).toMatch(msg);
    }
  }, 120_000);
});
