/**
 * Registers soapix's wasm kernel fixes with TensorFlow.js, and removes them again.
 *
 * Each fix wraps the kernel the wasm backend ships (kept, so that {@link removeWasmKernelFixes}
 * puts it back and the wrapper can hand over the cases it does not cover) or adds one the backend
 * lacks. Which kernels and why: docs/ML-BACKEND.md. Kernels are looked up at every call, so fixes
 * registered after `tf.setBackend('wasm')` also take effect; `selectBackend` registers them before.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';

import { conv2DBackpropFilterWasm, conv2DBackpropInputWasm } from './conv2d-grad';
import { explicitTransposeMatMul } from './matmul';
import { maxPoolGradWasm } from './max-pool-grad';
import { sumWasm } from './sum';
import { identityWasm } from './identity';
import { transposeWasm } from './transpose';

/** One fix: the kernel it replaces, how to build it from the shipped one, what it does. */
interface KernelFix {
  kernelName: string;
  /** Builds the replacement from the shipped kernel (`undefined` when wasm has none). */
  make: (shipped: KernelFunc | undefined) => KernelFunc;
  /** Only when wasm ships no such kernel (an addition, not a replacement). */
  onlyIfMissing?: boolean;
  description: string;
}

/** The fixes, in the order they are registered and reported. */
const FIXES: readonly KernelFix[] = [
  {
    kernelName: 'BatchMatMul',
    make: (k) => explicitTransposeMatMul(k!, false),
    description: 'BatchMatMul: transposed operands transposed explicitly, then the fast path',
  },
  {
    kernelName: '_FusedMatMul',
    make: (k) => explicitTransposeMatMul(k!, true),
    description:
      '_FusedMatMul: transposed operands transposed explicitly, then the fast path; batched bias added separately',
  },
  {
    kernelName: 'Conv2DBackpropFilter',
    make: () => conv2DBackpropFilterWasm as KernelFunc,
    onlyIfMissing: true,
    description: 'Conv2DBackpropFilter: added (im2col in wasm memory, then one fast-path matMul)',
  },
  {
    kernelName: 'Conv2DBackpropInput',
    make: (k) => conv2DBackpropInputWasm(k!),
    description: 'Conv2DBackpropInput: one fast-path matMul with the transposed filter, then col2im in wasm memory',
  },
  {
    kernelName: 'MaxPoolGrad',
    make: (k) => maxPoolGradWasm(k!),
    description: 'MaxPoolGrad: JavaScript scatter to the window maxima (first maximum on ties, as cpu)',
  },
  {
    kernelName: 'Sum',
    make: (k) => sumWasm(k!),
    description: 'Sum: reductions over leading axes (bias gradients) without the transpose',
  },
  {
    kernelName: 'Transpose',
    make: (k) => transposeWasm(k!),
    description:
      'Transpose: swaps of the last two axes into rows of a multiple of 256 floats as a blocked copy (the shipped kernel slows 5-13x there)',
  },
  {
    kernelName: 'Identity',
    make: (k) => identityWasm(k!),
    description:
      'Identity: shares the buffer (reference counted) instead of copying it (the tensors saved for back-propagation)',
  },
];

interface InstalledFix {
  kernelName: string;
  description: string;
  /** The kernel registered before the fix, or undefined if there was none. */
  original: KernelConfig | undefined;
}

let installedFixes: InstalledFix[] | null = null;

/**
 * Registers the wasm kernel fixes (idempotent). `@tensorflow/tfjs-backend-wasm` must be loaded
 * first (its kernels register when it loads; `selectBackend` loads it).
 *
 * @returns descriptions of the active fixes.
 * @throws Error if the wasm backend's kernels are not registered.
 */
export function installWasmKernelFixes(): string[] {
  if (installedFixes) return installedFixes.map((f) => f.description);
  if (!tf.getKernel('BatchMatMul', 'wasm')) {
    throw new Error(
      'the wasm backend has no kernels registered: load @tensorflow/tfjs-backend-wasm before installing the kernel fixes',
    );
  }
  const fixes: InstalledFix[] = [];
  for (const fix of FIXES) {
    const original = tf.getKernel(fix.kernelName, 'wasm');
    if (fix.onlyIfMissing ? original !== undefined : original === undefined) continue;
    if (original) tf.unregisterKernel(fix.kernelName, 'wasm');
    tf.registerKernel({
      kernelName: fix.kernelName,
      backendName: 'wasm',
      ...(original ? { setupFunc: original.setupFunc, disposeFunc: original.disposeFunc } : {}),
      kernelFunc: fix.make(original?.kernelFunc),
    });
    fixes.push({ kernelName: fix.kernelName, original, description: fix.description });
  }
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
