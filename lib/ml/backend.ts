/**
 * TensorFlow.js backend selection for soapix's models.
 *
 * Order: `tensorflow` (the native backend of `@tensorflow/tfjs-node`, an optional dependency whose
 * install downloads libtensorflow and so fails offline), then `wasm`
 * (`@tensorflow/tfjs-backend-wasm`, loaded from the package's own folder on disk, never from the
 * network), then `cpu` (plain JavaScript, always there). `prefer` moves one backend to the front;
 * `strict` makes a preferred backend that cannot start an error instead of a fallback.
 *
 * For `wasm`, soapix's kernel fixes (./kernels/: fast transposed matrix products, the conv
 * gradients, max-pool gradient, bias sums, blocked transposes and copy-free identity) are registered before it starts, unless
 * `wasmKernelFixes: false`; why each exists is in docs/ML-BACKEND.md.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

import { installWasmKernelFixes, removeWasmKernelFixes, wasmKernelFixes } from './kernels/install';

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
    tfjsNodeError = tf.findBackendFactory('tensorflow')
      ? null
      : '@tensorflow/tfjs-node loaded but registered no "tensorflow" backend';
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
    throw new TypeError(
      `selectBackend: unknown backend '${String(prefer)}'; choose one of ${BACKEND_ORDER.join(', ')}`,
    );
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
      if (name === 'wasm')
        summary += ` (${threads} thread${threads === 1 ? '' : 's'}, ${kernelFixes.length ? 'kernel fixes: ' + kernelFixes.map((f) => f.split(':')[0]).join(', ') : 'as shipped'})`;
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
