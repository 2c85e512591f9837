/**
 * Invariant maps of an equivariant code V on random V: mean and Gram pooling (band over the
 * right-regular permutations, diagonal extras) are invariant under every P(t); a permutation outside
 * P breaks Gram's invariance; feature counts follow the formula; equivariant attention's weights
 * permute with V, Q is invariant, one-hot weights invert exactly; entropies of one-hot and uniform
 * weights.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { selectBackend } from '../lib/ml/backend';
import { finiteGroup, GROUP_NAMES, groupElement } from '../lib/ml/groups/dihedral';
import { equivarianceErrors, relativeError } from '../lib/ml/groups/equivariance';
import { leftRegular, permuteRows, rightRegular } from '../lib/ml/groups/permutations';
import {
  AttentionSelections,
  AttentionWeights,
  attentionEntropy,
  attentionPool,
  attentionUnpool,
  entropyOfLogits,
} from '../lib/ml/layers/equivariant-attention';
import { bandFeatures, bandSize, gramLayout, gramPermutationOrder, gramPool } from '../lib/ml/layers/gram-pooling';
import { meanPool } from '../lib/ml/layers/mean-pooling';
import { ParameterSet } from '../lib/ml/layers/parameters';
import { Rng } from '../lib/util/random';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', strict: true, log: false });
});

function randomValues(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.nextFloat() - 1);
}

const M = 6;

describe('mean and Gram pooling', () => {
  for (const name of GROUP_NAMES) {
    const g = finiteGroup(name);
    const v = { data: randomValues(3 * g.order * M, 1), count: 3, rows: g.order, cols: M };
    const moved = (t: number, x: Float32Array): Float32Array => permuteRows(x, leftRegular(g, t), M);

    it(`${name}: mean pooling and Gram pooling (every permutation, extras) are invariant under every P(t) to 1e-6`, () => {
      for (const pool of [
        (x: Float32Array) => meanPool({ ...v, data: x }).data,
        (x: Float32Array) => gramPool({ ...v, data: x }, g, { permutations: g.order }).data,
        (x: Float32Array) => gramPool({ ...v, data: x }, g, { permutations: 1, diagonals: 2 }).data,
      ]) {
        const errs = equivarianceErrors({ group: g, f: pool, x: v.data, actIn: moved, actOut: (_t, y) => y });
        for (const e of errs) expect(e.error, e.name).toBeLessThan(1e-6);
      }
      // Mean pooling is the row average.
      const mean = meanPool(v).data;
      let s = 0;
      for (let r = 0; r < g.order; r++) s += v.data[r * M + 2]!;
      expect(mean[2]).toBeCloseTo(s / g.order, 6);
    });

    it(`${name}: feature count |P_used| Σ_i min(n, m - i + 1) + |extras| m; the extras duplicate ρ_(r^k) diagonals`, () => {
      for (const p of [1, 2, Math.min(8, g.order), g.order]) {
        const layout = gramLayout(g, M, { permutations: p });
        const band = Array.from({ length: M }, (_, i) => Math.min(g.order, M - i)).reduce((a, b) => a + b, 0);
        expect(bandSize(M, g.order)).toBe(band);
        expect(layout.featureCount).toBe(p * band + layout.extraTurns.length * M);
        expect(gramPool(v, g, { permutations: p }).cols).toBe(layout.featureCount);
        // An extra turn k is added only when neither ρ_(r^k) nor ρ_(r^-k) is among the permutations.
        for (let k = 1; k <= g.rotations / 2; k++) {
          const covered = layout.elements.includes(groupElement(g, k)) || layout.elements.includes(groupElement(g, -k));
          expect(layout.extraTurns.includes(k)).toBe(!covered);
        }
      }
      expect(gramLayout(g, M, { permutations: g.order }).extraTurns).toEqual([]);
      expect(new Set(gramPermutationOrder(g)).size).toBe(g.order);
      // <u, P(r^k) u> = <u, ρ_(r^k) u>: the diagonal extras add nothing once ρ_(r^k) is used.
      for (let k = 1; k < g.rotations; k++) {
        const viaLeft = new Float32Array(M);
        const viaRight = new Float32Array(M);
        bandFeatures(v.data, 0, leftRegular(g, groupElement(g, k)), M, 1, viaLeft, 0);
        bandFeatures(v.data, 0, rightRegular(g, groupElement(g, k)), M, 1, viaRight, 0);
        expect(relativeError(viaLeft, viaRight)).toBeLessThan(1e-6);
      }
    });

    if (g.reflections) {
      it(`${name}: a permutation outside P (a left turn, off the diagonal) breaks the invariance`, () => {
        const pi = leftRegular(g, groupElement(g, 1));
        const feats = (x: Float32Array): Float32Array => {
          const out = new Float32Array(bandSize(M, 3));
          bandFeatures(x, 0, pi, M, 3, out, 0);
          return out;
        };
        const errs = equivarianceErrors({
          group: g,
          f: feats,
          x: v.data.subarray(0, g.order * M),
          actIn: moved,
          actOut: (_t, y) => y,
        });
        expect(Math.max(...errs.map((e) => e.error))).toBeGreaterThan(0.01);
      });
    }
  }

  it('refuses bad input', () => {
    const g = finiteGroup('D4');
    expect(() => gramPool({ data: new Float32Array(12 * 2), count: 1, rows: 12, cols: 2 }, g)).toThrow(
      /12 rows, but D4 has 8/,
    );
    expect(() => gramLayout(g, 4, { permutations: 9 })).toThrow(/1\.\.8/);
    expect(() => meanPool({ data: new Float32Array(5), count: 1, rows: 2, cols: 2 })).toThrow(
      /expected count \* rows \* cols/,
    );
  });
});

describe('equivariant attention', () => {
  for (const name of GROUP_NAMES) {
    const g = finiteGroup(name);
    const n = g.order;
    it(`${name}: w(P(t)V) = P(t) w(V); Q(P(t)V, P(t)w) = Q(V, w); one-hot w inverts exactly`, () => {
      const params = new ParameterSet(5);
      const net = new AttentionWeights(params, 'att', g, M, 4);
      const sel = new AttentionSelections(g);
      const v = randomValues(2 * n * M, 2);
      const weights = (x: Float32Array): Float32Array =>
        tf.tidy(() => tf.softmax(net.logits(tf.tensor3d(x, [2, n, M]))).dataSync() as Float32Array);
      const errs = equivarianceErrors({
        group: g,
        f: weights,
        x: v,
        actIn: (t, x) => permuteRows(x, leftRegular(g, t), M),
        actOut: (t, y) => permuteRows(Float32Array.from(y), leftRegular(g, t), 1),
      });
      for (const e of errs) expect(e.error, e.name).toBeLessThan(1e-5);
      // Q is invariant when V and w move together.
      const q = (x: Float32Array): Float32Array =>
        tf.tidy(
          () =>
            attentionPool(tf.tensor3d(x, [2, n, M]), tf.tensor2d(weights(x), [2, n]), sel).dataSync() as Float32Array,
        );
      const qErrs = equivarianceErrors({
        group: g,
        f: q,
        x: v,
        actIn: (t, x) => permuteRows(x, leftRegular(g, t), M),
        actOut: (_t, y) => y,
      });
      for (const e of qErrs) expect(e.error, e.name).toBeLessThan(1e-5);
      // Q[g] = Σ_u w_u V[u g], checked at one entry by hand.
      const w0 = weights(v);
      const q0 = q(v);
      const gi = Math.min(3, n - 1);
      let expected = 0;
      for (let u = 0; u < n; u++) expected += w0[u]! * v[rightRegular(g, gi)[u]! * M + 1]!;
      expect(q0[gi * M + 1]).toBeCloseTo(expected, 5);
      // One-hot weights: V = Σ_t w_t Q[t^-1 g] exactly.
      const hot = new Float32Array(2 * n);
      hot[Math.min(5, n - 1)] = 1;
      hot[n + 1] = 1;
      tf.tidy(() => {
        const vt = tf.tensor3d(v, [2, n, M]);
        const wt = tf.tensor2d(hot, [2, n]);
        const back = attentionUnpool(attentionPool(vt, wt, sel), wt, sel).dataSync();
        expect(Array.from(back)).toEqual(Array.from(v));
      });
      net.dispose();
      sel.dispose();
      params.dispose();
    });
  }

  it('entropy: 0 for one-hot weights, log n for uniform ones; the logit form agrees', () => {
    tf.tidy(() => {
      const w = tf.tensor2d([1, 0, 0, 0, 0.25, 0.25, 0.25, 0.25], [2, 4]);
      const h = attentionEntropy(w).dataSync();
      expect(Math.abs(h[0]!)).toBe(0);
      expect(h[1]).toBeCloseTo(Math.log(4), 6);
      const z = tf.tensor2d([0.3, -1.2, 2.0, 0.1], [1, 4]);
      expect(entropyOfLogits(z).dataSync()[0]).toBeCloseTo(attentionEntropy(tf.softmax(z)).dataSync()[0]!, 6);
    });
  });
});
