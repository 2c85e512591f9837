/**
 * Shards of a run: `i/n` (1-based, 1 <= i <= n) takes the items k (0-based, in the run's fixed
 * order) with k mod n = i - 1, so that a Slurm job array `--array=1-N` with
 * `--shard $SLURM_ARRAY_TASK_ID/N` covers every item exactly once.
 */

/** A shard `i/n`: this process handles part `index` (1-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** Throws a RangeError unless `shard` is i/n with integers 1 <= i <= n. */
export function checkShard(shard: ShardSpec): void {
  const { index, count } = shard;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new RangeError(`shard must be i/n with integers 1 <= i <= n, got ${String(index)}/${String(count)}`);
  }
}

/** Whether item `k` (0-based position in the run's order) belongs to `shard` (every item without one). */
export function inShard(k: number, shard: ShardSpec | undefined): boolean {
  return shard === undefined || k % shard.count === shard.index - 1;
}
