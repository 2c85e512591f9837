// CODAE (lib/ml/models/codae.ts) and its pieces: the Euler encoding, the exact C4 equivariance of
// the pose branch and the invariance of B_inv under quarter turns (at the image sizes where the
// sampling grid turns onto itself), the decoder's pose handling, the moment targets and loss, the
// β schedule, training, the saved folder and bad input. Also the DAE baseline (models/dae.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { imageMoments } from '../lib/data/moments';
import { transformFloatImage } from '../lib/data/transform';
import { xyrcsImages } from '../lib/data/xyrcs';
import { selectBackend } from '../lib/ml/backend';
import { eulerEncode } from '../lib/ml/layers/euler';
import { Codae } from '../lib/ml/models/codae';
import { codaeGeometry } from '../lib/ml/models/codae-config';
import { momentBasis, momentBeta, momentLoss, momentTargets } from '../lib/ml/models/codae-loss';
import { Dae } from '../lib/ml/models/dae';
import { Rng } from '../lib/util/random';

const dir = mkdtempSync(path.join(tmpdir(), 'soapix-codae-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', log: false });
});

const small = { widths: [2, 4, 4], hidden: 8, decoderWidth: 8 };

/** Each image of a batch turned by `degrees` (multiples of 90° are exact permutations). */
function turned(batch: { data: Float32Array; count: number; height: number; width: number }, degrees: number) {
  const P = batch.height * batch.width;
  const out = new Float32Array(batch.data.length);
  for (let i = 0; i < batch.count; i++)
    transformFloatImage(
      batch.data.subarray(i * P, (i + 1) * P),
      batch.height,
      batch.width,
      { degrees },
      out.subarray(i * P, (i + 1) * P),
    );
  return { ...batch, data: out };
}

function randomImages(count: number, side: number, seed: number) {
  const rng = new Rng(seed);
  return {
    data: Float32Array.from({ length: count * side * side }, () => rng.nextFloat()),
    count,
    height: side,
    width: side,
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** a - b wrapped into (-π, π]. */
function angleDiff(a: number, b: number): number {
  let d = (a - b) % (2 * Math.PI);
  if (d > Math.PI) d -= 2 * Math.PI;
  if (d <= -Math.PI) d += 2 * Math.PI;
  return d;
}

describe('Euler encoding', () => {
  it('maps each latent to a point of the unit circle and doubles the width', () => {
    const z = tf.tensor2d([0, 1.3, -2, Math.PI, 0.25, 7], [2, 3]);
    const e = eulerEncode(z);
    expect(e.shape).toEqual([2, 6]);
    const v = e.arraySync();
    const zz = z.arraySync();
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        expect(v[i][j] ** 2 + v[i][j + 3] ** 2).toBeCloseTo(1, 6);
        expect(v[i][j]).toBeCloseTo(Math.cos(zz[i][j]), 6);
        expect(v[i][j + 3]).toBeCloseTo(Math.sin(zz[i][j]), 6);
      }
    }
    tf.dispose([z, e]);
  });
});

