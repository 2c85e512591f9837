/**
 * Random inputs for the fuzz tests (fuzz.test.ts): junk of every kind, numbers that are usually
 * sensible, and plausible native options and structures with junk mixed in. Seeded by the caller's Rng.
 */
import type { Rng } from '../../lib/util/random';

/** Atomic numbers and symbols the fuzzed structures draw their species from. */
export const SPECIES_Z = [1, 6, 7, 8, 16];
export const SYMBOLS = ['H', 'C', 'N', 'O', 'S'];

export function pick<T>(rng: Rng, a: readonly T[]): T {
  return a[rng.nextInt(a.length)]!;
}

export function chance(rng: Rng, p: number): boolean {
  return rng.nextFloat() < p;
}

/** Junk of every kind JavaScript has. */
export function junk(rng: Rng): unknown {
  const k = rng.nextInt(44);
  switch (k) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2:
      return NaN;
    case 3:
      return Infinity;
    case 4:
      return -Infinity;
    case 5:
      return 0;
    case 6:
      return -1;
    case 7:
      return 1.5;
    case 8:
      return 2 ** 31;
    case 9:
      return -(2 ** 31) - 1;
    case 10:
      return 2 ** 53 + 2;
    case 11:
      return 1e300;
    case 12:
      return -1e300;
    case 13:
      return 'abc';
    case 14:
      return '';
    case 15:
      return '5';
    case 16:
      return true;
    case 17:
      return {};
    case 18:
      return [];
    case 19:
      return [1, 2, 3];
    case 20:
      return [
        [0, 0, 0],
        [1, 'x', 2],
      ];
    case 21:
      return new Int32Array(3);
    case 22:
      return new Float32Array(6);
    case 23:
      return new Float64Array(4);
    case 24:
      return new Uint8Array(3);
    case 25:
      return Float64Array.from([0, 0, 0, 1, 1, 1]);
    case 26:
      return new BigInt64Array(3);
    case 27:
      return 10n;
    case 28:
      return Symbol('junk');
    case 29:
      return () => 1;
    case 30:
      return new Date(0);
    case 31:
      return new Map([[1, 2]]);
    case 32:
      return Object.create(null);
    case 33:
      return new Proxy(
        {},
        {
          get() {
            throw new Error('proxy get trap');
          },
        },
      );
    case 34:
      return {
        get positions() {
          throw new Error('getter throws');
        },
        length: 3,
      };
    case 35: {
      const a = new Float64Array(6);
      structuredClone(a.buffer, { transfer: [a.buffer] }); // detaches a's buffer: a.length becomes 0
      return a;
    }
    case 36:
      return new Float64Array(new SharedArrayBuffer(24));
    case 37:
      return new DataView(new ArrayBuffer(24));
    case 38:
      return new Array(6); // holes
    case 39:
      return { length: 3, 0: 1, 1: 2, 2: 3 };
    case 40:
      return { length: 2 ** 40 };
    case 41:
      return { length: -1 };
    case 42:
      return new Int32Array([1, -5, 200, 2 ** 31 - 1]);
    default:
      return new Float64Array(new ArrayBuffer(64), 8, 3); // a view with an offset
  }
}

/** A number that is usually sensible, sometimes junk. */
export function num(rng: Rng, lo: number, hi: number, pJunk = 0.1): unknown {
  return chance(rng, pJunk) ? junk(rng) : lo + (hi - lo) * rng.nextFloat();
}

export function int(rng: Rng, lo: number, hi: number, pJunk = 0.1): unknown {
  return chance(rng, pJunk) ? junk(rng) : lo + rng.nextInt(hi - lo + 1);
}

export function coordinate(rng: Rng): number {
  const r = rng.nextFloat();
  if (r < 0.01) return pick(rng, [NaN, Infinity, -Infinity, 1e13, -1e300, 5e11]);
  if (r < 0.03) return (rng.nextFloat() - 0.5) * 1e9;
  return (rng.nextFloat() - 0.5) * 8;
}

export function randomPositions(rng: Rng, n: number): Float64Array {
  const p = new Float64Array(3 * n);
  for (let i = 0; i < p.length; i++) p[i] = coordinate(rng);
  if (n > 1 && chance(rng, 0.05)) p.copyWithin(3, 0, 3); // a duplicate point
  return p;
}

/**
 * Steers clear of two known engine bugs that errors.test.ts pins down in child processes (an
 * in-process hang would stall the whole run): a polynomial basis with rCut >~ 1e150 returns NaN
 * or never returns, and sigma >~ 1e150 with the polynomial basis gives NaN. Only finite-valued
 * parameters are changed; junk of other types still goes through.
 */
export function avoidKnownBugs(o: Record<string, unknown>): void {
  if (typeof o !== 'object' || o === null || o.rbf !== 'polynomial') return;
  if (typeof o.rCut === 'number' && o.rCut > 1e6) o.rCut = 1e6;
  // (large sigma with the polynomial basis also loses all accuracy, as in DScribe: F_l's upward
  // recursion multiplies by 1/(4 eta r r_w); values pass 1e35 at sigma = 1e3, float32 overflows)
  if (typeof o.sigma === 'number' && o.sigma > 50) o.sigma = 50;
}

