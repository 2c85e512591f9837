/**
 * TensorFlow.js backend selection for soapix's models.
 *
 * Order: `tensorflow` (the native backend of `@tensorflow/tfjs-node`, an optional dependency whose
 * install downloads libtensorflow and so fails offline), then `wasm`
 * (`@tensorflow/tfjs-backend-wasm`, loaded from the package's own folder on disk, never from the
 * network), then `cpu` (plain JavaScript, always there). `prefer` moves one backend to the front;
 * `strict` makes a preferred backend that cannot start an error instead of a fallback.
 *
 * Kernel fixes are installed for `wasm` before it starts (see {@link installWasmKernelFixes}):
 *
 * - `BatchMatMul` / `_FusedMatMul` with `transposeA` or `transposeB`: the shipped kernel runs these
 *   at about 1 GFLOP/s against 17-29 GFLOP/s without transposes, and back-propagation through a
 *   dense layer uses exactly these forms. The replacement transposes the operand explicitly (the
 *   wasm `Transpose` kernel) and calls the shipped kernel without transposes; about 5x faster
 *   training of the pixel classifier, same results to float32 rounding.
 * - `Conv2DBackpropFilter`, which the wasm backend lacks (training a conv layer fails without it):
 *   an im2col matrix written into wasm memory, then one (fast-path) `BatchMatMul`.
 * - `Conv2DBackpropInput`, `MaxPoolGrad` and `Sum` over leading axes, which the shipped kernels
 *   run slowly (the largest costs of a conv net's training step): a fast-path `BatchMatMul` and
 *   col2im, and JavaScript loops over the wasm heap. Other cases go to the shipped kernels.
 * - `Identity` (the clones of every tensor saved for back-propagation): shares the buffer instead
 *   of copying it (kernels/identity.ts).
 * - `Transpose` of the last two axes into rows of a multiple of 256 floats, where the shipped
 *   kernel is 5-13x slower than elsewhere: a blocked copy (kernels/transpose.ts).
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { identityWasm } from './kernels/identity';
import { transposeWasm } from './kernels/transpose';

/** The TensorFlow.js backends soapix can run on. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** Default order in which {@link selectBackend} tries the backends. */
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /** Try this backend first (then the others in the default order). */
  prefer?: BackendName;
  /**
   * With `prefer`: throw if that backend cannot be started instead of falling back
   * (for an explicit `--backend` choice). Default false.
   */
  strict?: boolean;
  /**
   * Install the wasm kernel fixes (fast transposed matrix products, `Conv2DBackpropFilter`).
   * Default true; false removes them again and runs wasm as shipped (for benchmarks).
   */
  wasmKernelFixes?: boolean;
  /**
   * Where the one-line report of the chosen backend goes: a function, or false for none.
   * Default: standard error.
   */
  log?: ((message: string) => void) | false;
}

/** A backend that was tried and could not be used, with the reason. */
export interface BackendFallback {
  name: BackendName;
  reason: string;
}

/** What {@link selectBackend} chose and why. */
export interface BackendSelection {
  /** The backend now active in TensorFlow.js. */
  name: BackendName;
  /** The backends tried before it, each with the reason it was skipped; empty if the first worked. */
  fallbacks: BackendFallback[];
  /** One line for logs and result files: the backend, the fallback reasons, the kernel fixes. */
  summary: string;
  /** Kernel replacements active on this backend (empty unless wasm with fixes). */
  kernelFixes: string[];
  /** Threads the backend computes with (wasm in Node: 1). */
  threads: number;
  /** `@tensorflow/tfjs-core` version. */
  tfjsVersion: string;
}

/** Error thrown when no backend (or, with `strict`, not the requested one) can be started. */
export class BackendUnavailableError extends Error {
  constructor(
    message: string,
    readonly fallbacks: BackendFallback[],
  ) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

function errorText(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  // Module-not-found messages carry a long require stack; the first line says it all.
  return msg.split('\n')[0].trim();
}

// ---------------------------------------------------------------------------------------------
// Loading the optional backends
// ---------------------------------------------------------------------------------------------

let tfjsNodeError: string | null | undefined; // undefined: not tried; null: loaded

/** Loads `@tensorflow/tfjs-node` once; returns null on success or why it failed. */
function loadTfjsNode(): string | null {
  if (tfjsNodeError !== undefined) return tfjsNodeError;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node');
    tfjsNodeError = tf.findBackendFactory('tensorflow') ? null : '@tensorflow/tfjs-node loaded but registered no "tensorflow" backend';
  } catch (err) {
    tfjsNodeError = `@tensorflow/tfjs-node is not installed or does not load (${errorText(err)})`;
  }
  return tfjsNodeError;
}

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');
let wasmModule: WasmModule | undefined;
let wasmLoadError: string | undefined;

