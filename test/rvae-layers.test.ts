// The coordinate grid, the pose transform and the coordinate decoder (lib/ml/layers/): the grid
// convention and flatten order, exact quarter turns and pixel shifts of the decoded image for any
// weights, the decoder against a plain float64 tanh network, and its gradient in the angle.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { selectBackend } from '../lib/ml/backend';
import { coordinateGrid, gridShiftToPixels, pixelShiftToGrid, transformGrid } from '../lib/ml/layers/coordinates';
import { homogeneousGrid, SpatialDecoder } from '../lib/ml/layers/spatial-decoder';
import { bernoulliNll } from '../lib/ml/models/vae-loss';
import { Rvae } from '../lib/ml/models/rvae';
import { Rng } from '../lib/util/random';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', log: false });
});

/** Image `a` (h x w) turned a quarter counter-clockwise as displayed: out[i][j] = a[j][w - 1 - i] (square images). */
function rot90ccw(a: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = a[j * n + (n - 1 - i)];
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function randomMatrix(
  rows: number,
  cols: number,
  seed: number,
  scale = 1,
): { data: Float32Array; rows: number; cols: number } {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * scale;
  return { data, rows, cols };
}

describe('coordinate grid', () => {
  it('maps columns left to right to -1..1 and rows top to bottom to 1..-1, row-major', () => {
    const g = coordinateGrid(3, 4);
    expect(g.length).toBe(24);
    const at = (i: number, j: number) => [g[2 * (i * 4 + j)], g[2 * (i * 4 + j) + 1]];
    expect(at(0, 0)).toEqual([-1, 1]);
    expect(at(0, 3)).toEqual([1, 1]);
    expect(at(2, 0)).toEqual([-1, -1]);
    expect(at(2, 3)).toEqual([1, -1]);
    expect(at(1, 1)[0]).toBeCloseTo(-1 / 3, 6);
    expect(at(1, 1)[1]).toBeCloseTo(0, 6);
    // The second pixel of the flattened grid is the next column of row 0.
    expect([g[2], g[3]]).toEqual([at(0, 1)[0], 1]);
    const g28 = coordinateGrid(28, 28);
    expect(Math.min(...g28)).toBe(-1);
    expect(Math.max(...g28)).toBe(1);
    // linspace(-1, 1, 28) is symmetric: column j and column 27 - j are mirror images.
    for (let j = 0; j < 28; j++) expect(g28[2 * j] + g28[2 * (27 - j)]).toBeCloseTo(0, 6);
  });

  it('is the identity at angle 0 and shift 0, and rotations keep norms', () => {
    const g = coordinateGrid(28, 28);
    expect(maxAbsDiff(transformGrid(g, null, null, 1), g)).toBe(0);
    const angles = Float32Array.from([0.3, -2.1, Math.PI]);
    const t = transformGrid(g, angles, null, 3);
    for (let b = 0; b < 3; b++) {
      for (let p = 0; p < 784; p++) {
        const r0 = Math.hypot(g[2 * p], g[2 * p + 1]);
        const r1 = Math.hypot(t[2 * (b * 784 + p)], t[2 * (b * 784 + p) + 1]);
        expect(Math.abs(r1 - r0)).toBeLessThan(1e-6);
      }
    }
  });

  it('converts pixel shifts (x right, y down) to grid units (y up) and back', () => {
    const px = Float32Array.from([1, 2, -3, 0.5]);
    const g = pixelShiftToGrid(px, 28, 28);
    expect(g[0]).toBeCloseTo(2 / 27, 7);
    expect(g[1]).toBeCloseTo(-4 / 27, 7);
    expect(maxAbsDiff(gridShiftToPixels(g, 28, 28), px)).toBeLessThan(1e-6);
  });
});

describe('coordinate decoder', () => {
  it('equals a plain float64 tanh network on the transformed grid', () => {
    const rng = new Rng(5);
    const dec = new SpatialDecoder({ latentInputs: 3, width: 16, hiddenLayers: 2 }, rng);
    const h = 6;
    const w = 5;
    const batch = 3;
    const latent = randomMatrix(batch, 3, 9);
    const angle = Float32Array.from([0.4, -1.3, 2.9]);
    const shift = Float32Array.from([0.1, -0.2, 0, 0.3, -0.05, 0.02]);
    const got = tf.tidy(() =>
      dec
        .logits(
          tf.tensor2d(latent.data, [batch, 3]),
          { angle: tf.tensor1d(angle), shift: tf.tensor2d(shift, [batch, 2]) },
          homogeneousGrid(h, w),
        )
        .arraySync(),
    );
    const W = (d: { kernel: tf.Variable; bias: tf.Variable | null }) => ({
      k: d.kernel.arraySync() as number[][],
      b: d.bias ? (d.bias.arraySync() as number[]) : null,
    });
    const coord = W(dec.coord);
    const lat = W(dec.latent);
    const hidden = dec.hidden.map(W);
    const out = W(dec.out);
    const c = transformGrid(coordinateGrid(h, w), angle, shift, batch);
    for (let b = 0; b < batch; b++) {
      for (let p = 0; p < h * w; p++) {
        let act = coord.b!.map((bias, u) => {
          let v = bias + coord.k[0][u] * c[2 * (b * h * w + p)] + coord.k[1][u] * c[2 * (b * h * w + p) + 1];
          for (let i = 0; i < 3; i++) v += lat.k[i][u] * latent.data[b * 3 + i];
          return Math.tanh(v);
        });
        for (const layer of hidden)
          act = layer.b!.map((bias, u) => Math.tanh(act.reduce((s, a, i) => s + a * layer.k[i][u], bias)));
        const logit = act.reduce((s, a, i) => s + a * out.k[i][0], out.b![0]);
        expect(Math.abs(got[p][b] - logit)).toBeLessThan(2e-5);
      }
    }
    dec.dispose();
  });

  it('decodes at angle pi/2 the quarter turn (counter-clockwise) of angle 0, for any weights', async () => {
    for (const seed of [1, 2, 3]) {
      const model = new Rvae({ rotation: true, latentDim: 2, decoderWidth: 32, seed });
      const z = randomMatrix(4, 2, seed + 10, 2);
      const base = await model.decode(z);
      const turned = await model.decode(z, { angle: new Float32Array(4).fill(Math.PI / 2) });
      const back = await model.decode(z, { angle: new Float32Array(4).fill(-Math.PI / 2) });
      const half = await model.decode(z, { angle: new Float32Array(4).fill(Math.PI) });
      for (let b = 0; b < 4; b++) {
        const img = base.data.subarray(b * 784, (b + 1) * 784);
        const q = rot90ccw(img, 28);
        expect(maxAbsDiff(turned.data.subarray(b * 784, (b + 1) * 784), q)).toBeLessThan(1e-5);
        // Three quarter turns counter-clockwise = one clockwise; two = a half turn.
        const q2 = rot90ccw(q, 28);
        expect(maxAbsDiff(half.data.subarray(b * 784, (b + 1) * 784), q2)).toBeLessThan(1e-5);
        expect(maxAbsDiff(back.data.subarray(b * 784, (b + 1) * 784), rot90ccw(q2, 28))).toBeLessThan(1e-5);
        // The test can fail: the decoded images are not symmetric under a quarter turn.
        expect(maxAbsDiff(img, q)).toBeGreaterThan(1e-3);
      }
      model.dispose();
    }
  });

  it('moves the image by an integer pixel shift (interior pixels)', async () => {
    const model = new Rvae({ rotation: true, translation: true, latentDim: 2, decoderWidth: 32, seed: 4 });
    const z = randomMatrix(2, 2, 7, 2);
    const base = await model.decode(z);
    const shifts: [number, number][] = [
      [3, -2],
      [-1, 4],
    ];
    const moved = await model.decode(z, { shift: Float32Array.from(shifts.flat()) });
    for (let b = 0; b < 2; b++) {
      const [dx, dy] = shifts[b];
      let compared = 0;
      let moves = 0;
      for (let i = 0; i < 28; i++) {
        for (let j = 0; j < 28; j++) {
          const si = i - dy;
          const sj = j - dx;
          if (si < 0 || si >= 28 || sj < 0 || sj >= 28) continue;
          const want = base.data[b * 784 + si * 28 + sj];
          expect(Math.abs(moved.data[b * 784 + i * 28 + j] - want)).toBeLessThan(1e-5);
          moves = Math.max(moves, Math.abs(base.data[b * 784 + i * 28 + j] - want));
          compared++;
        }
      }
      expect(compared).toBe((28 - Math.abs(dx)) * (28 - Math.abs(dy)));
      expect(moves).toBeGreaterThan(1e-3);
    }
    model.dispose();
  });

  it('has the weight gradients of the plain tanh network (hand-written backward pass)', () => {
    const dec = new SpatialDecoder({ latentInputs: 3, width: 16, hiddenLayers: 2 }, new Rng(21));
    const h = 7;
    const batch = 3;
    const latent = tf.tensor2d(randomMatrix(batch, 3, 22).data, [batch, 3]);
    const angle = Float32Array.from([0.2, -0.9, 1.7]);
    const shift = Float32Array.from([0.05, 0.1, -0.2, 0, 0.1, -0.1]);
    const rng = new Rng(23);
    const target = tf.tensor2d(
      Float32Array.from({ length: h * h * batch }, () => rng.nextFloat()),
      [h * h, batch],
    );
    // Reference: tanh layers on the transformed coordinates (computed outside), pixel-major rows.
    const c = transformGrid(coordinateGrid(h, h), angle, shift, batch);
    const coords = new Float32Array(h * h * batch * 2);
    for (let p = 0; p < h * h; p++)
      for (let b = 0; b < batch; b++)
        coords.set(c.subarray(2 * (b * h * h + p), 2 * (b * h * h + p) + 2), 2 * (p * batch + b));
    const coordT = tf.tensor2d(coords, [h * h * batch, 2]);
    const reference = (): tf.Scalar => {
      const zpart = tf.tile(tf.matMul(latent, dec.latent.kernel), [h * h, 1]);
      let a = tf.tanh(tf.add(tf.add(tf.matMul(coordT, dec.coord.kernel), dec.coord.bias!), zpart));
      for (const l of dec.hidden) a = tf.tanh(tf.add(tf.matMul(a, l.kernel), l.bias!));
      const logits = tf.reshape(tf.add(tf.matMul(a, dec.out.kernel), dec.out.bias!), [h * h, batch]);
      return bernoulliNll(logits, target);
    };
    const fast = (): tf.Scalar =>
      bernoulliNll(
        dec.logits(latent, { angle: tf.tensor1d(angle), shift: tf.tensor2d(shift, [batch, 2]) }, homogeneousGrid(h, h)),
        target,
      );
    const vars = dec.variables();
    const want = tf.variableGrads(reference, vars);
    const got = tf.variableGrads(fast, vars);
    expect(got.value.arraySync()).toBeCloseTo(want.value.arraySync(), 3);
    for (const v of vars) {
      const g = got.grads[v.name].dataSync();
      const w = want.grads[v.name].dataSync();
      const scale = Math.max(...w.map(Math.abs));
      expect(scale).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(g, w)).toBeLessThan(1e-4 * scale + 1e-5);
    }
    dec.dispose();
  });

  it('has the finite-difference gradient of the Bernoulli loss in the angle', () => {
    const dec = new SpatialDecoder({ latentInputs: 2, width: 16, hiddenLayers: 2 }, new Rng(11));
    const grid = homogeneousGrid(12, 12);
    const latent = tf.tensor2d(randomMatrix(3, 2, 12).data, [3, 2]);
    const rng = new Rng(13);
    const target = tf.tensor2d(
      Float32Array.from({ length: 144 * 3 }, () => rng.nextFloat()),
      [144, 3],
    );
    const shift = tf.tensor2d([0.1, 0, -0.2, 0.1, 0, 0.05], [3, 2]);
    const loss = (a: tf.Tensor): tf.Scalar =>
      bernoulliNll(dec.logits(latent, { angle: a as tf.Tensor1D, shift }, grid), target);
    const angle = [0.3, -1.1, 2.0];
    const g = tf.grad(loss)(tf.tensor1d(angle)).arraySync() as number[];
    const h = 1e-2;
    for (let b = 0; b < 3; b++) {
      const plus = angle.slice();
      const minus = angle.slice();
      plus[b] += h;
      minus[b] -= h;
      const fd = (loss(tf.tensor1d(plus)).arraySync() - loss(tf.tensor1d(minus)).arraySync()) / (2 * h);
      expect(Math.abs(g[b])).toBeGreaterThan(1e-2);
      expect(Math.abs(g[b] - fd)).toBeLessThan(2e-2 * Math.abs(fd) + 1e-2);
    }
    dec.dispose();
  });
});