describe('CODAE exact symmetry under quarter turns', () => {
  for (const [side, extra] of [
    [32, {}],
    [28, {}],
    [64, { inputPool: 2 }],
  ] as const) {
    it(`${side} x ${side}${'inputPool' in extra ? ' (input pooled by 2)' : ''}: (x, y) turn about the centre, θ grows by π/2, z is unchanged`, async () => {
      const m = new Codae({ ...small, imageSize: side, seed: 5, ...extra });
      const images = randomImages(3, side, 9);
      const c = (side - 1) / 2;
      let current = await m.encode(images);
      let image = images;
      for (let turn = 1; turn <= 4; turn++) {
        image = turned(image, 90);
        const next = await m.encode(image);
        for (let i = 0; i < 3; i++) {
          // A counter-clockwise quarter turn (y down): (dx, dy) -> (dy, -dx).
          expect(next.x[i] - c).toBeCloseTo(current.y[i] - c, 4);
          expect(next.y[i] - c).toBeCloseTo(-(current.x[i] - c), 4);
          expect(Math.abs(angleDiff(next.angle[i], current.angle[i] + Math.PI / 2))).toBeLessThan(1e-4);
        }
        expect(maxAbsDiff(next.z.data, current.z.data)).toBeLessThan(1e-5);
        current = next;
      }
      m.dispose();
    });
  }

  it('states the sizes where it is exact, and refuses the others', () => {
    expect(codaeGeometry({ imageSize: 32, inputPool: 1, widths: [8, 16, 16] })).toMatchObject({
      exact: true,
      mapSize: 8,
      cellPixels: 4,
    });
    expect(codaeGeometry({ imageSize: 28, inputPool: 1, widths: [8, 16, 16] })).toMatchObject({
      exact: true,
      mapSize: 7,
      cellPixels: 4,
    });
    expect(codaeGeometry({ imageSize: 64, inputPool: 2, widths: [8, 16, 16] })).toMatchObject({
      exact: true,
      mapSize: 8,
      cellPixels: 8,
    });
    expect(codaeGeometry({ imageSize: 30, inputPool: 1, widths: [8, 16, 16] }).exact).toBe(false);
    expect(() => new Codae({ imageSize: 30 })).toThrow(/divisible by 4, got 30/);
    expect(() => new Codae({ imageSize: 33, inputPool: 2 })).toThrow(/inputPool 2 does not divide/);
    expect(() => new Codae({ kernelSize: 4 })).toThrow(/kernelSize must be odd/);
  });

  it('is not exact for turns other than quarter turns, but close for a smooth object (30°)', async () => {
    const m = new Codae({ ...small, seed: 2 });
    const img = xyrcsImages({ count: 4, seed: 3 });
    const a = await m.encode(img);
    const b = await m.encode(turned(img, 30));
    const err = Array.from(a.angle, (v, i) => Math.abs(angleDiff(b.angle[i], v + Math.PI / 6)));
    expect(Math.max(...err)).toBeGreaterThan(1e-4);
    m.dispose();
  });
});

describe('CODAE decoder poses', () => {
  it('draws the aligned image at the identity pose, an exact quarter turn at π/2, and integer shifts as pixel moves', async () => {
    const s = 32;
    const m = new Codae({ ...small, decoderWidth: 16, seed: 7 });
    const z = { data: Float32Array.from([0.3, -1.1, 2.0, 0.4]), rows: 2, cols: 2 };
    const c = (s - 1) / 2;
    const aligned = await m.decode(z);
    const identity = await m.decode(z, {
      x: Float32Array.of(c, c),
      y: Float32Array.of(c, c),
      angle: Float32Array.of(0, 0),
    });
    expect(maxAbsDiff(identity.data, aligned.data)).toBeLessThan(1e-6);
    const quarter = await m.decode(z, {
      x: Float32Array.of(c, c),
      y: Float32Array.of(c, c),
      angle: Float32Array.of(Math.PI / 2, Math.PI / 2),
    });
    expect(maxAbsDiff(quarter.data, turned(aligned, 90).data)).toBeLessThan(1e-5);
    // Moved 3 px right and 2 px up: pixel (r, col) shows aligned (r + 2, col - 3).
    const moved = await m.decode(z, {
      x: Float32Array.of(c + 3, c + 3),
      y: Float32Array.of(c - 2, c - 2),
      angle: Float32Array.of(0, 0),
    });
    let worst = 0;
    for (let i = 0; i < 2; i++) {
      for (let r = 0; r < s - 2; r++) {
        for (let col = 3; col < s; col++)
          worst = Math.max(
            worst,
            Math.abs(moved.data[i * s * s + r * s + col] - aligned.data[i * s * s + (r + 2) * s + col - 3]),
          );
      }
    }
    expect(worst).toBeLessThan(1e-5);
    m.dispose();
  });
});

