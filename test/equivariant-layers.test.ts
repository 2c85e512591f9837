/**
 * The p4 layers and the latent group convolution: filter banks equal a loop-built reference
 * bitwise and four quarter turns give the bank back; the lifting layer, a p4 layer and a whole p4
 * branch (pooling, full-size last layer) are equivariant to quarter turns (C4) and, as the D4
 * pair (x, mirror(x)), to all 8 elements of D4, to 1e-5 relative; 'same' padding at stride 2 breaks
 * it; the latent group conv is equivariant for C4, D4, C12, D12.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { selectBackend } from '../lib/ml/backend';
import { finiteGroup, GROUP_NAMES, groupElement } from '../lib/ml/groups/dihedral';
import { equivarianceErrors, mirrorMaps, relativeError, turnMaps, turnP4Maps } from '../lib/ml/groups/equivariance';
import { leftRegular, permuteRows } from '../lib/ml/groups/permutations';
import { LatentGroupConv } from '../lib/ml/layers/latent-group-conv';
import { P4Branch } from '../lib/ml/layers/p4-branch';
import { P4GroupConv, P4LiftingConv, quarterTurnExact } from '../lib/ml/layers/p4-conv';
import { liftingBank, p4Bank, QuarterTurns, quarterTurnSources, rot90Kernel } from '../lib/ml/layers/p4-filter-bank';
import { ParameterSet } from '../lib/ml/layers/parameters';
import { Rng } from '../lib/util/random';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', strict: true, log: false });
});

function randomValues(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.nextFloat() - 1);
}

/** rot(w)[i][j] = w[j][k - 1 - i] applied q times to a [k, k, inner] array, by loops. */
function rotRef(w: Float32Array, k: number, inner: number, q: number): Float32Array {
  let x = w;
  for (let t = 0; t < ((q % 4) + 4) % 4; t++) {
    const y = new Float32Array(x.length);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        for (let c = 0; c < inner; c++) y[(i * k + j) * inner + c] = x[(j * k + (k - 1 - i)) * inner + c]!;
    x = y;
  }
  return x;
}

const D4 = finiteGroup('D4');
const C4 = finiteGroup('C4');

/** A map on images applied to the D4 pair (x, mirror(x)): outputs stacked along the batch. */
function pairOf(f: (x: tf.Tensor4D) => tf.Tensor4D): (x: tf.Tensor4D) => Float32Array {
  return (x) => tf.tidy(() => tf.concat([f(x), f(mirrorMaps(x))], 0).dataSync() as Float32Array);
}

/** t = r^k m^s on an image: mirror first, then k quarter turns. */
function actImage(t: number, x: tf.Tensor4D): tf.Tensor4D {
  const k = t % 4;
  const s = t >= 4;
  return tf.tidy(() => turnMaps(s ? mirrorMaps(x) : x, k));
}

/**
 * t on the pair (A, Ā) = (F(x), F(m x)) of p4 maps, F quarter-turn equivariant: F(r^k x) = L_k A,
 * F(m r^k x) = F(r^-k m x) = L_-k Ā; for t = r^k m the two swap.
 */
function actPair(t: number, y: ArrayLike<number>, shape: number[]): Float32Array {
  const k = t % 4;
  return tf.tidy(() => {
    const both = tf.tensor4d(Float32Array.from(y), [2 * shape[0]!, shape[1]!, shape[2]!, shape[3]!]);
    let [a, abar] = tf.split(both, 2, 0) as unknown as [tf.Tensor4D, tf.Tensor4D];
    if (t >= 4) [a, abar] = [abar, a];
    return tf.concat([turnP4Maps(a, k), turnP4Maps(abar, -k)], 0).dataSync() as Float32Array;
  });
}