/** Loads `@tensorflow/tfjs-backend-wasm` once and points it at its .wasm files on disk. */
function loadWasm(): WasmModule | string {
  if (wasmModule) return wasmModule;
  if (wasmLoadError !== undefined) return wasmLoadError;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('@tensorflow/tfjs-backend-wasm') as WasmModule;
    // The package's main file lies in dist/, next to the three .wasm binaries.
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    mod.setWasmPaths({
      'tfjs-backend-wasm.wasm': path.join(dist, 'tfjs-backend-wasm.wasm'),
      'tfjs-backend-wasm-simd.wasm': path.join(dist, 'tfjs-backend-wasm-simd.wasm'),
      'tfjs-backend-wasm-threaded-simd.wasm': path.join(dist, 'tfjs-backend-wasm-threaded-simd.wasm'),
    });
    wasmModule = mod;
    return mod;
  } catch (err) {
    wasmLoadError = `@tensorflow/tfjs-backend-wasm does not load (${errorText(err)})`;
    return wasmLoadError;
  }
}

// ---------------------------------------------------------------------------------------------
// wasm kernel fixes
// ---------------------------------------------------------------------------------------------

/** The subset of the wasm backend a kernel function uses here. */
interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The wasm backend's calls for kernels written in JavaScript over its heap. */
interface WasmHeapBackend extends WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type KernelArgs = Parameters<KernelFunc>[0];

function wasmKernel(name: string): KernelFunc {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`soapix: the wasm backend has no ${name} kernel`);
  return k.kernelFunc;
}

/** Runs a wasm kernel that returns one tensor. */
function run1(name: string, backend: unknown, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: NamedAttrMap = {}): TensorInfo {
  const out = wasmKernel(name)({ inputs: inputs as KernelArgs['inputs'], backend: backend as KernelArgs['backend'], attrs });
  if (Array.isArray(out)) throw new Error(`soapix: wasm ${name} returned ${out.length} tensors, expected 1`);
  return out;
}

function disposeAll(backend: unknown, infos: TensorInfo[]): void {
  const b = backend as WasmBackendLike;
  for (const t of infos) b.disposeData(t.dataId);
}

/** Swaps the last two axes with the wasm Transpose kernel. */
function swapLastTwo(x: TensorInfo, backend: unknown): TensorInfo {
  const r = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return run1('Transpose', backend, { x }, { perm });
}

/** Number of matrices in a batched product, as the kernels count them (the larger batch). */
function batchOf(a: TensorInfo, b: TensorInfo): number {
  const size = (t: TensorInfo): number => t.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  return Math.max(size(a), size(b));
}

interface FusedInputs {
  a: TensorInfo;
  b: TensorInfo;
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
}
interface FusedAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation: string;
  leakyreluAlpha?: number;
}

/**
 * The shipped wasm `_FusedMatMul` adds the bias (and PReLU weights) wrongly when more than one
 * matrix is multiplied (batch > 1): only the first matrix gets the right bias. For those cases the
 * product runs fused without bias and activation, then `Add` and the activation kernel follow.
 * `a` and `b` must already be in non-transposed form.
 */
function fusedInParts(original: KernelFunc, inputs: FusedInputs, attrs: FusedAttrs, backend: unknown): TensorInfo {
  const temps: TensorInfo[] = [];
  try {
    let y = original({
      inputs: { a: inputs.a, b: inputs.b } as KernelArgs['inputs'],
      backend: backend as KernelArgs['backend'],
      attrs: { transposeA: false, transposeB: false, activation: 'linear' },
    }) as TensorInfo;
    const step = (next: TensorInfo): void => {
      temps.push(y);
      y = next;
    };
    if (inputs.bias) step(run1('Add', backend, { a: y, b: inputs.bias }));
    switch (attrs.activation) {
      case 'linear':
        break;
      case 'relu':
        step(run1('Relu', backend, { x: y }));
        break;
      case 'relu6':
        step(run1('Relu6', backend, { x: y }));
        break;
      case 'elu':
        step(run1('Elu', backend, { x: y }));
        break;
      case 'sigmoid':
        step(run1('Sigmoid', backend, { x: y }));
        break;
      case 'leakyrelu':
        step(run1('LeakyRelu', backend, { x: y }, { alpha: attrs.leakyreluAlpha ?? 0.2 }));
        break;
      case 'prelu':
        if (!inputs.preluActivationWeights) throw new Error('_FusedMatMul: prelu activation without weights');
        step(run1('Prelu', backend, { x: y, alpha: inputs.preluActivationWeights }));
        break;
      default:
        throw new Error(`_FusedMatMul: activation '${attrs.activation}' is not supported on wasm`);
    }
    return y;
  } finally {
    disposeAll(backend, temps);
  }
}

