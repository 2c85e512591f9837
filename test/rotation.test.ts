/**
 * Experiment 4 (SOAP vs CNN under rotation): patches, their SOAP and pixel features, the CNN
 * (numerical gradient check, learning), and `soapix experiment rotation --tiny` end to end
 * (sharded and parallel runs give the same results as one process; the runner itself: test/runner.test.ts).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { InMemoryDataset } from '../lib/data/datasets';
import { makeSoap, PAPER_OPTIMUM } from '../lib/experiments/common';
import { rotateImage, type Interpolation as RotationInterpolation } from '../lib/data/transform';
import {
  checkPatchSize,
  extractPatch,
  imageOrder,
  makePatchSet,
  patchPixelFeatures,
  patchSoapFeatures,
} from '../lib/experiments/patches';
import {
  checkRotationClaims,
  learningCurveSpec,
  rotationCurves,
  rotationTasks,
  runRotationExperiment,
  taskId,
  TINY_ROTATION_SOAP,
  type RotationRecord,
} from '../lib/experiments/rotation';
import { imageToPoints } from '../lib/data/image';
import { selectBackend } from '../lib/ml/backend';
import { CnnClassifier, cnnFeatureMapSize, resolveCnnConfig } from '../lib/ml/models/cnn';
import { MlpClassifier } from '../lib/ml/models/mlp';
import { Rng } from '../lib/util/random';
import { buildIfStale, runCli } from './helpers/cli';

const work = mkdtempSync(path.join(tmpdir(), 'soapix-rot-'));

beforeAll(async () => {
  buildIfStale();
  await selectBackend({ prefer: 'wasm', strict: true, log: false });
}, 120_000);

/** A 28x28 "digit": a bright bar plus a blob, with its label. */
function toyDataset(n: number, seed: number): InMemoryDataset {
  const rng = new Rng(seed);
  const pixels = new Uint8Array(n * 28 * 28);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    labels[k] = k % 10;
    const r0 = 6 + rng.nextInt(10);
    for (let c = 4; c < 24; c++) pixels[k * 784 + r0 * 28 + c] = 50 + rng.nextInt(200);
    for (let i = 0; i < 20; i++) pixels[k * 784 + (8 + rng.nextInt(12)) * 28 + 8 + rng.nextInt(12)] = rng.nextInt(256);
  }
  return new InMemoryDataset({ name: 'toy', pixels, labels, rows: 28, cols: 28, channels: 1 });
}

