/**
 * Training checkpoints (lib/ml/train/checkpoint.ts): a training stopped after an epoch and resumed
 * from its checkpoint ends with the same weights and logs, bit for bit, as the uninterrupted run;
 * damaged, foreign and unsupported states get clear errors. Also the generator state they rely on.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../lib/ml/backend';
import { Autoencoder, type AutoencoderTrainOptions } from '../lib/ml/models/autoencoder';
import { ConvAutoencoder } from '../lib/ml/models/conv-autoencoder';
import { MlpClassifier } from '../lib/ml/models/mlp';
import { Codae } from '../lib/ml/models/codae';
import { Rvae } from '../lib/ml/models/rvae';
import { xyrcsImages } from '../lib/data/xyrcs';
import {
  captureOptimizer,
  CheckpointError,
  checkpointProgress,
  fileCheckpoint,
  restoreOptimizer,
} from '../lib/ml/train/checkpoint';
import { Rng } from '../lib/util/random';

const dir = mkdtempSync(path.join(tmpdir(), 'soapix-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await selectBackend({ log: false });
});

describe('Rng state', () => {
  it('a generator given another one`s state continues with the same draws, normals included', () => {
    const a = new Rng(7);
    for (let i = 0; i < 5; i++) a.nextFloat();
    a.normal(); // leaves the pair's second value pending
    const b = new Rng(123);
    b.setState(a.getState());
    const drawA = [a.normal(), a.nextInt(1000), a.nextFloat(), a.normal()];
    const drawB = [b.normal(), b.nextInt(1000), b.nextFloat(), b.normal()];
    expect(drawB).toEqual(drawA);
    // The state is plain data: it survives JSON.
    const c = new Rng(0);
    c.setState(JSON.parse(JSON.stringify(a.getState())));
    expect(c.nextUint32()).toBe(a.nextUint32());
  });

  it('rejects states that are not four 32-bit words', () => {
    const r = new Rng(1);
    expect(() => r.setState({ words: [1, 2, 3], spareNormal: null })).toThrow(/four unsigned 32-bit/);
    expect(() => r.setState({ words: [0, 0, 0, 0], spareNormal: null })).toThrow(/not all be zero/);
    expect(() => r.setState({ words: [1, 2, 3, 2 ** 32], spareNormal: null })).toThrow(/four unsigned/);
    expect(() => r.setState({ words: [1, 2, 3, 4], spareNormal: Number.NaN })).toThrow(/spareNormal/);
  });
});

/** Rows with a low-dimensional structure, so the deep autoencoder has something to learn. */
function rowsOf(rows: number, cols: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const basis = Array.from({ length: 3 }, () => Array.from({ length: cols }, () => rng.normal()));
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const c = [rng.normal(), rng.normal(), rng.normal()];
    for (let j = 0; j < cols; j++) x[r * cols + j] = c[0]! * basis[0]![j]! + c[1]! * basis[1]![j]! + 0.1 * rng.normal();
  }
  return x;
}