describe('p4 filter banks', () => {
  it('quarter turns of kernel positions: four give the identity, one is rot(w)[i][j] = w[j][k-1-i]', () => {
    for (const k of [1, 2, 3, 4, 7]) {
      expect(Array.from(quarterTurnSources(k, 4))).toEqual(Array.from({ length: k * k }, (_, i) => i));
      const ref = rotRef(
        Float32Array.from({ length: k * k }, (_, i) => i),
        k,
        1,
        1,
      );
      expect(Array.from(quarterTurnSources(k, 1))).toEqual(Array.from(ref));
    }
  });

  it('rot90Kernel equals the loop reference bitwise, and rot90^4 is the identity bitwise', () => {
    const turns = new QuarterTurns(5);
    const wv = randomValues(5 * 5 * 3 * 2, 1);
    const w = tf.tensor4d(wv, [5, 5, 3, 2]);
    for (let q = 0; q < 4; q++)
      expect(Array.from(rot90Kernel(w, q, turns).dataSync())).toEqual(Array.from(rotRef(wv, 5, 6, q)));
    let x = w;
    for (let q = 0; q < 4; q++) x = rot90Kernel(x, 1, turns);
    expect(Array.from(x.dataSync())).toEqual(Array.from(wv));
    tf.dispose([w, x]);
    turns.dispose();
  });

  for (const k of [3, 5]) {
    it(`lifting and p4 banks (${k}x${k}) equal the loop-built reference bitwise; four turns give the bank back`, () => {
      const turns = new QuarterTurns(k);
      const [cin, cout] = [2, 3];
      const wl = randomValues(k * k * cin * cout, 2);
      const lifted = liftingBank(tf.tensor4d(wl, [k, k, cin, cout]), turns).dataSync();
      const wp = randomValues(k * k * cin * 4 * cout, 3);
      const bank = p4Bank(tf.tensor4d(wp, [k, k, cin * 4, cout]), turns).dataSync();
      for (let r = 0; r < 4; r++) {
        const lr = rotRef(wl, k, cin * cout, r);
        // p4: roll the input slots by r, then turn by r.
        const rolled = new Float32Array(wp.length);
        for (let p = 0; p < k * k; p++) {
          for (let c = 0; c < cin; c++) {
            for (let s = 0; s < 4; s++)
              for (let o = 0; o < cout; o++)
                rolled[((p * cin + c) * 4 + s) * cout + o] = wp[((p * cin + c) * 4 + ((s - r + 4) % 4)) * cout + o]!;
          }
        }
        const pr = rotRef(rolled, k, cin * 4 * cout, r);
        for (let p = 0; p < k * k; p++) {
          for (let c = 0; c < cin; c++)
            for (let o = 0; o < cout; o++)
              expect(lifted[((p * cin + c) * cout + o) * 4 + r]).toBe(lr[(p * cin + c) * cout + o]);
          for (let cs = 0; cs < cin * 4; cs++)
            for (let o = 0; o < cout; o++)
              expect(bank[((p * cin * 4 + cs) * cout + o) * 4 + r]).toBe(pr[(p * cin * 4 + cs) * cout + o]);
        }
      }
      // rot90^4 on the bank, and the bank of rot90^4(W), are the bank itself.
      const b = tf.tensor4d(bank, [k, k, cin * 4, cout * 4]);
      let x = b;
      for (let q = 0; q < 4; q++) x = rot90Kernel(x, 1, turns);
      expect(Array.from(x.dataSync())).toEqual(Array.from(bank));
      let w4 = tf.tensor4d(wp, [k, k, cin * 4, cout]);
      for (let q = 0; q < 4; q++) w4 = rot90Kernel(w4, 1, turns);
      expect(Array.from(p4Bank(w4, turns).dataSync())).toEqual(Array.from(bank));
      turns.dispose();
    });
  }
});

