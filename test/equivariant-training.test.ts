/**
 * Training the image autoencoders: one step of every model on wasm with gradients equal to the
 * cpu backend's to 1e-4; fit lowers the loss, holds out validation images with early stopping and
 * stops on an AbortSignal; untrained seeded models encode deterministically; save / load round
 * trips; bad images, options and folders give clear errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ImageBatch } from '../lib/data/augment';
import { selectBackend } from '../lib/ml/backend';
import { relativeError } from '../lib/ml/groups/equivariance';
import { ConvAutoencoder } from '../lib/ml/models/conv-autoencoder';
import { EquivariantAutoencoder, type EquivariantAutoencoderOptions } from '../lib/ml/models/equivariant-autoencoder';
import type { ImageAutoencoder } from '../lib/ml/models/image-autoencoder';
import { Rng } from '../lib/util/random';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'soapix-eqae-'));
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', strict: true, log: false });
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Random smooth-ish images in [0, 1]. */
function imagesOf(count: number, side: number, seed: number): ImageBatch {
  const rng = new Rng(seed);
  const data = new Float32Array(count * side * side);
  for (let b = 0; b < count; b++) {
    const cx = side * (0.3 + 0.4 * rng.nextFloat());
    const cy = side * (0.3 + 0.4 * rng.nextFloat());
    for (let i = 0; i < side; i++)
      for (let j = 0; j < side; j++)
        data[(b * side + i) * side + j] = Math.exp(-((i - cy) ** 2 + 2 * (j - cx) ** 2) / (side * 0.8));
  }
  return { data, count, height: side, width: side };
}

const TINY = { imageSize: 12, widths: [2, 3], latentChannels: 3, codeSize: 4, attentionHidden: 2, seed: 5 };

const configs: [string, () => ImageAutoencoder][] = [
  ['conv autoencoder', () => new ConvAutoencoder({ imageSize: 12, widths: [2, 3], codeSize: 4, seed: 5 })],
  ...(['C4', 'D4', 'C12', 'D12'] as const).flatMap((group) =>
    (['mean', 'attention'] as const).map((pooling): [string, () => ImageAutoencoder] => [
      `${group} ${pooling}`,
      () => new EquivariantAutoencoder({ group, pooling, ...TINY }),
    ]),
  ),
];

describe('one training step on wasm matches cpu', () => {
  for (const [name, make] of configs) {
    it(`${name}: the gradient equals cpu's to 1e-4 (each parameter's to 1e-3); a step trains`, async () => {
      await tf.setBackend('wasm');
      const model = make();
      const x = imagesOf(3, 12, 1);
      const wasm = model.lossGradients(x);
      await tf.setBackend('cpu');
      const cpu = model.lossGradients(x);
      await tf.setBackend('wasm');
      expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-5 * Math.max(1, cpu.loss));
      const names = Object.keys(cpu.gradients);
      expect(Object.keys(wasm.gradients)).toEqual(names);
      // The whole gradient to 1e-4 of its largest entry; each parameter's to 1e-3 of its own
      // unless it is tiny (near-uniform attention weights make some gradients small differences
      // of nearly equal terms, where float32 summation order shows).
      const all = (r: typeof cpu): number[] => names.flatMap((p) => Array.from(r.gradients[p]!));
      const scale = Math.max(...all(cpu).map(Math.abs));
      expect(relativeError(all(wasm), all(cpu))).toBeLessThan(1e-4);
      let nonzero = 0;
      for (const p of names) {
        const g = wasm.gradients[p]!;
        expect(g.every(Number.isFinite), p).toBe(true);
        if (g.some((v) => v !== 0)) nonzero++;
        const own = Math.max(...Array.from(cpu.gradients[p]!, Math.abs));
        if (own > 1e-3 * scale) expect(relativeError(g, cpu.gradients[p]!), p).toBeLessThan(1e-3);
      }
      // Most parameters get a gradient (a ReLU may zero a few at initialisation).
      expect(nonzero).toBeGreaterThan(names.length / 2);
      const before = model.reconstructionMse(x);
      const h = await model.fit(x, { epochs: 1, batchSize: 3 });
      expect(h.backend).toBe('wasm');
      expect(Number.isFinite(h.epochs[0]!.loss)).toBe(true);
      expect(model.reconstructionMse(x)).not.toBe(before);
      model.dispose();
    });
  }
});

