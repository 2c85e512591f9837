import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError, selectBackend } from '../lib/ml/backend';
import { wasmKernelFixes } from '../lib/ml/kernels/install';
import {
  accuracy,
  classificationMetrics,
  confusionMatrix,
  normalizeRows,
  perClassMetrics,
} from '../lib/ml/metrics/classification';
import { MaskGenerator } from '../lib/ml/layers/dropout-masks';
import { MlpClassifier } from '../lib/ml/models/mlp';
import type { LabeledData } from '../lib/ml/train/types';
import { Rng } from '../lib/util/random';

const dir = mkdtempSync(path.join(tmpdir(), 'soapix-ml-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quiet = { log: false as const };

function tfjsNodeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

describe('selectBackend', () => {
  it('falls back from tensorflow to wasm when tfjs-node is missing, and says why', async () => {
    const lines: string[] = [];
    const sel = await selectBackend({ log: (m) => lines.push(m) });
    expect(tf.getBackend()).toBe(sel.name);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`backend ${sel.name}`);
    if (tfjsNodeInstalled()) {
      expect(sel.name).toBe('tensorflow');
    } else {
      expect(sel.name).toBe('wasm');
      expect(sel.fallbacks).toHaveLength(1);
      expect(sel.fallbacks[0].name).toBe('tensorflow');
      expect(sel.fallbacks[0].reason).toMatch(/tfjs-node/);
      expect(sel.summary).toMatch(/skipped tensorflow/);
      expect(sel.kernelFixes.map((f) => f.split(':')[0])).toEqual([
        'BatchMatMul',
        '_FusedMatMul',
        'Conv2DBackpropFilter',
        'Conv2DBackpropInput',
        'MaxPoolGrad',
        'Sum',
        'Transpose',
        'Identity',
      ]);
      expect(sel.threads).toBe(1);
    }
  });

  it('honours prefer, and strict turns a failed preference into an error', async () => {
    const cpu = await selectBackend({ prefer: 'cpu', ...quiet });
    expect(cpu).toMatchObject({ name: 'cpu', fallbacks: [], kernelFixes: [] });
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await selectBackend({ prefer: 'wasm', ...quiet });
    expect(wasm.name).toBe('wasm');
    if (!tfjsNodeInstalled()) {
      const soft = await selectBackend({ prefer: 'tensorflow', ...quiet });
      expect(soft.name).toBe('wasm');
      await expect(selectBackend({ prefer: 'tensorflow', strict: true, ...quiet })).rejects.toThrow(
        BackendUnavailableError,
      );
      await expect(selectBackend({ prefer: 'tensorflow', strict: true, ...quiet })).rejects.toThrow(
        /requested but cannot be used/,
      );
    }
    await expect(selectBackend({ prefer: 'gpu' as never, ...quiet })).rejects.toThrow(/unknown backend/);
  });

  it('can run wasm as shipped and put the fixes back', async () => {
    const plain = await selectBackend({ prefer: 'wasm', wasmKernelFixes: false, ...quiet });
    expect(plain.kernelFixes).toEqual([]);
    expect(plain.summary).toMatch(/as shipped/);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    const fixed = await selectBackend({ prefer: 'wasm', ...quiet });
    expect(fixed.kernelFixes).toHaveLength(8);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });
});

/**
 * A separable synthetic problem: `classes` Gaussian blobs in `cols` dimensions with unit noise,
 * centres (fixed, independent of `seed`) about 7 apart.
 */
function blobs(rows: number, cols: number, classes: number, seed: number): LabeledData {
  const centreRng = new Rng(1000 + cols * 100 + classes);
  const centres = Array.from({ length: classes }, () => Array.from({ length: cols }, () => 1.0 * centreRng.normal()));
  const rng = new Rng(seed);
  const x = new Float32Array(rows * cols);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const c = rng.nextInt(classes);
    y[r] = c;
    for (let j = 0; j < cols; j++) x[r * cols + j] = centres[c][j] + rng.normal();
  }
  return { x, y, rows, cols };
}

