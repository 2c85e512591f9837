// The Rvae API (lib/ml/models/rvae.ts): options and bad input, encode / decode shapes and
// conventions, conditioning, determinism, evaluation terms, KL annealing, cancelling, and the saved
// model folder (round trip and corrupt folders).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { selectBackend } from '../lib/ml/backend';
import { Autoencoder } from '../lib/ml/models/autoencoder';
import { Rvae } from '../lib/ml/models/rvae';
import { RVAE_MODELS } from '../lib/ml/models/rvae-config';
import { Rng } from '../lib/util/random';

const dir = mkdtempSync(path.join(tmpdir(), 'soapix-rvae-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', log: false });
});

const SIDE = 12;
const P = SIDE * SIDE;
const small = { height: SIDE, width: SIDE, encoderWidth: 24, decoderWidth: 16 };

function images(count: number, seed: number, withLabels = true) {
  const rng = new Rng(seed);
  const data = Float32Array.from({ length: count * P }, () => rng.nextFloat());
  const labels = Int32Array.from({ length: count }, (_, i) => i % 10);
  return { data, count, height: SIDE, width: SIDE, ...(withLabels ? { labels } : {}) };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('Rvae options', () => {
  it('has the notebook defaults per model', () => {
    const vae = new Rvae({ ...small, ...RVAE_MODELS.vae });
    expect(vae.options).toMatchObject({
      latentDim: 2,
      decoder: 'dense',
      beta: 1,
      classes: 0,
      translationPrior: 0.1,
      learningRate: 1e-3,
      batchSize: 100,
    });
    const crvae = new Rvae({ ...small, ...RVAE_MODELS.crvae });
    expect(crvae.options).toMatchObject({
      decoder: 'spatial',
      beta: 3,
      classes: 10,
      rotation: true,
      conditionEncoder: true,
    });
    expect(crvae.describe()).toMatch(/class-conditioned rVAE/);
    vae.dispose();
    crvae.dispose();
  });

  it('rejects bad options with a message naming them', () => {
    expect(() => new Rvae({ latentDim: 0 })).toThrow(/latentDim/);
    expect(() => new Rvae({ rotation: true, decoder: 'dense' })).toThrow(/spatial decoder/);
    expect(() => new Rvae({ classes: 1 })).toThrow(/classes/);
    expect(() => new Rvae({ pixelSubsample: 1000 })).toThrow(/pixelSubsample/);
    expect(() => new Rvae({ beta: -1 })).toThrow(/beta/);
    expect(() => new Rvae({ klAnnealing: { from: 1, startEpoch: 5, endEpoch: 5 } })).toThrow(/endEpoch/);
    expect(() => new Rvae({ latentDims: 2 } as never)).toThrow(/unknown option latentDims/);
    expect(() => new Rvae({ rotation: 'yes' } as never)).toThrow(/rotation/);
  });
});

describe('Rvae encode and decode', () => {
  it('returns angles, pixel shifts and content latents of the right shapes', async () => {
    const model = new Rvae({ ...small, rotation: true, translation: true, latentDim: 3, seed: 1 });
    const enc = await model.encode(images(5, 1));
    expect(enc.angle.length).toBe(5);
    expect(enc.shift.length).toBe(10);
    expect(enc.z).toMatchObject({ rows: 5, cols: 3 });
    expect(enc.std).toMatchObject({ rows: 5, cols: 6 });
    expect([...enc.std.data].every((v) => v > 0)).toBe(true);
    const dec = await model.decode(enc.z, { angle: enc.angle, shift: enc.shift });
    expect(dec).toMatchObject({ count: 5, height: SIDE, width: SIDE });
    expect([...dec.data].every((v) => v >= 0 && v <= 1)).toBe(true);
    // The spatial decoder draws at any size over the same field of view: corners agree.
    const big = await model.decode(enc.z, { angle: enc.angle, height: 23, width: 23 });
    const same = await model.decode(enc.z, { angle: enc.angle });
    expect(big.data[0]).toBeCloseTo(same.data[0], 5);
    expect(big.data[23 * 23 - 1]).toBeCloseTo(same.data[P - 1], 5);
    model.dispose();
  });

  it('gives a plain VAE zero angles and shifts', async () => {
    const model = new Rvae({ ...small, seed: 2 });
    const enc = await model.encode(images(3, 2));
    expect([...enc.angle, ...enc.shift].every((v) => v === 0)).toBe(true);
    await expect(model.decode(enc.z, { angle: new Float32Array(3) })).rejects.toThrow(/spatial decoder/);
    model.dispose();
  });

  it('lets the class change the decoded image (cVAE and crVAE)', async () => {
    for (const preset of [RVAE_MODELS.cvae, RVAE_MODELS.crvae]) {
      const model = new Rvae({ ...small, ...preset, seed: 3 });
      const z = { data: Float32Array.from([0.5, -1, 0.5, -1]), rows: 2, cols: 2 };
      const a = await model.decode(z, { labels: Int32Array.from([3, 5]) });
      const b = await model.decode(z, { labels: Int32Array.from([3, 3]) });
      const row = (x: Float32Array, i: number) => x.subarray(i * P, (i + 1) * P);
      expect(maxAbsDiff(row(a.data, 0), row(a.data, 1))).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(row(b.data, 0), row(b.data, 1))).toBe(0);
      expect(maxAbsDiff(row(a.data, 0), row(b.data, 0))).toBe(0);
      // The encoder sees the class too (pyroVED's iVAE).
      const im = images(2, 4);
      const e1 = await model.encode(im, { labels: Int32Array.from([1, 1]) });
      const e2 = await model.encode(im, { labels: Int32Array.from([2, 2]) });
      expect(maxAbsDiff(e1.z.data, e2.z.data)).toBeGreaterThan(1e-4);
      model.dispose();
    }
  });

  it('rejects bad input with clear messages', async () => {
    const model = new Rvae({ ...small, ...RVAE_MODELS.crvae, seed: 4 });
    const z = { data: new Float32Array(4), rows: 2, cols: 2 };
    await expect(model.decode(z)).rejects.toThrow(/needs labels/);
    await expect(model.decode(z, { labels: Int32Array.from([0, 10]) })).rejects.toThrow(
      /label 10 of image 1 is outside 0\.\.9/,
    );
    await expect(model.decode(z, { labels: Int32Array.from([0]) })).rejects.toThrow(/1 labels for 2 images/);
    await expect(
      model.decode({ data: new Float32Array(6), rows: 2, cols: 3 }, { labels: Int32Array.from([0, 1]) }),
    ).rejects.toThrow(/3 columns.*2 content latents/);
    await expect(
      model.decode({ data: Float32Array.from([0, NaN, 0, 0]), rows: 2, cols: 2 }, { labels: Int32Array.from([0, 1]) }),
    ).rejects.toThrow(/not finite/);
    await expect(model.decode(z, { labels: Int32Array.from([0, 1]), angle: new Float32Array(3) })).rejects.toThrow(
      /angle has 3 values, expected 2/,
    );
    const bad = images(2, 5);
    bad.data[7] = 1.5;
    await expect(model.encode(bad)).rejects.toThrow(/image 0, pixel \(row 0, column 7\) is 1\.5/);
    bad.data[7] = NaN;
    await expect(model.encode(bad)).rejects.toThrow(/must be finite and in \[0, 1\]/);
    await expect(model.encode({ ...images(2, 5), height: 28, width: 28 })).rejects.toThrow(/12x12/);
    await expect(model.encode({ ...images(2, 5), data: new Float32Array(10) })).rejects.toThrow(/10 values/);
    await expect(model.encode(images(2, 5, false))).rejects.toThrow(/needs labels/);
    await expect(model.fit(images(2, 5, false), { epochs: 1 })).rejects.toThrow(/needs labels/);
    model.dispose();
    // A training step too large for memory is refused before it starts (the notebook's batch of 800 at 784 pixels x 128).
    const big = new Rvae({ rotation: true, seed: 1 });
    const many = { data: new Float32Array(800 * 784), count: 800, height: 28, width: 28 };
    await expect(big.fit(many, { epochs: 1, batchSize: 800 })).rejects.toThrow(
      /at most 400 images per batch, pixelSubsample/,
    );
    big.dispose();
  });
});

