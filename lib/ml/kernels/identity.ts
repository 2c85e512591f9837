/**
 * `Identity` for the wasm backend without a copy.
 *
 * While TensorFlow.js records gradients it clones every tensor a kernel saves for the backward pass
 * (the engine's `saveTensorsForBackwardMode` calls `clone`, i.e. the `Identity` kernel). The wasm
 * kernel as shipped copies the whole buffer each time; for the rVAE's coordinate decoder that is a
 * dozen copies of 40 MB per training step. Tensors are immutable (variables change by taking a new
 * buffer, never by writing into the old one), so the clone can share the buffer and count one more
 * reference, as the cpu backend's `Identity` does. String tensors go to the shipped kernel.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';

/** The part of the wasm backend this kernel uses. */
interface RefCountingBackend {
  incRef(dataId: unknown): void;
}

/** Wraps the shipped wasm `Identity` kernel: numeric tensors are shared (reference counted), not copied. */
export function identityWasm(original: KernelFunc): KernelFunc {
  const fn = (args: { inputs: { x: TensorInfo }; backend: unknown }): TensorInfo | TensorInfo[] => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return original(args as unknown as Parameters<KernelFunc>[0]);
    (args.backend as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return fn as unknown as KernelFunc;
}
