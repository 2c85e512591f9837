/**
 * Shards: part i of n of a list of N items, for spreading one job over many processes or
 * machines (Slurm array tasks). Shard i of n covers the contiguous range
 * [floor((i-1)N/n), floor(iN/n)): every item is in exactly one shard, and shard sizes differ by
 * at most one.
 */

/** A shard `i/n`: this process handles part `index` (1-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** Most shards a job may be split into. */
export const MAX_SHARDS = 1_000_000;

/**
 * Parses `i/n` with integers 1 <= i <= n <= {@link MAX_SHARDS}.
 * @throws Error saying what is allowed (without a trailing period), e.g. for '0/8' or '3'.
 */
export function parseShardSpec(value: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const hint = "must be i/n with integers 1 <= i <= n (e.g. '3/8': the third of eight shards)";
  if (!m) throw new Error(`${hint}, got '${value}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new Error(`${hint}, got '${value}'`);
  }
  if (count > MAX_SHARDS) throw new Error(`at most ${MAX_SHARDS} shards, got '${value}'`);
  return { index, count };
}

/** The item range [start, end) of `shard` over `length` items; the whole range without a shard. */
export function shardRange(length: number, shard: ShardSpec | undefined | null): { start: number; end: number } {
  if (!shard) return { start: 0, end: length };
  // Exact in integers for any length and count below 2^53 / count.
  const start = Math.floor(((shard.index - 1) * length) / shard.count);
  const end = Math.floor((shard.index * length) / shard.count);
  return { start, end };
}