/** Random native constructor options: mostly plausible, with junk mixed in. */
export function nativeOptions(rng: Rng): Record<string, unknown> {
  if (chance(rng, 0.02)) return junk(rng) as Record<string, unknown>;
  const rbf = chance(rng, 0.05) ? junk(rng) : pick(rng, ['gto', 'gto', 'polynomial']);
  const nMax = int(rng, chance(rng, 0.05) ? -2 : 1, chance(rng, 0.03) ? 70 : 5);
  const lMax = int(rng, chance(rng, 0.05) ? -2 : 0, chance(rng, 0.03) ? 22 : 5);
  const nSpecies = 1 + rng.nextInt(3);
  const species = chance(rng, 0.08)
    ? junk(rng)
    : chance(rng, 0.05)
      ? Int32Array.from([8, 1]) // not ascending
      : Int32Array.from(SPECIES_Z.slice(0, nSpecies));
  const o: Record<string, unknown> = {
    rCut: chance(rng, 0.1) ? junk(rng) : chance(rng, 0.1) ? rng.nextFloat() * 2 : 1.2 + rng.nextFloat() * 8,
    nMax,
    lMax,
    sigma: chance(rng, 0.1) ? junk(rng) : 0.05 + rng.nextFloat() * 3,
    rbf,
    species,
  };
  if (chance(rng, 0.3))
    o.speciesWeights = chance(rng, 0.3)
      ? junk(rng)
      : Float64Array.from({ length: nSpecies }, () => rng.nextFloat() * 3 - 1);
  if (chance(rng, 0.3)) o.compression = chance(rng, 0.2) ? junk(rng) : pick(rng, ['off', 'crossover', 'mu2', 'mu1nu1']);
  if (chance(rng, 0.3)) o.average = chance(rng, 0.2) ? junk(rng) : pick(rng, ['off', 'inner', 'outer']);
  if (chance(rng, 0.25)) {
    o.weighting = chance(rng, 0.15)
      ? junk(rng)
      : {
          function: chance(rng, 0.1) ? junk(rng) : pick(rng, ['none', 'poly', 'pow', 'exp']),
          r0: num(rng, 0.5, 6),
          c: num(rng, 0.1, 3),
          d: num(rng, 0.1, 3),
          m: num(rng, 0, 4),
          ...(chance(rng, 0.3) ? { w0: num(rng, 0, 2) } : {}),
        };
  }
  if (chance(rng, 0.15)) {
    const small = (v: unknown, dflt: number): number =>
      typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 70 ? v : dflt;
    const n = small(nMax, 2),
      l = small(lMax, 1);
    const size = (k: number): number => (chance(rng, 0.7) ? Math.max(0, k) : rng.nextInt(40));
    o.basis = chance(rng, 0.1)
      ? junk(rng)
      : {
          alphas: chance(rng, 0.1)
            ? junk(rng)
            : Float64Array.from({ length: size((l + 1) * n) }, () => 0.05 + rng.nextFloat() * 5),
          betas: chance(rng, 0.1)
            ? junk(rng)
            : Float64Array.from(
                { length: size(rbf === 'polynomial' ? n * n : (l + 1) * n * n) },
                () => rng.nextFloat() * 4 - 2,
              ),
        };
  }
  if (chance(rng, 0.03)) delete o[pick(rng, ['rCut', 'nMax', 'lMax', 'species'])];
  avoidKnownBugs(o);
  return o;
}

/** A random native structure (plausible with junk mixed in). */
export function nativeStructure(rng: Rng, species: readonly number[]): unknown {
  if (chance(rng, 0.03)) return junk(rng);
  const n = rng.nextInt(7);
  const s: Record<string, unknown> = { positions: chance(rng, 0.05) ? junk(rng) : randomPositions(rng, n) };
  if (chance(rng, 0.03)) s.positions = randomPositions(rng, n).subarray(0, Math.max(0, 3 * n - 1));
  if (species.length > 1 || chance(rng, 0.4)) {
    s.atomicNumbers = chance(rng, 0.05)
      ? junk(rng)
      : Int32Array.from({ length: chance(rng, 0.03) ? n + 1 : n }, () =>
          chance(rng, 0.03) ? rng.nextInt(130) - 5 : pick(rng, species),
        );
  }
  const c = rng.nextFloat();
  if (c < 0.15)
    s.centerIndices = chance(rng, 0.1)
      ? junk(rng)
      : Int32Array.from({ length: rng.nextInt(5) }, () => rng.nextInt(n + 3) - 1);
  else if (c < 0.3) s.centerPositions = chance(rng, 0.1) ? junk(rng) : randomPositions(rng, rng.nextInt(4));
  else if (c < 0.32) {
    s.centerIndices = new Int32Array(1);
    s.centerPositions = new Float64Array(3);
  }
  return s;
}

export function describeValue(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) =>
      typeof x === 'bigint'
        ? `${x}n`
        : x instanceof Map
          ? `Map(${JSON.stringify([...x])})`
          : ArrayBuffer.isView(x)
            ? `${x.constructor.name}(${Array.from(x as unknown as ArrayLike<number>).join(',')})`
            : typeof x === 'number' && !Number.isFinite(x)
              ? String(x)
              : x,
    );
  } catch {
    return String(typeof v);
  }
}
