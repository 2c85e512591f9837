/**
 * `MaxPoolGrad` for wasm: each pooling window sends its dy to the position of its maximum. The
 * shipped kernel is one of the largest costs of a conv net's training step on wasm; this one is a
 * JavaScript loop over the wasm heap with the cpu backend's tie rule (docs/ML-BACKEND.md).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';

import type { KernelArgs, WasmHeapBackend } from './wasm-calls';

interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * `MaxPoolGrad` for wasm, in JavaScript over the wasm heap: each pooling window sends its dy to
 * the position of its maximum, the first one in row-major window order when several are equal
 * (as the cpu backend does; a window of only NaN or -Infinity sends nothing).
 */
export function maxPoolGradWasm(original: KernelFunc): KernelFunc {
  const fn = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { backend } = args;
    const inputs = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const attrs = args.attrs as unknown as MaxPoolGradAttrs;
    const x = inputs.input;
    if (x.dtype !== 'float32' || inputs.dy.dtype !== 'float32' || x.shape.length !== 4) return original(args);
    const info = tf.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const { batchSize: n, inHeight, inWidth, inChannels: ch, outHeight, outWidth } = info;
    const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
    const wb = backend as WasmHeapBackend;
    const dx = wb.makeOutput(x.shape, 'float32');
    const xs = wb.typedArrayFromHeap(x) as Float32Array;
    const dys = wb.typedArrayFromHeap(inputs.dy) as Float32Array;
    const dst = wb.typedArrayFromHeap(dx) as Float32Array;
    dst.fill(0);
    if (dst.length === 0 || dys.length === 0) return dx;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const rowStride = inWidth * ch;
    // Offsets of the window's positions from its first one, in row-major order.
    const taps = fh * fw;
    const offsets = new Int32Array(taps);
    for (let i = 0; i < fh; i++) for (let j = 0; j < fw; j++) offsets[i * fw + j] = i * rowStride + j * ch;
    let g = 0; // index into dy, NHWC
    for (let b = 0; b < n; b++) {
      const xb = b * inHeight * rowStride;
      for (let p = 0; p < outHeight; p++) {
        const r0 = p * sh - top;
        const rMin = Math.max(0, r0);
        const rMax = Math.min(inHeight, r0 + fh);
        for (let q = 0; q < outWidth; q++, g += ch) {
          const c0 = q * sw - left;
          const cMin = Math.max(0, c0);
          const cMax = Math.min(inWidth, c0 + fw);
          const first = xb + rMin * rowStride + cMin * ch;
          if (rMax - rMin === fh && cMax - cMin === fw) {
            // The whole window lies inside the image: one loop over its positions.
            for (let d = 0; d < ch; d++) {
              const at0 = first + d;
              let best = xs[at0];
              let at = best > -Infinity ? at0 : -1;
              if (at < 0) best = -Infinity;
              for (let t = 1; t < taps; t++) {
                const i = at0 + offsets[t];
                const v = xs[i];
                if (v > best) {
                  best = v;
                  at = i;
                }
              }
              if (at >= 0) dst[at] += dys[g + d];
            }
            continue;
          }
          for (let d = 0; d < ch; d++) {
            let best = -Infinity;
            let at = -1;
            for (let r = rMin, rowAt = first + d; r < rMax; r++, rowAt += rowStride) {
              for (let col = cMin, i = rowAt; col < cMax; col++, i += ch) {
                const v = xs[i];
                if (v > best) {
                  best = v;
                  at = i;
                }
              }
            }
            if (at >= 0) dst[at] += dys[g + d];
          }
        }
      }
    }
    return dx;
  };
  return fn as KernelFunc;
}
