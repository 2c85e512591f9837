/**
 * Strict parsers for command-line option values. Each throws commander's
 * InvalidArgumentError with a message saying what is allowed, so commander reports
 * "error: option '--r-cut <r>' argument 'abc' is invalid. <message>" and exits non-zero.
 * Nothing is guessed: "12abc", "1e3" for an integer, "", "0x10" and the like are rejected.
 */
import { InvalidArgumentError } from 'commander';
import { parseShardSpec, type ShardSpec } from '../util/shard';

export type { ShardSpec };

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** An integer in [min, max] (safe integers only). */
export function integerParser(min: number, max: number = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string): number => {
    const v = Number(value);
    if (!INTEGER.test(value.trim()) || !Number.isSafeInteger(v) || v < min || v > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in ${min}..${max}`;
      throw new InvalidArgumentError(`must be ${range}, got '${value}'.`);
    }
    return v;
  };
}

/** Bounds of {@link numberParser}: `{ min, minExclusive, max }`. */
export interface NumberBounds {
  min?: number;
  /** The value must be strictly greater than `min`. */
  minExclusive?: boolean;
  max?: number;
}

/** A finite decimal number within the bounds. */
export function numberParser(bounds: NumberBounds = {}): (value: string) => number {
  const { min, minExclusive = false, max } = bounds;
  const words: string[] = [];
  if (min !== undefined) words.push(`${minExclusive ? '>' : '>='} ${min}`);
  if (max !== undefined) words.push(`<= ${max}`);
  const what = `a finite number${words.length ? ' ' + words.join(' and ') : ''}`;
  return (value: string): number => {
    const v = Number(value);
    const ok =
      DECIMAL.test(value.trim()) &&
      Number.isFinite(v) &&
      (min === undefined || (minExclusive ? v > min : v >= min)) &&
      (max === undefined || v <= max);
    if (!ok) throw new InvalidArgumentError(`must be ${what}, got '${value}'.`);
    return v;
  };
}

/** Parses `i/n` with integers 1 <= i <= n (see util/shard.ts). */
export function parseShard(value: string): ShardSpec {
  try {
    return parseShardSpec(value);
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message}.`);
  }
}

/** Parses a size `ROWSxCOLS` (e.g. `28x28`) into [rows, cols], each 1..65535. */
export function parseSize(value: string): [number, number] {
  const m = /^\s*(\d+)\s*[xX]\s*(\d+)\s*$/.exec(value);
  const rows = m ? Number(m[1]) : NaN;
  const cols = m ? Number(m[2]) : NaN;
  if (!m || !(rows >= 1 && rows <= 65535 && cols >= 1 && cols <= 65535)) {
    throw new InvalidArgumentError(`must be ROWSxCOLS with integers 1..65535 (e.g. 28x28), got '${value}'.`);
  }
  return [rows, cols];
}
