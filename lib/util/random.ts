/**
 * A small seeded pseudo-random number generator for deterministic sampling,
 * shuffling and positional noise.
 *
 * Algorithm: xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/),
 * a 128-bit-state generator with 32-bit outputs and period 2^128 - 1, written
 * with 32-bit integer arithmetic only (`Math.imul`, `>>> 0`; no BigInt). The
 * four state words are filled from the seed with SplitMix32 (the 32-bit
 * variant of SplitMix64's mixer), so nearby seeds give unrelated streams and the
 * state is never all zero.
 *
 * The same seed always gives the same sequence, on every platform.
 * Not cryptographically secure.
 */

/** Mutable array types that {@link Rng.shuffle} accepts. */
export type ShuffleableArray<T> =
  | T[]
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The state of an {@link Rng}: its four 32-bit words and the pending second normal of a pair (null when none). */
export interface RngState {
  words: number[];
  spareNormal: number | null;
}

/**
 * Seeded PRNG (xoshiro128**). Create with `new Rng(seed)` or {@link createRng}.
 *
 * @example
 * const rng = new Rng(42);
 * rng.nextFloat(); // in [0, 1)
 * rng.nextInt(10); // integer in 0..9
 * rng.normal();    // standard normal
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second value of the last Marsaglia polar pair, or NaN when none is pending. */
  private spareNormal = Number.NaN;

  /**
   * @param seed - any safe integer (negative allowed, |seed| <= 2^53 - 1).
   *   Default 0. Different seeds give unrelated sequences.
   * @throws TypeError if `seed` is not a safe integer.
   */
  constructor(seed = 0) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw new TypeError(`Rng: seed must be a safe integer (|seed| <= 2^53 - 1), got ${String(seed)}`);
    }
    // Split the seed into two 32-bit halves (two's complement for negatives).
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let x = (lo ^ Math.imul(hi, 0x9e3779b9)) >>> 0;
    x = (x + Math.imul(hi ^ (hi >>> 16), 0x85ebca6b)) >>> 0;
    const next = (): number => {
      // SplitMix32 step.
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * The generator's whole state (the four words and a pending normal), as plain data: a generator
   * given it by {@link setState} continues with exactly the draws this one would make next. Used
   * by training checkpoints (lib/ml/train/checkpoint.ts).
   */
  getState(): RngState {
    return {
      words: [this.s0, this.s1, this.s2, this.s3],
      spareNormal: Number.isNaN(this.spareNormal) ? null : this.spareNormal,
    };
  }

  /**
   * Continues from a state taken by {@link getState}.
   *
   * @throws TypeError if `state` is not four unsigned 32-bit words (not all zero) and a finite or null spare normal.
   */
  setState(state: RngState): void {
    const w = state?.words;
    if (!Array.isArray(w) || w.length !== 4 || !w.every((x) => Number.isInteger(x) && x >= 0 && x < TWO_POW_32))
      throw new TypeError('Rng.setState: words must be four unsigned 32-bit integers');
    if ((w[0]! | w[1]! | w[2]! | w[3]!) === 0)
      throw new TypeError('Rng.setState: the state words must not all be zero');
    const spare = state.spareNormal;
    if (spare !== null && !(typeof spare === 'number' && Number.isFinite(spare)))
      throw new TypeError('Rng.setState: spareNormal must be a finite number or null');
    [this.s0, this.s1, this.s2, this.s3] = w as [number, number, number, number];
    this.spareNormal = spare === null ? Number.NaN : spare;
  }

  /** Next raw output: a uniformly distributed unsigned 32-bit integer in 0..2^32-1. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Uniform float in [0, 1) with 53 random bits (two 32-bit outputs per call).
   */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /**
   * Uniform integer in 0..n-1, without modulo bias (rejection sampling).
   *
   * @param n - exclusive upper bound, an integer in 1..2^53.
   * @throws TypeError if `n` is not an integer; RangeError if `n < 1` or `n > 2^53`.
   */
  nextInt(n: number): number {
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      throw new TypeError(`Rng.nextInt: n must be an integer, got ${String(n)}; allowed are 1..2^53`);
    }
    if (n < 1 || n > TWO_POW_53) {
      throw new RangeError(`Rng.nextInt: n = ${n} is out of range; allowed are 1..2^53`);
    }
    if (n <= TWO_POW_32) {
      // Largest multiple of n not above 2^32; reject draws at or above it.
      const limit = TWO_POW_32 - (TWO_POW_32 % n);
      for (;;) {
        const r = this.nextUint32();
        if (r < limit) return r % n;
      }
    }
    const limit = TWO_POW_53 - (TWO_POW_53 % n);
    for (;;) {
      const r = (this.nextUint32() >>> 11) * TWO_POW_32 + this.nextUint32(); // 53 bits
      if (r < limit) return r % n;
    }
  }

  /**
   * Normally distributed number (Marsaglia polar method; the second value of
   * each pair is kept for the next call).
   *
   * @param mean - default 0.
   * @param std - standard deviation, default 1; must be finite and >= 0.
   * @throws RangeError if `std` is negative or not finite, or `mean` is not finite.
   */
  normal(mean = 0, std = 1): number {
    if (!Number.isFinite(mean)) {
      throw new RangeError(`Rng.normal: mean must be a finite number, got ${String(mean)}`);
    }
    if (!Number.isFinite(std) || std < 0) {
      throw new RangeError(`Rng.normal: std must be a finite number >= 0, got ${String(std)}`);
    }
    let z: number;
    if (!Number.isNaN(this.spareNormal)) {
      z = this.spareNormal;
      this.spareNormal = Number.NaN;
    } else {
      let u: number;
      let v: number;
      let s: number;
      do {
        u = 2 * this.nextFloat() - 1;
        v = 2 * this.nextFloat() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      this.spareNormal = v * f;
      z = u * f;
    }
    return mean + std * z;
  }

  /**
   * Shuffles an array in place (Fisher-Yates) and returns it.
   *
   * @param array - a plain array or a typed array; it is modified.
   * @returns the same array, shuffled.
   * @throws TypeError if `array` is not an array or typed array.
   */
  shuffle<A extends ShuffleableArray<unknown>>(array: A): A {
    if (!Array.isArray(array) && !(ArrayBuffer.isView(array) && !(array instanceof DataView))) {
      throw new TypeError('Rng.shuffle: expected an array or a typed array');
    }
    const a = array as unknown as { [i: number]: unknown; length: number };
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return array;
  }
}

/**
 * Creates a seeded {@link Rng}.
 *
 * @param seed - any safe integer; default 0.
 */
export function createRng(seed = 0): Rng {
  return new Rng(seed);
}