describe('fit, encode, save and load', () => {
  it('fit lowers the reconstruction error; validation and early stopping are reported', async () => {
    const model = new EquivariantAutoencoder({ group: 'D4', pooling: 'mean', ...TINY, learningRate: 3e-3 });
    const x = imagesOf(48, 12, 2);
    const before = model.reconstructionMse(x);
    const epochs: number[] = [];
    const h = await model.fit(x, {
      epochs: 6,
      batchSize: 8,
      validation: 0.25,
      onEpoch: (log) => void epochs.push(log.loss),
    });
    expect(h.trainRows).toBe(36);
    expect(h.valRows).toBe(12);
    expect(epochs.length).toBe(h.epochs.length);
    expect(h.bestValLoss).not.toBeNull();
    expect(model.reconstructionMse(x)).toBeLessThan(before);
    model.dispose();
  });

  it('an AbortSignal stops fit with its reason', async () => {
    const model = new ConvAutoencoder({ imageSize: 12, widths: [2, 3], codeSize: 4 });
    const x = imagesOf(16, 12, 3);
    const ctl = new AbortController();
    await expect(
      model.fit(x, { epochs: 50, batchSize: 4, signal: ctl.signal, onEpoch: () => ctl.abort(new Error('stop now')) }),
    ).rejects.toThrow('stop now');
    await expect(model.fit(x, { epochs: 1, signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
    model.dispose();
  });

  it('untrained seeded models encode deterministically; codes have the documented widths', async () => {
    const x = imagesOf(4, 12, 4);
    const a = new EquivariantAutoencoder({ group: 'D12', pooling: 'gram', ...TINY });
    const b = new EquivariantAutoencoder({ group: 'D12', pooling: 'gram', ...TINY });
    const c = new EquivariantAutoencoder({ group: 'D12', pooling: 'gram', ...TINY, seed: 6 });
    const ca = await a.encode(x);
    expect(Array.from(ca.data)).toEqual(Array.from((await b.encode(x)).data));
    expect(relativeError((await c.encode(x)).data, ca.data)).toBeGreaterThan(0.01);
    expect(ca.rows).toBe(4);
    expect(ca.cols).toBe(a.codeLength());
    expect((await a.encode(x, { pooling: 'mean' })).cols).toBe(3);
    const v = await a.encodeEquivariant(x);
    expect([v.count, v.rows, v.cols]).toEqual([4, 24, 3]);
    await expect(a.encode(x, { pooling: 'attention' })).rejects.toThrow(
      /needs a model trained with pooling 'attention'/,
    );
    for (const m of [a, b, c]) m.dispose();
  });

  it('save and load give the same codes and reconstructions; the metadata comes back', async () => {
    const x = imagesOf(3, 12, 5);
    const dir = tempDir();
    const model = new EquivariantAutoencoder({ group: 'C12', pooling: 'attention', ...TINY });
    await model.fit(x, { epochs: 1, batchSize: 3 });
    const info = await model.save(path.join(dir, 'eq'), { extra: { note: 'test' } });
    expect(info.kind).toBe('equivariant-autoencoder');
    const back = await EquivariantAutoencoder.load(path.join(dir, 'eq'));
    expect(back.options).toEqual(model.options);
    expect(back.savedMeta).toEqual({ note: 'test' });
    expect(Array.from((await back.encode(x)).data)).toEqual(Array.from((await model.encode(x)).data));
    expect(Array.from(back.reconstruct(x).data)).toEqual(Array.from(model.reconstruct(x).data));
    const conv = new ConvAutoencoder({ imageSize: 12, widths: [2, 3], codeSize: 4 });
    await conv.save(path.join(dir, 'conv'));
    const conv2 = await ConvAutoencoder.load(path.join(dir, 'conv'));
    expect(Array.from((await conv2.encode(x)).data)).toEqual(Array.from((await conv.encode(x)).data));
    for (const m of [model, back, conv, conv2]) m.dispose();
  });

  it('missing, corrupt and foreign folders give clear errors', async () => {
    const dir = tempDir();
    await expect(EquivariantAutoencoder.load(path.join(dir, 'nothing'))).rejects.toThrow(/does not exist/);
    const conv = new ConvAutoencoder({ imageSize: 12, widths: [2, 3], codeSize: 4 });
    await conv.save(path.join(dir, 'conv'));
    await expect(EquivariantAutoencoder.load(path.join(dir, 'conv'))).rejects.toThrow(
      /holds a convolutional autoencoder.*ConvAutoencoder\.load/,
    );
    const eq = new EquivariantAutoencoder({ group: 'D4', pooling: 'mean', ...TINY });
    const folder = path.join(dir, 'eq');
    await eq.save(folder);
    const weights = path.join(folder, 'weights.bin');
    const bytes = readFileSync(weights);
    bytes[10] = bytes[10]! ^ 0xff;
    writeFileSync(weights, bytes);
    await expect(EquivariantAutoencoder.load(folder)).rejects.toThrow(/checksum mismatch/);
    await eq.save(folder);
    const json = path.join(folder, 'soapix.json');
    const info = JSON.parse(readFileSync(json, 'utf8'));
    info.equivariant.group = 'D6';
    writeFileSync(json, JSON.stringify(info));
    await expect(EquivariantAutoencoder.load(folder)).rejects.toThrow(/describes an invalid model: unknown group 'D6'/);
    // Options that change the weights' shapes: the weights no longer fit.
    info.equivariant.group = 'D4';
    info.equivariant.latentChannels = 4;
    writeFileSync(json, JSON.stringify(info));
    await expect(EquivariantAutoencoder.load(folder)).rejects.toThrow(/do not fit the model: .*has shape/);
    writeFileSync(json, '{ "format": "soapix-model", ');
    await expect(EquivariantAutoencoder.load(folder)).rejects.toThrow(/not valid JSON/);
    conv.dispose();
    eq.dispose();
  });

  it('bad images and options give clear errors', async () => {
    const model = new EquivariantAutoencoder({ group: 'D4', pooling: 'mean', ...TINY });
    const good = imagesOf(2, 12, 6);
    await expect(model.encode({ ...good, height: 11, data: new Float32Array(2 * 11 * 12) })).rejects.toThrow(
      /images are 11x12, this model takes 12x12/,
    );
    await expect(model.encode({ ...good, data: good.data.subarray(5) })).rejects.toThrow(
      /expected count \* height \* width/,
    );
    const nan = good.data.slice();
    nan[150] = Number.NaN;
    await expect(model.encode({ ...good, data: nan })).rejects.toThrow(/pixel 6 of image 1 is NaN/);
    const bytes = good.data.map((v) => v * 255);
    await expect(model.fit({ ...good, data: bytes }, { epochs: 1 })).rejects.toThrow(
      /in \[0, 1\] \(bytes: divide by 255\)/,
    );
    await expect(model.fit(good, { epochs: 1, validation: { ...good, width: 3 } })).rejects.toThrow(
      /validation images/,
    );
    model.dispose();
    const bad: [Partial<EquivariantAutoencoderOptions>, RegExp][] = [
      [{ group: 'D6' as never }, /unknown group 'D6'; known: C4, D4, C12, D12/],
      [{ pooling: 'max' as never }, /unknown pooling 'max'; known: mean, gram, attention/],
      [{ latentChannels: 0 }, /latentChannels must be an integer >= 1/],
      [{ imageSize: 30 }, /divisible by 4/],
      [{ kernelSize: 4 }, /odd/],
      [{ entropyWeight: -1 }, /entropyWeight/],
      [{ gramPermutations: 9 }, /1\.\.8/],
    ];
    for (const [o, msg] of bad)
      expect(() => new EquivariantAutoencoder({ group: 'D4', pooling: 'mean', ...o })).toThrow(msg);
    expect(() => new ConvAutoencoder({ imageSize: 30 })).toThrow(/divisible by 4/);
  });
});
