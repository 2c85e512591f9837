/**
 * Loads the compiled engine: a prebuilt binary from `prebuilds/` when one matches this platform,
 * else the local build in `build/Release` (via node-gyp-build).
 */
import * as path from 'node:path';

/** Options as the native constructor takes them (already resolved and converted by `Soap`). */
export interface NativeSoapOptions {
  rCut: number;
  nMax: number;
  lMax: number;
  sigma: number;
  rbf: 'gto' | 'polynomial';
  species: Int32Array;
  speciesWeights: Float64Array;
  compression: 'off' | 'crossover' | 'mu2' | 'mu1nu1';
  average: 'off' | 'inner' | 'outer';
  weighting?: { function: 'none' | 'poly' | 'pow' | 'exp'; r0: number; c: number; d: number; m: number; w0?: number };
  basis?: { alphas?: Float64Array; betas: Float64Array };
}

/** One structure as the native layer takes it. */
export interface NativeStructure {
  positions: Float64Array;
  atomicNumbers?: Int32Array;
  centerIndices?: Int32Array;
  centerPositions?: Float64Array;
}

export interface NativeBasis {
  alphas?: Float64Array;
  betas: Float64Array;
  rx?: Float64Array;
  ws?: Float64Array;
  gss?: Float64Array;
}

export interface NativeSoapInstance {
  readonly featureCount: number;
  basis(): NativeBasis;
  featureLabels(): Int32Array;
  /** dtype (default 'float64') and threads (default 0: all cores) are checked by the engine. */
  computeSync(
    structures: NativeStructure[],
    dtype: 'float64' | 'float32' | undefined,
    threads: number | undefined,
  ): (Float64Array | Float32Array)[];
  computeAsync(
    structures: NativeStructure[],
    dtype: 'float64' | 'float32' | undefined,
    threads: number | undefined,
    token: { cancel?: () => void },
  ): Promise<(Float64Array | Float32Array)[]>;
}

/** The engine's limits of the options (native/src/soap_params.h), as the addon exports them. */
export interface NativeLimits {
  minNMax: number;
  maxNMax: number;
  minLMax: number;
  maxLMaxGto: number;
  maxLMaxPolynomial: number;
  minRCut: number;
  maxRCut: number;
  /** GTO needs rCut strictly above this. */
  minRCutGtoExclusive: number;
  minSigma: number;
  maxSigma: number;
  maxThreads: number;
  maxCoordinate: number;
}

export interface NativeModule {
  NativeSoap: new (options: NativeSoapOptions) => NativeSoapInstance;
  /** Throws the TypeError / RangeError `new NativeSoap(options)` would throw, without building the basis. */
  checkOptions(options: NativeSoapOptions): void;
  limits: NativeLimits;
  maxLMaxGto: number;
  maxLMaxPolynomial: number;
  maxNMax: number;
  maxCoordinate: number;
  /** The widest SIMD path the kernels use here: "avx512", "avx2" or "baseline" (capped by the environment variable SOAPIX_SIMD). */
  simdPath: string;
}

let cached: NativeModule | undefined;

/** The package root: two levels above `lib/soap/` (sources) or `dist/soap/` (compiled). */
export const packageRoot: string = path.resolve(__dirname, '..', '..');

/** Returns the native module, loading it on first use. */
export function native(): NativeModule {
  if (cached) return cached;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = require('node-gyp-build') as (dir: string) => unknown;
  try {
    cached = load(packageRoot) as NativeModule;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `soapix: could not load the native SOAP engine (${reason}). ` +
        'No prebuilt binary matches this platform and no local build was found: run `npm run build:native` ' +
        '(needs g++ with OpenMP and Node headers). The binary also needs libgomp.so.1 (shipped with gcc).',
    );
  }
  return cached;
}
