// Metrics of the rVAE study on known answers: clustering scores (lib/ml/metrics/clustering.ts),
// k-means, the kNN probe (lib/ml/probes/knn.ts), angle recovery / leakage / invariance ratio
// (lib/ml/metrics/latent-angle.ts), and the rotation series they read (lib/data/augment.ts).
import { describe, expect, it } from 'vitest';

import { rotationSeries } from '../lib/data/augment';
import { InMemoryDataset } from '../lib/data/datasets';
import { transformFloatImage } from '../lib/data/transform';
import {
  adjustedRandIndex,
  clusteringScores,
  kmeansClusters,
  kmeansScores,
  matchedAccuracy,
  normalizedMutualInformation,
} from '../lib/ml/metrics/clustering';
import { angleLeakage, angleRecovery, invarianceRatio, pearson } from '../lib/ml/metrics/latent-angle';
import { knnCrossValidation, knnPredict } from '../lib/ml/probes/knn';
import { Rng } from '../lib/util/random';

const i32 = (a: number[]) => Int32Array.from(a);

describe('clustering scores', () => {
  it('match hand-computed values (scikit-learn documentation example)', () => {
    const truth = i32([0, 0, 0, 1, 1, 1]);
    const pred = i32([0, 0, 1, 1, 2, 2]);
    // MI = (2/3) ln 2, H = ln 2 and ln 3; pair counts 2, 6, 3 of 15.
    expect(normalizedMutualInformation(truth, pred)).toBeCloseTo(
      ((2 / 3) * Math.log(2)) / ((Math.log(2) + Math.log(3)) / 2),
      12,
    );
    expect(adjustedRandIndex(truth, pred)).toBeCloseTo(0.8 / 3.3, 12);
    expect(matchedAccuracy(truth, pred)).toBeCloseTo(4 / 6, 12);
  });

  it('give 1 for the true labels under any renaming and about 0 for independent ones', () => {
    const rng = new Rng(1);
    const n = 20000;
    const truth = Int32Array.from({ length: n }, () => rng.nextInt(10));
    const renamed = truth.map((l) => (l * 7 + 3) % 10);
    expect(clusteringScores(truth, renamed)).toEqual({ accuracy: 1, nmi: 1, ari: 1 });
    const random = Int32Array.from({ length: n }, () => rng.nextInt(10));
    const s = clusteringScores(truth, random);
    expect(Math.abs(s.ari)).toBeLessThan(0.01);
    expect(s.nmi).toBeLessThan(0.01);
    expect(s.accuracy).toBeLessThan(0.15);
    expect(() => clusteringScores(truth, random.subarray(1))).toThrow(/labels/);
  });

  it('k-means finds well-separated blobs, the same for the same seed', () => {
    const rng = new Rng(2);
    const centres = [
      [0, 0],
      [10, 0],
      [0, 10],
      [10, 10],
    ];
    const n = 400;
    const data = new Float32Array(2 * n);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 4;
      data[2 * i] = centres[i % 4][0] + rng.normal();
      data[2 * i + 1] = centres[i % 4][1] + rng.normal();
    }
    const points = { data, rows: n, cols: 2 };
    const scores = kmeansScores(points, labels, { seed: 3 });
    expect(scores).toMatchObject({ accuracy: 1, nmi: 1, ari: 1 });
    expect(kmeansClusters(points, { k: 4, seed: 3 })).toEqual(scores.clusters);
    expect(() => kmeansClusters(points, { k: 0, seed: 1 })).toThrow(/k must be/);
    expect(() => kmeansClusters({ data: Float32Array.from([NaN, 0]), rows: 1, cols: 2 }, { k: 1, seed: 1 })).toThrow(
      /not finite/,
    );
  });
});