describe('MlpClassifier', () => {
  const cols = 24;
  const classes = 4;
  const train = blobs(3000, cols, classes, 1);
  const test = blobs(600, cols, classes, 2);
  const config = { inputDim: cols, hidden: [64, 32], classes, seed: 7 };

  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm', ...quiet });
  });

  it('has the paper architecture by default (308-512-256-128-10, dropout 0.1)', () => {
    const m = MlpClassifier.create({ inputDim: 308 });
    try {
      expect(m.config).toEqual({
        inputDim: 308,
        hidden: [512, 256, 128],
        dropout: 0.1,
        classes: 10,
        learningRate: 1e-3,
        seed: 0,
      });
      expect(m.parameterCount).toBe(308 * 512 + 512 + 512 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
      expect(m.model.layers.map((l) => l.getClassName())).toEqual([
        'Dense',
        'Dropout',
        'Dense',
        'Dropout',
        'Dense',
        'Dropout',
        'Dense',
        'Activation',
      ]);
    } finally {
      m.dispose();
    }
    expect(() => MlpClassifier.create({ inputDim: 0 })).toThrow(/inputDim/);
    expect(() => MlpClassifier.create({ inputDim: 3, dropout: 1 })).toThrow(/dropout/);
    expect(() => MlpClassifier.create({ inputDim: 3, hidden: [4, 0] })).toThrow(/hidden/);
  });

  let trained: MlpClassifier;
  it('learns a separable problem to > 90% in a few epochs, deterministically for a seed', async () => {
    const before = tf.memory().numTensors;
    const logs: number[] = [];
    const run = async (): Promise<{ m: MlpClassifier; h: Awaited<ReturnType<MlpClassifier['train']>> }> => {
      const m = MlpClassifier.create(config);
      const h = await m.train(train, {
        epochs: 4,
        batchSize: 64,
        validation: 0.2,
        seed: 3,
        onEpoch: (l) => void logs.push(l.epoch),
      });
      return { m, h };
    };
    const a = await run();
    const b = await run();
    expect(logs).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    expect(a.h.epochs).toHaveLength(4);
    expect(a.h).toMatchObject({
      trainRows: 2400,
      valRows: 600,
      batchSize: 64,
      seed: 3,
      backend: 'wasm',
      stoppedEarly: false,
    });
    expect(a.h.epochs[3].loss).toBeLessThan(a.h.epochs[0].loss);
    expect(a.h.epochs[3].valAccuracy).toBeGreaterThan(0.9);
    // Same seeds: the same weights, bit for bit, and the same history.
    const wa = a.m.getWeights();
    const wb = b.m.getWeights();
    expect(wa).toHaveLength(6);
    wa.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(wb[i].buffer))).toBe(true));
    expect(a.h.epochs.map((e) => [e.loss, e.valLoss])).toEqual(b.h.epochs.map((e) => [e.loss, e.valLoss]));
    // Another training seed: different weights.
    const c = MlpClassifier.create(config);
    await c.train(train, { epochs: 1, batchSize: 64, seed: 4 });
    expect(Buffer.from(c.getWeights()[0].buffer).equals(Buffer.from(wa[0].buffer))).toBe(false);
    c.dispose();
    b.m.dispose();
    trained = a.m;
    const pred = trained.predictClasses(test.x);
    expect(accuracy(test.y, pred)).toBeGreaterThan(0.9);
    const ev = trained.evaluate(test);
    expect(ev.accuracy).toBeCloseTo(accuracy(test.y, pred), 10);
    // Weights (6) + Adam moments (12) + Adam's two beta powers of the kept model.
    expect(tf.memory().numTensors - before).toBe(6 + 12 + 2);
  });

  it('predict returns class probabilities', () => {
    const p = trained.predict(test.x.subarray(0, 10 * cols));
    expect(p).toHaveLength(10 * classes);
    for (let r = 0; r < 10; r++) {
      const row = Array.from(p.subarray(r * classes, (r + 1) * classes));
      expect(row.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
    expect(() => trained.predict(new Float32Array(cols + 1))).toThrow(/multiple/);
  });

  it('stops early and restores the best weights', async () => {
    const m = MlpClassifier.create({ ...config, learningRate: 0.05 });
    const snapshots: Float32Array[][] = [];
    const h = await m.train(train, {
      epochs: 30,
      batchSize: 256,
      validation: blobs(300, cols, classes, 5),
      earlyStopping: { patience: 1, monitor: 'valLoss' },
      seed: 1,
      onEpoch: () => void snapshots.push(m.getWeights()),
    });
    // This easy problem is solved in the first epoch; the second is worse on validation.
    expect(h.stoppedEarly).toBe(true);
    expect(h.bestEpoch).toBe(h.epochs.length - 1);
    expect(h.restoredBestWeights).toBe(true);
    const best = snapshots[(h.bestEpoch as number) - 1];
    m.getWeights().forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(best[i].buffer))).toBe(true));
    expect(m.evaluate(blobs(300, cols, classes, 5)).loss).toBeCloseTo(
      h.epochs[(h.bestEpoch as number) - 1].valLoss as number,
      6,
    );
    m.dispose();
    const other = MlpClassifier.create(config);
    await expect(other.train(train, { epochs: 1, earlyStopping: { patience: 1 } })).rejects.toThrow(/validation/);
    other.dispose();
  });

  it('rejects bad training data', async () => {
    const m = MlpClassifier.create(config);
    await expect(m.train({ ...train, cols: cols + 1 }, { epochs: 1 })).rejects.toThrow(/cols/);
    await expect(m.train({ ...train, y: new Int32Array(train.rows).fill(classes) }, { epochs: 1 })).rejects.toThrow(
      /not a class/,
    );
    const x = train.x.slice();
    x[5] = Number.NaN;
    await expect(m.train({ ...train, x }, { epochs: 1 })).rejects.toThrow(/finite/);
    m.dispose();
  });

  it('saves as one folder and loads back with identical predictions', async () => {
    const out = path.join(dir, 'model');
    const scaler = { type: 'RobustScaler', center: [1, 2], scale: [3, 4] };
    const soap = { rCut: 63, nMax: 7, lMax: 10, sigma: 3 };
    const info = await trained.save(out, { soap, scaler, extra: { note: 'test' } });
    expect(existsSync(path.join(out, 'model.json'))).toBe(true);
    expect(existsSync(path.join(out, 'weights.bin'))).toBe(true);
    const onDisk = JSON.parse(readFileSync(path.join(out, 'soapix.json'), 'utf8'));
    expect(onDisk).toEqual(info);
    expect(onDisk).toMatchObject({
      format: 'soapix-model',
      version: 1,
      kind: 'mlp-classifier',
      soap,
      scaler,
      extra: { note: 'test' },
    });
    const modelJson = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8'));
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(readFileSync(path.join(out, 'weights.bin')).byteLength).toBe(4 * trained.parameterCount);

    const { classifier, info: loadedInfo } = await MlpClassifier.load(out);
    try {
      expect(loadedInfo.soap).toEqual(soap);
      expect(loadedInfo.scaler).toEqual(scaler);
      expect(classifier.config).toEqual(trained.config);
      const p0 = trained.predict(test.x);
      const p1 = classifier.predict(test.x);
      expect(Buffer.from(p1.buffer).equals(Buffer.from(p0.buffer))).toBe(true);
      // The loaded model can go on training.
      await classifier.train(train, { epochs: 1, batchSize: 128 });
    } finally {
      classifier.dispose();
    }
    // A changed weights file is caught.
    const w = readFileSync(path.join(out, 'weights.bin'));
    w[0] ^= 1;
    writeFileSync(path.join(out, 'weights.bin'), w);
    await expect(MlpClassifier.load(out)).rejects.toThrow(/does not match soapix.json/);
    await expect(MlpClassifier.load(path.join(dir, 'nothing-here'))).rejects.toThrow(/not a saved soapix model folder/);
  });

  it('the dropout mask generator is seeded and drops the requested fraction', () => {
    const a = new Float32Array(100000);
    const b = new Float32Array(100000);
    new MaskGenerator(new Rng(9)).fill(a, 0.1);
    new MaskGenerator(new Rng(9)).fill(b, 0.1);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const zeros = a.filter((v) => v === 0).length;
    expect(Math.abs(zeros / a.length - 0.1)).toBeLessThan(0.005);
    expect(a.every((v) => v === 0 || Math.abs(v - 1 / 0.9) < 1e-6)).toBe(true);
    new MaskGenerator(new Rng(10)).fill(b, 0.1);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(false);
  });

  afterAll(() => trained?.dispose());
});

