/**
 * `Sum` for wasm over leading axes: out[j] = sum over r of x[r, j], with x seen as
 * [outer, inner]. That is the bias gradient of a dense or conv layer (summed over the batch and
 * the positions); the shipped kernel first transposes the reduced axes to the end, a large cost in
 * a conv net's training step. Sums run in double precision, as on the cpu backend
 * (docs/ML-BACKEND.md).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';

import type { KernelArgs, WasmHeapBackend } from './wasm-calls';

/**
 * `Sum` for wasm when the reduced axes lead (axes 0..r-1 of the shape, e.g. the bias gradient of
 * a dense or conv layer, summed over batch and positions): the shipped kernel transposes them to
 * the end first. Here a JavaScript loop adds rows in double precision (as the cpu backend does).
 * Every other reduction goes to the kernel as shipped.
 */
export function sumWasm(original: KernelFunc): KernelFunc {
  const fn = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { backend } = args;
    const x = (args.inputs as { x: TensorInfo }).x;
    const attrs = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== 'float32') return original(args);
    const axes = tf.util.parseAxisParam(attrs.axis, x.shape);
    const lead = axes.length;
    const sorted = [...axes].sort((a, b) => a - b);
    if (lead === 0 || lead === x.shape.length || !sorted.every((a, i) => a === i)) return original(args);
    const outer = x.shape.slice(0, lead).reduce((p, d) => p * d, 1);
    const inner = x.shape.slice(lead).reduce((p, d) => p * d, 1);
    if (outer * inner === 0) return original(args);
    const outShape = attrs.keepDims ? x.shape.map((d, i) => (i < lead ? 1 : d)) : x.shape.slice(lead);
    const wb = backend as WasmHeapBackend;
    const out = wb.makeOutput(outShape, 'float32');
    const src = wb.typedArrayFromHeap(x) as Float32Array;
    const dst = wb.typedArrayFromHeap(out) as Float32Array;
    const acc = new Float64Array(inner);
    // Four rows at a time: a quarter of the loads and stores of the accumulators.
    let r = 0;
    for (; r + 4 <= outer; r += 4) {
      const o0 = r * inner;
      const o1 = o0 + inner;
      const o2 = o1 + inner;
      const o3 = o2 + inner;
      for (let j = 0; j < inner; j++) acc[j] += src[o0 + j] + src[o1 + j] + src[o2 + j] + src[o3 + j];
    }
    for (; r < outer; r++) {
      const o = r * inner;
      for (let j = 0; j < inner; j++) acc[j] += src[o + j];
    }
    dst.set(acc);
    return out;
  };
  return fn as KernelFunc;
}