describe('patches', () => {
  it('cuts the window around a pixel, zero outside the image', () => {
    const img = { pixels: Uint8Array.from({ length: 20 }, (_, i) => i + 1), rows: 4, cols: 5 };
    expect(Array.from(extractPatch(img, 1, 2, 3))).toEqual([2, 3, 4, 7, 8, 9, 12, 13, 14]);
    expect(Array.from(extractPatch(img, 0, 0, 3))).toEqual([0, 0, 0, 0, 1, 2, 0, 6, 7]);
    expect(Array.from(extractPatch(img, 3, 4, 3))).toEqual([14, 15, 0, 19, 20, 0, 0, 0, 0]);
  });

  it('rejects even, tiny or huge patch sizes with the allowed range', () => {
    for (const bad of [2, 4, 12, 0, -3, 1.5, 257, Number.NaN])
      expect(() => checkPatchSize(bad)).toThrow(/odd integer in 3\.\.255/);
    expect(checkPatchSize(13)).toBe(13);
  });

  it('centres every patch on a point; the same seed gives the same set, another seed another', () => {
    const ds = toyDataset(40, 1);
    const order = imageOrder(ds.length, 5);
    expect(Array.from(order)).toEqual(Array.from(imageOrder(ds.length, 5)));
    expect(new Set(order).size).toBe(ds.length);
    const a = makePatchSet(ds, order, { size: 13, rotate: true, seed: 7 });
    const b = makePatchSet(ds, order, { size: 13, rotate: true, seed: 7 });
    const c = makePatchSet(ds, order, { size: 13, rotate: true, seed: 8 });
    expect(a.count).toBe(40);
    expect(Buffer.from(a.pixels).equals(Buffer.from(b.pixels))).toBe(true);
    expect(Array.from(a.angle)).toEqual(Array.from(b.angle));
    expect(Buffer.from(a.pixels).equals(Buffer.from(c.pixels))).toBe(false);
    for (let k = 0; k < a.count; k++) {
      expect(a.pixels[k * 169 + 6 * 13 + 6]).toBeGreaterThanOrEqual(10); // the centre pixel is a point
      expect(a.labels[k]).toBe(ds.get(a.image[k]!).label);
      expect(a.angle[k]).toBeGreaterThanOrEqual(0);
      expect(a.angle[k]).toBeLessThan(360);
    }
    // An image's patch depends on the image only, not on where it is in the list.
    const rev = makePatchSet(ds, Array.from(order).reverse(), { size: 13, rotate: true, seed: 7 });
    expect(Buffer.from(rev.pixels.subarray(39 * 169, 40 * 169)).equals(Buffer.from(a.pixels.subarray(0, 169)))).toBe(
      true,
    );
  });

  it('without rotation, a patch is the image window around its centre', () => {
    const ds = toyDataset(5, 2);
    const s = makePatchSet(ds, [0, 1, 2, 3, 4], { size: 9, rotate: false, seed: 3 });
    for (let k = 0; k < 5; k++) {
      const img = ds.get(k);
      expect(s.angle[k]).toBe(0);
      expect(Array.from(s.pixels.subarray(k * 81, (k + 1) * 81))).toEqual(
        Array.from(extractPatch(img, Math.floor(s.centre[k]! / 28), s.centre[k]! % 28, 9)),
      );
    }
  });

  it('nearest rotation keeps the grey levels, bilinear mixes them; at 90 degrees both move pixels exactly', () => {
    const rec = toyDataset(1, 5).get(0);
    const img = { pixels: rec.pixels, rows: 28, cols: 28 };
    const levels = new Set(img.pixels);
    expect([...rotateImage(img, 33, 'nearest').pixels].every((v) => levels.has(v))).toBe(true);
    expect([...rotateImage(img, 33).pixels].some((v) => !levels.has(v))).toBe(true);
    for (const how of ['nearest', 'bilinear'] as const) {
      const q = rotateImage(img, 90, how).pixels;
      // Counter-clockwise as displayed: output (r, c) comes from input (c, 27 - r).
      for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) expect(q[r * 28 + c]).toBe(img.pixels[c * 28 + 27 - r]);
    }
    expect(() => rotateImage(img, 10, 'bicubic' as RotationInterpolation)).toThrow(
      /unknown interpolation 'bicubic'; known: bilinear, nearest/,
    );
    const ds = toyDataset(20, 6);
    const idx = Array.from({ length: 20 }, (_, i) => i);
    const near = makePatchSet(ds, idx, { size: 9, rotate: true, seed: 3, interpolation: 'nearest' });
    const bil = makePatchSet(ds, idx, { size: 9, rotate: true, seed: 3 });
    expect(Array.from(near.angle)).toEqual(Array.from(bil.angle));
    expect(Array.from(near.pixels)).not.toEqual(Array.from(bil.pixels));
  });

  it('skips images without any point', () => {
    const blank = new InMemoryDataset({
      name: 'blank',
      pixels: new Uint8Array(3 * 784),
      labels: new Int32Array(3),
      rows: 28,
      cols: 28,
      channels: 1,
    });
    expect(makePatchSet(blank, [0, 1, 2], { size: 13, rotate: true, seed: 1 }).count).toBe(0);
  });

  it('pixel features are intensity / 255', () => {
    const s = makePatchSet(toyDataset(3, 3), [0, 1, 2], { size: 13, rotate: false, seed: 1 });
    const x = patchPixelFeatures(s);
    expect(x.length).toBe(3 * 169);
    for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo(s.pixels[i]! / 255, 7);
  });
});

