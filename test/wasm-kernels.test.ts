/**
 * The wasm backend's kernel fixes (lib/ml/kernels/): each kernel against the cpu backend on the same
 * inputs, gradients included, and installing/removing them (docs/ML-BACKEND.md).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../lib/ml/backend';
import { installWasmKernelFixes, removeWasmKernelFixes, wasmKernelFixes } from '../lib/ml/kernels/install';
import { Rng } from '../lib/util/random';

const quiet = { log: false as const };

/** Deterministic pseudo-random values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * rng.nextFloat() - 1;
  return a;
}

/** max |a - b| / max(1, max |b|). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let s = 1;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

/** Runs `f` on each backend and returns its outputs as plain arrays. */
async function onBackends(names: string[], f: () => tf.Tensor): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const name of names) {
    await tf.setBackend(name);
    out[name] = tf.tidy(() => f().dataSync() as Float32Array).slice();
  }
  return out;
}

describe('wasm kernel fixes', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm', ...quiet });
    expect(wasmKernelFixes()).toHaveLength(8);
  });

  // Shapes: plain 2-D, batched 3-D, and broadcast batch dimensions.
  const shapes: { batchA: number[]; batchB: number[] }[] = [
    { batchA: [], batchB: [] },
    { batchA: [3], batchB: [3] },
    { batchA: [2, 3], batchB: [2, 3] },
    { batchA: [3], batchB: [1] },
    { batchA: [1], batchB: [3] },
  ];
  const m = 37;
  const k = 53;
  const n = 29;
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      for (const { batchA, batchB } of shapes) {
        const aShape = [...batchA, ...(transposeA ? [k, m] : [m, k])];
        const bShape = [...batchB, ...(transposeB ? [n, k] : [k, n])];
        it(`BatchMatMul and _FusedMatMul equal cpu: transposeA=${transposeA} transposeB=${transposeB} a=[${aShape}] b=[${bShape}]`, async () => {
          const a = values(
            aShape.reduce((p, d) => p * d, 1),
            1,
          );
          const b = values(
            bShape.reduce((p, d) => p * d, 1),
            2,
          );
          const bias = values(n, 3);
          const plain = await onBackends(['wasm', 'cpu'], () =>
            tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), transposeA, transposeB),
          );
          expect(relErr(plain.wasm, plain.cpu)).toBeLessThan(1e-6);
          const fused = await onBackends(['wasm', 'cpu'], () =>
            tf.fused.matMul({
              a: tf.tensor(a, aShape),
              b: tf.tensor(b, bShape),
              transposeA,
              transposeB,
              bias: tf.tensor1d(bias),
              activation: 'relu',
            }),
          );
          expect(relErr(fused.wasm, fused.cpu)).toBeLessThan(1e-6);
          await tf.setBackend('wasm');
        });
      }
    }
  }

  it('the BatchMatMul fix leaves no tensors behind and matches the kernel as shipped', async () => {
    const a = values(64 * 48, 4);
    const b = values(40 * 48, 5);
    const run = (): Float32Array =>
      tf
        .tidy(
          () => tf.matMul(tf.tensor2d(a, [64, 48]), tf.tensor2d(b, [40, 48]), false, true).dataSync() as Float32Array,
        )
        .slice();
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const fixed = run();
    expect(tf.memory().numTensors).toBe(before);
    removeWasmKernelFixes();
    try {
      const shipped = run();
      expect(relErr(fixed, shipped)).toBeLessThan(1e-6);
    } finally {
      installWasmKernelFixes();
    }
  });

  const convCases: { pad: 'valid' | 'same' | number; strides: number | [number, number] }[] = [
    { pad: 'valid', strides: 1 },
    { pad: 'same', strides: 1 },
    { pad: 'same', strides: 2 },
    { pad: 'valid', strides: 2 },
    { pad: 'valid', strides: [2, 1] },
    { pad: 'same', strides: [1, 2] },
    { pad: 1, strides: 1 },
  ];
  for (const { pad, strides } of convCases) {
    it(`Conv2DBackpropFilter equals the cpu gradient: pad=${pad} strides=${JSON.stringify(strides)}`, async () => {
      const xv = values(2 * 9 * 8 * 3, 6);
      const wv = values(3 * 3 * 3 * 4, 7);
      const g = await onBackends(['wasm', 'cpu'], () => {
        const x = tf.tensor4d(xv, [2, 9, 8, 3]);
        const loss = (w: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.conv2d(x, w as tf.Tensor4D, strides, pad)));
        return tf.grad(loss)(tf.tensor4d(wv, [3, 3, 3, 4]));
      });
      expect(relErr(g.wasm, g.cpu)).toBeLessThan(1e-6);
      await tf.setBackend('wasm');
    });
  }

  it('Conv2DBackpropFilter kernel equals cpu for NCHW data and a 1x1 filter', async () => {
    const xv = values(2 * 3 * 7 * 6, 8);
    const dyNCHW = values(2 * 4 * 4 * 3, 9);
    const nchw = await onBackends(
      ['wasm', 'cpu'],
      () =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: tf.tensor4d(xv, [2, 3, 7, 6]), dy: tf.tensor4d(dyNCHW, [2, 4, 4, 3]) },
            {
              strides: 2,
              pad: 'same',
              dataFormat: 'NCHW',
              dimRoundingMode: undefined,
              filterShape: [3, 2, 3, 4],
            } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
    );
    expect(relErr(nchw.wasm, nchw.cpu)).toBeLessThan(1e-6);
    const dy1 = values(2 * 7 * 6 * 5, 10);
    const one = await onBackends(
      ['wasm', 'cpu'],
      () =>
        tf
          .engine()
          .runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(xv, [2, 7, 6, 3]), dy: tf.tensor4d(dy1, [2, 7, 6, 5]) }, {
            strides: 1,
            pad: 'valid',
            dataFormat: 'NHWC',
            dimRoundingMode: undefined,
            filterShape: [1, 1, 3, 5],
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
    );
    expect(relErr(one.wasm, one.cpu)).toBeLessThan(1e-6);
    // Numeric padding with stride 2 (pad + strided slices). (TensorFlow.js computes the output
    // size of numeric padding from the filter height and row stride only, so unequal strides
    // or non-square filters with a numeric pad are wrong on every backend; not tested.)
    const dyPad = values(2 * 4 * 3 * 4, 12);
    const padded = await onBackends(
      ['wasm', 'cpu'],
      () =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: tf.tensor4d(xv, [2, 7, 6, 3]), dy: tf.tensor4d(dyPad, [2, 4, 3, 4]) },
            {
              strides: 2,
              pad: 1,
              dataFormat: 'NHWC',
              dimRoundingMode: undefined,
              filterShape: [3, 3, 3, 4],
            } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
    );
    expect(relErr(padded.wasm, padded.cpu)).toBeLessThan(1e-6);
    await tf.setBackend('wasm');
  });

  const inputCases: {
    shape: [number, number, number, number];
    filter: [number, number, number, number];
    pad: 'valid' | 'same' | number;
    strides: number | [number, number];
  }[] = [
    { shape: [2, 9, 8, 3], filter: [3, 3, 3, 4], pad: 'valid', strides: 1 },
    { shape: [2, 9, 8, 3], filter: [3, 3, 3, 4], pad: 'same', strides: 1 },
    { shape: [2, 9, 8, 3], filter: [3, 3, 3, 4], pad: 'same', strides: 2 },
    { shape: [3, 7, 7, 5], filter: [3, 3, 5, 2], pad: 'valid', strides: 2 },
    { shape: [2, 9, 8, 3], filter: [3, 2, 3, 4], pad: 'valid', strides: [2, 1] },
    { shape: [3, 11, 11, 16], filter: [3, 3, 16, 32], pad: 'valid', strides: 1 },
    { shape: [2, 8, 9, 2], filter: [5, 5, 2, 3], pad: 'same', strides: [1, 2] },
    { shape: [2, 9, 9, 3], filter: [3, 3, 3, 4], pad: 1, strides: 2 },
  ];
  for (const { shape, filter, pad, strides } of inputCases) {
    it(`Conv2DBackpropInput equals the cpu gradient: x=[${shape}] w=[${filter}] pad=${pad} strides=${JSON.stringify(strides)}`, async () => {
      const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);
      const xv = values(size(shape), 21);
      const wv = values(size(filter), 22);
      const g = await onBackends(['wasm', 'cpu'], () => {
        const w = tf.tensor4d(wv, filter);
        // A weighted sum, so that every output position sends back a different gradient.
        const loss = (x: tf.Tensor): tf.Scalar => {
          const y = tf.conv2d(x as tf.Tensor4D, w, strides, pad);
          return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))));
        };
        return tf.grad(loss)(tf.tensor4d(xv, shape));
      });
      expect(g.cpu.some((v) => v !== 0)).toBe(true);
      expect(relErr(g.wasm, g.cpu)).toBeLessThan(1e-5);
      await tf.setBackend('wasm');
    });
  }

  it('Conv2DBackpropInput kernel equals cpu for NCHW data, and dilated convolutions still work', async () => {
    const dyv = values(2 * 4 * 4 * 3, 23);
    const wv = values(3 * 3 * 5 * 4, 24);
    const attrs = {
      strides: 2,
      pad: 'same',
      dataFormat: 'NCHW',
      dimRoundingMode: undefined,
      inputShape: [2, 5, 7, 6],
    } as unknown as tf.NamedAttrMap;
    const nchw = await onBackends(
      ['wasm', 'cpu'],
      () =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropInput',
            { dy: tf.tensor4d(dyv, [2, 4, 4, 3]), filter: tf.tensor4d(wv, [3, 3, 5, 4]) },
            attrs,
          ) as tf.Tensor,
    );
    expect(nchw.wasm.length).toBe(2 * 5 * 7 * 6);
    expect(relErr(nchw.wasm, nchw.cpu)).toBeLessThan(1e-5);
    // Dilation 2: the forward pass runs on wasm; the gradient with respect to x as well (tfjs
    // computes it through the dilated form's own path, not through a dilated Conv2DBackpropInput).
    const xv = values(2 * 9 * 9 * 3, 25);
    const wd = values(3 * 3 * 3 * 2, 26);
    const dil = await onBackends(['wasm', 'cpu'], () =>
      tf.conv2d(tf.tensor4d(xv, [2, 9, 9, 3]), tf.tensor4d(wd, [3, 3, 3, 2]), 1, 'valid', 'NHWC', 2),
    );
    expect(relErr(dil.wasm, dil.cpu)).toBeLessThan(1e-5);
    await tf.setBackend('wasm');
  });

  const poolCases: {
    shape: [number, number, number, number];
    size: number | [number, number];
    strides: number | [number, number];
    pad: 'valid' | 'same' | number;
  }[] = [
    { shape: [2, 11, 11, 16], size: 2, strides: 2, pad: 'valid' },
    { shape: [3, 3, 3, 32], size: 2, strides: 2, pad: 'valid' },
    { shape: [2, 7, 8, 3], size: 2, strides: 2, pad: 'same' },
    { shape: [2, 7, 8, 3], size: 3, strides: 1, pad: 'same' },
    { shape: [2, 9, 7, 5], size: 3, strides: 2, pad: 'valid' },
    { shape: [1, 8, 8, 2], size: [3, 2], strides: [1, 2], pad: 1 },
  ];
  for (const { shape, size, strides, pad } of poolCases) {
    for (const ties of [false, true]) {
      it(`MaxPoolGrad equals the cpu gradient: x=[${shape}] size=${JSON.stringify(size)} strides=${JSON.stringify(strides)} pad=${pad}${ties ? ', many ties' : ''}`, async () => {
        const n = shape.reduce((p, d) => p * d, 1);
        // With ties, values come from {-1, 0, 1}: most windows hold equal maxima, and the gradient
        // must go to the same one (the first in row-major order) as on cpu.
        const xv = ties ? values(n, 31).map((v) => Math.round(v)) : values(n, 32);
        const g = await onBackends(['wasm', 'cpu'], () => {
          const loss = (x: tf.Tensor): tf.Scalar => {
            const y = tf.maxPool(x as tf.Tensor4D, size, strides, pad);
            return tf.sum(tf.mul(y, tf.add(tf.range(0, y.size).reshape(y.shape), 1)));
          };
          return tf.grad(loss)(tf.tensor4d(xv, shape));
        });
        expect(g.cpu.some((v) => v !== 0)).toBe(true);
        expect(relErr(g.wasm, g.cpu)).toBeLessThan(1e-6);
        await tf.setBackend('wasm');
      });
    }
  }

  it('Sum equals cpu over leading axes (the fix) and other axes (the shipped kernel)', async () => {
    const xv = values(3 * 5 * 4 * 6, 33);
    const cases: { axis: number | number[]; keepDims: boolean }[] = [
      { axis: [0, 1, 2], keepDims: false },
      { axis: 0, keepDims: true },
      { axis: [1, 0], keepDims: false },
      { axis: [0, 1, 2, 3], keepDims: false },
      { axis: [1, 2], keepDims: false },
      { axis: -1, keepDims: true },
    ];
    for (const { axis, keepDims } of cases) {
      const r = await onBackends(['wasm', 'cpu'], () => tf.sum(tf.tensor4d(xv, [3, 5, 4, 6]), axis, keepDims));
      expect(relErr(r.wasm, r.cpu), JSON.stringify(axis)).toBeLessThan(1e-5);
      await tf.setBackend('wasm');
      const shape = tf.tidy(() => tf.sum(tf.tensor4d(xv, [3, 5, 4, 6]), axis, keepDims).shape);
      await tf.setBackend('cpu');
      expect(tf.tidy(() => tf.sum(tf.tensor4d(xv, [3, 5, 4, 6]), axis, keepDims).shape)).toEqual(shape);
    }
    await tf.setBackend('wasm');
  });

  it('the paper CNN: gradients on wasm equal cpu and central finite differences', async () => {
    // conv 16 3x3 valid + ReLU, maxPool 2, conv 32 3x3 valid + ReLU, maxPool 2, dense 64 ReLU,
    // dense 10, softmax cross-entropy; 13x13x1 input, batch 3.
    const shapes: [string, number[]][] = [
      ['w1', [3, 3, 1, 16]],
      ['b1', [16]],
      ['w2', [3, 3, 16, 32]],
      ['b2', [32]],
      ['w3', [32, 64]],
      ['b3', [64]],
      ['w4', [64, 10]],
      ['b4', [10]],
    ];
    const init: Record<string, Float32Array> = {};
    shapes.forEach(([name, shape], i) => {
      const n = shape.reduce((p, d) => p * d, 1);
      const fanIn = shape.length > 1 ? shape.slice(0, -1).reduce((p, d) => p * d, 1) : 10;
      const scale = Math.sqrt(3 / fanIn);
      init[name] = values(n, 40 + i).map((v) => v * scale);
    });
    const xv = values(3 * 13 * 13, 50);
    const labels = [1, 7, 4];
    const lossOf = (p: Record<string, tf.Tensor>): tf.Scalar => {
      const x = tf.tensor4d(xv, [3, 13, 13, 1]);
      let h = tf.relu(tf.add(tf.conv2d(x, p.w1 as tf.Tensor4D, 1, 'valid'), p.b1)) as tf.Tensor4D;
      h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.relu(tf.add(tf.conv2d(h, p.w2 as tf.Tensor4D, 1, 'valid'), p.b2)) as tf.Tensor4D;
      h = tf.maxPool(h, 2, 2, 'valid');
      const f = tf.reshape(h, [3, 32]);
      const d = tf.relu(tf.add(tf.matMul(f, p.w3 as tf.Tensor2D), p.b3));
      const logits = tf.add(tf.matMul(d, p.w4 as tf.Tensor2D), p.b4);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits) as tf.Scalar;
    };
    const gradsOn = async (backend: string): Promise<Record<string, Float32Array>> => {
      await tf.setBackend(backend);
      const vars = Object.fromEntries(
        shapes.map(([name, shape]) => [
          name,
          tf.tidy(() => tf.variable(tf.tensor(init[name], shape), true, `cnncheck_${backend}_${name}`)),
        ]),
      );
      const { value, grads } = tf.variableGrads(() => lossOf(vars));
      const out = Object.fromEntries(
        shapes.map(([name]) => [name, (grads[`cnncheck_${backend}_${name}`].dataSync() as Float32Array).slice()]),
      );
      tf.dispose([value, ...Object.values(grads), ...Object.values(vars)]);
      return out;
    };
    const before = tf.memory().numTensors;
    const wasm = await gradsOn('wasm');
    const cpu = await gradsOn('cpu');
    for (const [name] of shapes) {
      expect(
        cpu[name].some((v) => v !== 0),
        name,
      ).toBe(true);
      expect(relErr(wasm[name], cpu[name]), name).toBeLessThan(1e-5);
    }
    // Central differences in float32 on wasm, for the three largest gradient entries of each
    // weight tensor: loss(w + eps) - loss(w - eps) over 2 eps.
    await tf.setBackend('wasm');
    // eps is small enough that no ReLU or max-pool choice flips (1e-2 flipped one), and large
    // enough that float32 rounding of the loss (about 2.5e-7) stays below 2e-4 of the slope.
    const eps = 1e-3;
    const lossAt = (name: string, index: number, delta: number): number =>
      tf.tidy(() => {
        const p = Object.fromEntries(
          shapes.map(([n, shape]) => {
            const v = init[n].slice();
            if (n === name) v[index] += delta;
            return [n, tf.tensor(v, shape)];
          }),
        );
        return lossOf(p).dataSync()[0];
      });
    let checked = 0;
    for (const [name] of shapes) {
      const g = wasm[name];
      const top = Array.from(g.keys())
        .sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]))
        .slice(0, 3);
      for (const i of top) {
        const fd = (lossAt(name, i, eps) - lossAt(name, i, -eps)) / (2 * eps);
        expect(Math.abs(fd - g[i]), `${name}[${i}]: finite difference ${fd}, gradient ${g[i]}`).toBeLessThan(
          1e-3 + 1e-2 * Math.abs(g[i]),
        );
        checked++;
      }
    }
    expect(checked).toBe(24);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a small conv net trains on wasm (it failed there before the fix)', async () => {
    await tf.setBackend('wasm');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [8, 8, 1],
          filters: 4,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 2,
          activation: 'softmax',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(1e-2), loss: 'sparseCategoricalCrossentropy' });
    const xs = tf.tensor4d(values(16 * 64, 11), [16, 8, 8, 1]);
    const ys = tf.tensor1d(
      Array.from({ length: 16 }, (_, i) => i % 2),
      'float32',
    );
    const h = await model.fit(xs, ys, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
    expect(h.history.loss.every((v) => Number.isFinite(v as number))).toBe(true);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