function keepIn(list: TensorInfo[], t: TensorInfo): TensorInfo {
  list.push(t);
  return t;
}

/**
 * Relative costs per element, measured on the wasm backend (about 15 and 5 ns): the fast path
 * packs its right operand afresh whenever that tensor is new (always, during training), which
 * costs about three times as much per element as an explicit transpose.
 */
const PACK_COST = 3;
const TRANSPOSE_COST = 1;

/**
 * For a single (unbatched) product C[m, n] = op(A)[m, k] op(B)[k, n] with a transpose: is it
 * cheaper to compute C^T = op(B)^T op(A)^T and transpose C^T than to transpose the operands and
 * multiply? The direct way packs op(B) (k x n); the swapped way packs op(A)^T (k x m) and
 * transposes the result (m x n). Back-propagation through a dense layer, dX = dY W^T, gains most:
 * W (k x n, large) is no longer transposed and packed; dY^T (k x m, small: m is the batch) is.
 * Products without transposes (forward passes, inference) are left alone: there the right operand
 * is usually a weight tensor whose packed form the kernel caches.
 */
function swapIsCheaper(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): boolean {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const direct = PACK_COST * k * n + TRANSPOSE_COST * ((transposeA ? m * k : 0) + (transposeB ? k * n : 0));
  const swapped = PACK_COST * k * m + TRANSPOSE_COST * ((transposeB ? 0 : k * n) + (transposeA ? 0 : m * k) + m * n);
  return swapped < direct;
}

/**
 * Wraps a (fused) batch matrix multiply kernel so that transposed operands are transposed
 * explicitly and the original kernel runs its fast non-transposed path, or the transposed product
 * is computed when that is cheaper ({@link swapIsCheaper}); for the fused kernel, batched
 * products with a bias are computed in parts ({@link fusedInParts}).
 */