describe('p4 layers: exact quarter-turn and D4-pair equivariance', () => {
  it('quarterTurnExact: odd kernels at stride 1 with "same", pools on even sides; "same" at stride 2 is not exact', () => {
    expect(quarterTurnExact(28, 3, 1, 'same')).toEqual({ exact: true, outSize: 28 });
    expect(quarterTurnExact(28, 2, 2, 'valid')).toEqual({ exact: true, outSize: 14 });
    expect(quarterTurnExact(7, 7, 1, 'valid')).toEqual({ exact: true, outSize: 1 });
    expect(quarterTurnExact(9, 3, 2, 'valid')).toEqual({ exact: true, outSize: 4 });
    expect(quarterTurnExact(28, 3, 2, 'same')).toMatchObject({ exact: false, outSize: 14 });
    expect(quarterTurnExact(28, 3, 2, 'same').reason).toMatch(/pads 0 before and 1 after/);
    expect(quarterTurnExact(7, 2, 2, 'valid')).toMatchObject({ exact: false });
    expect(quarterTurnExact(28, 4, 1, 'same')).toMatchObject({ exact: false });
  });

  for (const side of [28, 9]) {
    it(`lifting layer on ${side}x${side}: C4 and all 8 elements of D4 (pair) to 1e-5`, () => {
      const params = new ParameterSet(11);
      const layer = new P4LiftingConv(params, 'lift', { inChannels: 1, outChannels: 3, kernelSize: 3 });
      const x = tf.tensor4d(randomValues(2 * side * side, 4), [2, side, side, 1]);
      const f = (v: tf.Tensor4D): Float32Array => tf.tidy(() => layer.apply(v).dataSync() as Float32Array);
      const outShape = [2, side, side, 12];
      const c4 = equivarianceErrors({
        group: C4,
        f,
        x,
        actIn: (t, v) => actImage(t, v),
        actOut: (t, y) =>
          tf.tidy(() =>
            turnP4Maps(tf.tensor4d(Float32Array.from(y), outShape as [number, number, number, number]), t).dataSync(),
          ),
      });
      const d4 = equivarianceErrors({
        group: D4,
        f: pairOf((v) => layer.apply(v)),
        x,
        actIn: actImage,
        actOut: (t, y) => actPair(t, y, outShape),
      });
      for (const e of [...c4, ...d4]) expect(e.error, `${e.name}`).toBeLessThan(1e-5);
      expect(c4.map((e) => e.name)).toEqual(['e', 'r', 'r^2', 'r^3']);
      expect(d4).toHaveLength(8);
      layer.dispose();
      params.dispose();
      x.dispose();
    });
  }

  it("'same' padding at stride 2 breaks the lifting layer's equivariance; 'valid' at stride 2 on 9x9 keeps it", () => {
    const params = new ParameterSet(12);
    const broken = new P4LiftingConv(params, 'broken', { inChannels: 1, outChannels: 3, stride: 2, padding: 'same' });
    const fine = new P4LiftingConv(params, 'fine', { inChannels: 1, outChannels: 3, stride: 2, padding: 'valid' });
    const check = (layer: P4LiftingConv, side: number, out: number): number => {
      const x = tf.tensor4d(randomValues(side * side, 5), [1, side, side, 1]);
      const errs = equivarianceErrors({
        group: C4,
        f: (v: tf.Tensor4D) => tf.tidy(() => layer.apply(v).dataSync() as Float32Array),
        x,
        actIn: actImage,
        actOut: (t, y) => tf.tidy(() => turnP4Maps(tf.tensor4d(Float32Array.from(y), [1, out, out, 12]), t).dataSync()),
      });
      x.dispose();
      return Math.max(...errs.map((e) => e.error));
    };
    const bad = check(broken, 28, 14);
    expect(bad).toBeGreaterThan(0.05);
    expect(check(fine, 9, 4)).toBeLessThan(1e-5);
    params.dispose();
  });

  for (const [padding, k, side, out] of [
    ['same', 3, 9, 9],
    ['valid', 5, 9, 5],
  ] as const) {
    it(`p4 -> p4 layer (${k}x${k} '${padding}' on ${side}x${side}): C4 and the D4 pair to 1e-5`, () => {
      const params = new ParameterSet(13);
      const layer = new P4GroupConv(params, 'p4', { inChannels: 2, outChannels: 3, kernelSize: k, padding });
      tf.tidy(() => (layer.bias as tf.Variable).assign(tf.tensor1d([0.3, -0.2, 0.1])));
      const x = tf.tensor4d(randomValues(2 * side * side * 8, 6), [2, side, side, 8]);
      const inShape = [2, side, side, 8];
      const outShape = [2, out, out, 12];
      const f = (v: tf.Tensor4D): Float32Array => tf.tidy(() => layer.apply(v).dataSync() as Float32Array);
      const c4 = equivarianceErrors({
        group: C4,
        f,
        x,
        actIn: (t, v) => tf.tidy(() => turnP4Maps(v, t)),
        actOut: (t, y) =>
          tf.tidy(() =>
            turnP4Maps(tf.tensor4d(Float32Array.from(y), outShape as [number, number, number, number]), t).dataSync(),
          ),
      });
      // The pair (A, Ā) as input; the layer acts on each.
      const pair = tf.concat([x, tf.tidy(() => turnP4Maps(x, 1))], 0) as tf.Tensor4D;
      const d4 = equivarianceErrors({
        group: D4,
        f,
        x: pair,
        actIn: (t, v) => tf.tensor4d(actPair(t, v.dataSync(), inShape), [4, side, side, 8]),
        actOut: (t, y) => actPair(t, y, outShape),
      });
      for (const e of [...c4, ...d4]) expect(e.error, e.name).toBeLessThan(1e-5);
      // A per-slot bias (not one per G-channel) breaks it.
      tf.tidy(() => {
        const y = layer.apply(x);
        const slotBias = tf.tensor1d(Float32Array.from({ length: 12 }, (_, i) => (i % 4 === 0 ? 1 : 0)));
        const turned = turnP4Maps(tf.add(y, slotBias) as tf.Tensor4D, 1).dataSync();
        const direct = tf.add(layer.apply(turnP4Maps(x, 1)), slotBias).dataSync();
        expect(relativeError(direct, turned)).toBeGreaterThan(0.01);
      });
      layer.dispose();
      params.dispose();
      tf.dispose([x, pair]);
    });
  }

  it('a whole p4 branch (28 -> 14 -> 7, full 7x7 last layer): V_p4(t x)[k] = V_p4(x)[k - 1], and the D4 pair, to 1e-5', () => {
    const params = new ParameterSet(14);
    const branch = new P4Branch(params, 'branch', { imageSize: 28, widths: [2, 3, 4], outChannels: 5, kernelSize: 3 });
    expect(branch.finalSize).toBe(7);
    const x = tf.tensor4d(
      randomValues(2 * 28 * 28, 7).map((v) => Math.abs(v)),
      [2, 28, 28, 1],
    );
    const f = (v: tf.Tensor4D): Float32Array => tf.tidy(() => branch.apply(v).dataSync() as Float32Array);
    const c4 = finiteGroup('C4');
    /** Rows k of each [4, m] matrix shifted: out[k] = in[k - t]. */
    const shiftRows = (t: number, y: ArrayLike<number>): Float32Array =>
      permuteRows(Float32Array.from(y), leftRegular(c4, t), 5);
    const errs = equivarianceErrors({ group: c4, f, x, actIn: actImage, actOut: shiftRows });
    for (const e of errs) expect(e.error, e.name).toBeLessThan(1e-5);
    expect(errs[1]!.error).toBeGreaterThan(0); // Not trivially constant.
    // The D4 pair: V(t x) rows of the pair.
    const pairRows = (t: number, y: ArrayLike<number>): Float32Array => {
      const half = y.length / 2;
      let a = Float32Array.from(y).subarray(0, half);
      let abar = Float32Array.from(y).subarray(half);
      if (t >= 4) [a, abar] = [abar, a];
      const k = t % 4;
      const out = new Float32Array(y.length);
      out.set(permuteRows(a.slice(), leftRegular(c4, k), 5), 0);
      out.set(permuteRows(abar.slice(), leftRegular(c4, (4 - k) % 4), 5), half);
      return out;
    };
    const d4 = equivarianceErrors({
      group: D4,
      f: (v) => tf.tidy(() => tf.concat([branch.apply(v), branch.apply(mirrorMaps(v))], 0).dataSync() as Float32Array),
      x,
      actIn: actImage,
      actOut: pairRows,
    });
    for (const e of d4) expect(e.error, e.name).toBeLessThan(1e-5);
    branch.dispose();
    params.dispose();
    x.dispose();
  });

  it('the branch refuses geometry that would not be exact', () => {
    const params = new ParameterSet(1);
    expect(
      () => new P4Branch(params, 'b', { imageSize: 30, widths: [2, 3, 4], outChannels: 2, kernelSize: 3 }),
    ).toThrow(/divisible by 4/);
    expect(() => new P4Branch(params, 'c', { imageSize: 28, widths: [2], outChannels: 2, kernelSize: 4 })).toThrow(
      /odd/,
    );
    params.dispose();
  });
});

