/**
 * The learning-rate schedule of the shared training loop (lib/ml/train/lr-schedule.ts): the
 * plateau rule on known loss sequences, setting a TensorFlow.js optimizer's rate between steps,
 * and the schedule inside Autoencoder.train, replayed on the logged validation losses.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../lib/ml/backend';
import { Autoencoder } from '../lib/ml/models/autoencoder';
import { Pca } from '../lib/ml/pca';
import { optimizerLearningRate, PlateauSchedule, setOptimizerLearningRate } from '../lib/ml/train/lr-schedule';
import { Rng } from '../lib/util/random';

beforeAll(async () => {
  await selectBackend({ log: false });
});

describe('PlateauSchedule', () => {
  it('cuts the rate after `patience` epochs without improvement, then counts again', () => {
    const s = new PlateauSchedule(1, { patience: 2, factor: 0.5, minLearningRate: 0.1 });
    const losses = [5, 4, 4, 4.5, 3, 3, 3, 3, 3, 3, 3, 3, 3];
    const rates = losses.map((v) => s.update(v));
    expect(rates).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.1, 0.1, 0.1]);
  });

  it('counts NaN as no improvement and honours minDelta', () => {
    const s = new PlateauSchedule(0.01, { patience: 1, minDelta: 0.5 });
    expect(s.update(10)).toBe(0.01);
    expect(s.update(Number.NaN)).toBe(0.005);
    expect(s.update(9.7)).toBe(0.0025); // an improvement smaller than minDelta
    expect(s.update(9)).toBe(0.0025);
  });

  it('rejects bad options with the name of the option', () => {
    expect(() => new PlateauSchedule(1, { patience: 0 })).toThrow(/patience must be an integer >= 1/);
    expect(() => new PlateauSchedule(1, { patience: 2, factor: 1 })).toThrow(/factor must be in \(0, 1\)/);
    expect(() => new PlateauSchedule(1, { patience: 2, minLearningRate: -1 })).toThrow(/minLearningRate/);
    expect(() => new PlateauSchedule(1, { patience: 2, minDelta: Number.NaN })).toThrow(/minDelta/);
  });
});

describe('setOptimizerLearningRate', () => {
  /** One step on loss = 3 v from v = 0 with the rate set to `lr` after construction at 1e-3. */
  function stepWith(make: (lr: number) => tf.Optimizer, lr: number): number {
    const v = tf.variable(tf.scalar(0));
    const opt = make(1e-3);
    setOptimizerLearningRate(opt, lr);
    expect(optimizerLearningRate(opt)).toBe(lr);
    opt.minimize(() => tf.mul(v, 3) as tf.Scalar);
    const out = v.dataSync()[0];
    v.dispose();
    opt.dispose();
    return out;
  }

  it('changes the next step of Adam (first step = -lr) and of SGD (-lr x gradient)', () => {
    expect(stepWith((lr) => tf.train.adam(lr), 0.25)).toBeCloseTo(-0.25, 5);
    expect(stepWith((lr) => tf.train.sgd(lr), 0.25)).toBeCloseTo(-0.75, 6);
  });
});

/** Rows with a wide eigenvalue spread: rank-4 signal with scales 8, 2, 0.5, 0.125 plus small noise. */
function illConditioned(rows: number, cols: number, seed: number, noise = 0.01): Float32Array {
  const rng = new Rng(seed);
  const u = () => rng.nextFloat() * 2 - 1;
  const scales = [8, 2, 0.5, 0.125];
  const basis = scales.map(() => Float64Array.from({ length: cols }, u));
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const coef = scales.map((s) => s * u());
    for (let j = 0; j < cols; j++) {
      let v = noise * u();
      for (let k = 0; k < scales.length; k++) v += coef[k] * basis[k][j];
      x[r * cols + j] = v;
    }
  }
  return x;
}

describe('Autoencoder.train with reduceLrOnPlateau', () => {
  it('logs the rate per epoch as the plateau rule gives it on the logged validation losses', async () => {
    const rows = 600;
    const cols = 12;
    const x = illConditioned(rows, cols, 3);
    // A rate this high makes the validation loss stall and jump: the rule has work to do.
    const ae = Autoencoder.create({ inputDim: cols, codeDim: 3, kind: 'linear', learningRate: 0.2, seed: 2 });
    const plateau = { patience: 2, factor: 0.5, minLearningRate: 1e-4 };
    const h = await ae.train(
      { x, rows, cols },
      { epochs: 25, batchSize: 32, validation: 0.25, reduceLrOnPlateau: plateau },
    );
    const replay = new PlateauSchedule(0.2, plateau);
    let expected = 0.2;
    for (const e of h.epochs) {
      expect(e.learningRate).toBe(expected);
      expected = replay.update(e.valLoss!);
    }
    expect(h.finalLearningRate).toBe(expected);
    expect(h.finalLearningRate).toBeLessThan(0.2);
    ae.dispose();
  });

  it('needs validation data', async () => {
    const ae = Autoencoder.create({ inputDim: 4, codeDim: 2 });
    const x = new Float32Array(40).fill(0.5);
    await expect(ae.train({ x, rows: 10, cols: 4 }, { epochs: 1, reduceLrOnPlateau: { patience: 1 } })).rejects.toThrow(
      /reduceLrOnPlateau needs validation data/,
    );
    ae.dispose();
  });

  it('rescues a too-high starting rate: a linear AE ends closer to PCA than at that rate held constant', async () => {
    const rows = 2000;
    const cols = 16;
    const all = illConditioned(rows + 500, cols, 5, 0.05);
    const x = all.subarray(0, rows * cols);
    const val = { x: all.subarray(rows * cols), rows: 500, cols };
    const pcaMse = Pca.fit(x, rows, cols).reconstructionMse(val.x, val.rows, 4);
    const train = async (learningRate: number, schedule: boolean): Promise<number> => {
      const ae = Autoencoder.create({ inputDim: cols, codeDim: 4, kind: 'linear', learningRate, seed: 1 });
      await ae.train(
        { x, rows, cols },
        {
          epochs: 60,
          batchSize: 64,
          validation: val,
          ...(schedule ? { reduceLrOnPlateau: { patience: 3 } } : {}),
        },
      );
      const mse = ae.reconstructionMse(val);
      ae.dispose();
      return mse;
    };
    // At a rate this high Adam's steps keep the constant-rate run far from the optimum (measured:
    // 28x PCA's error); the cuts let the same start settle (4.3x in 60 epochs).
    const constant = await train(0.1, false);
    const cut = await train(0.1, true);
    expect(cut).toBeLessThan(0.5 * constant);
    expect(cut).toBeGreaterThanOrEqual(pcaMse * 0.999);
  }, 60_000);
});
