/**
 * `soapix featurize`: parses nothing itself (commander does, in cli.ts), runs the library's
 * featurize run (lib/features/run.ts) and prints its events: the plan, progress (a bar or plain
 * lines), warnings and the summary.
 */
import * as path from 'node:path';
import { runFeaturize, type FeaturizeEvent, type FeaturizeRunOptions, type FeaturizeRunResult } from '../features/run';
import { SCALER_FILE } from '../features/run-files';
import { formatBytes, formatDuration } from '../util/format';
import { ProgressReporter, type ProgressMode, type ProgressStream } from '../cli/progress';

/** Options of {@link featurizeCommand}: the run's options and how to show progress. */
export interface FeaturizeCommandOptions extends FeaturizeRunOptions {
  progress: ProgressMode;
  progressInterval: number;
  quiet: boolean;
}

/** Streams and cancellation of a command. */
export interface CommandIO {
  stdout: ProgressStream;
  /** Warnings. */
  stderr?: { write(chunk: string): boolean };
  signal?: AbortSignal;
  /** Recorded in the meta (`run.argv`). */
  argv?: readonly string[];
}

/**
 * Runs `soapix featurize` and prints what it does. Resolves with the run's result; rejects with
 * an Error whose message is for the user.
 */
export async function featurizeCommand(o: FeaturizeCommandOptions, io: CommandIO): Promise<FeaturizeRunResult> {
  const t0 = process.hrtime.bigint();
  const seconds = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
  const say = (text: string): void => {
    if (!o.quiet) io.stdout.write(text + '\n');
  };
  const shardText = o.shard ? `shard ${o.shard.index}/${o.shard.count}` : undefined;
  let progress: ProgressReporter | undefined;

  const onEvent = (e: FeaturizeEvent): void => {
    switch (e.kind) {
      case 'skipped':
        say(
          shardText ? `${shardText} already done, skipping` : `${path.join(e.dir, e.metaFile)} already done, skipping`,
        );
        break;
      case 'counting':
        say(`featurize: counting the points of ${e.images} images`);
        break;
      case 'lowSpace':
        io.stderr?.write(
          `soapix featurize: warning: the output needs about ${formatBytes(e.neededBytes)} but ${e.dir} has ${formatBytes(e.freeBytes)} free; ` +
            'the run will fail with "no space left on device" unless space is freed' +
            (o.dtype === 'float64' ? ' (--dtype float32 halves the features)' : '') +
            '\n',
        );
        break;
      case 'start': {
        const { start, end, expectedRows, expectedBytes } = e.plan;
        say(
          `featurize: ${e.datasetName}${shardText ? ` ${shardText}:` : ':'} images ${start}..${end - 1} (${end - start} of ${e.length}), ` +
            `SOAP ${o.rbf} rCut ${o.rCut} nMax ${o.nMax} lMax ${o.lMax} sigma ${o.sigma} -> ${e.featureCount} features, ${o.dtype}, ` +
            (e.plan.samples ? `${o.sample} sampled centres (seed ${o.seed})` : 'every point a centre') +
            ` -> ${e.dir} (${expectedRows} rows, ${formatBytes(expectedBytes)})`,
        );
        progress = new ProgressReporter({
          mode: o.quiet ? 'none' : o.progress,
          label: 'featurize',
          total: end - start,
          stream: io.stdout,
          intervalSeconds: o.progressInterval,
        });
        break;
      }
      case 'progress':
        progress?.update({ done: e.images, rows: e.rows, elapsedSeconds: e.elapsedSeconds });
        break;
      case 'computed':
        progress?.finish({ done: e.images, rows: e.rows, elapsedSeconds: e.elapsedSeconds });
        break;
      case 'fittingScaler':
        say(`featurize: fitting the robust scaler on ${e.rows} x ${e.featureCount} features`);
        break;
    }
  };

  let result: FeaturizeRunResult;
  try {
    result = await runFeaturize(o, { signal: io.signal, argv: io.argv, onEvent });
  } catch (err) {
    progress?.stop();
    // The folder loader names its option; the user gave a flag.
    if (err instanceof Error && /images of different sizes/.test(err.message)) {
      throw new Error(err.message.replace(/pass resize: \[rows, cols\]/, 'pass --resize ROWSxCOLS'));
    }
    throw err;
  }
  if (!result.skipped) {
    const { meta, files, dir } = result;
    say(
      `featurize: ${shardText ? shardText + ' ' : ''}done: ${meta.rows} rows x ${meta.config.soap.featureCount} features from ${meta.images} images ` +
        `(${meta.emptyImages.count} without points) in ${formatDuration(seconds())} -> ${path.join(dir, files.features)}, ` +
        `${files.labels}, ${files.centers}, ${files.meta}${meta.scaler ? ', ' + SCALER_FILE : ''}`,
    );
  }
  return result;
}
