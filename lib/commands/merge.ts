/**
 * `soapix merge`: runs the library's shard merge (lib/features/merge.ts) and prints what it does.
 */
import * as path from 'node:path';
import { mergeShards, type MergeEvent, type MergeOptions, type MergeResult } from '../features/merge';
import { SCALER_FILE } from '../features/run-files';
import { formatDuration } from '../util/format';
import type { ProgressStream } from '../cli/progress';

export interface MergeCommandOptions extends MergeOptions {
  quiet: boolean;
}

/** Runs `soapix merge`. Rejects with a user-facing Error; removes what it started on failure. */
export async function mergeCommand(
  o: MergeCommandOptions,
  io: { stdout: ProgressStream; signal?: AbortSignal; argv?: readonly string[] },
): Promise<MergeResult> {
  const t0 = process.hrtime.bigint();
  const seconds = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
  const say = (text: string): void => {
    if (!o.quiet) io.stdout.write(`merge: ${text}\n`);
  };
  const onEvent = (e: MergeEvent): void => {
    switch (e.kind) {
      case 'skipped':
        say(`${path.join(e.dir, e.metaFile)} already done (${e.rows} rows), skipping`);
        break;
      case 'start':
        say(`${e.shards} shards, ${e.rows} rows x ${e.featureCount} features (${e.dtype}) -> ${e.dir}`);
        break;
      case 'shard':
        say(`shard ${e.index}/${e.count}: ${e.rows} rows`);
        break;
      case 'fittingScaler':
        say(`fitting the robust scaler on ${e.rows} x ${e.featureCount} features`);
        break;
    }
  };
  const r = await mergeShards(o, { signal: io.signal, argv: io.argv, onEvent });
  if (!r.skipped) {
    const { files, meta } = r;
    say(
      `done: ${meta.rows} rows from ${r.shards} shards in ${formatDuration(seconds())} -> ${path.join(r.dir, files.features)}, ` +
        `${files.labels}, ${files.centers}, ${files.meta}${meta.scaler ? ', ' + SCALER_FILE : ''}${o.removeShards ? ' (shard files removed)' : ''}`,
    );
  }
  return r;
}