describe('kNN probe', () => {
  /** Plain reference: sort all training points by distance (stable), majority vote, ties to the smallest label. */
  function naive(train: Float32Array, labels: Int32Array, q: Float32Array, d: number, k: number): number {
    const n = labels.length;
    const dist = Array.from({ length: n }, (_, i) => {
      let s = 0;
      for (let m = 0; m < d; m++) s += (train[i * d + m] - q[m]) ** 2;
      return { i, s };
    }).sort((a, b) => a.s - b.s || a.i - b.i);
    const votes = new Map<number, number>();
    for (const { i } of dist.slice(0, k)) votes.set(labels[i], (votes.get(labels[i]) ?? 0) + 1);
    return [...votes].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
  }

  it('agrees with a naive implementation, and breaks ties to the smallest label', () => {
    const rng = new Rng(4);
    for (const d of [2, 5]) {
      const n = 300;
      // Coordinates on a coarse grid: many equal distances, so tie-breaking is compared too.
      const train = Float32Array.from({ length: n * d }, () => Math.round(rng.normal() * 2) / 2);
      const labels = Int32Array.from({ length: n }, () => rng.nextInt(4));
      const q = Float32Array.from({ length: 40 * d }, () => Math.round(rng.normal() * 2) / 2);
      const got = knnPredict({ data: train, rows: n, cols: d }, labels, { data: q, rows: 40, cols: d }, 10);
      for (let j = 0; j < 40; j++) expect(got[j]).toBe(naive(train, labels, q.subarray(j * d, (j + 1) * d), d, 10));
    }
    const tie = knnPredict(
      { data: Float32Array.from([-1, 1]), rows: 2, cols: 1 },
      i32([5, 2]),
      { data: Float32Array.from([0]), rows: 1, cols: 1 },
      2,
    );
    expect(tie[0]).toBe(2);
    // Equal distances: the lower training row wins (row 0, label 5), whichever side the search meets first.
    const near = knnPredict(
      { data: Float32Array.from([-1, 1]), rows: 2, cols: 1 },
      i32([5, 2]),
      { data: Float32Array.from([0]), rows: 1, cols: 1 },
      1,
    );
    expect(near[0]).toBe(5);
    const flipped = knnPredict(
      { data: Float32Array.from([1, -1]), rows: 2, cols: 1 },
      i32([5, 2]),
      { data: Float32Array.from([0]), rows: 1, cols: 1 },
      1,
    );
    expect(flipped[0]).toBe(5);
  });

  it('classifies separable data perfectly under cross-validation', () => {
    const rng = new Rng(5);
    const n = 500;
    const data = new Float32Array(2 * n);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2;
      data[2 * i] = (labels[i] ? 3 : -3) + rng.nextFloat() * 2 - 1;
      data[2 * i + 1] = rng.normal();
    }
    const r = knnCrossValidation({ data, rows: n, cols: 2 }, labels, { seed: 1 });
    expect(r).toMatchObject({ accuracy: 1, k: 10, folds: 5 });
    expect(r.foldAccuracies).toEqual([1, 1, 1, 1, 1]);
    // Labels unrelated to the points: chance level.
    const shuffled = Int32Array.from({ length: n }, () => rng.nextInt(2));
    expect(Math.abs(knnCrossValidation({ data, rows: n, cols: 2 }, shuffled, { seed: 1 }).accuracy - 0.5)).toBeLessThan(
      0.1,
    );
    expect(() => knnCrossValidation({ data, rows: n, cols: 2 }, labels, { seed: 1, folds: 1 })).toThrow(/folds/);
  });
});

describe('angle metrics', () => {
  it('measure correlation, slope, leakage and invariance on known codes', () => {
    const truth = Float32Array.from({ length: 50 }, (_, i) => -1 + i / 25);
    const encoded = truth.map((t) => 1 - 2 * t);
    const rec = angleRecovery(encoded, truth);
    expect(rec.r).toBeCloseTo(-1, 12);
    expect(rec.absR).toBeCloseTo(1, 12);
    expect(rec.slope).toBeCloseTo(-2, 6);
    expect(rec.intercept).toBeCloseTo(1, 6);
    expect(pearson([1, 2, 3], [2, 2, 2])).toBe(0);
    // Latent 0 is the angle, latent 1 alternates independently of it.
    const z = new Float32Array(100);
    for (let i = 0; i < 50; i++) {
      z[2 * i] = truth[i] * 3;
      z[2 * i + 1] = i % 2;
    }
    const leak = angleLeakage({ data: z, rows: 50, cols: 2 }, truth);
    expect(leak.perLatent[0]).toBeCloseTo(1, 6);
    expect(leak.max).toBeCloseTo(1, 6);
    expect(leak.perLatent[1]).toBeLessThan(0.1);
    // Codes constant within each group of 5: ratio 0; codes moving with the angle only: large.
    const groups = 10;
    const k = 5;
    const still = new Float32Array(groups * k);
    const moving = new Float32Array(groups * k);
    for (let g = 0; g < groups; g++) {
      for (let j = 0; j < k; j++) {
        still[g * k + j] = g;
        moving[g * k + j] = j;
      }
    }
    expect(invarianceRatio({ data: still, rows: 50, cols: 1 }, k).ratio).toBe(0);
    expect(invarianceRatio({ data: moving, rows: 50, cols: 1 }, k).ratio).toBeCloseTo(1, 12);
    expect(() => invarianceRatio({ data: still, rows: 50, cols: 1 }, 7)).toThrow(/whole groups/);
  });

  it('reads rotation series laid out source by source', () => {
    const H = 6;
    const pixels = Uint8Array.from({ length: 3 * H * H }, (_, i) => (i * 37) % 256);
    const ds = new InMemoryDataset({
      name: 'toy',
      pixels,
      rows: H,
      cols: H,
      channels: 1,
      labels: Uint8Array.from([4, 5, 6]),
    });
    const degrees = [-60, 0, 45];
    const s = rotationSeries(ds, { degrees, start: 1, count: 2 });
    expect(s.count).toBe(6);
    expect([...s.labels]).toEqual([5, 5, 5, 6, 6, 6]);
    expect([...s.source]).toEqual([1, 1, 1, 2, 2, 2]);
    expect(s.angles[2]).toBeCloseTo((45 * Math.PI) / 180, 6);
    const src = Float32Array.from(pixels.subarray(2 * H * H, 3 * H * H), (v) => v / 255);
    const want = transformFloatImage(src, H, H, { degrees: -60 });
    expect([...s.data.subarray(3 * H * H, 4 * H * H)]).toEqual([...want]);
    expect(() => rotationSeries(ds, { degrees: [] })).toThrow(/degrees/);
  });
});
