/**
 * Shards: part i of n (1-based, 1 <= i <= n) of one job's items, for spreading it over many
 * processes or machines, so that a Slurm job array `--array=1-N` with
 * `--shard $SLURM_ARRAY_TASK_ID/N` covers every item exactly once. Two ways to cut:
 * - {@link shardRange}: the contiguous range [floor((i-1)N/n), floor(iN/n)) — featurize runs,
 *   whose shards are concatenated in order by the merge; sizes differ by at most one;
 * - {@link inShard}: items k with k mod n = i - 1 — experiment units, so that costly and cheap
 *   units (listed in a fixed order, often by size) spread evenly over the shards.
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
  const shard = { index: Number(m[1]), count: Number(m[2]) };
  if (!isValidShard(shard)) throw new Error(`${hint}, got '${value}'`);
  if (shard.count > MAX_SHARDS) throw new Error(`at most ${MAX_SHARDS} shards, got '${value}'`);
  return shard;
}

function isValidShard({ index, count }: ShardSpec): boolean {
  return Number.isSafeInteger(index) && Number.isSafeInteger(count) && count >= 1 && index >= 1 && index <= count;
}

/** Throws a RangeError unless `shard` is i/n with integers 1 <= i <= n. */
export function checkShard(shard: ShardSpec): void {
  if (!isValidShard(shard)) {
    throw new RangeError(
      `shard must be i/n with integers 1 <= i <= n, got ${String(shard.index)}/${String(shard.count)}`,
    );
  }
}

/** The item range [start, end) of `shard` over `length` items; the whole range without a shard. */
export function shardRange(length: number, shard: ShardSpec | undefined | null): { start: number; end: number } {
  if (!shard) return { start: 0, end: length };
  // Exact in integers for any length and count below 2^53 / count.
  const start = Math.floor(((shard.index - 1) * length) / shard.count);
  const end = Math.floor((shard.index * length) / shard.count);
  return { start, end };
}

/** Whether item `k` (0-based position in the run's order) belongs to `shard` (every item without one). */
export function inShard(k: number, shard: ShardSpec | undefined): boolean {
  return shard === undefined || k % shard.count === shard.index - 1;
}
