/**
 * `BatchMatMul` and `_FusedMatMul` for wasm with transposed operands, and `_FusedMatMul` with a
 * bias over a batch of matrices.
 *
 * Why: the shipped wasm matrix product is fast (17-29 GFLOP/s) only without transposes; with
 * `transposeA` or `transposeB` it runs at about 1 GFLOP/s, and back-propagation through a dense
 * layer (dX = dY W^T, dW = X^T dY) uses exactly those forms. Here a transposed operand is
 * transposed explicitly (the wasm `Transpose` kernel) and the shipped kernel runs its fast path,
 * or, when cheaper, C^T = op(B)^T op(A)^T is computed and transposed back ({@link swapIsCheaper}).
 * About 5x faster training of the pixel classifier, the same results to float32 rounding
 * (docs/ML-BACKEND.md). The shipped `_FusedMatMul` also adds the bias wrongly for more than one
 * matrix; those products run in parts ({@link fusedInParts}).
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';

import { disposeAll, keepIn, run1, swapLastTwo, type KernelArgs } from './wasm-calls';

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
export function explicitTransposeMatMul(original: KernelFunc, fused: boolean): KernelFunc {
  const fn = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const attrs = args.attrs as unknown as { transposeA?: boolean; transposeB?: boolean };
    const inputs = args.inputs as Record<string, TensorInfo | undefined>;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    if (fused && batchOf(a, b) > 1 && (inputs.bias || inputs.preluActivationWeights)) {
      if (!attrs.transposeA && !attrs.transposeB) {
        return fusedInParts(
          original,
          args.inputs as unknown as FusedInputs,
          args.attrs as unknown as FusedAttrs,
          args.backend,
        );
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
          original({
            inputs: { a: bT, b: aT } as KernelArgs['inputs'],
            backend: args.backend,
            attrs: { transposeA: false, transposeB: false },
          }) as TensorInfo,
        );
        return swapLastTwo(cT, args.backend);
      }
      let a2 = a;
      let b2 = b;
      if (attrs.transposeA) temps.push((a2 = swapLastTwo(a, args.backend)));
      if (attrs.transposeB) temps.push((b2 = swapLastTwo(b, args.backend)));
      if (fused && batchOf(a2, b2) > 1 && (inputs.bias || inputs.preluActivationWeights)) {
        return fusedInParts(
          original,
          { ...args.inputs, a: a2, b: b2 } as FusedInputs,
          args.attrs as unknown as FusedAttrs,
          args.backend,
        );
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