describe('SOAP of a patch', () => {
  const soap = makeSoap(PAPER_OPTIMUM);

  it('is SOAP at the centre point from the patch points only, plus intensity and point count', async () => {
    const s = makePatchSet(toyDataset(6, 4), [0, 1, 2, 3, 4, 5], { size: 13, rotate: true, seed: 2 });
    const f = await patchSoapFeatures(soap, s, { extras: true, batch: 4 });
    expect(f.cols).toBe(soap.featureCount + 2);
    for (let k = 0; k < s.count; k++) {
      const patch = { pixels: s.pixels.subarray(k * 169, (k + 1) * 169), rows: 13, cols: 13 };
      const pts = imageToPoints(patch);
      const centre = pts.pixelIndex.indexOf(6 * 13 + 6);
      const want = soap.createSync({ positions: pts.positions }, { centers: { indices: [centre] }, dtype: 'float32' });
      expect(Array.from(f.x.subarray(k * f.cols, k * f.cols + soap.featureCount))).toEqual(Array.from(want.data));
      let sum = 0;
      for (const v of patch.pixels) sum += v;
      expect(f.x[k * f.cols + soap.featureCount]).toBeCloseTo(sum / 169 / 255, 6);
      expect(f.x[k * f.cols + soap.featureCount + 1]).toBe(pts.count);
    }
  });

  it('does not change when the patch is turned by 90 degrees or mirrored (exact pixel moves)', async () => {
    const s = makePatchSet(toyDataset(4, 5), [0, 1, 2, 3], { size: 13, rotate: true, seed: 9 });
    const turned = { ...s, pixels: new Uint8Array(s.pixels.length) };
    const mirrored = { ...s, pixels: new Uint8Array(s.pixels.length) };
    for (let k = 0; k < s.count; k++) {
      for (let i = 0; i < 13; i++) {
        for (let j = 0; j < 13; j++) {
          turned.pixels[k * 169 + j * 13 + (12 - i)] = s.pixels[k * 169 + i * 13 + j]!;
          mirrored.pixels[k * 169 + i * 13 + (12 - j)] = s.pixels[k * 169 + i * 13 + j]!;
        }
      }
    }
    const a = await patchSoapFeatures(soap, s);
    const b = await patchSoapFeatures(soap, turned);
    const c = await patchSoapFeatures(soap, mirrored);
    let max = 0;
    for (const v of a.x) max = Math.max(max, Math.abs(v));
    let d = 0;
    for (let i = 0; i < a.x.length; i++) d = Math.max(d, Math.abs(a.x[i]! - b.x[i]!), Math.abs(a.x[i]! - c.x[i]!));
    expect(max).toBeGreaterThan(0);
    expect(d / max).toBeLessThan(1e-5);
    // ...while the raw pixels (the CNN's input) do change.
    expect(Buffer.from(turned.pixels).equals(Buffer.from(s.pixels))).toBe(false);
  });
});

