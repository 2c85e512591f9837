/**
 * Experiment 2 and 3 building blocks: PCA (ml-pca), the linear and deep autoencoders, and the tiny
 * end-to-end runs of `soapix experiment compression` / `noise`.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompressionExperiment, type CompressionResults } from '../lib/experiments/compression';
import { checkNoiseClaims, interpolateRelative, PAPER_SIGMAS, type NoiseResults } from '../lib/experiments/noise';
import { Autoencoder } from '../lib/ml/models/autoencoder';
import { selectBackend } from '../lib/ml/backend';
import { Pca, meanSquaredError } from '../lib/ml/pca';
import { Rng } from '../lib/util/random';
import { buildIfStale, runCli } from './helpers/cli';

const dir = mkdtempSync(path.join(tmpdir(), 'soapix-compression-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await selectBackend({ log: false });
});

/** Gaussian-ish values: rank-`rank` data in `cols` dimensions plus small noise. */
function lowRank(rows: number, cols: number, rank: number, noise: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const u = () => rng.nextFloat() * 2 - 1;
  const basis = Array.from({ length: rank }, () => Float64Array.from({ length: cols }, u));
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const coef = Array.from({ length: rank }, () => u() * 3);
    for (let j = 0; j < cols; j++) {
      let v = 0.5 + noise * u();
      for (let k = 0; k < rank; k++) v += coef[k] * basis[k][j];
      x[r * cols + j] = v;
    }
  }
  return x;
}

describe('Pca', () => {
  it('reconstructs exactly with all components and optimally with the true rank', () => {
    const rows = 300;
    const cols = 12;
    const x = lowRank(rows, cols, 3, 0, 1);
    const pca = Pca.fit(x, rows, cols);
    expect(pca.reconstructionMse(x, rows, cols)).toBeLessThan(1e-9);
    expect(pca.reconstructionMse(x, rows, 3)).toBeLessThan(1e-9);
    expect(pca.reconstructionMse(x, rows, 2)).toBeGreaterThan(1e-3);
    const ev = pca.explainedVarianceRatio();
    for (let k = 1; k < cols; k++) expect(ev[k]).toBeLessThanOrEqual(ev[k - 1] + 1e-12);
    // JSON round trip, shapes of the codes.
    const again = Pca.fromJSON(JSON.parse(JSON.stringify(pca.toJSON())));
    const codes = again.transform(x, rows, 4);
    expect(codes.length).toBe(rows * 4);
    expect(Array.from(codes)).toEqual(Array.from(pca.transform(x, rows, 4)));
    expect(() => pca.transform(x, rows, 0)).toThrow(RangeError);
  });
});

describe('Autoencoder', () => {
  it('has the right shapes, linear and deep', () => {
    const lin = Autoencoder.create({ inputDim: 10, codeDim: 3, kind: 'linear' });
    expect(lin.parameterCount).toBe(10 * 3 + 3 + 3 * 10 + 10);
    const deep = Autoencoder.create({ inputDim: 10, codeDim: 3, kind: 'deep', hiddenMultiplier: 2 });
    expect(deep.parameterCount).toBe(10 * 20 + 20 + 20 * 3 + 3 + 3 * 20 + 20 + 20 * 10 + 10);
    const x = lowRank(7, 10, 2, 0.1, 2);
    const codes = deep.encode(x);
    expect(codes.length).toBe(7 * 3);
    expect(deep.decode(codes).length).toBe(7 * 10);
    lin.dispose();
    deep.dispose();
  });

  it('is deterministic for a seed', async () => {
    const x = lowRank(400, 10, 2, 0.05, 3);
    const run = async (): Promise<{ w: Float32Array[]; mse: number }> => {
      const ae = Autoencoder.create({ inputDim: 10, codeDim: 2, kind: 'deep', seed: 5 });
      await ae.train({ x, rows: 400, cols: 10 }, { epochs: 2, batchSize: 64, validation: 0.2 });
      const out = { w: ae.getWeights(), mse: ae.reconstructionMse({ x, rows: 400, cols: 10 }) };
      ae.dispose();
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a.mse).toBe(b.mse);
    expect(a.w.map((w) => Array.from(w))).toEqual(b.w.map((w) => Array.from(w)));
    const c = Autoencoder.create({ inputDim: 10, codeDim: 2, kind: 'deep', seed: 6 });
    expect(Array.from(c.getWeights()[0])).not.toEqual(Array.from(a.w[0]));
    c.dispose();
  });

  it('linear AE learns a low-rank problem far better than predicting the mean', async () => {
    const rows = 2000;
    const cols = 16;
    const x = lowRank(rows, cols, 2, 0.01, 4);
    const ae = Autoencoder.create({ inputDim: cols, codeDim: 2, kind: 'linear', learningRate: 1e-2, seed: 1 });
    const hist = await ae.train(
      { x, rows, cols },
      { epochs: 40, batchSize: 64, validation: 0.2, earlyStopping: { patience: 5 } },
    );
    const mse = ae.reconstructionMse({ x, rows, cols });
    // Baseline: every value predicted by its column mean.
    const mean = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) mean[j] += x[r * cols + j] / rows;
    const meanRec = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) meanRec.set(mean, r * cols);
    const baseline = meanSquaredError(x, meanRec);
    expect(hist.epochs.length).toBeGreaterThan(1);
    expect(mse).toBeLessThan(0.1 * baseline);
    // PCA with the same rank is the optimum a linear AE can reach.
    const pca = Pca.fit(x, rows, cols);
    expect(pca.reconstructionMse(x, rows, 2)).toBeLessThanOrEqual(mse * 1.0001);
    ae.dispose();
  });
});