describe('Autoencoder.train with a checkpoint', () => {
  const cols = 10;
  const data = { x: rowsOf(300, cols, 3), rows: 300, cols };
  const config = {
    inputDim: cols,
    codeDim: 3,
    kind: 'deep' as const,
    hiddenMultiplier: 2,
    learningRate: 0.01,
    seed: 5,
  };
  // Early stopping, a plateau schedule (patience 1 and minDelta 0.01 cut the rate from epoch 5 on) and best-weight restore:
  // every piece of state a checkpoint carries is exercised.
  const options: AutoencoderTrainOptions = {
    epochs: 9,
    batchSize: 32,
    validation: 0.2,
    earlyStopping: { patience: 6 },
    reduceLrOnPlateau: { patience: 1, factor: 0.5, minLearningRate: 1e-5, minDelta: 0.01 },
  };
  const strip = (h: { epochs: { seconds: number; samplesPerSecond: number }[] }) =>
    h.epochs.map(({ seconds: _s, samplesPerSecond: _p, ...rest }) => rest);

  it('stopped after epoch 4 and resumed, ends bit for bit where the uninterrupted run ends', async () => {
    const whole = Autoencoder.create(config);
    const hWhole = await whole.train(data, options);
    const wWhole = whole.getWeights();
    whole.dispose();
    expect(hWhole.epochs.length).toBe(9);
    expect(new Set(hWhole.epochs.map((e) => e.learningRate)).size).toBeGreaterThan(1);

    const file = path.join(dir, 'ae.ckpt');
    const ac = new AbortController();
    const first = Autoencoder.create(config);
    await expect(
      first.train(data, {
        ...options,
        signal: ac.signal,
        checkpoint: fileCheckpoint(file, { everySeconds: 0 }),
        onEpoch: (e) => {
          if (e.epoch === 4) ac.abort(new Error('stopped for the test'));
        },
      }),
    ).rejects.toThrow(/stopped for the test/);
    first.dispose();
    const saved = await fileCheckpoint(file).load();
    expect(saved?.epoch).toBe(4);
    // The header alone tells how far it got (the runner's ETA reads only that).
    expect(await checkpointProgress(file)).toEqual({ epoch: 4, stopped: false });

    // A fresh model (other initial weights would not matter: they are replaced) continues.
    const second = Autoencoder.create({ ...config });
    const resumedEpochs: number[] = [];
    const hResumed = await second.train(data, {
      ...options,
      checkpoint: fileCheckpoint(file, { everySeconds: 0 }),
      onEpoch: (e) => {
        resumedEpochs.push(e.epoch);
      },
    });
    expect(resumedEpochs).toEqual([5, 6, 7, 8, 9]);
    const wResumed = second.getWeights();
    second.dispose();
    expect(wResumed.length).toBe(wWhole.length);
    wResumed.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(wWhole[i]!.buffer))).toBe(true));
    expect(strip(hResumed)).toEqual(strip(hWhole));
    expect(hResumed.bestEpoch).toBe(hWhole.bestEpoch);
    expect(hResumed.finalLearningRate).toBe(hWhole.finalLearningRate);
    // The finished training's end state stays: a rerun returns the same result without training.
    const again = Autoencoder.create({ ...config });
    let epochsRun = 0;
    const hAgain = await again.train(data, {
      ...options,
      checkpoint: fileCheckpoint(file, { everySeconds: 0 }),
      onEpoch: () => {
        epochsRun++;
      },
    });
    expect(epochsRun).toBe(0);
    again
      .getWeights()
      .forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(wWhole[i]!.buffer))).toBe(true));
    expect(strip(hAgain)).toEqual(strip(hWhole));
    again.dispose();
    await fileCheckpoint(file).remove();
    expect(existsSync(file)).toBe(false);
  });

  it('a training that early stopping ended is not trained again; one with more epochs continues', async () => {
    const file = path.join(dir, 'stopped.ckpt');
    const stopping = { ...options, epochs: 40, earlyStopping: { patience: 2, minDelta: 0.05 } };
    const first = Autoencoder.create(config);
    const h1 = await first.train(data, { ...stopping, checkpoint: fileCheckpoint(file) });
    const w1 = first.getWeights();
    first.dispose();
    expect(h1.stoppedEarly).toBe(true);
    expect(await checkpointProgress(file)).toEqual({ epoch: h1.epochs.length, stopped: true });
    const second = Autoencoder.create(config);
    let epochsRun = 0;
    const h2 = await second.train(data, {
      ...stopping,
      epochs: 80,
      checkpoint: fileCheckpoint(file),
      onEpoch: () => {
        epochsRun++;
      },
    });
    expect(epochsRun).toBe(0);
    expect(h2.stoppedEarly).toBe(true);
    expect(h2.bestEpoch).toBe(h1.bestEpoch);
    second.getWeights().forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(w1[i]!)));
    second.dispose();

    // 9 epochs, then 12 from the same checkpoint: equal to 12 in one go.
    const more = path.join(dir, 'more.ckpt');
    const plain = { ...options, earlyStopping: undefined };
    const nine = Autoencoder.create(config);
    await nine.train(data, { ...plain, epochs: 9, checkpoint: fileCheckpoint(more) });
    nine.dispose();
    const twelve = Autoencoder.create(config);
    const hMore = await twelve.train(data, { ...plain, epochs: 12, checkpoint: fileCheckpoint(more) });
    const wMore = twelve.getWeights();
    twelve.dispose();
    const straight = Autoencoder.create(config);
    const hStraight = await straight.train(data, { ...plain, epochs: 12 });
    const wStraight = straight.getWeights();
    straight.dispose();
    expect(hMore.epochs.length).toBe(12);
    expect(strip(hMore)).toEqual(strip(hStraight));
    wMore.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(wStraight[i]!)));
  });

  it('a damaged, truncated or foreign checkpoint is refused with the file named; nothing is overwritten', async () => {
    const file = path.join(dir, 'bad.ckpt');
    const ac = new AbortController();
    const ae = Autoencoder.create(config);
    await expect(
      ae.train(data, {
        ...options,
        signal: ac.signal,
        checkpoint: fileCheckpoint(file, { everySeconds: 0 }),
        onEpoch: (e) => {
          if (e.epoch === 2) ac.abort(new Error('stop'));
        },
      }),
    ).rejects.toThrow(/stop/);
    ae.dispose();
    const good = readFileSync(file);
    const resume = async (opts: Partial<AutoencoderTrainOptions> = {}, cfg = config) => {
      const m = Autoencoder.create(cfg);
      try {
        await m.train(data, { ...options, ...opts, checkpoint: fileCheckpoint(file) });
      } finally {
        m.dispose();
      }
    };

    const flipped = Buffer.from(good);
    flipped[flipped.length - 3]! ^= 0x40;
    writeFileSync(file, flipped);
    await expect(resume()).rejects.toThrow(CheckpointError);
    await expect(resume()).rejects.toThrow(/bad\.ckpt: checksum mismatch.*delete the file/);
    writeFileSync(file, good.subarray(0, good.length - 8));
    await expect(resume()).rejects.toThrow(/bytes of arrays/);
    writeFileSync(file, good.subarray(0, 2));
    await expect(resume()).rejects.toThrow(/truncated/);
    expect(await checkpointProgress(file)).toBeNull();
    writeFileSync(file, good.subarray(0, 40));
    expect(await checkpointProgress(file)).toBeNull();
    writeFileSync(file, Buffer.from('{"not": "a checkpoint"}'));
    await expect(resume()).rejects.toThrow(/bad\.ckpt/);
    expect(await checkpointProgress(file)).toBeNull();
    expect(await checkpointProgress(path.join(dir, 'absent.ckpt'))).toBeNull();

    writeFileSync(file, good);
    await expect(resume({ seed: 99 })).rejects.toThrow(/belongs to another training/);
    await expect(resume({ batchSize: 16 })).rejects.toThrow(/belongs to another training/);
    await expect(resume({}, { ...config, hiddenMultiplier: 3 })).rejects.toThrow(/belongs to another training/);
    // The refused runs left the file as it was.
    expect(readFileSync(file).equals(good)).toBe(true);
  });

  it('an image autoencoder (the trainer of the equivariant experiment) resumes to the same weights', async () => {
    const images = { data: new Float32Array(40 * 144), count: 40, height: 12, width: 12 };
    const rng = new Rng(4);
    for (let i = 0; i < images.data.length; i++) images.data[i] = rng.nextFloat();
    const fitOptions = { epochs: 4, batchSize: 8, validation: 0.25, earlyStopping: false as const };
    const make = () => new ConvAutoencoder({ imageSize: 12, widths: [2, 3], codeSize: 4, seed: 5 });
    const whole = make();
    const hWhole = await whole.fit(images, fitOptions);
    const file = path.join(dir, 'conv.ckpt');
    const ac = new AbortController();
    const first = make();
    await expect(
      first.fit(images, {
        ...fitOptions,
        signal: ac.signal,
        checkpoint: fileCheckpoint(file, { everySeconds: 0 }),
        onEpoch: (e) => {
          if (e.epoch === 2) ac.abort(new Error('stop'));
        },
      }),
    ).rejects.toThrow(/stop/);
    const second = make();
    const hResumed = await second.fit(images, { ...fitOptions, checkpoint: fileCheckpoint(file) });
    expect(strip(hResumed)).toEqual(strip(hWhole));
    const a = await whole.encode(images);
    const b = await second.encode(images);
    expect(Buffer.from(b.data.buffer).equals(Buffer.from(a.data.buffer))).toBe(true);
    for (const m of [whole, first, second]) m.dispose();
  });

  it('Adam restored from its captured state takes the same next step, after many steps too', async () => {
    const start = tf.tensor1d([0.3, -1.2, 2.5]);
    const grad = (v: tf.Variable) => tf.tidy(() => tf.add(tf.mul(v, 0.7), tf.sin(v)));
    const a = tf.variable(start.clone());
    const adam = tf.train.adam(0.01);
    for (let t = 0; t < 3000; t++) adam.applyGradients([{ name: a.name, tensor: grad(a) }]);
    const state = await captureOptimizer(adam);
    expect(state.iterations).toBe(3000);
    const b = tf.variable(a.clone());
    const fresh = tf.train.adam(0.01);
    await restoreOptimizer(fresh, state, [[3]]);
    for (let t = 0; t < 5; t++) {
      adam.applyGradients([{ name: a.name, tensor: grad(a) }]);
      fresh.applyGradients([{ name: b.name, tensor: grad(b) }]);
    }
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([start, a, b]);
    adam.dispose();
    fresh.dispose();
  });

  it('models with random state of their own, and optimizers other than Adam, are refused', async () => {
    const mlp = MlpClassifier.create({ inputDim: 4, classes: 2, hidden: [4], seed: 1 });
    const x = new Float32Array(40).map((_, i) => (i % 7) / 7);
    const y = Int32Array.from({ length: 10 }, (_, i) => i % 2);
    await expect(
      mlp.train({ x, y, rows: 10, cols: 4 }, {
        epochs: 1,
        checkpoint: fileCheckpoint(path.join(dir, 'mlp.ckpt')),
      } as never),
    ).rejects.toThrow(/checkpoints are not supported for this model/);
    mlp.dispose();

    const v = tf.variable(tf.zeros([2]));
    const sgd = tf.train.sgd(0.1);
    sgd.applyGradients({ [v.name]: tf.ones([2]) });
    await expect(captureOptimizer(sgd)).rejects.toThrow(/only Adam's state can be saved, got SGD/);
    sgd.dispose();
    v.dispose();
    expect(() => fileCheckpoint(path.join(dir, 'x.ckpt'), { everySeconds: -1 })).toThrow(/everySeconds/);
  });
});