describe('CnnClassifier', () => {
  it("has the paper's layers: 13x13 -> 1x1x32 -> 64 -> 10, and rejects patches too small for them", () => {
    const cfg = resolveCnnConfig();
    expect(cnnFeatureMapSize(cfg)).toEqual([1, 1]);
    const cnn = CnnClassifier.create();
    // conv 16: 3*3*16+16, conv 32: 3*3*16*32+32, dense 64: 32*64+64, logits: 64*10+10
    expect(cnn.parameterCount).toBe(160 + 4640 + 2112 + 650);
    cnn.dispose();
    expect(() => resolveCnnConfig({ height: 9 })).toThrow(/too small/);
    expect(() => resolveCnnConfig({ learningRate: -1 })).toThrow(/learningRate/);
    expect(resolveCnnConfig({ height: 9, padding: 'same' }).height).toBe(9);
  });

  it('gradients on the wasm backend match central finite differences', () => {
    const cnn = CnnClassifier.create({ seed: 3 });
    const rng = new Rng(11);
    const n = 4;
    const xv = Float32Array.from({ length: n * 169 }, () => rng.nextFloat());
    const yv = Int32Array.from({ length: n }, (_, i) => (i * 3) % 10);
    const vars = cnn.trainableVariables();
    const loss = (): tf.Scalar =>
      tf.losses.softmaxCrossEntropy(
        tf.oneHot(tf.tensor1d(yv, 'int32'), 10),
        cnn.logits(tf.tensor2d(xv, [n, 169]), true),
      ) as tf.Scalar;
    const { grads } = tf.variableGrads(loss, vars);
    // The model runs in float32: a step of 2e-3 keeps the rounding noise of the difference
    // quotient near 1e-4 while rarely crossing a ReLU or max-pool switch; the three
    // largest-gradient entries of every variable are checked.
    let checked = 0;
    for (const v of vars) {
      const g = grads[v.name]!.dataSync();
      const w = v.dataSync().slice();
      const idx = Array.from(g.keys())
        .sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!))
        .slice(0, 3);
      for (const i of idx) {
        const eps = 2e-3;
        const at = (delta: number): number => {
          const w2 = w.slice();
          w2[i] += delta;
          v.assign(tf.tensor(w2, v.shape));
          return tf.tidy(() => loss().dataSync()[0]!);
        };
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        v.assign(tf.tensor(w, v.shape));
        expect(Math.abs(fd - g[i]!)).toBeLessThan(2e-3 + 0.03 * Math.abs(g[i]!));
        checked++;
      }
    }
    expect(checked).toBe(vars.length * 3);
    tf.dispose(Object.values(grads));
    cnn.dispose();
  });

  it('learns to tell horizontal from vertical bars, deterministically for a seed', async () => {
    const make = (seed: number, n: number): { x: Float32Array; y: Int32Array; rows: number; cols: number } => {
      const rng = new Rng(seed);
      const x = new Float32Array(n * 169);
      const y = new Int32Array(n);
      for (let k = 0; k < n; k++) {
        y[k] = k % 2;
        const at = 2 + rng.nextInt(9);
        for (let t = 0; t < 13; t++) x[k * 169 + (y[k] ? t * 13 + at : at * 13 + t)] = 0.5 + 0.5 * rng.nextFloat();
      }
      return { x, y, rows: n, cols: 169 };
    };
    const train = make(1, 256);
    const test = make(2, 200);
    const fit = async (): Promise<{ acc: number; loss: number }> => {
      const cnn = CnnClassifier.create({ classes: 2, learningRate: 3e-3, seed: 5 });
      const h = await cnn.train(train, {
        epochs: 15,
        batchSize: 64,
        validation: 0.25,
        earlyStopping: { patience: 15 },
      });
      const acc = cnn.evaluate(test).accuracy;
      cnn.dispose();
      return { acc, loss: h.epochs[h.epochs.length - 1]!.loss };
    };
    const a = await fit();
    const b = await fit();
    expect(a.acc).toBeGreaterThan(0.95);
    expect(b).toEqual(a);
  });

  it('a classifier stops within the epoch when its signal is aborted, rejecting with the reason', async () => {
    const rng = new Rng(3);
    const n = 64;
    const data = {
      x: Float32Array.from({ length: n * 169 }, () => rng.nextFloat()),
      y: Int32Array.from({ length: n }, (_, k) => k % 2),
      rows: n,
      cols: 169,
    };
    const models = [
      CnnClassifier.create({ classes: 2, seed: 1 }),
      MlpClassifier.create({ inputDim: 169, classes: 2, hidden: [8], seed: 1 }),
    ];
    for (const m of models) {
      const ac = new AbortController();
      const seen: number[] = [];
      const done = m.train(data, {
        epochs: 1000,
        batchSize: 16,
        signal: ac.signal,
        onEpoch: (e) => {
          seen.push(e.epoch);
          if (e.epoch === 3) ac.abort(new Error('stop at epoch 3'));
        },
      });
      await expect(done).rejects.toThrow(/stop at epoch 3/);
      expect(seen).toEqual([1, 2, 3]);
      await expect(m.train(data, { epochs: 1, signal: AbortSignal.abort(new Error('before')) })).rejects.toThrow(
        /before/,
      );
      m.dispose();
    }
  });
});

