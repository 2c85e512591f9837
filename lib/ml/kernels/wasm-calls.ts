/**
 * Calling the wasm backend from a kernel written here: run a shipped wasm kernel on tensor infos
 * (`run1`), free intermediates (`disposeAll`, `keepIn`), swap the last two axes (`swapLastTwo`),
 * and the backend calls that write JavaScript results straight into wasm memory
 * ({@link WasmHeapBackend}). Shared by every kernel family in this folder (docs/ML-BACKEND.md).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

/** The subset of the wasm backend a kernel function uses here. */
export interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The wasm backend's calls for kernels written in JavaScript over its heap. */
export interface WasmHeapBackend extends WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** What a kernel function receives: inputs, backend, attributes. */
export type KernelArgs = Parameters<KernelFunc>[0];

/** The kernel function registered for `name` on wasm now (a fix here, or the one shipped). */
export function wasmKernel(name: string): KernelFunc {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`soapix: the wasm backend has no ${name} kernel`);
  return k.kernelFunc;
}

/** Runs a wasm kernel that returns one tensor. */
export function run1(
  name: string,
  backend: unknown,
  inputs: Record<string, TensorInfo> | TensorInfo[],
  attrs: NamedAttrMap = {},
): TensorInfo {
  const out = wasmKernel(name)({
    inputs: inputs as KernelArgs['inputs'],
    backend: backend as KernelArgs['backend'],
    attrs,
  });
  if (Array.isArray(out)) throw new Error(`soapix: wasm ${name} returned ${out.length} tensors, expected 1`);
  return out;
}

/** Frees intermediate tensors a kernel made (its output is never among them). */
export function disposeAll(backend: unknown, infos: TensorInfo[]): void {
  const b = backend as WasmBackendLike;
  for (const t of infos) b.disposeData(t.dataId);
}

/** Swaps the last two axes with the wasm Transpose kernel. */
export function swapLastTwo(x: TensorInfo, backend: unknown): TensorInfo {
  const r = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return run1('Transpose', backend, { x }, { perm });
}

/** Adds `t` to the intermediates to free, and returns it. */
export function keepIn(list: TensorInfo[], t: TensorInfo): TensorInfo {
  list.push(t);
  return t;
}