function explicitTransposeMatMul(original: KernelFunc, fused: boolean): KernelFunc {
  const fn = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const attrs = args.attrs as unknown as { transposeA?: boolean; transposeB?: boolean };
    const inputs = args.inputs as Record<string, TensorInfo | undefined>;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    if (fused && batchOf(a, b) > 1 && (inputs.bias || inputs.preluActivationWeights)) {
      if (!attrs.transposeA && !attrs.transposeB) {
        return fusedInParts(original, args.inputs as unknown as FusedInputs, args.attrs as unknown as FusedAttrs, args.backend);
      }
    } else if (!attrs.transposeA && !attrs.transposeB) {
      return original(args);
    }
    const temps: TensorInfo[] = [];
    try {
      if (!fused && batchOf(a, b) === 1 && swapIsCheaper(a, b, !!attrs.transposeA, !!attrs.transposeB)) {
        // C = op(A) op(B) computed as (op(B)^T op(A)^T)^T: op(B)^T is B itself when transposeB,
        // op(A)^T is A itself when transposeA.
        const bT = attrs.transposeB ? b : keepIn(temps, swapLastTwo(b, args.backend));
        const aT = attrs.transposeA ? a : keepIn(temps, swapLastTwo(a, args.backend));
        const cT = keepIn(
          temps,
          original({ inputs: { a: bT, b: aT } as KernelArgs['inputs'], backend: args.backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo,
        );
        return swapLastTwo(cT, args.backend);
      }
      let a2 = a;
      let b2 = b;
      if (attrs.transposeA) temps.push((a2 = swapLastTwo(a, args.backend)));
      if (attrs.transposeB) temps.push((b2 = swapLastTwo(b, args.backend)));
      if (fused && batchOf(a2, b2) > 1 && (inputs.bias || inputs.preluActivationWeights)) {
        return fusedInParts(original, { ...args.inputs, a: a2, b: b2 } as FusedInputs, args.attrs as unknown as FusedAttrs, args.backend);
      }
      return original({
        inputs: { ...args.inputs, a: a2, b: b2 } as KernelArgs['inputs'],
        backend: args.backend,
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      });
    } finally {
      disposeAll(args.backend, temps);
    }
  };
  return fn as KernelFunc;
}

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
function conv2DGradInfo(inputShape: readonly number[], filterShape: readonly number[], attrs: Conv2DGradAttrs): tf.backend_util.Conv2DInfo {
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
function conv2DBackpropFilterWasm(args: KernelArgs): TensorInfo {
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
function conv2DBackpropInputWasm(original: KernelFunc): KernelFunc {
  const fn = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { backend } = args;
    const inputs = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    if (inputs.dy.dtype !== 'float32' || inputs.filter.dtype !== 'float32' || !dilationIsOne(attrs.dilations)) return original(args);
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
function maxPoolGradWasm(original: KernelFunc): KernelFunc {
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

/**
 * `Sum` for wasm when the reduced axes lead (axes 0..r-1 of the shape, e.g. the bias gradient of
 * a dense or conv layer, summed over batch and positions): the shipped kernel transposes them to
 * the end first. Here a JavaScript loop adds rows in double precision (as the cpu backend does).
 * Every other reduction goes to the kernel as shipped.
 */
function sumWasm(original: KernelFunc): KernelFunc {
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

interface InstalledFix {
  kernelName: string;
  description: string;
  /** The kernel registered before the fix, or undefined if there was none. */
  original: KernelConfig | undefined;
}

let installedFixes: InstalledFix[] | null = null;

/**
 * Registers the wasm kernel fixes (idempotent). Call before `tf.setBackend('wasm')` (selectBackend
 * does); registering later also works, as kernels are looked up at every call.
 *
 * @returns descriptions of the active fixes.
 */
export function installWasmKernelFixes(): string[] {
  if (installedFixes) return installedFixes.map((f) => f.description);
  const loaded = loadWasm();
  if (typeof loaded === 'string') throw new Error(loaded);
  const fixes: InstalledFix[] = [];
  // Wraps a shipped kernel; the shipped one is kept in `fixes` so that removeWasmKernelFixes can restore it.
  const replace = (name: string, make: (original: KernelFunc) => KernelFunc, description: string): void => {
    const original = tf.getKernel(name, 'wasm');
    if (!original) return;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      setupFunc: original.setupFunc,
      disposeFunc: original.disposeFunc,
      kernelFunc: make(original.kernelFunc),
    });
    fixes.push({ kernelName: name, original, description });
  };
  replace('BatchMatMul', (k) => explicitTransposeMatMul(k, false), 'BatchMatMul: transposed operands transposed explicitly, then the fast path');
  replace(
    '_FusedMatMul',
    (k) => explicitTransposeMatMul(k, true),
    '_FusedMatMul: transposed operands transposed explicitly, then the fast path; batched bias added separately',
  );
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: conv2DBackpropFilterWasm as KernelFunc,
    });
    fixes.push({
      kernelName: 'Conv2DBackpropFilter',
      original: undefined,
      description: 'Conv2DBackpropFilter: added (im2col in wasm memory, then one fast-path matMul)',
    });
  }
  replace('Conv2DBackpropInput', conv2DBackpropInputWasm, 'Conv2DBackpropInput: one fast-path matMul with the transposed filter, then col2im in wasm memory');
  replace('MaxPoolGrad', maxPoolGradWasm, 'MaxPoolGrad: JavaScript scatter to the window maxima (first maximum on ties, as cpu)');
  replace('Sum', sumWasm, 'Sum: reductions over leading axes (bias gradients) without the transpose');
  replace('Transpose', transposeWasm, 'Transpose: swaps of the last two axes into rows of a multiple of 256 floats as a blocked copy (the shipped kernel slows 5-13x there)');
  replace('Identity', identityWasm, 'Identity: shares the buffer (reference counted) instead of copying it (the tensors saved for back-propagation)');
  installedFixes = fixes;
  return fixes.map((f) => f.description);
}

/** Removes the wasm kernel fixes again, restoring the kernels as shipped (for benchmarks and tests). */
export function removeWasmKernelFixes(): void {
  if (!installedFixes) return;
  for (const fix of installedFixes) {
    tf.unregisterKernel(fix.kernelName, 'wasm');
    if (fix.original) tf.registerKernel(fix.original);
  }
  installedFixes = null;
}

/** Descriptions of the wasm kernel fixes now registered (empty if none). */
export function wasmKernelFixes(): string[] {
  return installedFixes ? installedFixes.map((f) => f.description) : [];
}

// ---------------------------------------------------------------------------------------------
// Selection
// ---------------------------------------------------------------------------------------------

/**
 * The cpu backend prints a banner ("install our node backend") on its first use in Node; soapix
 * reports the backend and the reason for any fallback itself, so the banner is switched off
 * (whichever backend was chosen: cpu can still be used for single operations or comparisons).
 */
function silenceCpuNodeHint(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && typeof cpu.firstUse === 'boolean') cpu.firstUse = false;
}

