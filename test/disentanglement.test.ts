// The eight disentanglement metrics (lib/ml/metrics/disentanglement*.ts) on codes whose answer is
// known: a code equal to the factors scores high, a random rotation of it scores lower, permuting
// its columns changes nothing, pure noise scores low; plus the pieces (entropy, mutual
// information, the forest's importances) and bad input.
import { describe, expect, it } from 'vitest';

import { xyrcsImages } from '../lib/data/xyrcs';
import {
  disentanglementScores,
  DISENTANGLEMENT_METRICS,
  type DisentanglementScores,
} from '../lib/ml/metrics/disentanglement';
import { asBins, asClasses, entropy, jointInformation } from '../lib/ml/metrics/disentanglement-data';
import { forestImportance } from '../lib/ml/metrics/disentanglement-forest';
import { modularity } from '../lib/ml/metrics/disentanglement-info';
import { dciFromImportance } from '../lib/ml/metrics/disentanglement-predictors';
import { Rng } from '../lib/util/random';

const set = xyrcsImages({ count: 1500, seed: 11 });
const n = set.count;
const d = 5;
const factors = { data: set.factors, rows: n, cols: d };
const options = { discrete: set.discrete };

/** The factor columns standardised, then mixed by a random orthogonal matrix (Gram-Schmidt of normals). */
function rotated(seed: number): { data: Float32Array; rows: number; cols: number } {
  const rng = new Rng(seed);
  const cols = Array.from({ length: d }, (_, j) => {
    const c = Array.from({ length: n }, (_, i) => set.factors[i * d + j]);
    const m = c.reduce((a, b) => a + b) / n;
    const s = Math.sqrt(c.reduce((a, b) => a + (b - m) ** 2, 0) / n);
    return c.map((v) => (v - m) / s);
  });
  const q: number[][] = [];
  while (q.length < d) {
    let v = Array.from({ length: d }, () => rng.normal());
    for (const u of q) {
      const dot = v.reduce((a, x, i) => a + x * u[i], 0);
      v = v.map((x, i) => x - dot * u[i]);
    }
    const norm = Math.hypot(...v);
    q.push(v.map((x) => x / norm));
  }
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) data[i * d + j] = q[j].reduce((a, w, k) => a + w * cols[k][i], 0);
  return { data, rows: n, cols: d };
}

function permuted(m: { data: Float32Array; rows: number; cols: number }, perm: number[]) {
  const data = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) perm.forEach((p, j) => (data[i * m.cols + j] = m.data[i * m.cols + p]));
  return { data, rows: m.rows, cols: m.cols };
}

const identity = disentanglementScores(factors, factors, options);