describe('moment loss and β schedule', () => {
  it('computes the moment targets of a batch as imageMoments does', () => {
    const imgs = xyrcsImages({ count: 12, seed: 8 });
    const basis = momentBasis(32, 32);
    const t = momentTargets(tf.tensor2d(imgs.data, [12, 1024]), basis, 32, 32);
    const cen = t.centroid.arraySync();
    const dbl = t.doubled.arraySync();
    const has = t.hasAngle.arraySync();
    for (let i = 0; i < 12; i++) {
      const m = imageMoments({ data: imgs.data.subarray(i * 1024, (i + 1) * 1024), height: 32, width: 32 });
      expect(cen[i][0]).toBeCloseTo(((m.x - 15.5) * 2) / 31, 4);
      expect(cen[i][1]).toBeCloseTo(((15.5 - m.y) * 2) / 31, 4);
      expect(has[i]).toBe(m.defined ? 1 : 0);
      if (m.defined) {
        expect(dbl[i][0]).toBeCloseTo(Math.cos(2 * m.angle), 4);
        expect(dbl[i][1]).toBeCloseTo(Math.sin(2 * m.angle), 4);
      }
    }
    tf.dispose([basis, t.centroid, t.doubled, t.hasAngle, t.hasMass]);
  });

  it('is zero for the moments themselves and for θ + π, and ½(1 - cos 2Δ) otherwise', () => {
    const targets = {
      centroid: tf.tensor2d([0.1, -0.2, 0, 0], [2, 2]),
      doubled: tf.tensor2d([Math.cos(1.2), Math.sin(1.2), Math.cos(-0.4), Math.sin(-0.4)], [2, 2]),
      hasMass: tf.tensor1d([1, 1]),
      hasAngle: tf.tensor1d([1, 1]),
    };
    const vec = (a: number[]) =>
      tf.tensor2d(
        a.flatMap((t) => [3 * Math.cos(t), 3 * Math.sin(t)]),
        [a.length, 2],
      );
    expect(momentLoss(targets.centroid, vec([0.6, -0.2]), targets).dataSync()[0]).toBeLessThan(1e-6);
    expect(momentLoss(targets.centroid, vec([0.6 + Math.PI, -0.2 - Math.PI]), targets).dataSync()[0]).toBeLessThan(
      1e-6,
    );
    const off = momentLoss(tf.tensor2d([0.1, -0.2, 0.3, 0.4], [2, 2]), vec([0.6 + 0.5, -0.2]), targets).dataSync()[0];
    expect(off).toBeCloseTo((0.5 * (1 - Math.cos(1)) + 0.25) / 2, 5);
    // Undefined orientation: only the centroid counts.
    const iso = { ...targets, hasAngle: tf.tensor1d([0, 0]) };
    expect(momentLoss(targets.centroid, vec([2, 1]), iso).dataSync()[0]).toBeLessThan(1e-6);
  });

  it('β falls linearly from its start to 0 over the first half of training and stays there', () => {
    const b = Array.from({ length: 101 }, (_, k) => momentBeta(k / 100, 1));
    expect(b[0]).toBe(1);
    expect(b[25]).toBeCloseTo(0.5, 12);
    for (let k = 1; k < b.length; k++) expect(b[k]).toBeLessThanOrEqual(b[k - 1]);
    expect(b.slice(50).every((v) => v === 0)).toBe(true);
    expect(momentBeta(0.1, 0)).toBe(0);
    expect(momentBeta(0.5, 2, 1)).toBe(1);
    expect(() => momentBeta(1.5, 1)).toThrow(/progress/);
  });
});

