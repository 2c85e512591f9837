/**
 * The two gradients of a 2-D convolution for wasm: `Conv2DBackpropFilter` (dW, which the wasm
 * backend lacks, so a conv layer cannot train on wasm without it) and `Conv2DBackpropInput` (dx,
 * which the shipped kernel computes in a slow direct loop). Both are one fast-path matrix product
 * plus an im2col (dW) or col2im (dx) loop over wasm memory, and both take the forward
 * convolution's geometry from {@link conv2DGradInfo}. Results equal the cpu backend's gradients
 * to float32 rounding (docs/ML-BACKEND.md).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';

import { disposeAll, keepIn, run1, type KernelArgs, type WasmHeapBackend } from './wasm-calls';

/** Attributes the two conv2d gradient kernels share. */
interface Conv2DGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface Conv2DBackpropFilterAttrs extends Conv2DGradAttrs {
  filterShape: [number, number, number, number];
}

/** The forward convolution's geometry (dilation 1), as TensorFlow.js computes it. */
function conv2DGradInfo(
  inputShape: readonly number[],
  filterShape: readonly number[],
  attrs: Conv2DGradAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

/**
 * `Conv2DBackpropFilter` for wasm: dW[i, j, c, :] = sum over batch and output positions of
 * x[n, oh*sh + i - top, ow*sw + j - left, c] dy[n, oh, ow, :] (zero outside the image), as one
 * matrix product of a transposed im2col matrix and dy, reshaped to the filter shape.
 * Dilations are 1 (TensorFlow.js's conv2d gradient supports no other).
 */
export function conv2DBackpropFilterWasm(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const inputs = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = conv2DGradInfo(inputs.x.shape, attrs.filterShape, attrs);
  const { batchSize: n, inHeight, inWidth, inChannels: cin, outChannels: cout, outHeight, outWidth } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => keepIn(temps, t);
  try {
    let x = inputs.x;
    let dy = inputs.dy;
    if (info.dataFormat === 'channelsFirst') {
      x = keep(run1('Transpose', backend, { x }, { perm: [0, 2, 3, 1] }));
      dy = keep(run1('Transpose', backend, { x: dy }, { perm: [0, 2, 3, 1] }));
    }
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const m = n * outHeight * outWidth;
    const k = fh * fw * cin;
    const dy2 = keep(run1('Reshape', backend, { x: dy }, { shape: [m, cout] }));
    const wb = backend as WasmHeapBackend;
    const rowStride = inWidth * cin;
    // A transposed im2col, written directly into wasm memory: row (i, j, c) of `cols` holds the
    // input value each output position (b, p, q) sees through filter tap (i, j), channel c, so one
    // matrix product cols [k, m] x dy [m, cout] gives the whole filter gradient. (Building it
    // from the wasm Slice and Concat kernels cost 20x more than the product itself.)
    const cols = keep(wb.makeOutput([k, m], 'float32'));
    // Views are taken after the allocation: growing wasm memory detaches older ones.
    const src = wb.typedArrayFromHeap(x) as Float32Array;
    const dst = wb.typedArrayFromHeap(cols) as Float32Array;
    if (cin >= outWidth) {
      // Many channels: through the output positions in order, reading x in runs of cin values,
      // with one write stream per row of cols (3x faster than the loop below for 16 channels).
      let row = 0;
      for (let b = 0; b < n; b++) {
        const xb = b * inHeight * rowStride;
        for (let p = 0; p < outHeight; p++) {
          const r0 = p * sh - top;
          for (let q = 0; q < outWidth; q++, row++) {
            const c0 = q * sw - left;
            let o = row;
            for (let i = 0; i < fh; i++) {
              const r = r0 + i;
              const rowIn = r >= 0 && r < inHeight;
              for (let j = 0; j < fw; j++) {
                const col = c0 + j;
                if (rowIn && col >= 0 && col < inWidth) {
                  let s = xb + r * rowStride + col * cin;
                  for (let c = 0; c < cin; c++, o += m) dst[o] = src[s++];
                } else {
                  for (let c = 0; c < cin; c++, o += m) dst[o] = 0;
                }
              }
            }
          }
        }
      }
    } else {
      // Few channels (a first layer): row by row of cols, reading x along image rows.
      for (let i = 0; i < fh; i++) {
        for (let j = 0; j < fw; j++) {
          for (let c = 0; c < cin; c++) {
            let o = ((i * fw + j) * cin + c) * m;
            for (let b = 0; b < n; b++) {
              const xb = b * inHeight * rowStride;
              for (let p = 0; p < outHeight; p++) {
                const r = p * sh + i - top;
                if (r < 0 || r >= inHeight) {
                  dst.fill(0, o, o + outWidth);
                  o += outWidth;
                  continue;
                }
                const xr = xb + r * rowStride + c;
                for (let q = 0; q < outWidth; q++) {
                  const col = q * sw + j - left;
                  dst[o++] = col >= 0 && col < inWidth ? src[xr + col * cin] : 0;
                }
              }
            }
          }
        }
      }
    }
    const all = keep(run1('BatchMatMul', backend, { a: cols, b: dy2 }, { transposeA: false, transposeB: false }));
    return run1('Reshape', backend, { x: all }, { shape: [fh, fw, cin, cout] });
  } finally {
    disposeAll(backend, temps);
  }
}

interface Conv2DBackpropInputAttrs extends Conv2DGradAttrs {
  inputShape: [number, number, number, number];
  dilations?: number | [number, number];
}

function dilationIsOne(d: number | [number, number] | undefined): boolean {
  return d === undefined || (typeof d === 'number' ? d === 1 : d.every((v) => v === 1));
}

/**
 * `Conv2DBackpropInput` for wasm (the shipped kernel is a slow direct loop): one fast-path
 * `BatchMatMul` dy [n*oh*ow, cout] x W^T [cout, fh*fw*cin] gives, for every output position, what
 * each filter tap sends back to the input; a col2im loop in JavaScript adds those into a zeroed
 * dx (written straight into wasm memory). Dilations other than 1 and non-float32 data go to the
 * kernel as shipped (`original`).
 */
export function conv2DBackpropInputWasm(original: KernelFunc): KernelFunc {
  const fn = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { backend } = args;
    const inputs = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    if (inputs.dy.dtype !== 'float32' || inputs.filter.dtype !== 'float32' || !dilationIsOne(attrs.dilations))
      return original(args);
    const info = conv2DGradInfo(attrs.inputShape, inputs.filter.shape, attrs);
    const { batchSize: n, inHeight, inWidth, inChannels: cin, outChannels: cout, outHeight, outWidth } = info;
    const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
    if (n * inHeight * inWidth * cin === 0 || n * outHeight * outWidth * cout === 0) return original(args);
    const temps: TensorInfo[] = [];
    const keep = (t: TensorInfo): TensorInfo => keepIn(temps, t);
    try {
      let dy = inputs.dy;
      if (info.dataFormat === 'channelsFirst') dy = keep(run1('Transpose', backend, { x: dy }, { perm: [0, 2, 3, 1] }));
      const m = n * outHeight * outWidth;
      const k = fh * fw * cin;
      const dy2 = keep(run1('Reshape', backend, { x: dy }, { shape: [m, cout] }));
      const w2 = keep(run1('Reshape', backend, { x: inputs.filter }, { shape: [k, cout] }));
      // The filter is small: transpose it explicitly so that the product takes the fast path.
      const wT = keep(run1('Transpose', backend, { x: w2 }, { perm: [1, 0] }));
      const cols = keep(run1('BatchMatMul', backend, { a: dy2, b: wT }, { transposeA: false, transposeB: false }));
      const wb = backend as WasmHeapBackend;
      const dx = wb.makeOutput([n, inHeight, inWidth, cin], 'float32');
      if (info.dataFormat === 'channelsFirst') temps.push(dx);
      // Views after the allocation: growing wasm memory detaches older ones.
      const src = wb.typedArrayFromHeap(cols) as Float32Array;
      const dst = wb.typedArrayFromHeap(dx) as Float32Array;
      dst.fill(0);
      const top = info.padInfo.top;
      const left = info.padInfo.left;
      const rowStride = inWidth * cin;
      let o = 0; // start of row (b, p, q) of cols
      for (let b = 0; b < n; b++) {
        const xb = b * inHeight * rowStride;
        for (let p = 0; p < outHeight; p++) {
          const r0 = p * sh - top;
          for (let q = 0; q < outWidth; q++, o += k) {
            const c0 = q * sw - left;
            for (let i = 0; i < fh; i++) {
              const r = r0 + i;
              if (r < 0 || r >= inHeight) continue;
              const xr = xb + r * rowStride;
              for (let j = 0; j < fw; j++) {
                const col = c0 + j;
                if (col < 0 || col >= inWidth) continue;
                let d = xr + col * cin;
                let s = o + (i * fw + j) * cin;
                for (let c = 0; c < cin; c++) dst[d++] += src[s++];
              }
            }
          }
        }
      }
      if (info.dataFormat === 'channelsFirst') return run1('Transpose', backend, { x: dx }, { perm: [0, 3, 1, 2] });
      return dx;
    } finally {
      disposeAll(backend, temps);
    }
  };
  return fn as KernelFunc;
}