describe('latent group convolution', () => {
  for (const name of GROUP_NAMES) {
    it(`${name}: Gconv(P(t) V) = P(t) Gconv(V) for every t; |G| m m' + m' parameters`, () => {
      const g = finiteGroup(name);
      const params = new ParameterSet(21);
      const layer = new LatentGroupConv(params, 'g', g, 3, 2);
      tf.tidy(() => (layer.bias as tf.Variable).assign(tf.tensor1d([0.5, -0.25])));
      expect(params.size).toBe(g.order * 3 * 2 + 2);
      const v = randomValues(2 * g.order * 3, 8);
      const errs = equivarianceErrors({
        group: g,
        f: (x: Float32Array) => tf.tidy(() => layer.apply(tf.tensor3d(x, [2, g.order, 3])).dataSync() as Float32Array),
        x: v,
        actIn: (t, x) => permuteRows(x, leftRegular(g, t), 3),
        actOut: (t, y) => permuteRows(Float32Array.from(y), leftRegular(g, t), 2),
      });
      for (const e of errs) expect(e.error, e.name).toBeLessThan(1e-6);
      // A kernel that ignores the group structure (a plain dense layer on the rows) is not equivariant.
      const dense = randomValues(g.order * 3 * g.order * 2, 9);
      const plain = (x: Float32Array): Float32Array =>
        tf.tidy(
          () =>
            tf
              .matMul(tf.tensor2d(x, [2, g.order * 3]), tf.tensor2d(dense, [g.order * 3, g.order * 2]))
              .dataSync() as Float32Array,
        );
      const t = groupElement(g, 1);
      expect(
        relativeError(plain(permuteRows(v, leftRegular(g, t), 3)), permuteRows(plain(v), leftRegular(g, t), 2)),
      ).toBeGreaterThan(0.01);
      layer.dispose();
      params.dispose();
    });
  }
});
