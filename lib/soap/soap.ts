/**
 * The SOAP descriptor: DScribe 2.1.1's power spectrum computed by soapix's C++ engine.
 */
import { atomicNumber, chemicalSymbol } from './species';
import { native, type NativeSoapInstance, type NativeStructure, type NativeSoapOptions } from './native';

/** A species given as a chemical symbol ('H') or an atomic number (1). */
export type SpeciesLike = string | number;

/** Radial weighting of neighbour densities, as DScribe's `weighting` option. */
export interface WeightingOptions {
  /**
   * 'poly': w = c (1 + 2 (r/r0)^3 - 3 (r/r0)^2)^m for r <= r0, else 0 (smooth at r0).
   * 'pow': w = c / (d + (r/r0)^m). 'exp': w = c / (d + e^(-r/r0)).
   * Omit for weight 1 everywhere (only `w0` then applies).
   */
  function?: 'poly' | 'pow' | 'exp';
  /** Length scale. Default 1. */
  r0?: number;
  /** Default 1. */
  c?: number;
  /** Default 1. */
  d?: number;
  /** Default 1. */
  m?: number;
  /** Weight of atoms at r = 0 (the centre itself). Default: the function's value. */
  w0?: number;
  /** Weight at which `rCut` is placed when it is omitted with 'pow' or 'exp'. Default 1e-2. */
  threshold?: number;
}

/** Compression of the species dimension, as DScribe's `compression` option. */
export interface CompressionOptions {
  /** 'off' (default, all species pairs), 'crossover' (same-species pairs only), 'mu2', 'mu1nu1'. */
  mode?: 'off' | 'crossover' | 'mu2' | 'mu1nu1';
  /** Weight of each species' density, by symbol or atomic number. Default 1 for every species. */
  speciesWeighting?: Record<string, number>;
}

/** A GTO basis (DScribe's alphas[l][k], betas[l][n][k] flattened) or a polynomial one (betas[n][j]). */
export interface BasisInput {
  alphas?: Float64Array | number[];
  betas: Float64Array | number[];
}

export interface SoapOptions {
  /** Species the descriptor knows, as symbols or atomic numbers (sorted by atomic number inside). */
  species: SpeciesLike[];
  /** Radial cutoff. Required unless `weighting` implies it. GTO needs rCut > 1. */
  rCut?: number;
  /** Number of radial basis functions, >= 1. */
  nMax: number;
  /** Maximum degree of the spherical harmonics: 0..19 (GTO) or 0..20 (polynomial). */
  lMax: number;
  /** Width of the Gaussian around each point. Default 1. */
  sigma?: number;
  /** Radial basis. Default 'gto'. */
  rbf?: 'gto' | 'polynomial';
  /** Default { mode: 'off' }. */
  compression?: CompressionOptions | 'off' | 'crossover' | 'mu2' | 'mu1nu1';
  /** Default: no weighting (every neighbour within the cutoff counts fully). */
  weighting?: WeightingOptions;
  /** 'off' (default): one row per centre; 'inner': average c then p; 'outer': average p. */
  average?: 'off' | 'inner' | 'outer';
  /**
   * A basis to use instead of soapix's own, e.g. DScribe's exact float64 basis from its JSON
   * output. Default: computed by soapix in quad precision (closer to exact than DScribe's).
   */
  basis?: BasisInput;
}

/** Positions as a flat Float64Array (x, y, z per point) or an array of [x, y, z]. */
export type PositionsInput = Float64Array | ArrayLike<number> | ReadonlyArray<ArrayLike<number>>;

/** Where to compute the descriptor. Default: at every point. */
export type CentersInput = { indices: ArrayLike<number> } | { positions: PositionsInput };

/** One structure (image, molecule, point cloud). */
export interface StructureInput {
  positions: PositionsInput;
  /** One species per point (symbols or atomic numbers). Optional when the Soap has one species. */
  species?: ArrayLike<SpeciesLike>;
}

export type DType = 'float64' | 'float32';

export interface CreateOptions {
  centers?: CentersInput;
  /** Output precision. Default 'float64'. 'float32' computes in float32 where that pays (the GTO basis on integer grids such as MNIST: within 1e-5 of the float64 result, relative to its largest value) and is the float64 result rounded elsewhere. */
  dtype?: DType;
  /** OpenMP threads. Default 0: all cores. */
  threads?: number;
}