describe('models with random state of their own resume exactly (FitHooks.state)', () => {
  /** Trains `make()` whole, and again stopped after epoch 2 and resumed in a fresh model; compares `probe`. */
  async function resumesExactly<M extends { dispose(): void }>(
    name: string,
    make: () => M,
    fit: (m: M, extra: object) => Promise<{ epochs: object[] }>,
    probe: (m: M) => Promise<Float32Array>,
  ): Promise<void> {
    const whole = make();
    const hWhole = await fit(whole, {});
    const file = path.join(dir, `${name}.ckpt`);
    const ac = new AbortController();
    const first = make();
    await expect(
      fit(first, {
        signal: ac.signal,
        checkpoint: fileCheckpoint(file, { everySeconds: 0 }),
        onEpoch: (e: { epoch: number }) => {
          if (e.epoch === 2) ac.abort(new Error('stop'));
        },
      }),
    ).rejects.toThrow(/stop/);
    const second = make();
    const hResumed = await fit(second, { checkpoint: fileCheckpoint(file) });
    const timeless = (h: { epochs: object[] }) => h.epochs.map((e) => ({ ...e, seconds: 0, samplesPerSecond: 0 }));
    expect(timeless(hResumed)).toEqual(timeless(hWhole));
    const a = await probe(whole);
    const b = await probe(second);
    expect(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(Buffer.from(a.buffer, a.byteOffset, a.byteLength)),
    ).toBe(true);
    for (const m of [whole, first, second]) m.dispose();
  }

  it('the rVAE (sampling noise, pixel subsets, KL annealing)', async () => {
    const images = xyrcsImages({ count: 40, seed: 2 });
    await resumesExactly(
      'rvae',
      () =>
        new Rvae({
          rotation: true,
          latentDim: 2,
          height: images.height,
          width: images.width,
          decoderWidth: 16,
          encoderWidth: 16,
          batchSize: 16,
          pixelSubsample: 100,
          klAnnealing: { from: 0, endEpoch: 4 },
          seed: 2,
        }),
      (m, extra) => m.fit(images, { epochs: 4, ...extra }),
      async (m) => (await m.encode(images)).z.data,
    );
  });

  it('CODAE (pixel subsets, the moment-loss weight over steps)', async () => {
    const images = xyrcsImages({ count: 32, seed: 1 });
    await resumesExactly(
      'codae',
      () => new Codae({ widths: [2, 4, 4], hidden: 8, decoderWidth: 8, pixelSubsample: 128, batchSize: 16, seed: 3 }),
      (m, extra) => m.fit(images, { epochs: 4, ...extra }),
      async (m) => (await m.encode(images)).z.data,
    );
  });
});
