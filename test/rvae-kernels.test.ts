// The wasm kernel fixes the rVAE added (lib/ml/kernels/identity.ts, transpose.ts) and the coordinate
// decoder's training gradients on wasm against the cpu backend.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';

import { selectBackend } from '../lib/ml/backend';
import { transposeBlocked } from '../lib/ml/kernels/transpose';
import { homogeneousGrid, SpatialDecoder } from '../lib/ml/layers/spatial-decoder';
import { bernoulliNll } from '../lib/ml/models/vae-loss';
import { Rng } from '../lib/util/random';

afterAll(async () => {
  await selectBackend({ prefer: 'wasm', log: false });
});

function values(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

describe('wasm Transpose fix', () => {
  it('transposes exactly, on the blocked path (rows a multiple of 256) and the shipped one', async () => {
    await selectBackend({ prefer: 'wasm', log: false });
    for (const shape of [
      [512, 7],
      [3, 256, 70],
      [1, 1024, 1],
      [300, 5],
    ]) {
      const x = values(
        shape.reduce((a, b) => a * b, 1),
        shape[0],
      );
      const r = shape.length;
      const perm = shape.map((_, i) => i);
      [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
      const got = tf.tidy(() => tf.transpose(tf.tensor(x, shape), perm).dataSync());
      const rows = shape[r - 2];
      const cols = shape[r - 1];
      const batch = x.length / (rows * cols);
      const want = new Float32Array(x.length);
      for (let b = 0; b < batch; b++)
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < cols; j++) want[b * rows * cols + j * rows + i] = x[b * rows * cols + i * cols + j];
      expect(Array.from(got)).toEqual(Array.from(want));
    }
    const other = tf.tidy(() => tf.transpose(tf.tensor(values(24, 1), [2, 3, 4]), [2, 0, 1]).shape);
    expect(other).toEqual([4, 2, 3]);
  });

  it('has a blocked loop equal to the definition', () => {
    const src = values(5 * 9, 2);
    const dst = new Float32Array(45);
    transposeBlocked(src, dst, 1, 5, 9);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 9; j++) expect(dst[j * 5 + i]).toBe(src[i * 9 + j]);
  });
});

describe('wasm Identity fix', () => {
  it('clones share the buffer safely: values survive disposing the source and assigning the variable', async () => {
    await selectBackend({ prefer: 'wasm', log: false });
    const a = tf.tensor1d([1, 2, 3]);
    const c = tf.clone(a);
    a.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    const v = tf.variable(tf.tensor1d([4, 5]));
    const kept = tf.clone(v);
    v.assign(tf.tensor1d([6, 7]));
    expect(Array.from(kept.dataSync())).toEqual([4, 5]);
    expect(Array.from(v.dataSync())).toEqual([6, 7]);
    c.dispose();
    kept.dispose();
    v.dispose();
  });
});

describe('coordinate decoder gradients', () => {
  it('are the same on wasm (with the kernel fixes) and cpu', async () => {
    // 16 x 16 pixels x 16 images = 4096 rows: the blocked transpose runs in the backward pass.
    const grads = async (backend: 'wasm' | 'cpu'): Promise<Float32Array[]> => {
      await selectBackend({ prefer: backend, strict: true, log: false });
      const dec = new SpatialDecoder({ latentInputs: 2, width: 24, hiddenLayers: 2 }, new Rng(3));
      const batch = 16;
      const out = tf.tidy(() => {
        const latent = tf.tensor2d(values(batch * 2, 4), [batch, 2]);
        const angle = tf.tensor1d(values(batch, 5));
        const target = tf.sigmoid(tf.tensor2d(values(256 * batch, 6), [256, batch]));
        const { grads: g } = tf.variableGrads(
          () => bernoulliNll(dec.logits(latent, { angle }, homogeneousGrid(16, 16)), target),
          dec.variables(),
        );
        return dec.variables().map((v) => g[v.name].dataSync() as Float32Array);
      });
      dec.dispose();
      return out;
    };
    const w = await grads('wasm');
    const c = await grads('cpu');
    w.forEach((g, i) => {
      const scale = Math.max(...c[i].map(Math.abs));
      for (let k = 0; k < g.length; k++) expect(Math.abs(g[k] - c[i][k])).toBeLessThan(1e-4 * scale + 1e-6);
    });
  });
});