describe('task bookkeeping', () => {
  it('lists every (condition, model, size, run) once, with unique ids', () => {
    const tasks = rotationTasks({
      conditions: ['rotated', 'upright'],
      models: ['soap', 'cnn'],
      sizes: [100, 200, 500],
      runs: 3,
    });
    expect(tasks.length).toBe(2 * 2 * 3 * 3);
    expect(new Set(tasks.map(taskId)).size).toBe(tasks.length);
  });

  it('averages runs and checks the claims with their thresholds', () => {
    const rec = (
      condition: 'rotated' | 'upright',
      model: 'soap' | 'cnn',
      size: number,
      run: number,
      acc: number,
    ): RotationRecord => ({
      id: '',
      condition,
      model,
      size,
      run,
      trainRows: 0,
      valRows: 0,
      testRows: 1,
      testAccuracy: acc,
      bestValAccuracy: null,
      epochsRun: 10,
      bestEpoch: 5,
      stoppedEarly: true,
      backend: 'cpu',
      seconds: 1,
    });
    const records = [
      rec('upright', 'soap', 1000, 0, 0.5),
      rec('upright', 'soap', 1000, 1, 0.7),
      rec('upright', 'cnn', 1000, 0, 0.2),
      rec('upright', 'cnn', 1000, 1, 0.2),
      rec('rotated', 'soap', 1000, 0, 0.6),
      rec('rotated', 'cnn', 1000, 0, 0.63),
      rec('rotated', 'soap', 500, 0, 0.1),
      rec('rotated', 'cnn', 500, 0, 0.9),
    ];
    const curves = rotationCurves(records);
    const up = curves.find((c) => c.condition === 'upright' && c.model === 'soap')!;
    expect(up.mean).toBeCloseTo(0.6, 12);
    expect(up.std).toBeCloseTo(Math.sqrt(0.02), 12);
    const claims = checkRotationClaims(curves);
    expect(claims.map((c) => c.holds)).toEqual([true, true]);
    const worse = checkRotationClaims(
      rotationCurves([
        ...records.slice(0, 4),
        rec('rotated', 'soap', 1000, 0, 0.4),
        rec('rotated', 'cnn', 1000, 0, 0.63),
      ]),
    );
    expect(worse[1]!.holds).toBe(false);
  });

  it('draws the learning curves on a log size axis when the sizes span more than a decade', () => {
    const point = (size: number) => ({
      condition: 'rotated' as const,
      model: 'soap' as const,
      size,
      runs: 2,
      mean: 0.2,
      std: 0.01,
      meanEpochs: 10,
    });
    const xScales = (sizes: number[]): unknown[] => {
      const text = JSON.stringify(learningCurveSpec(sizes.map(point), 'mnist'));
      return [...text.matchAll(/"x":\{"field":"size"[^}]*"scale":(\{[^}]*\})/g)].map((m) => JSON.parse(m[1]!));
    };
    // The band layer and the line layer of the one panel both carry the size scale.
    const log = { type: 'log', domain: [100, 6000], nice: false };
    expect(xScales([100, 400, 6000])).toEqual([log, log]);
    expect(xScales([100, 1000, 1999])).toEqual([{ type: 'linear' }, { type: 'linear' }]);
  });
});