describe('disentanglementScores on codes with a known answer', () => {
  it('scores a code equal to the factors near 1 on every metric', () => {
    for (const k of DISENTANGLEMENT_METRICS) expect(identity[k], k).toBeGreaterThanOrEqual(k === 'irs' ? 0.85 : 0.95);
    // IRS: a continuous factor's bin still lets its code vary within the bin (1/10 of the range).
    expect(identity.irs).toBeLessThan(1);
  });

  it('scores a random rotation of that code lower on every metric', () => {
    for (const seed of [1, 2]) {
      const r = disentanglementScores(rotated(seed), factors, options);
      for (const k of DISENTANGLEMENT_METRICS) expect(r[k], `${k}, rotation ${seed}`).toBeLessThan(identity[k]);
      const mean = (s: DisentanglementScores) => DISENTANGLEMENT_METRICS.reduce((a, k) => a + s[k], 0) / 8;
      expect(mean(r)).toBeLessThan(mean(identity) - 0.25);
    }
  });

  it('does not depend on the order of the code columns', () => {
    for (const base of [factors, rotated(3)]) {
      const a = disentanglementScores(base, factors, options);
      const b = disentanglementScores(permuted(base, [3, 0, 4, 1, 2]), factors, options);
      for (const k of DISENTANGLEMENT_METRICS) expect(b[k], k).toBeCloseTo(a[k], 9);
    }
  });

  it('scores pure noise near 0 where the metric allows it, and every score is in [0, 1]', () => {
    const rng = new Rng(5);
    const noise = { data: Float32Array.from({ length: n * d }, () => rng.normal()), rows: n, cols: d };
    const s = disentanglementScores(noise, factors, options);
    for (const k of ['zDiff', 'zMinVar', 'mig', 'sap', 'dci'] as const) expect(s[k], k).toBeLessThan(0.1);
    for (const k of DISENTANGLEMENT_METRICS) {
      expect(s[k]).toBeGreaterThanOrEqual(0);
      expect(s[k]).toBeLessThanOrEqual(1);
    }
  });

  it('is deterministic for a seed', () => {
    expect(disentanglementScores(rotated(4), factors, options)).toEqual(
      disentanglementScores(rotated(4), factors, options),
    );
  });

  it('rejects bad input with clear messages', () => {
    expect(() => disentanglementScores({ data: new Float32Array(10), rows: 5, cols: 2 }, factors)).toThrow(
      /5 rows, factors 1500/,
    );
    expect(() => disentanglementScores(factors, factors, { discrete: [true] })).toThrow(
      /one boolean per factor column \(5\)/,
    );
    const bad = { data: set.factors.slice(), rows: n, cols: d };
    bad.data[7] = Number.NaN;
    expect(() => disentanglementScores(bad, factors, options)).toThrow(/codes value NaN at row 1, column 2/);
    expect(() => disentanglementScores({ data: new Float32Array(3), rows: 2, cols: 2 }, factors)).toThrow(
      /3 values for 2 rows x 2 columns/,
    );
    expect(() =>
      disentanglementScores(
        { data: new Float32Array(5), rows: 5, cols: 1 },
        { data: new Float32Array(5), rows: 5, cols: 1 },
      ),
    ).toThrow(/at least 10 rows/);
    expect(() => disentanglementScores(factors, factors, { bins: 1 })).toThrow(/bins/);
    // A categorical factor whose every value is distinct cannot fix a class of two rows.
    const ids = { data: Float32Array.from({ length: 20 }, (_, i) => i), rows: 20, cols: 1 };
    expect(() =>
      disentanglementScores(
        ids,
        { data: Float32Array.from({ length: 40 }, (_, i) => i), rows: 20, cols: 2 },
        { discrete: [true, true] },
      ),
    ).toThrow(/no class with two rows/);
  });
});

describe('the pieces', () => {
  it('entropy and mutual information are the plug-in values in nats', () => {
    const a = asClasses(Float64Array.from([0, 0, 1, 1, 2, 2, 3, 3]));
    expect(a.count).toBe(4);
    expect(entropy(a)).toBeCloseTo(Math.log(4), 12);
    const b = asClasses(Float64Array.from([0, 0, 0, 0, 1, 1, 1, 1]));
    expect(jointInformation(a, b).mutual).toBeCloseTo(Math.log(2), 12);
    expect(jointInformation(a, a).mutual).toBeCloseTo(Math.log(4), 12);
    expect(asBins(Float64Array.from([0, 0.5, 1, 0.99]), 2).classes).toEqual(Int32Array.from([0, 1, 1, 1]));
    expect(asBins(Float64Array.from([3, 3, 3]), 10).count).toBe(1);
  });

  it('the forest gives all importance to the feature the target depends on, even nonlinearly', () => {
    const rng = new Rng(1);
    const x = [0, 1, 2].map(() => Float64Array.from({ length: 400 }, () => rng.nextFloat() * 6 - 3));
    const y = [Float64Array.from(x[1], (v) => Math.cos(v))];
    const imp = forestImportance(x, y, { seed: 2 });
    expect(imp[1]).toBeGreaterThan(0.9);
    expect(imp[0] + imp[1] + imp[2]).toBeCloseTo(1, 9);
  });

  it('DCI and modularity of hand-made matrices', () => {
    expect(
      dciFromImportance([
        [1, 0],
        [0, 1],
      ]),
    ).toBeCloseTo(1, 12);
    expect(
      dciFromImportance([
        [1, 1],
        [1, 1],
      ]),
    ).toBeCloseTo(0, 12);
    expect(
      modularity([
        [1, 0],
        [0, 2],
      ]),
    ).toBeCloseTo(1, 12);
    expect(
      modularity([
        [1, 1],
        [2, 2],
      ]),
    ).toBeCloseTo(0, 12);
  });
});