describe('Rvae training', () => {
  it('is deterministic for a seed, and the seed matters', async () => {
    const data = images(40, 6);
    const run = async (seed: number) => {
      const model = new Rvae({ ...small, ...RVAE_MODELS.crvae, batchSize: 16, seed });
      const h = await model.fit(data, { epochs: 2 });
      const enc = await model.encode(data);
      model.dispose();
      return { losses: h.epochs.map((e) => e.loss), z: enc.z.data };
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(a.losses).toEqual(b.losses);
    expect(maxAbsDiff(a.z, b.z)).toBe(0);
    expect(a.losses[0]).not.toBe(c.losses[0]);
  });

  it('reports the loss terms, anneals beta, and stops on a signal', async () => {
    const model = new Rvae({
      ...small,
      rotation: true,
      batchSize: 20,
      pixelSubsample: 50,
      klAnnealing: { from: 1, startEpoch: 1, endEpoch: 3 },
      seed: 9,
    });
    const data = images(40, 7, false);
    const h = await model.fit(data, { epochs: 2, validation: 0.25 });
    expect(h.epochs.map((e) => e.beta)).toEqual([1, 2]);
    expect(h.trainRows).toBe(30);
    expect(h.epochs.every((e) => Number.isFinite(e.valLoss!))).toBe(true);
    expect(model.epochsTrained).toBe(2);
    const ev = model.evaluate(data);
    expect(ev.beta).toBe(3);
    expect(ev.negativeElbo).toBeCloseTo(ev.reconstruction + ev.kl, 3);
    expect(ev.objective).toBeCloseTo(ev.reconstruction + 3 * ev.kl, 3);
    expect(ev.kl).toBeGreaterThan(0);
    // The same seed gives the same evaluation; another seed another sample.
    expect(model.evaluate(data).objective).toBe(ev.objective);
    expect(model.evaluate(data, { seed: 1 }).objective).not.toBe(ev.objective);
    const controller = new AbortController();
    await expect(
      model.fit(data, {
        epochs: 5,
        signal: controller.signal,
        onEpoch: () => controller.abort(new Error('stopped by the test')),
      }),
    ).rejects.toThrow(/stopped by the test/);
    expect(model.epochsTrained).toBe(3);
    model.dispose();
  });
});

describe('Rvae model folder', () => {
  it('saves and loads: same encodings and decodings, epochs kept', async () => {
    const model = new Rvae({ ...small, ...RVAE_MODELS.crvae, batchSize: 20, seed: 10 });
    const data = images(20, 8);
    await model.fit(data, { epochs: 1 });
    const folder = path.join(dir, 'crvae');
    const info = await model.save(folder, { extra: { note: 'test' } });
    expect(info.kind).toBe('rvae');
    const loaded = await Rvae.load(folder);
    expect(loaded.options).toEqual(model.options);
    expect(loaded.epochsTrained).toBe(1);
    expect(loaded.savedInfo?.extra).toEqual({ note: 'test' });
    expect(model.savedInfo).toBeNull();
    const e1 = await model.encode(data);
    const e2 = await loaded.encode(data);
    expect(maxAbsDiff(e1.z.data, e2.z.data)).toBe(0);
    expect(maxAbsDiff(e1.angle, e2.angle)).toBe(0);
    const labels = Int32Array.from({ length: 20 }, (_, i) => i % 10);
    const d1 = await model.decode(e1.z, { angle: e1.angle, labels });
    const d2 = await loaded.decode(e2.z, { angle: e2.angle, labels });
    expect(maxAbsDiff(d1.data, d2.data)).toBe(0);
    model.dispose();
    loaded.dispose();
  });

  it('refuses missing, corrupt and foreign folders', async () => {
    await expect(Rvae.load(path.join(dir, 'nothing'))).rejects.toThrow(/does not exist/);
    const model = new Rvae({ ...small, seed: 11 });
    const folder = path.join(dir, 'vae');
    await model.save(folder);
    const weights = path.join(folder, 'weights.bin');
    const bytes = readFileSync(weights);
    bytes[10] ^= 0xff;
    writeFileSync(weights, bytes);
    await expect(Rvae.load(folder)).rejects.toThrow(/checksum mismatch/);
    await model.save(folder);
    const json = path.join(folder, 'soapix.json');
    const info = JSON.parse(readFileSync(json, 'utf8'));
    writeFileSync(json, JSON.stringify({ ...info, rvae: { ...info.rvae, decoderWidth: 17 } }));
    await expect(Rvae.load(folder)).rejects.toThrow(/do not fit/);
    writeFileSync(json, JSON.stringify({ ...info, rvae: { ...info.rvae, latentDim: -1 } }));
    await expect(Rvae.load(folder)).rejects.toThrow(/invalid model.*latentDim/);
    writeFileSync(json, '{ "format": "soapix-model", ');
    await expect(Rvae.load(folder)).rejects.toThrow(/not valid JSON/);
    const ae = Autoencoder.create({ inputDim: 4, codeDim: 2 });
    await ae.save(path.join(dir, 'ae'));
    await expect(Rvae.load(path.join(dir, 'ae'))).rejects.toThrow(/holds an autoencoder.*Autoencoder\.load/);
    ae.dispose();
    model.dispose();
  });
});