export interface CreateManyOptions {
  /** Centres per structure (same order as the structures). Default: every point of each. */
  centers?: ReadonlyArray<CentersInput | undefined>;
  dtype?: DType;
  /** OpenMP threads for the whole batch. Default 0: all cores. */
  threads?: number;
  /** Cancels the batch; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A row-major matrix: `rows` centres x `cols` features. */
export interface FeatureMatrix<T extends Float64Array | Float32Array = Float64Array | Float32Array> {
  data: T;
  rows: number;
  cols: number;
}

/** The name of one feature column. */
export interface FeatureLabel {
  /** Species pair of the block (one symbol, or '*' for the pooled density of 'mu2'/'mu1nu1'). */
  species: [string, string];
  l: number;
  n: number;
  nPrime: number;
  /** e.g. "H-H l=0 n=0 n'=1". */
  name: string;
}

/** The options after defaults are applied. */
export interface ResolvedSoapOptions {
  species: string[];
  atomicNumbers: number[];
  rCut: number;
  nMax: number;
  lMax: number;
  sigma: number;
  rbf: 'gto' | 'polynomial';
  compression: 'off' | 'crossover' | 'mu2' | 'mu1nu1';
  speciesWeights: number[];
  weighting?: WeightingOptions;
  average: 'off' | 'inner' | 'outer';
  /** r_cut + sigma * sqrt(-2 ln 1e-3): neighbours within this distance are used (DScribe). */
  neighbourCutoff: number;
}

const CUTOFF_PADDING_FACTOR = Math.sqrt(-2 * Math.log(0.001));

function isArrayLikeNumber(v: unknown): v is ArrayLike<number> {
  return ArrayBuffer.isView(v) || Array.isArray(v) || (typeof v === 'object' && v !== null && 'length' in v);
}

/** Flattens positions to a Float64Array of x, y, z triples; throws TypeError on a wrong shape. */
export function toPositionArray(p: PositionsInput, what = 'positions'): Float64Array {
  if (p instanceof Float64Array) {
    if (p.length % 3 !== 0)
      throw new TypeError(`${what} has ${p.length} values; it must hold x, y, z per point (a multiple of 3)`);
    return p;
  }
  if (!isArrayLikeNumber(p)) throw new TypeError(`${what} must be a Float64Array or an array of [x, y, z]`);
  const n = p.length;
  if (n === 0) return new Float64Array(0);
  const first = (p as ArrayLike<unknown>)[0];
  if (typeof first === 'number') {
    if (n % 3 !== 0) throw new TypeError(`${what} has ${n} values; it must hold x, y, z per point (a multiple of 3)`);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = (p as ArrayLike<unknown>)[i];
      if (typeof v !== 'number') throw new TypeError(`${what}[${i}] is not a number`);
      out[i] = v;
    }
    return out;
  }
  const out = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const row = (p as ArrayLike<unknown>)[i];
    if (!isArrayLikeNumber(row) || row.length !== 3) throw new TypeError(`${what}[${i}] must be [x, y, z] (3 numbers)`);
    for (let d = 0; d < 3; d++) {
      const v = row[d];
      if (typeof v !== 'number') throw new TypeError(`${what}[${i}][${d}] is not a number`);
      out[3 * i + d] = v;
    }
  }
  return out;
}

function inferRCut(w: WeightingOptions): number {
  const r0 = w.r0 ?? 1,
    c = w.c ?? 1,
    d = w.d ?? 1,
    m = w.m ?? 1,
    threshold = w.threshold ?? 1e-2;
  switch (w.function) {
    case 'poly':
      return r0;
    case 'pow':
      return r0 * Math.pow(c / threshold - d, 1 / m);
    case 'exp':
      return -r0 * Math.log(c / threshold - d);
    default:
      throw new TypeError('rCut is required unless weighting.function is given');
  }
}

/**
 * The options in the engine's form: species as sorted atomic numbers, compression as a mode and
 * weights per species, rCut inferred from the weighting when omitted. Only conversion happens
 * here (a value that cannot be converted, such as an unknown species, throws); every check of
 * the values is the engine's (native/src/binding.cpp and soap_params.cpp), so each rule and its
 * message is written once.
 */
