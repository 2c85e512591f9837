/**
 * The shared pieces of `soapix experiment <name>` subcommands: the options every experiment takes,
 * the SOAP and training options of the paper's experiments, list parsers, and {@link runGrid}, which
 * runs an experiment of independent units (docs/RUNNER.md) with --workers, --shard, progress lines
 * and the message of a run that leaves units to other shards.
 */
import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';

import { integerParser, numberParser, parseShard, type ShardSpec } from '../cli/parse';
import { gtoRCutParser, lMaxParser, nMaxParser } from '../cli/soap-options';
import { unitProgressLine } from '../cli/progress';
import type { BackendName } from '../ml/backend';
import type { Experiment } from '../experiments/definition';
import type { RunOutcome } from '../experiments/runner';
import { UsageError } from '../util/usage-error';

/** Where an experiment writes and what stops it. */
export interface ExperimentIO {
  stdout: { write(chunk: string): boolean };
  stderr: { write(chunk: string): boolean };
  signal?: AbortSignal;
}

/** Adds one experiment subcommand to `parent` (the `experiment` command). */
export type RegisterExperiment = (parent: Command, io: ExperimentIO) => void;

/** Parses `512,256,128`. */
export function parseHidden(v: string): number[] {
  const parts = v.split(',').map((s) => Number(s.trim()));
  if (parts.length === 0 || !parts.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new UsageError(`--hidden must be comma-separated positive integers (e.g. 512,256,128), got '${v}'`);
  }
  return parts;
}

/** The options every training experiment shares (backend, seed, output). */
export function addCommonOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--out <dir>', 'output folder, created if missing (required)')
    .option('--seed <seed>', 'seed of sampling, splits, weights and dropout', integerParser(0), 1)
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .option('--tiny', 'CI mode: tiny sizes and parameters (checks the plumbing, not the numbers)', false)
    .option('-q, --quiet', 'print only the final metrics', false);
}

/** The SOAP options (defaults: the paper's optimum). */
export function addSoapOptions(cmd: Command): Command {
  return cmd
    .option('--r-cut <r>', 'SOAP radial cutoff (paper optimum 63)', gtoRCutParser())
    .option('--n-max <n>', 'SOAP radial basis functions (paper optimum 7)', nMaxParser())
    .option('--l-max <l>', 'SOAP maximum degree, GTO basis (paper optimum 10)', lMaxParser('gto'))
    .option('--sigma <s>', 'SOAP Gaussian width (paper optimum 3)', numberParser({ min: 0, minExclusive: true }));
}

/** The training options; undefined values take the experiment's (or --tiny's) defaults. */
export function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option('--train-samples <T>', 'train+validation spectra, split 80:20 (paper 120000)', integerParser(10))
    .option('--test-samples <n>', 'test spectra (paper 10000)', integerParser(1))
    .option('--epochs <n>', 'maximum epochs (paper 300)', integerParser(1))
    .option('--patience <n>', 'early stopping patience on validation loss', integerParser(1))
    .option('--hidden <widths>', 'hidden layer widths (default 512,256,128)', parseHidden)
    .option('--threads <n>', 'featurization threads (0: all cores)', integerParser(0, 4096), 0);
}

/** Adds --checkpoint-minutes to a command whose units train models (`what`: what is saved). */
export function addCheckpointOption(cmd: Command, what = "each training's state"): Command {
  return cmd.option(
    '--checkpoint-minutes <m>',
    `save ${what} at most every m minutes in <out>/checkpoints/; a rerun continues from it with the same result (default 5; 0: none)`,
    numberParser({ min: 0 }),
  );
}

/** The options of a run of independent units. */
export interface GridOpts {
  out: string;
  quiet: boolean;
  threads: number;
  workers: number;
  shard?: ShardSpec;
  summary?: boolean;
}

/** Adds --shard and --workers (and --no-summary with `summary`) to a command whose units are `what`. */
export function addGridOptions(cmd: Command, what: string, summary: boolean): Command {
  cmd
    .option(
      '--shard <i/n>',
      `run only ${what} k (in protocol order) with k mod n = i-1 (1 <= i <= n, e.g. --shard $SLURM_ARRAY_TASK_ID/N); the run that finds every one done merges`,
      parseShard,
    )
    .option(
      '--workers <n>',
      `parallel worker processes, each running a share of the ${what} (0 = one per core)`,
      integerParser(0, 1024),
      1,
    );
  return summary
    ? cmd.option(
        '--no-summary',
        `skip the merge (results.json, figures, report) even when every one of the ${what} is done`,
      )
    : cmd;
}

/**
 * Runs `def` with `spec` through the runner: progress lines on stderr (unless --quiet), and, when
 * the run leaves units to other shards, a line on stdout saying which. Resolves with the outcome.
 */
export async function runGrid<Spec, Unit, Result, Summary, State>(
  def: Experiment<Spec, Unit, Result, Summary, State>,
  spec: Spec,
  o: GridOpts,
  io: ExperimentIO,
): Promise<RunOutcome<Unit, Summary>> {
  const { runExperiment } = await import('../experiments/runner.js');
  const log = o.quiet ? undefined : (line: string) => void io.stderr.write(line + '\n');
  const noun = def.unitNoun ?? 'units';
  const r = await runExperiment(def, spec, {
    out: o.out,
    workers: o.workers === 0 ? availableParallelism() : o.workers,
    shard: o.shard,
    threads: o.threads,
    merge: o.summary !== false,
    log,
    onProgress: log && ((p) => void (p.event === 'unit-done' && log(unitProgressLine(def.name, noun, p)))),
    signal: io.signal,
  });
  if (r.summary === null && o.summary !== false) {
    io.stdout.write(
      `this run's ${noun} are done (${r.inRun} of ${r.total}); still missing: ${r.missingIds.join(', ')}; ` +
        `${def.resultsFile ?? 'results.json'} is written by the run that finds every one done (${path.join(o.out, 'units')})\n`,
    );
  }
  return r;
}

export interface CommonOpts {
  out: string;
  seed: number;
  backend: 'auto' | BackendName;
  tiny: boolean;
  quiet: boolean;
  rCut?: number;
  nMax?: number;
  lMax?: number;
  sigma?: number;
  trainSamples?: number;
  testSamples?: number;
  epochs?: number;
  patience?: number;
  hidden?: number[];
  threads: number;
}

/** Parses a comma-separated list of positive numbers (integers with `integer`). */
export function parseNumberList(flag: string, integer: boolean): (v: string) => number[] {
  return (v: string) => {
    const parts = v.split(',').map((t) => Number(t.trim()));
    if (parts.length === 0 || !parts.every((n) => Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n)))) {
      throw new UsageError(`${flag} must be comma-separated positive ${integer ? 'integers' : 'numbers'}, got '${v}'`);
    }
    return parts;
  };
}

/** Parses a comma-separated subset of `allowed`. */
export function parseChoiceList<T extends string>(flag: string, allowed: readonly T[]): (v: string) => T[] {
  return (v: string) => {
    const parts = v.split(',').map((t) => t.trim());
    if (parts.length === 0 || !parts.every((p) => (allowed as readonly string[]).includes(p))) {
      throw new UsageError(`${flag} must be a comma-separated subset of ${allowed.join(',')}, got '${v}'`);
    }
    return [...new Set(parts)] as T[];
  };
}
