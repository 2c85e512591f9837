/**
 * `soapix experiment equivariant`: the equivariant-autoencoder experiment (Table 1 of Kuzminykh,
 * Polykovskiy & Zhebrak; lib/experiments/equivariant.ts) on the runner. This file only parses the
 * flags into an EquivariantSpec and prints the table; it is registered next to the other
 * experiments by lib/cli.ts (it uses experiment.ts's shared options, so experiment.ts cannot list it).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';

import { integerParser, numberParser } from '../cli/parse';
import type { BackendName } from '../ml/backend';
import { UsageError } from '../util/usage-error';
import { addCheckpointOption, addGridOptions, runGrid, type ExperimentIO, type GridOpts } from './experiment-options';

type Group = 'ae' | 'd4' | 'd12';
const GROUPS: readonly Group[] = ['ae', 'd4', 'd12'];
const ROWS = ['ae', 'mean-d4', 'mean-d12', 'attention-d4', 'attention-d12', 'gram-d4', 'gram-d12'] as const;
type Row = (typeof ROWS)[number];

/** A value per training group: `8` (all), `ae=8,d4=3,d12=1`, or `3,ae=8` (all 3 but the AE). */
export function parsePerGroup(flag: string, min: number): (v: string) => Partial<Record<Group | 'all', number>> {
  return (v: string) => {
    const out: Partial<Record<Group | 'all', number>> = {};
    for (const part of v.split(',').map((s) => s.trim())) {
      const m = /^(?:(ae|d4|d12)=)?(\d+)$/.exec(part);
      const n = m ? Number(m[2]) : Number.NaN;
      if (!m || !Number.isSafeInteger(n) || n < min) {
        throw new InvalidArgumentError(
          `${flag} takes integers >= ${min}, for all trainings (e.g. 8) or per group ae, d4, d12 (e.g. ae=8,d4=3,d12=1 or 3,ae=8), got '${v}'.`,
        );
      }
      const key = (m[1] as Group | undefined) ?? 'all';
      if (out[key] !== undefined)
        throw new InvalidArgumentError(
          `${flag} gives ${key === 'all' ? 'a value for all groups' : key} twice in '${v}'.`,
        );
      out[key] = n;
    }
    return out;
  };
}

function resolvePerGroup(
  given: Partial<Record<Group | 'all', number>> | undefined,
  d: Readonly<Record<Group, number>>,
): Record<Group, number> {
  return Object.fromEntries(GROUPS.map((g) => [g, given?.[g] ?? given?.all ?? d[g]])) as Record<Group, number>;
}

function widthsParser(flag: string): (v: string) => number[] {
  return (v: string) => {
    const parts = v.split(',').map((s) => Number(s.trim()));
    if (parts.length === 0 || !parts.every((n) => Number.isInteger(n) && n >= 1 && n <= 1024)) {
      throw new InvalidArgumentError(
        `${flag} takes comma-separated channel counts 1..1024, one per encoder block (e.g. 8,16,32), got '${v}'.`,
      );
    }
    return parts;
  };
}

function rowsParser(v: string): Row[] {
  const parts = v.split(',').map((s) => s.trim());
  if (parts.length === 0 || !parts.every((p) => (ROWS as readonly string[]).includes(p))) {
    throw new InvalidArgumentError(`--models takes a comma-separated subset of ${ROWS.join(',')}, got '${v}'.`);
  }
  return [...new Set(parts)] as Row[];
}

interface EquivariantOpts extends GridOpts {
  seed: number;
  backend: 'auto' | BackendName;
  tiny: boolean;
  dataset: 'mnist' | 'fashion-mnist';
  fashionDir?: string;
  interpolation: 'bilinear' | 'nearest';
  models?: Row[];
  seeds?: number;
  dataSeed: number;
  trainImages?: Partial<Record<Group | 'all', number>>;
  epochs?: Partial<Record<Group | 'all', number>>;
  patience?: number;
  batchSize?: number;
  widths?: number[];
  d12Widths?: number[];
  aeWidths?: number[];
  latent?: number;
  codeSize?: number;
  entropyWeight?: number;
  probeImages?: number;
  testImages?: number;
  probeEpochs?: number;
  probePatience?: number;
  probeHidden?: number;
  invarianceImages?: number;
  checkpointMinutes?: number;
}