function toNativeOptions(o: SoapOptions): NativeSoapOptions {
  if (typeof o !== 'object' || o === null) throw new TypeError('Soap options must be an object');
  if (!Array.isArray(o.species))
    throw new TypeError(`species must be an array of symbols or atomic numbers, e.g. ['H'], got ${typeof o.species}`);
  const atomicNumbers = [...new Set(o.species.map((s) => atomicNumber(s)))].sort((a, b) => a - b);
  const comp = typeof o.compression === 'string' ? { mode: o.compression } : (o.compression ?? {});
  const speciesWeights = atomicNumbers.map(() => 1);
  for (const [key, weight] of Object.entries(comp.speciesWeighting ?? {})) {
    const z = atomicNumber(/^\d+$/.test(key) ? Number(key) : key);
    const i = atomicNumbers.indexOf(z);
    if (i < 0) throw new RangeError(`compression.speciesWeighting names ${key}, which is not in species`);
    if (typeof weight !== 'number') {
      throw new TypeError(`compression.speciesWeighting.${key} must be a number, got ${typeof weight}`);
    }
    speciesWeights[i] = weight;
  }
  let rCut = o.rCut;
  if (rCut === undefined) {
    if (!o.weighting) throw new TypeError('rCut is required (a number > 0; > 1 for the GTO basis)');
    rCut = inferRCut(o.weighting);
  }
  const out: NativeSoapOptions = {
    rCut,
    nMax: o.nMax,
    lMax: o.lMax,
    sigma: o.sigma ?? 1,
    rbf: o.rbf ?? 'gto',
    species: Int32Array.from(atomicNumbers),
    speciesWeights: Float64Array.from(speciesWeights),
    compression: comp.mode ?? 'off',
    average: o.average ?? 'off',
  };
  if (o.weighting) {
    const w = o.weighting;
    out.weighting = { function: w.function ?? 'none', r0: w.r0 ?? 1, c: w.c ?? 1, d: w.d ?? 1, m: w.m ?? 1 };
    if (w.w0 !== undefined) out.weighting.w0 = w.w0;
  }
  return out;
}

/** The resolved options of engine options that the engine has accepted. */
function resolved(n: NativeSoapOptions, weighting: WeightingOptions | undefined): ResolvedSoapOptions {
  const atomicNumbers = Array.from(n.species);
  return {
    species: atomicNumbers.map(chemicalSymbol),
    atomicNumbers,
    rCut: n.rCut,
    nMax: n.nMax,
    lMax: n.lMax,
    sigma: n.sigma,
    rbf: n.rbf,
    compression: n.compression,
    speciesWeights: Array.from(n.speciesWeights),
    weighting,
    average: n.average,
    neighbourCutoff: n.rCut + n.sigma * CUTOFF_PADDING_FACTOR,
  };
}

/**
 * Resolves user options into the engine's form, with every default applied.
 * @throws TypeError / RangeError from the engine's checks (the same as `new Soap` throws).
 */
export function resolveSoapOptions(o: SoapOptions): ResolvedSoapOptions {
  const n = toNativeOptions(o);
  native().checkOptions(n);
  return resolved(n, o.weighting);
}

/**
 * SOAP power spectrum with DScribe 2.1.1's maths, feature order and normalisation.
 *
 * ```ts
 * const soap = new Soap({ species: ['H'], rCut: 63, nMax: 7, lMax: 10, sigma: 3 });
 * const m = await soap.create({ positions });   // m.rows x m.cols (308)
 * ```
 */
export class Soap {
  /** The options with defaults applied. */
  readonly options: ResolvedSoapOptions;
  readonly #engine: NativeSoapInstance;
  readonly #zIndex: Map<number, number>;

  /** @throws TypeError / RangeError when an option is wrong (the engine's checks; see toNativeOptions). */
  constructor(options: SoapOptions) {
    const nativeOptions = toNativeOptions(options);
    if (options.basis) {
      nativeOptions.basis = { betas: Float64Array.from(options.basis.betas) };
      if (options.basis.alphas) nativeOptions.basis.alphas = Float64Array.from(options.basis.alphas);
    }
    const Native = native().NativeSoap;
    this.#engine = new Native(nativeOptions);
    this.options = resolved(nativeOptions, options.weighting);
    this.#zIndex = new Map(this.options.atomicNumbers.map((z, i) => [z, i]));
  }

  /** Length of one feature vector. */
  get featureCount(): number {
    return this.#engine.featureCount;
  }

  /** The radial basis in use (GTO: alphas[l][k], betas[l][n][k]; polynomial: betas, rx, ws, gss). */
  basis(): { alphas?: Float64Array; betas: Float64Array; rx?: Float64Array; ws?: Float64Array; gss?: Float64Array } {
    return this.#engine.basis();
  }

  /** One label per feature column, in output order. */
  featureLabels(): FeatureLabel[] {
    const raw = this.#engine.featureLabels();
    const out: FeatureLabel[] = [];
    const sym = (z: number): string => (z === 0 ? '*' : chemicalSymbol(z));
    for (let i = 0; i < raw.length; i += 5) {
      const species: [string, string] = [sym(raw[i]!), sym(raw[i + 1]!)];
      const l = raw[i + 2]!,
        n = raw[i + 3]!,
        nPrime = raw[i + 4]!;
      out.push({ species, l, n, nPrime, name: `${species[0]}-${species[1]} l=${l} n=${n} n'=${nPrime}` });
    }
    return out;
  }