const run = (args: string[]) => runCli(args);

describe('noise helpers', () => {
  it('log-spaces the paper grid and interpolates in log sigma', () => {
    expect(PAPER_SIGMAS.length).toBe(20);
    expect(PAPER_SIGMAS[0]).toBeCloseTo(0.1, 12);
    expect(PAPER_SIGMAS[19]).toBeCloseTo(5.0, 12);
    const pts = [
      { sigma: 0, accuracy: 0.7, relativeAccuracy: 1, seconds: 0 },
      { sigma: 0.5, accuracy: 0.7, relativeAccuracy: 1, seconds: 0 },
      { sigma: 2, accuracy: 0.35, relativeAccuracy: 0.5, seconds: 0 },
    ];
    expect(interpolateRelative(pts, 1)).toBeCloseTo(0.75, 12);
    expect(interpolateRelative(pts, 3)).toBeNull();
    expect(checkNoiseClaims(pts).map((c) => c.holds)).toEqual([false, null, null]);
  });
});

describe('experiments compression and noise, --tiny, from the compiled CLI', () => {
  beforeAll(buildIfStale, 120_000);

  it('compression --tiny writes results, figures and the report', async () => {
    const out = path.join(dir, 'compression-baseline');
    // The kernel path is capped to the portable one, so results.json must say so.
    const r = await runCli(['experiment', 'compression', '--tiny', '--out', out, '-q'], 120_000, {
      SOAPIX_SIMD: 'baseline',
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/baseline test accuracy/);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as CompressionResults;
    expect(res.experiment).toBe('compression');
    expect(res.simdPath).toBe('baseline');
    // --tiny keeps the constant learning rate (no schedule settings, no final rates).
    expect(res.settings['lrPatience']).toBeUndefined();
    expect(res.points.every((p) => p.aeFinalLearningRate === undefined)).toBe(true);
    expect(res.points.map((p) => `${p.method}/${p.he}`)).toEqual([
      'pca/5',
      'linear-ae/5',
      'deep-ae-hm2/5',
      'pca/20',
      'linear-ae/20',
      'deep-ae-hm2/20',
    ]);
    for (const p of res.points) {
      expect(p.valMse).toBeGreaterThan(0);
      expect(p.accuracy).toBeGreaterThanOrEqual(0);
    }
    // PCA's MSE falls with more components.
    expect(res.points[3].valMse).toBeLessThan(res.points[0].valMse);
    expect(res.claims.length).toBe(5);
    for (const f of ['mse_vs_he.png', 'accuracy_vs_he.png', 'correlation_matrix.png', 'report.html'])
      expect(existsSync(path.join(out, f))).toBe(true);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(/correlation_matrix\.png/);
  }, 60_000);

  it("compression --lr-patience cuts the autoencoders' learning rate and records the final rate; bad values are usage errors", async () => {
    const out = path.join(dir, 'compression-lr');
    const args = ['experiment', 'compression', '--tiny', '--he', '5', '--methods', 'linear-ae'];
    const r = await run([...args, '--out', out, '-q', '--epochs', '6', '--learning-rate', '0.5', '--lr-patience', '1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as CompressionResults;
    expect(res.settings).toMatchObject({ learningRate: 0.5, lrPatience: 1, lrFactor: 0.5, minLearningRate: 1e-6 });
    const p = res.points[0];
    expect(p.method).toBe('linear-ae');
    // A rate of 0.5 cannot improve the validation MSE six epochs in a row, so at least one cut.
    expect(p.aeFinalLearningRate).toBeLessThan(0.5);
    const bad = await run([...args, '--out', path.join(dir, 'compression-bad'), '--lr-factor', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--lr-factor/);
  }, 120_000);

  it('compression --tiny gives the same points with --workers 2 and with --shard 1/2, 2/2 then a merge', async () => {
    const strip = (r: CompressionResults) => ({
      points: r.points.map((p) => ({ ...p, seconds: 0 })),
      baseline: { ...r.baseline, seconds: 0 },
      pcaCumulativeVariance: r.pcaCumulativeVariance,
      claims: r.claims,
    });
    const read = (out: string) =>
      JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as CompressionResults;
    const a = path.join(dir, 'compression');
    if (!existsSync(path.join(a, 'results.json')))
      expect((await run(['experiment', 'compression', '--tiny', '--out', a, '-q'])).code).toBe(0);
    const ref = strip(read(a));
    expect(readdirSync(path.join(a, 'units')).sort()).toEqual(['he-20.json', 'he-5.json']);
    expect(existsSync(path.join(a, 'correlation.json'))).toBe(true);

    const b = path.join(dir, 'compression-workers');
    const rb = await run(['experiment', 'compression', '--tiny', '--workers', '2', '--out', b, '-q']);
    expect(rb.stderr).toBe('');
    expect(rb.code).toBe(0);
    expect(strip(read(b))).toEqual(ref);

    const c = path.join(dir, 'compression-shards');
    const r1 = await run(['experiment', 'compression', '--tiny', '--shard', '1/2', '--out', c, '-q']);
    expect(r1.code).toBe(0);
    expect(existsSync(path.join(c, 'units', 'he-5.json'))).toBe(true);
    expect(existsSync(path.join(c, 'units', 'he-20.json'))).toBe(false);
    expect(r1.stdout).toMatch(/still missing: he-20;/);
    expect(existsSync(path.join(c, 'results.json'))).toBe(false);
    const r2 = await run(['experiment', 'compression', '--tiny', '--shard', '2/2', '--out', c, '-q']);
    expect(r2.code).toBe(0);
    const r3 = await run(['experiment', 'compression', '--tiny', '--out', c]);
    expect(r3.code).toBe(0);
    expect(r3.stderr).toMatch(/2 in this run, 0 to do/);
    expect(r3.stderr).not.toMatch(/features ready/);
    expect(strip(read(c))).toEqual(ref);
    expect(existsSync(path.join(c, 'correlation_matrix.png'))).toBe(true);
  }, 300_000);

  it('an autoencoder interrupted mid-training continues from its checkpoint to the uninterrupted result', async () => {
    const protocol = {
      tiny: true,
      he: [5],
      hm: [2, 4],
      methods: ['deep-ae' as const],
      epochs: 60,
      patience: 60,
      noFigures: true,
    };
    const whole = await runCompressionExperiment({
      ...protocol,
      out: path.join(dir, 'ckpt-whole'),
      checkpointMinutes: 0,
      log: () => undefined,
    });
    expect(whole?.points.map((p) => p.aeEpochs)).toEqual([60, 60]);
    expect(existsSync(path.join(dir, 'ckpt-whole', 'checkpoints'))).toBe(false);

    const out = path.join(dir, 'ckpt-resumed');
    const ckpt = path.join(out, 'checkpoints', 'deep-ae-hm4-he5.ckpt');
    const ac = new AbortController();
    // A checkpoint after every epoch (1e-6 minutes); stop once the second autoencoder logs epoch 25.
    const options = { ...protocol, out, checkpointMinutes: 1e-6 };
    await expect(
      runCompressionExperiment({
        ...options,
        signal: ac.signal,
        log: (line) => {
          if (/deep-ae-hm4 h_e 5: epoch 25,/.test(line)) ac.abort(new Error('stopped at epoch 25'));
        },
      }),
    ).rejects.toThrow(/stopped at epoch 25/);
    expect(existsSync(ckpt)).toBe(true);
    expect(existsSync(path.join(out, 'units', 'he-5.json'))).toBe(false);
    const lines: string[] = [];
    const resumed = await runCompressionExperiment({ ...options, log: (l) => lines.push(l) });
    // The rerun took the finished first autoencoder as it was (no epochs logged) and continued the
    // second (epoch 50 logged, not 25); both end where the whole run ends.
    expect(lines.some((l) => /hm2 h_e 5: epoch/.test(l))).toBe(false);
    expect(lines.some((l) => /hm4 h_e 5: epoch 50,/.test(l))).toBe(true);
    expect(lines.some((l) => /hm4 h_e 5: epoch 25,/.test(l))).toBe(false);
    expect(existsSync(path.join(out, 'checkpoints', 'deep-ae-hm2-he5.ckpt'))).toBe(false);
    const key = (r: CompressionResults | null) => r?.points.map(({ seconds: _s, ...p }) => p);
    expect(key(resumed)).toEqual(key(whole));
    expect(existsSync(ckpt)).toBe(false);
  }, 120_000);

  it('noise --tiny trains a classifier when no model is given and reports accuracy vs sigma', async () => {
    const out = path.join(dir, 'noise');
    const r = await run(['experiment', 'noise', '--tiny', '--out', out, '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as NoiseResults;
    expect(res.points.map((p) => p.sigma)).toEqual([0, 0.1, 1, 5]);
    expect(res.points[0].relativeAccuracy).toBe(1);
    expect(res.modelTrainedHere).toBe(true);
    expect(existsSync(path.join(out, 'accuracy_vs_sigma.png'))).toBe(true);
    // Reusing the trained model gives the same numbers.
    const out2 = path.join(dir, 'noise2');
    const r2 = await run([
      'experiment',
      'noise',
      '--tiny',
      '--out',
      out2,
      '-q',
      '--model',
      path.join(out, 'classifier'),
    ]);
    expect(r2.code).toBe(0);
    const res2 = JSON.parse(readFileSync(path.join(out2, 'results.json'), 'utf8')) as NoiseResults;
    expect(res2.points.map((p) => p.accuracy)).toEqual(res.points.map((p) => p.accuracy));
    expect(res.protocol).toBe('fixed-model');
  }, 60_000);

  it('noise --protocol retrain --tiny retrains per level, records its settings and repeats for a seed', async () => {
    const read = (out: string) => JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as NoiseResults;
    const out = path.join(dir, 'noise-retrain');
    const r = await run(['experiment', 'noise', '--protocol', 'retrain', '--tiny', '--seed', '3', '--out', out, '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/protocol retrain/);
    const res = read(out);
    expect(res.protocol).toBe('retrain');
    expect(res.model).toBeNull();
    expect(res.retrain).toMatchObject({ perImage: 1, maxEpochs: 2, patience: 5, batchSize: 128, valFraction: 0.2 });
    expect(res.retrain!.trainImages + res.retrain!.valImages).toBe(res.testImages);
    expect(res.points.map((p) => p.sigma)).toEqual([0, 0.1, 1, 5]);
    for (const p of res.points) {
      expect(p.baselineAccuracy).toBe(res.baselineAccuracy);
      expect(p.valAccuracy).toBe(p.accuracy);
      expect(p.epochs).toBeGreaterThanOrEqual(1);
      expect(p.epochs).toBeLessThanOrEqual(2);
      expect(p.trainRows! + p.valRows!).toBe(res.testRows);
      expect(p.relativeAccuracy).toBeCloseTo(p.accuracy / res.baselineAccuracy, 12);
    }
    // The split is by image and the same at every level.
    expect(new Set(res.points.map((p) => p.valRows)).size).toBe(1);
    expect(res.claims.length).toBe(3);
    expect(existsSync(path.join(out, 'accuracy_vs_sigma.png'))).toBe(true);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(/Protocol: retrain/);
    const out2 = path.join(dir, 'noise-retrain2');
    const r2 = await run([
      'experiment',
      'noise',
      '--protocol',
      'retrain',
      '--tiny',
      '--seed',
      '3',
      '--out',
      out2,
      '-q',
    ]);
    expect(r2.code).toBe(0);
    expect(read(out2).points.map((p) => p.accuracy)).toEqual(res.points.map((p) => p.accuracy));
  }, 60_000);

  it('noise rejects a bad --protocol and --model with retrain as usage errors', async () => {
    const bad = await run(['experiment', 'noise', '--protocol', 'bogus', '--tiny', '--out', path.join(dir, 'never')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--protocol <name>' argument 'bogus' is invalid\. Allowed choices are fixed-model, retrain/,
    );
    const both = await run([
      'experiment',
      'noise',
      '--protocol',
      'retrain',
      '--model',
      dir,
      '--tiny',
      '--out',
      path.join(dir, 'never'),
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--model is for --protocol fixed-model/);
    expect(existsSync(path.join(dir, 'never'))).toBe(false);
  }, 30_000);
});