/** Adds `soapix experiment equivariant` to the `experiment` command. */
export function registerEquivariant(parent: Command, io: ExperimentIO): void {
  const cmd = parent
    .command('equivariant')
    .description(
      "Kuzminykh et al.'s equivariant autoencoder (Table 1): per seed a plain conv AE, a D4 and a D12 equivariant AE (each gives the mean- and Gram-pooled rows) " +
        'and a D4 and a D12 AE with equivariant attention, trained on rotated and mirrored images; their frozen codes go into softmax regression (LR) and a ' +
        '256-unit MLP (NN). Writes results.json (Table 1 beside the paper, the four claims, invariance errors, attention entropy), figures and report.html; ' +
        'each trained model in models/<training>-s<seed>/. One JSON per (training, seed) in units/; --workers for processes, --shard i/n for machines; ' +
        "reruns skip finished trainings. --dataset fashion-mnist stands in for the paper's Plankton (Table 2).",
    )
    .requiredOption('--out <dir>', 'output folder, created if missing (required)')
    .option(
      '--seed <seed>',
      'first seed of weights, shuffles and probes (seeds: seed, seed + 1, ...)',
      integerParser(0),
      1,
    )
    .option('--seeds <n>', 'number of seeds (default 3; --tiny 1)', integerParser(1, 1000))
    .option(
      '--data-seed <seed>',
      'seed of the augmentation (one augmented data set for every seed)',
      integerParser(0),
      1,
    )
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .option('--tiny', 'CI mode: tiny sizes and widths (checks the plumbing, not the numbers)', false)
    .option('-q, --quiet', 'print only the final table', false)
    .addOption(
      new Option('--dataset <name>', 'image source (fashion-mnist stands in for Plankton)')
        .choices(['mnist', 'fashion-mnist'])
        .default('mnist'),
    )
    .option('--fashion-dir <dir>', 'folder of the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)')
    .addOption(
      new Option('--interpolation <name>', 'resampling of the augmentation turns')
        .choices(['bilinear', 'nearest'])
        .default('bilinear'),
    )
    .option('--models <list>', `Table-1 rows (default all: ${ROWS.join(',')})`, rowsParser)
    .option(
      '--train-images <n>',
      'training + validation images of each training: one value or per group, e.g. 60000,d12=20000 (default ae=60000,d4=60000,d12=20000)',
      parsePerGroup('--train-images', 2),
    )
    .option(
      '--epochs <n>',
      'maximum epochs: one value or per group, e.g. ae=8,d4=3,d12=1 (default ae=3,d4=1,d12=1)',
      parsePerGroup('--epochs', 1),
    )
    .option('--patience <n>', 'early stopping on the validation MSE (default 3)', integerParser(1))
    .option('--batch-size <n>', 'training batch (default 64)', integerParser(1, 65536))
    .option('--widths <list>', 'p4 G-channels of the D4 and D12 encoders (default 8,16,32)', widthsParser('--widths'))
    .option(
      '--d12-widths <list>',
      'p4 G-channels of the D12 encoders (default: --widths)',
      widthsParser('--d12-widths'),
    )
    .option('--ae-widths <list>', 'channels of the plain AE (default 16,32,64)', widthsParser('--ae-widths'))
    .option('--latent <m>', 'columns m of the equivariant code V (default 32)', integerParser(1, 4096))
    .option('--code-size <n>', 'code width of the plain AE and of attention (default 64)', integerParser(1, 65536))
    .option(
      '--entropy-weight <l>',
      'weight of the attention entropy in the loss (default 0.01)',
      numberParser({ min: 0 }),
    )
    .option(
      '--probe-images <n>',
      'augmented training images whose codes train the probes (default 20000)',
      integerParser(10),
    )
    .option('--test-images <n>', 'augmented test images (default 10000)', integerParser(1))
    .option('--probe-epochs <n>', 'maximum probe epochs (default 200)', integerParser(1))
    .option('--probe-patience <n>', 'probe early stopping (default 10)', integerParser(1))
    .option('--probe-hidden <n>', 'hidden units of the NN probe (default 256)', integerParser(1, 65536))
    .option('--invariance-images <n>', 'test images for the invariance errors (default 300)', integerParser(1));
  addCheckpointOption(cmd);
  addGridOptions(cmd, 'trainings', true).action(async (o: EquivariantOpts) => {
    const eq = await import('../experiments/equivariant.js');
    const d = o.tiny ? eq.TINY_EQUIVARIANT : eq.EQUIVARIANT_DEFAULTS;
    const seeds = o.seeds ?? d.seeds;
    const spec: import('../experiments/equivariant.js').EquivariantSpec = {
      dataset: o.dataset,
      ...(o.fashionDir !== undefined ? { fashionDir: o.fashionDir } : {}),
      interpolation: o.interpolation,
      models: o.models ?? [...eq.TABLE_ROWS],
      seeds: Array.from({ length: seeds }, (_, i) => o.seed + i),
      dataSeed: o.dataSeed,
      trainImages: resolvePerGroup(o.trainImages, d.trainImages),
      epochs: resolvePerGroup(o.epochs, d.epochs),
      validation: d.validation,
      patience: o.patience ?? d.patience,
      batchSize: o.batchSize ?? d.batchSize,
      widths: {
        ae: o.aeWidths ?? [...d.widths.ae],
        d4: o.widths ?? [...d.widths.d4],
        d12: o.d12Widths ?? o.widths ?? [...d.widths.d12],
      },
      latentChannels: o.latent ?? d.latentChannels,
      codeSize: o.codeSize ?? d.codeSize,
      entropyWeight: o.entropyWeight ?? d.entropyWeight,
      probeImages: o.probeImages ?? d.probeImages,
      testImages: o.testImages ?? d.testImages,
      probeEpochs: o.probeEpochs ?? d.probeEpochs,
      probePatience: o.probePatience ?? d.probePatience,
      probeHidden: o.probeHidden ?? d.probeHidden,
      invarianceImages: o.invarianceImages ?? Math.min(d.invarianceImages, o.testImages ?? d.testImages),
      backend: o.backend,
      workers: o.workers === 0 ? availableParallelism() : o.workers,
      ...(o.checkpointMinutes !== undefined ? { checkpointMinutes: o.checkpointMinutes } : {}),
    };
    if (spec.invarianceImages > spec.testImages)
      throw new UsageError(`--invariance-images ${spec.invarianceImages} exceeds --test-images ${spec.testImages}`);
    const r = (await runGrid(eq.equivariantExperiment, spec, { ...o, threads: 1 }, io)).summary;
    if (r === null) return;
    const pm = (s: { mean: number; std: number }): string =>
      `${(100 * s.mean).toFixed(1)} ± ${(100 * s.std).toFixed(1)}`;
    io.stdout.write(
      `${r.datasetLabel}: probe accuracy (%), mean ± std over ${spec.seeds.length} seed(s); paper in brackets\n` +
        r.table
          .map(
            (t) =>
              `${t.label.padEnd(18)} LR ${pm(t.lr)} [${t.paper.lr}]  NN ${pm(t.nn)} [${t.paper.nn}]  (${t.codeLength} values)`,
          )
          .join('\n') +
        '\n' +
        r.claims
          .map(
            (c) => `${c.holds === null ? 'not tested' : c.holds ? 'holds' : 'does not hold'}: ${c.claim}: ${c.detail}`,
          )
          .join('\n') +
        `\nwrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'report.html')}\n`,
    );
  });
}