  /** Computes one structure off the JavaScript thread. */
  async create(structure: StructureInput, opts: CreateOptions = {}): Promise<FeatureMatrix> {
    const [m] = await this.createMany([structure], {
      centers: opts.centers !== undefined ? [opts.centers] : undefined,
      dtype: opts.dtype,
      threads: opts.threads,
    });
    return m!;
  }

  /** Computes one structure on the calling thread (for small inputs). */
  createSync(structure: StructureInput, opts: CreateOptions = {}): FeatureMatrix {
    const s = this.#toNative(structure, opts.centers, 0);
    const [data] = this.#engine.computeSync([s], opts.dtype, opts.threads);
    return this.#matrix(data!);
  }

  /**
   * Computes many structures in one native call, in parallel over all centres of all structures.
   * The work runs on native threads; the promise resolves with one matrix per structure.
   */
  async createMany(structures: ReadonlyArray<StructureInput>, opts: CreateManyOptions = {}): Promise<FeatureMatrix[]> {
    if (!Array.isArray(structures)) throw new TypeError('structures must be an array');
    const { signal } = opts;
    if (signal?.aborted) throw signal.reason ?? abortError();
    if (opts.centers !== undefined && opts.centers.length !== structures.length)
      throw new TypeError(`centers has ${opts.centers.length} entries for ${structures.length} structures`);
    const list = structures.map((s, i) => this.#toNative(s, opts.centers?.[i], i));
    const token: { cancel?: () => void } = {};
    const onAbort = (): void => token.cancel?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const arrays = await this.#engine.computeAsync(list, opts.dtype, opts.threads, token);
      return arrays.map((a) => this.#matrix(a));
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? abortError();
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #matrix(data: Float64Array | Float32Array): FeatureMatrix {
    const cols = this.featureCount;
    return { data, rows: cols === 0 ? 0 : data.length / cols, cols };
  }

  #toNative(s: StructureInput, centers: CentersInput | undefined, index: number): NativeStructure {
    const label = `structure ${index}`;
    if (typeof s !== 'object' || s === null) throw new TypeError(`${label} must be an object { positions, species? }`);
    const positions = toPositionArray(s.positions, `${label}.positions`);
    const n = positions.length / 3;
    const out: NativeStructure = { positions };
    // The engine checks that there is one species per point, and that species are given when
    // the Soap has several; here they are only converted (symbols need the JavaScript side).
    if (s.species !== undefined) {
      const z = new Int32Array(s.species.length);
      let cacheKey: SpeciesLike | undefined,
        cacheZ = 0;
      for (let i = 0; i < z.length; i++) {
        const sp = s.species[i]!;
        if (sp !== cacheKey) {
          try {
            cacheZ = atomicNumber(sp);
          } catch (err) {
            const what = err instanceof Error ? err.message : String(err);
            throw new RangeError(`${label}: point ${i} has species ${JSON.stringify(sp)}: ${what}`);
          }
          cacheKey = sp;
        }
        if (!this.#zIndex.has(cacheZ))
          throw new RangeError(
            `${label}: point ${i} has species ${String(sp)}, which this Soap does not know; allowed: ${this.options.species.join(', ')}`,
          );
        z[i] = cacheZ;
      }
      out.atomicNumbers = z;
    }
    if (centers !== undefined) {
      if (typeof centers !== 'object' || centers === null)
        throw new TypeError(
          `${label}: centers must be { indices: [...] } or { positions: [...] }, got ${String(centers)}`,
        );
      if ('indices' in centers && 'positions' in centers)
        throw new TypeError(`${label}: centers takes indices or positions, not both`);
      if ('indices' in centers) {
        const idx = centers.indices;
        if (!isArrayLikeNumber(idx)) throw new TypeError(`${label}: centers.indices must be an array of point indices`);
        const a = new Int32Array(idx.length);
        for (let i = 0; i < idx.length; i++) {
          const v = idx[i]!;
          if (!Number.isInteger(v) || v < 0 || v >= n)
            throw new RangeError(
              `${label}: centre index ${String(v)} (entry ${i}) is out of range; the structure has ${n} points`,
            );
          a[i] = v;
        }
        out.centerIndices = a;
      } else if ('positions' in centers) {
        out.centerPositions = toPositionArray(centers.positions, `${label}.centers.positions`);
      } else {
        throw new TypeError(`${label}: centers must be { indices } or { positions }`);
      }
    }
    return out;
  }
}

function abortError(): Error {
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}
