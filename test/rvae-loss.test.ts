// The VAE family's loss (lib/ml/models/vae-loss.ts): the closed-form KL against a Monte Carlo
// estimate, the beta schedule, and the pixel subsampling of the likelihood: uniform inclusion, the
// model's subsampled term equal to the rescaled sum over its pixels, and its mean over random
// subsets equal to the full likelihood.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { selectBackend } from '../lib/ml/backend';
import { Rvae } from '../lib/ml/models/rvae';
import { betaAt, gaussianKl, gaussianKlValue, pixelSubset } from '../lib/ml/models/vae-loss';
import { Rng } from '../lib/util/random';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', log: false });
});

/** Monte Carlo KL(N(mu, s^2) || N(0, p^2)) = E_q[log q(z) - log p(z)], with its standard error. */
function monteCarloKl(mu: number, s: number, p: number, n: number, seed: number): { mean: number; se: number } {
  const rng = new Rng(seed);
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < n; i++) {
    const e = rng.normal();
    const z = mu + s * e;
    const logq = -Math.log(s) - 0.5 * e * e;
    const logp = -Math.log(p) - (0.5 * z * z) / (p * p);
    const d = logq - logp;
    sum += d;
    sum2 += d * d;
  }
  const mean = sum / n;
  return { mean, se: Math.sqrt((sum2 / n - mean * mean) / n) };
}

describe('KL divergence', () => {
  it('matches a Monte Carlo estimate, for the unit prior and a wider one', () => {
    const cases: [number, number, number][] = [
      [0, 1, 1],
      [0.7, 0.3, 1],
      [-1.5, 2.0, 1],
      [0.4, 0.05, 1],
      [1.2, 0.5, 0.1],
      [-0.3, 0.8, Math.PI / 4],
    ];
    const mus = tf.tensor1d(cases.map((c) => c[0]));
    const sds = tf.tensor1d(cases.map((c) => c[1]));
    cases.forEach(([mu, s, p], i) => {
      const closed = (p === 1 ? gaussianKl(mus, sds) : gaussianKl(mus, sds, p)).arraySync() as number[];
      const mc = monteCarloKl(mu, s, p, 200000, 17 + i);
      expect(Math.abs(gaussianKlValue(mu, s, p) - mc.mean)).toBeLessThan(5 * mc.se + 1e-9);
      if (p === 1) expect(closed[i]).toBeCloseTo(gaussianKlValue(mu, s, p), 4);
    });
    // Zero exactly at the prior; the width-only form drops the mu^2 / (2 p^2) term.
    expect(gaussianKlValue(0, 0.1, 0.1)).toBeCloseTo(0, 12);
    expect(gaussianKlValue(0.8, 0.3, 2, 'normal') - gaussianKlValue(0.8, 0.3, 2, 'width')).toBeCloseTo(0.64 / 8, 12);
    const width = gaussianKl(tf.tensor1d([0.8]), tf.tensor1d([0.3]), 2, 'width').arraySync() as number[];
    expect(width[0]).toBeCloseTo(gaussianKlValue(0.8, 0.3, 2, 'width'), 5);
  });
});

describe('beta schedule', () => {
  it('holds, ramps linearly and stays', () => {
    const a = { from: 1, startEpoch: 5, endEpoch: 15 };
    expect([1, 5, 6, 10, 14, 15, 40].map((e) => betaAt(e, 3, a))).toEqual([1, 1, 1.2, 2, 2.8, 3, 3]);
    expect(betaAt(7, 3, null)).toBe(3);
  });
});

describe('pixel subsampling', () => {
  it('draws distinct sorted pixels, each with probability m / P', () => {
    const rng = new Rng(3);
    const P = 784;
    const m = 100;
    const draws = 4000;
    const hits = new Float64Array(P);
    let malformed = 0;
    for (let d = 0; d < draws; d++) {
      const s = pixelSubset(rng, P, m);
      if (s.length !== m || s[0] < 0 || s[m - 1] >= P) malformed++;
      for (let i = 1; i < m; i++) if (!(s[i] > s[i - 1])) malformed++;
      for (const p of s) hits[p]++;
    }
    expect(malformed).toBe(0);
    const expected = (draws * m) / P;
    const sd = Math.sqrt(draws * (m / P) * (1 - m / P));
    for (let p = 0; p < P; p++) expect(Math.abs(hits[p] - expected)).toBeLessThan(5 * sd);
    expect(() => pixelSubset(rng, 10, 11)).toThrow(/count/);
  });

  for (const options of [{ rotation: true, translation: true }, {}] as const) {
    const kind = 'rotation' in options ? 'spatial' : 'dense';
    it(`gives an unbiased estimate of the likelihood (${kind} decoder)`, async () => {
      const h = 10;
      const P = h * h;
      const model = new Rvae({ ...options, height: h, width: h, decoderWidth: 16, encoderWidth: 16, seed: 5 });
      const count = 4;
      const rng = new Rng(8);
      const data = Float32Array.from({ length: count * P }, () => rng.nextFloat());
      const images = { data, count, height: h, width: h };
      // With zero noise the sample is the posterior mean: the per-pixel terms come from decode().
      const enc = await model.encode(images);
      const dec = await model.decode(enc.z, model.options.rotation ? { angle: enc.angle, shift: enc.shift } : {});
      const perPixel = new Float64Array(P);
      for (let b = 0; b < count; b++) {
        for (let p = 0; p < P; p++) {
          const x = data[b * P + p];
          const q = dec.data[b * P + p];
          perPixel[p] -= x * Math.log(q) + (1 - x) * Math.log(1 - q);
        }
      }
      const full = perPixel.reduce((s, v) => s + v, 0);
      const terms = (pixels: Int32Array | null): number =>
        tf.tidy(() =>
          model
            .lossTerms(tf.tensor2d(data, [count, P]), null, tf.zeros([count, enc.std.cols]), pixels)
            .reconstruction.arraySync(),
        );
      expect(terms(null)).toBeCloseTo(full, 1);
      const m = 17;
      const draw = new Rng(21);
      let sum = 0;
      let sum2 = 0;
      const n = 3000;
      for (let i = 0; i < n; i++) {
        const s = pixelSubset(draw, P, m);
        let est = 0;
        for (const p of s) est += perPixel[p];
        est *= P / m;
        if (i < 5) expect(Math.abs(terms(s) - est)).toBeLessThan(1e-3 * full);
        sum += est;
        sum2 += est * est;
      }
      const mean = sum / n;
      const se = Math.sqrt((sum2 / n - mean * mean) / n);
      expect(se).toBeGreaterThan(0);
      expect(Math.abs(mean - full)).toBeLessThan(4 * se);
      model.dispose();
    });
  }
});