describe('CODAE training, folder and input checks', () => {
  const train = xyrcsImages({ count: 64, seed: 1 });

  it('trains (loss falls, β reported), is deterministic for a seed, and saves / loads exactly', async () => {
    const make = () => new Codae({ ...small, pixelSubsample: 128, batchSize: 16, seed: 3 });
    const a = make();
    const h = await a.fit(train, { epochs: 3 });
    expect(h.epochs).toHaveLength(3);
    expect(h.epochs[2].loss).toBeLessThan(h.epochs[0].loss);
    expect(h.epochs[0].beta).toBeGreaterThan(0);
    expect(h.epochs[2].beta).toBe(0);
    const b = make();
    await b.fit(train, { epochs: 3 });
    const ea = await a.encode(train);
    expect(Array.from((await b.encode(train)).z.data)).toEqual(Array.from(ea.z.data));
    await a.save(path.join(dir, 'codae'));
    const c = await Codae.load(path.join(dir, 'codae'));
    expect(c.epochsTrained).toBe(3);
    const ec = await c.encode(train);
    expect(Array.from(ec.x)).toEqual(Array.from(ea.x));
    expect(Array.from(ec.angle)).toEqual(Array.from(ea.angle));
    const ra = await a.reconstruct(train);
    const rc = await c.reconstruct(train);
    expect(Array.from(rc.sameView.data)).toEqual(Array.from(ra.sameView.data));
    expect(ra.aligned.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    [a, b, c].forEach((m) => m.dispose());
    await expect(Dae.load(path.join(dir, 'codae'))).rejects.toThrow(/holds a CODAE model.*Codae\.load/);
    writeFileSync(path.join(dir, 'codae', 'weights.bin'), 'x');
    await expect(Codae.load(path.join(dir, 'codae'))).rejects.toThrow(/does not match soapix.json/);
  });

  it('the ablation trains without the moment loss (β = 0 throughout)', async () => {
    const m = new Codae({ ...small, momentWeight: 0, seed: 1 });
    const h = await m.fit(train, { epochs: 1, batchSize: 32 });
    expect(h.epochs[0].beta).toBe(0);
    expect(m.describe()).toMatch(/no moment loss/);
    m.dispose();
  });

  it('rejects bad options and input with clear messages', async () => {
    expect(() => new Codae({ latentDim: 0 })).toThrow(/latentDim/);
    expect(() => new Codae({ momentFade: 0 })).toThrow(/momentFade/);
    expect(() => new Codae({ output: 'tanh' as never })).toThrow(/output/);
    expect(() => new Codae({ latentDims: 2 } as never)).toThrow(/unknown option latentDims/);
    const m = new Codae({ ...small });
    await expect(m.encode(randomImages(2, 28, 1))).rejects.toThrow(/28x28, this model takes 32x32/);
    const bad = randomImages(1, 32, 1);
    bad.data[5] = Number.NaN;
    await expect(m.encode(bad)).rejects.toThrow(/pixel 5 of image 0 is NaN/);
    await expect(m.fit(train, { epochs: 0 })).rejects.toThrow(/epochs/);
    await expect(m.decode({ data: new Float32Array(3), rows: 1, cols: 3 })).rejects.toThrow(/3 columns/);
    await expect(
      m.decode(
        { data: new Float32Array(2), rows: 1, cols: 2 },
        { x: new Float32Array(2), y: new Float32Array(1), angle: new Float32Array(1) },
      ),
    ).rejects.toThrow(/pose.x has 2 values, expected 1/);
    m.dispose();
  });
});

describe('DAE', () => {
  it('trains on the MSE of its Euler-encoded latents, and saves / loads exactly', async () => {
    const train = xyrcsImages({ count: 64, seed: 2 });
    const d = new Dae({ encoderWidth: 16, decoderWidth: 16, seed: 4 });
    const h = await d.fit(train, { epochs: 4, batchSize: 16 });
    expect(h.epochs[3].loss).toBeLessThan(h.epochs[0].loss);
    const z = await d.encode(train);
    expect(z.cols).toBe(5);
    // Latents that differ by 2π decode alike (the Euler encoding).
    const shifted = { ...z, data: Float32Array.from(z.data, (v, i) => (i % 5 === 2 ? v + 2 * Math.PI : v)) };
    expect(maxAbsDiff((await d.decode(shifted)).data, (await d.decode(z)).data)).toBeLessThan(1e-4);
    await d.save(path.join(dir, 'dae'));
    const e = await Dae.load(path.join(dir, 'dae'));
    expect(Array.from((await e.encode(train)).data)).toEqual(Array.from(z.data));
    expect(d.reconstructionMse(train)).toBeCloseTo(e.reconstructionMse(train), 10);
    expect(() => new Dae({ latentDim: -1 })).toThrow(/latentDim/);
    d.dispose();
    e.dispose();
  });
});