/** Tries to make `name` the active backend; returns null on success or why it failed. */
async function tryBackend(name: BackendName, fixes: boolean): Promise<string | null> {
  if (name === 'tensorflow') {
    const err = loadTfjsNode();
    if (err) return err;
  } else if (name === 'wasm') {
    const loaded = loadWasm();
    if (typeof loaded === 'string') return loaded;
    try {
      if (fixes) installWasmKernelFixes();
      else removeWasmKernelFixes();
    } catch (err) {
      return `installing the wasm kernel fixes failed (${errorText(err)})`;
    }
  }
  try {
    const ok = await tf.setBackend(name);
    if (!ok || tf.getBackend() !== name) return `tf.setBackend('${name}') failed`;
    await tf.ready();
    silenceCpuNodeHint();
    return null;
  } catch (err) {
    return `starting the ${name} backend failed (${errorText(err)})`;
  }
}

function threadsOf(name: BackendName): number {
  if (name === 'wasm' && wasmModule) {
    try {
      return wasmModule.getThreadsCount();
    } catch {
      return 1;
    }
  }
  // tfjs-node uses TensorFlow's own thread pools; cpu is single-threaded JavaScript.
  return name === 'tensorflow' ? 0 : 1;
}

/**
 * Selects and starts a TensorFlow.js backend: `tensorflow` (tfjs-node) if it loads, else `wasm`,
 * else `cpu`, or `prefer` first. Logs one line saying which backend runs and why the others were
 * skipped.
 *
 * @throws BackendUnavailableError if no backend starts, or with `strict` if `prefer` does not.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const { prefer, strict = false, wasmKernelFixes: fixes = true } = options;
  if (prefer !== undefined && !BACKEND_ORDER.includes(prefer)) {
    throw new TypeError(`selectBackend: unknown backend '${String(prefer)}'; choose one of ${BACKEND_ORDER.join(', ')}`);
  }
  const log = options.log === undefined ? (m: string) => process.stderr.write(m + '\n') : options.log;
  const order = prefer ? [prefer, ...BACKEND_ORDER.filter((b) => b !== prefer)] : [...BACKEND_ORDER];
  const fallbacks: BackendFallback[] = [];
  for (const name of order) {
    const err = await tryBackend(name, fixes);
    if (err === null) {
      const kernelFixes = name === 'wasm' ? wasmKernelFixes() : [];
      const threads = threadsOf(name);
      let summary = `backend ${name}`;
      if (name === 'wasm') summary += ` (${threads} thread${threads === 1 ? '' : 's'}, ${kernelFixes.length ? 'kernel fixes: ' + kernelFixes.map((f) => f.split(':')[0]).join(', ') : 'as shipped'})`;
      if (fallbacks.length) summary += `; skipped ${fallbacks.map((f) => `${f.name}: ${f.reason}`).join('; ')}`;
      if (log) log(`soapix: ML ${summary}`);
      return { name, fallbacks, summary, kernelFixes, threads, tfjsVersion: tf.version_core };
    }
    fallbacks.push({ name, reason: err });
    if (strict && name === prefer) {
      throw new BackendUnavailableError(`backend '${name}' was requested but cannot be used: ${err}`, fallbacks);
    }
  }
  throw new BackendUnavailableError(
    `no TensorFlow.js backend could be started: ${fallbacks.map((f) => `${f.name}: ${f.reason}`).join('; ')}`,
    fallbacks,
  );
}

/** The backend now active, as a {@link BackendName} (or the raw name for any other backend). */
export function currentBackend(): string {
  return tf.getBackend();
}
