// Training the rVAE (lib/ml/models/rvae.ts) on a synthetic glyph turned through [-60°, 60°]: in
// under a minute the encoded angle follows the true one (|r| > 0.9), with slope near +1, which also
// checks that the decoder and the data generator turn the same way (a positive angle is
// counter-clockwise as displayed in both).
import { beforeAll, describe, expect, it } from 'vitest';

import { transformFloatImage } from '../lib/data/transform';
import { selectBackend } from '../lib/ml/backend';
import { angleRecovery } from '../lib/ml/metrics/latent-angle';
import { Rvae } from '../lib/ml/models/rvae';
import { Rng } from '../lib/util/random';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', log: false });
});

/** An 'F' on a side x side canvas: no rotation or mirror maps it onto itself. */
function glyphF(side: number): Float32Array {
  const g = new Float32Array(side * side);
  const fill = (r0: number, r1: number, c0: number, c1: number) => {
    for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) g[r * side + c] = 1;
  };
  const t = Math.max(2, Math.round(side / 8));
  const left = Math.round(side * 0.3);
  fill(Math.round(side * 0.2), Math.round(side * 0.8), left, left + t);
  fill(Math.round(side * 0.2), Math.round(side * 0.2) + t, left, Math.round(side * 0.75));
  fill(Math.round(side * 0.48), Math.round(side * 0.48) + t, left, Math.round(side * 0.62));
  return g;
}

describe('rVAE training', () => {
  it('recovers the angle of a turned glyph', async () => {
    const side = 16;
    const n = 600;
    const P = side * side;
    const glyph = glyphF(side);
    const rng = new Rng(1);
    const data = new Float32Array(n * P);
    const angles = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const degrees = -60 + 120 * rng.nextFloat();
      angles[i] = (degrees * Math.PI) / 180;
      transformFloatImage(glyph, side, side, { degrees }, data.subarray(i * P, (i + 1) * P));
    }
    for (let i = 0; i < data.length; i++) data[i] = Math.min(1, Math.max(0, data[i]));
    const images = { data, count: n, height: side, width: side };
    const model = new Rvae({
      rotation: true,
      latentDim: 2,
      height: side,
      width: side,
      decoderWidth: 32,
      encoderWidth: 64,
      batchSize: 50,
      learningRate: 3e-3,
      seed: 2,
    });
    const before = angleRecovery((await model.encode(images)).angle, angles);
    const history = await model.fit(images, { epochs: 25 });
    const after = angleRecovery((await model.encode(images)).angle, angles);
    expect(history.epochs.length).toBe(25);
    expect(history.epochs[24].loss).toBeLessThan(history.epochs[0].loss);
    expect(before.absR).toBeLessThan(0.9);
    expect(after.absR).toBeGreaterThan(0.9);
    // Same direction as the generator: encoded angle = true angle + a constant.
    expect(after.slope).toBeGreaterThan(0.7);
    expect(after.slope).toBeLessThan(1.3);
    model.dispose();
  });
});