describe('metrics', () => {
  // Hand-computed: confusion [[2,1,0],[0,1,1],[0,0,1]].
  //   class 0: P = 2/2, R = 2/3, F1 = 4/5;  class 1: P = 1/2, R = 1/2, F1 = 1/2;
  //   class 2: P = 1/2, R = 1/1, F1 = 2/3;  support 3, 2, 1.
  //   weighted P = (3 + 1 + 0.5)/6 = 0.75, R = (2 + 1 + 1)/6 = 2/3, F1 = (2.4 + 1 + 2/3)/6.
  const yTrue = [0, 0, 0, 1, 1, 2];
  const yPred = [0, 0, 1, 1, 2, 2];

  it('accuracy, weighted precision / recall / F1 and the confusion matrix', () => {
    const m = classificationMetrics(Int32Array.from(yTrue), Uint8Array.from(yPred), 3);
    expect(m.n).toBe(6);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.precision).toBeCloseTo(0.75, 12);
    expect(m.recall).toBeCloseTo(4 / 6, 12);
    expect(m.f1).toBeCloseTo((2.4 + 1 + 2 / 3) / 6, 12);
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    const cn = m.confusionNormalized;
    [
      [2 / 3, 1 / 3, 0],
      [0, 0.5, 0.5],
      [0, 0, 1],
    ].forEach((row, i) => row.forEach((v, j) => expect(cn[i][j]).toBeCloseTo(v, 12)));
    expect(m.perClass.support).toEqual([3, 2, 1]);
    m.perClass.precision.forEach((v, i) => expect(v).toBeCloseTo([1, 0.5, 0.5][i], 12));
    m.perClass.recall.forEach((v, i) => expect(v).toBeCloseTo([2 / 3, 0.5, 1][i], 12));
    m.perClass.f1.forEach((v, i) => expect(v).toBeCloseTo([0.8, 0.5, 2 / 3][i], 12));
  });

  it('absent classes change nothing; a never-predicted class scores 0 (zero_division=0)', () => {
    const with5 = classificationMetrics(yTrue, yPred, 5);
    const with3 = classificationMetrics(yTrue, yPred, 3);
    expect([with5.accuracy, with5.precision, with5.recall, with5.f1]).toEqual([
      with3.accuracy,
      with3.precision,
      with3.recall,
      with3.f1,
    ]);
    expect(with5.confusionNormalized[4]).toEqual([0, 0, 0, 0, 0]);
    // Class 1 is never predicted: P = 0 (0/0), R = 0; class 0: P = 1/2, R = 1, F1 = 2/3.
    const z = classificationMetrics([0, 0, 1, 1], [0, 0, 0, 0], 2);
    expect(z.perClass.precision).toEqual([0.5, 0]);
    expect(z.perClass.recall).toEqual([1, 0]);
    expect(z.accuracy).toBe(0.5);
    expect(z.precision).toBeCloseTo(0.25, 12);
    expect(z.recall).toBeCloseTo(0.5, 12);
    expect(z.f1).toBeCloseTo(1 / 3, 12);
    // A class only predicted (support 0) has weight 0: class 0 alone decides (P 1, R 1/2, F1 2/3).
    const p = classificationMetrics([0, 0], [0, 2], 3);
    expect([p.precision, p.recall]).toEqual([1, 0.5]);
    expect(p.f1).toBeCloseTo(2 / 3, 12);
    expect(p.perClass.precision[2]).toBe(0);
  });

  it('building blocks and input checks', () => {
    expect(confusionMatrix([1, 1], [1, 0], 2)).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(
      normalizeRows([
        [0, 0],
        [1, 3],
      ]),
    ).toEqual([
      [0, 0],
      [0.25, 0.75],
    ]);
    expect(
      perClassMetrics([
        [0, 0],
        [0, 0],
      ]),
    ).toEqual({ precision: [0, 0], recall: [0, 0], f1: [0, 0], support: [0, 0] });
    expect(accuracy([], [])).toBeNaN();
    expect(() => classificationMetrics([0, 1], [0], 2)).toThrow(/labels/);
    expect(() => classificationMetrics([0, 2], [0, 1], 2)).toThrow(/yTrue\[1\] = 2/);
    expect(() => classificationMetrics([0, 1], [0, -1], 2)).toThrow(/yPred\[1\]/);
  });
});