describe('soapix experiment rotation --tiny', () => {
  it('an aborted run stops inside a long training (not after it) and leaves no file for that task', async () => {
    await selectBackend({ prefer: 'wasm', log: false });
    const out = path.join(work, 'aborted');
    const ac = new AbortController();
    let abortedAt = 0;
    const run = runRotationExperiment({
      dataset: 'mnist',
      soap: TINY_ROTATION_SOAP,
      patchSize: 13,
      sizes: [20],
      runs: 1,
      testPatches: 50,
      // A million epochs: only the signal ends this training within the test's time.
      epochs: 1_000_000,
      patience: 1_000_000,
      conditions: ['rotated'],
      models: ['cnn'],
      hidden: [8],
      cnnLearningRate: 1e-4,
      seed: 1,
      backend: 'wasm',
      threads: 1,
      workers: 1,
      out,
      signal: ac.signal,
      // The task logs its first epoch line after 30 s of training.
      log: (line) => {
        if (/epoch \d+\/1000000/.test(line) && !ac.signal.aborted) {
          abortedAt = performance.now();
          ac.abort(new Error('interrupted by SIGTERM'));
        }
      },
    });
    await expect(run).rejects.toThrow(/interrupted by SIGTERM/);
    expect(abortedAt).toBeGreaterThan(0);
    expect(performance.now() - abortedAt).toBeLessThan(5_000);
    expect(existsSync(path.join(out, 'units')) ? readdirSync(path.join(out, 'units')) : []).toEqual([]);
  }, 120_000);

  const args = (out: string, ...more: string[]): string[] => [
    'experiment',
    'rotation',
    '--tiny',
    '--quiet',
    '--out',
    out,
    '--threads',
    '1',
    ...more,
  ];
  const records = (out: string): Record<string, number> =>
    Object.fromEntries(
      readdirSync(path.join(out, 'units')).map((f) => [
        f,
        (JSON.parse(readFileSync(path.join(out, 'units', f), 'utf8')).result as RotationRecord).testAccuracy,
      ]),
    );

  it('writes results, the learning-curve figure and the report; shards and workers give the same numbers', async () => {
    const one = path.join(work, 'one');
    const r = await runCli(args(one));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rotated cnn n=20: test accuracy/);
    const res = JSON.parse(readFileSync(path.join(one, 'results.json'), 'utf8'));
    expect(res.records.length).toBe(12);
    expect(res.curves.length).toBe(12);
    expect(res.claims.length).toBe(2);
    for (const f of ['learning_curves.png', 'learning_curves.svg', 'report.html'])
      expect(existsSync(path.join(one, f))).toBe(true);
    expect(readFileSync(path.join(one, 'report.html'), 'utf8')).toMatch(/learning_curves\.png/);

    const sharded = path.join(work, 'sharded');
    const s1 = await runCli(args(sharded, '--shard', '1/2'));
    expect(s1.code).toBe(0);
    expect(s1.stdout).toMatch(
      /this run's tasks are done \(6 of 12\); still missing: rotated-soap-n00040-r00, .*; results.json is written by the run that finds every one done/,
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
  }, 180_000);

  it('runs on Fashion-MNIST with a subset of models and conditions', async () => {
    const out = path.join(work, 'fashion');
    const r = await runCli(
      args(out, '--dataset', 'fashion-mnist', '--models', 'soap-extra,cnn', '--conditions', 'upright'),
    );
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(res.dataset).toBe('fashion-mnist');
    expect(res.records.map((x: RotationRecord) => `${x.condition}/${x.model}`).sort()).toEqual([
      'upright/cnn',
      'upright/cnn',
      'upright/soap-extra',
      'upright/soap-extra',
    ]);
    expect(res.claims[1].holds).toBeNull();
  }, 60_000);

  it('records the interpolation, and a folder of other settings refuses to mix its tasks', async () => {
    const out = path.join(work, 'nearest');
    const base = ['--dataset', 'fashion-mnist', '--models', 'soap', '--conditions', 'rotated'];
    const a = await runCli(args(out, ...base, '--interpolation', 'nearest'));
    expect(a.code).toBe(0);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(res.settings.interpolation).toBe('nearest');
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(/nearest resampling/);
    const mixed = await runCli(args(out, ...base));
    expect(mixed.code).not.toBe(0);
    expect(mixed.stderr).toMatch(
      /holds units of other settings \(--interpolation "nearest" there, "bilinear" in this run\)/,
    );
    const seed = await runCli(args(out, ...base, '--interpolation', 'nearest', '--seed', '5'));
    expect(seed.code).not.toBe(0);
    expect(seed.stderr).toMatch(/--seed \d+ there, 5 in this run/);
    const bad = await runCli(args(out, ...base, '--interpolation', 'cubic'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/bilinear, nearest/);
  }, 60_000);

  it('rejects bad flags with the allowed values', async () => {
    const out = path.join(work, 'bad');
    const even = await runCli(args(out, '--patch-size', '12'));
    expect(even.code).not.toBe(0);
    expect(even.stderr).toMatch(/odd integer/);
    const cond = await runCli(args(out, '--conditions', 'sideways'));
    expect(cond.code).not.toBe(0);
    expect(cond.stderr).toMatch(/--conditions must be a comma-separated subset of rotated,upright/);
    const big = await runCli(args(out, '--sizes', '70000'));
    expect(big.code).not.toBe(0);
    expect(big.stderr).toMatch(/needs more than the 60000/);
  }, 60_000);
});
