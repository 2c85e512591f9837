/**
 * Probes of frozen codes: standardisation (train statistics applied to test codes), softmax
 * regression on linearly separable classes, the one-hidden-layer network on classes no linear
 * probe separates (concentric rings), early stopping on a 10 % split, determinism by seed, errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';

import { selectBackend } from '../lib/ml/backend';
import type { CodeMatrix } from '../lib/ml/layers/mean-pooling';
import { probeAccuracy } from '../lib/ml/probes/probe-accuracy';
import { applyStandardizer, fitStandardizer, standardize } from '../lib/ml/probes/standardize';
import { Rng } from '../lib/util/random';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', strict: true, log: false });
});

/** Three Gaussian blobs in 4 dimensions, offset and scaled unevenly (standardisation matters). */
function blobs(n: number, seed: number): { codes: CodeMatrix; labels: Int32Array } {
  const rng = new Rng(seed);
  const data = new Float32Array(n * 4);
  const labels = new Int32Array(n);
  const centres = [
    [0, 0, 0, 0],
    [3, 0, 1, 0],
    [0, 3, 0, 1],
  ];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    labels[i] = c;
    for (let d = 0; d < 4; d++)
      data[i * 4 + d] = (centres[c]![d]! + 0.5 * rng.normal()) * (d === 0 ? 1000 : 1) + (d === 1 ? -50 : 0);
  }
  return { codes: { data, rows: n, cols: 4 }, labels };
}

/** Two concentric rings in 2-D: the class is the radius. */
function rings(n: number, seed: number): { codes: CodeMatrix; labels: Int32Array } {
  const rng = new Rng(seed);
  const data = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const r = (c === 0 ? 1 : 2.5) + 0.2 * rng.normal();
    const a = 2 * Math.PI * rng.nextFloat();
    data[2 * i] = r * Math.cos(a);
    data[2 * i + 1] = r * Math.sin(a);
    labels[i] = c;
  }
  return { codes: { data, rows: n, cols: 2 }, labels };
}

describe('standardisation', () => {
  it('train columns get mean 0 and std 1; test codes use the train statistics; constant columns are only centred', () => {
    const train: CodeMatrix = { data: Float32Array.from([1, 5, 10, 3, 5, 20, 5, 5, 30]), rows: 3, cols: 3 };
    const {
      train: z,
      test,
      standardizer,
    } = standardize(train, { data: Float32Array.from([3, 6, 20]), rows: 1, cols: 3 });
    for (let c = 0; c < 3; c++) {
      const col = [0, 1, 2].map((r) => z.data[r * 3 + c]!);
      expect(col.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 6);
      if (c !== 1) expect(col.reduce((a, b) => a + b * b, 0) / 3).toBeCloseTo(1, 5);
    }
    expect(standardizer.scale[1]).toBe(1);
    expect(Array.from(test!.data)).toEqual([0, 1, 0]);
    expect(() => applyStandardizer(fitStandardizer(train), { data: new Float32Array(2), rows: 1, cols: 2 })).toThrow(
      /fitted on 3/,
    );
    expect(() => fitStandardizer({ data: Float32Array.from([1, Number.NaN]), rows: 1, cols: 2 })).toThrow(
      /value 1 of row 0 is NaN/,
    );
  });
});

describe('probeAccuracy', () => {
  it('logistic regression separates linearly separable classes; the same seed gives the same predictions', async () => {
    const train = blobs(300, 1);
    const test = blobs(150, 2);
    const a = await probeAccuracy(train.codes, train.labels, test.codes, test.labels, {
      kind: 'logistic',
      seed: 3,
      learningRate: 1e-2,
    });
    expect(a.accuracy).toBeGreaterThan(0.95);
    expect(a.valRows).toBe(30);
    expect(a.trainRows).toBe(270);
    expect(a.testRows).toBe(150);
    const b = await probeAccuracy(train.codes, train.labels, test.codes, test.labels, {
      kind: 'logistic',
      seed: 3,
      learningRate: 1e-2,
    });
    expect(Array.from(b.predictions)).toEqual(Array.from(a.predictions));
  });

  it('the one-hidden-layer network separates concentric rings, which logistic regression cannot', async () => {
    const train = rings(400, 4);
    const test = rings(200, 5);
    const lin = await probeAccuracy(train.codes, train.labels, test.codes, test.labels, { kind: 'logistic', seed: 1 });
    const mlp = await probeAccuracy(train.codes, train.labels, test.codes, test.labels, {
      kind: 'mlp',
      seed: 1,
      learningRate: 1e-2,
    });
    expect(lin.accuracy).toBeLessThan(0.75);
    expect(mlp.accuracy).toBeGreaterThan(0.9);
    expect(mlp.bestEpoch).not.toBeNull();
  });

  it('bad input gives clear errors', async () => {
    const t = blobs(30, 6);
    await expect(
      probeAccuracy(t.codes, t.labels, t.codes, t.labels, { kind: 'svm' as never, seed: 1 }),
    ).rejects.toThrow(/unknown kind 'svm'; known: logistic, mlp/);
    await expect(
      probeAccuracy(t.codes, t.labels.subarray(1), t.codes, t.labels, { kind: 'logistic', seed: 1 }),
    ).rejects.toThrow(/29 labels for 30 codes/);
    await expect(
      probeAccuracy(t.codes, t.labels, { data: new Float32Array(6), rows: 2, cols: 3 }, [0, 1], {
        kind: 'logistic',
        seed: 1,
      }),
    ).rejects.toThrow(/3 columns, train codes 4/);
    await expect(
      probeAccuracy(t.codes, t.labels, t.codes, t.labels, { kind: 'logistic', seed: 1, classes: 2 }),
    ).rejects.toThrow(/largest 2/);
  });
});
