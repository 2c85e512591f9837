/**
 * `soapix benchmark <name>`: benchmarks across models. `invariance`: every invariant extractor
 * (pixels, PCA, SOAP image descriptors, autoencoders, equivariant autoencoders, rVAEs, CODAE) under
 * one protocol on rotated and mirrored MNIST or Fashion-MNIST (lib/benchmark/, docs/BENCHMARK.md);
 * `compare`: finished runs side by side (lib/benchmark/compare.ts). The commands parse, resolve the
 * scale and call the library.
 */
import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';

import { integerParser, type ShardSpec } from '../cli/parse';
import type { BackendName } from '../ml/backend';
import { LEARNED_MEMBERS, MEMBER_NAMES, type MemberName } from '../benchmark/member-names';
import { UsageError } from '../util/usage-error';
import { addGridOptions, parseChoiceList, parseNumberList, runGrid, type ExperimentIO } from './experiment-options';

/** Parses `10` (every learned member) or `convae=10,eqae-d12=2`. */
export function parsePerMember(
  flag: string,
  members: readonly string[],
): (v: string) => Record<string, number> | number {
  return (v: string) => {
    const t = v.trim();
    if (/^\d+$/.test(t) && Number(t) >= 1) return Number(t);
    const out: Record<string, number> = {};
    for (const part of t.split(',')) {
      const m = /^\s*([a-z0-9-]+)\s*=\s*(\d+)\s*$/.exec(part);
      if (!m || Number(m[2]) < 1 || !members.includes(m[1]!)) {
        throw new UsageError(
          `${flag} takes a positive integer for every learned member, or member=N pairs (members: ${members.join(', ')}), got '${v}'`,
        );
      }
      out[m[1]!] = Number(m[2]);
    }
    return out;
  };
}

interface InvarianceOpts {
  dataset: 'mnist' | 'fashion-mnist';
  fashionDir?: string;
  out: string;
  seed: number;
  backend: 'auto' | BackendName;
  tiny: boolean;
  quiet: boolean;
  interpolation: 'bilinear' | 'nearest';
  members?: string[];
  trainImages?: number;
  validationImages?: number;
  testImages?: number;
  budgets?: number[];
  seeds?: number;
  probes?: ('logistic' | 'mlp' | 'knn')[];
  epochs?: Record<string, number> | number;
  fitImages?: Record<string, number> | number;
  invarianceImages?: number;
  randomAngles?: number;
  clusterImages?: number;
  timingImages?: number;
  threads: number;
  workers: number;
  shard?: ShardSpec;
  summary?: boolean;
}

function registerInvariance(
  parent: Command,
  io: ExperimentIO,
  memberNames: readonly string[],
  learnedNames: readonly string[],
): void {
  const cmd = parent
    .command('invariance')
    .description(
      'Every invariant extractor under one protocol on rotated (0-360°) and mirrored images: raw pixels, PCA, SOAP image descriptors ' +
        '(average inner/outer, centroid, mean+std; paper and small parameters), the convolutional autoencoder, equivariant autoencoders ' +
        "(Gram and mean D4/D12, attention D4), rVAE and crVAE content latents, CODAE invariant latents, and the paper's CNN trained end to end as a reference. " +
        'Measures logistic, one-hidden-layer and kNN probe accuracy at 100, 1,000 and 10,000 labels (3 seeds), k-means NMI/ARI, invariance errors ' +
        'and cost. One JSON per member in units/ (trained models in models/); --workers, --shard i/n, reruns resume; the run that finds every ' +
        'member done writes results.json, leaderboard.md, figures and report.html. Default scale: "standard" (docs/BENCHMARK.md).',
    )
    .addOption(new Option('--dataset <name>', 'image source').choices(['mnist', 'fashion-mnist']).default('mnist'))
    .option('--fashion-dir <dir>', 'folder of the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)')
    .requiredOption('--out <dir>', 'output folder, created if missing (required)')
    .option('--seed <seed>', 'seed of the augmentation, label subsets, weights and probes', integerParser(0), 1)
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .option('--tiny', 'CI scale: every member on a few hundred images (checks the plumbing, not the numbers)', false)
    .option('-q, --quiet', 'print only the final summary', false)
    .addOption(
      new Option('--interpolation <name>', 'resampling of the augmented images')
        .choices(['bilinear', 'nearest'])
        .default('bilinear'),
    )
    .option(
      '--members <list>',
      `members to run (default: all but soap-mid): ${memberNames.join(',')}`,
      parseChoiceList('--members', memberNames),
    )
    .option(
      '--train-images <n>',
      'training split: unlabelled images for the learned extractors and the pool of labelled ones (standard 12000)',
      integerParser(10, 59000),
    )
    .option(
      '--validation-images <n>',
      'validation split for early stopping of the learned extractors (standard 1000)',
      integerParser(1, 59000),
    )
    .option('--test-images <n>', 'test split (standard 1000)', integerParser(10, 10000))
    .option('--budgets <list>', 'label budgets (standard 100,1000,10000)', parseNumberList('--budgets', true))
    .option('--seeds <n>', 'label subsets per budget (standard 3)', integerParser(1, 100))
    .option(
      '--probes <list>',
      'subset of logistic,mlp,knn (default all)',
      parseChoiceList('--probes', ['logistic', 'mlp', 'knn'] as const),
    )
    .option(
      '--epochs <n|member=n,...>',
      'maximum training epochs of the learned members (one number for all, or per member)',
      parsePerMember('--epochs', learnedNames),
    )
    .option(
      '--fit-images <n|member=n,...>',
      'training images of the learned members (the first n of the training split)',
      parsePerMember('--fit-images', learnedNames),
    )
    .option('--invariance-images <n>', 'test images of the invariance errors (standard 50)', integerParser(1, 10000))
    .option(
      '--random-angles <n>',
      'random angles per image for the invariance error (standard 4)',
      integerParser(1, 1000),
    )
    .option('--cluster-images <n>', 'test images clustered by k-means (standard 1000)', integerParser(10, 10000))
    .option(
      '--timing-images <n>',
      'test images of the encoding-cost measurement (standard 200)',
      integerParser(1, 10000),
    )
    .option(
      '--threads <n>',
      'SOAP threads per process (0: all cores, divided among workers)',
      integerParser(0, 4096),
      0,
    );
  addGridOptions(cmd, 'members', true).action(async (o: InvarianceOpts) => {
    const { BENCHMARK_SCALES } = await import('../benchmark/presets.js');
    const { invarianceBenchmark } = await import('../benchmark/invariance-benchmark.js');
    const d = BENCHMARK_SCALES[o.tiny ? 'tiny' : 'standard']!;
    const members = (o.members ?? [...d.members]) as MemberName[];
    const training: Record<string, { epochs: number; images: number }> = {};
    for (const [m, t] of Object.entries(d.training)) {
      const pick = (v: Record<string, number> | number | undefined, dflt: number): number =>
        typeof v === 'number' ? v : (v?.[m] ?? dflt);
      training[m] = { epochs: pick(o.epochs, t!.epochs), images: pick(o.fitImages, t!.images) };
    }
    const custom = [
      'trainImages',
      'validationImages',
      'testImages',
      'budgets',
      'seeds',
      'epochs',
      'fitImages',
      'invarianceImages',
      'randomAngles',
      'clusterImages',
      'timingImages',
      'probes',
    ].some((k) => (o as unknown as Record<string, unknown>)[k] !== undefined);
    const spec: import('../benchmark/spec.js').InvarianceBenchmarkSpec = {
      dataset: o.dataset,
      ...(o.fashionDir !== undefined ? { fashionDir: o.fashionDir } : {}),
      interpolation: o.interpolation,
      trainImages: o.trainImages ?? d.trainImages,
      validationImages: o.validationImages ?? d.validationImages,
      testImages: o.testImages ?? d.testImages,
      seed: o.seed,
      clusterImages: o.clusterImages ?? Math.min(d.clusterImages, o.testImages ?? d.testImages),
      kmeansRestarts: d.kmeansRestarts,
      invarianceImages: o.invarianceImages ?? Math.min(d.invarianceImages, o.testImages ?? d.testImages),
      randomAngles: o.randomAngles ?? d.randomAngles,
      timingImages: o.timingImages ?? Math.min(d.timingImages, o.testImages ?? d.testImages),
      pcaComponents: d.pcaComponents,
      rvaeLatentDim: d.rvaeLatentDim,
      codaeLatentDim: d.codaeLatentDim,
      members,
      training,
      budgets: o.budgets ?? [...d.budgets],
      seeds: o.seeds ?? d.seeds,
      probes: o.probes ?? [...d.probes],
      probeEpochs: d.probeEpochs,
      probePatience: d.probePatience,
      cnn: { ...d.cnn },
      scale: custom ? `${d.name}, with options` : d.name,
      backend: o.backend,
      threads: o.threads,
      workers: o.workers === 0 ? availableParallelism() : o.workers,
    };
    const r = (await runGrid(invarianceBenchmark, spec, o, io)).summary;
    if (r === null) return;
    const h = r.headline;
    const lines = r.leaderboard.map((row, i) => {
      const s = row.summary.find((x) => x.probe === h.probe && x.budget === h.budget);
      return `${String(i + 1).padStart(2)}. ${row.name}: ${h.probe} @ ${h.budget} labels ${s ? `${(100 * s.mean).toFixed(1)} ± ${(100 * s.std).toFixed(1)} %` : '-'}, invariance error (random angles) ${row.invariance.random.bilinear.medianStandardized.toPrecision(2)}`;
    });
    const ref = r.reference.summary
      .filter((c) => c.budget === h.budget)
      .map(
        (c) => `CNN ${c.condition} @ ${c.budget} labels: ${(100 * c.mean).toFixed(1)} ± ${(100 * c.std).toFixed(1)} %`,
      );
    io.stdout.write(
      [
        ...lines,
        ...ref,
        `wrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'leaderboard.md')}, ${path.join(o.out, 'report.html')}`,
        '',
      ].join('\n'),
    );
  });
}

interface CompareOpts {
  out: string;
  probe?: 'logistic' | 'mlp' | 'knn';
  budget?: number;
  labels?: string[];
  title?: string;
}

function registerCompare(parent: Command, io: ExperimentIO): void {
  parent
    .command('compare')
    .description(
      'Side by side: the accuracy of every extractor in two or more finished `benchmark invariance` runs (e.g. the bilinear and nearest ' +
        'resamplings, or MNIST and Fashion-MNIST) for one probe at one label budget. Writes compare.md, compare.json and a figure ' +
        '(compare.png, compare.svg) into --out.',
    )
    .argument('<runs...>', 'folders of finished runs (or their results.json files)')
    .requiredOption('--out <dir>', 'output folder, created if missing (required)')
    .addOption(
      new Option('--probe <name>', "probe to compare (default: the first run's headline probe)").choices([
        'logistic',
        'mlp',
        'knn',
      ]),
    )
    .option('--budget <n>', 'label budget (default: the largest one every run has)', integerParser(1, 1_000_000))
    .option('--labels <list>', 'column labels, one per run (default "<dataset>, <resampling>")', (v: string) =>
      v.split(',').map((x) => x.trim()),
    )
    .option('--title <text>', 'figure title')
    .action(async (dirs: string[], o: CompareOpts) => {
      const { compareBenchmarks, readBenchmarkResults, runLabel, writeComparison } =
        await import('../benchmark/compare.js');
      if (o.labels && o.labels.length !== dirs.length) {
        throw new UsageError(`--labels needs one label per run (${dirs.length}), got ${o.labels.length}`);
      }
      const results = await Promise.all(dirs.map((d) => readBenchmarkResults(d)));
      const runs = results.map((r, i) => ({ label: o.labels?.[i] ?? runLabel(r), results: r }));
      if (new Set(runs.map((r) => r.label)).size !== runs.length) {
        throw new UsageError(
          `two runs have the same label (${runs.map((r) => r.label).join(' / ')}); name them with --labels`,
        );
      }
      const c = compareBenchmarks(runs, {
        ...(o.probe ? { probe: o.probe } : {}),
        ...(o.budget !== undefined ? { budget: o.budget } : {}),
      });
      const title = o.title ?? `Invariance benchmark: ${runs.map((r) => r.label).join(' vs ')}`;
      const files = await writeComparison(o.out, c, title);
      io.stdout.write(`${c.rows.length} rows, ${c.probe} probe at ${c.budget} labels; wrote ${files.join(', ')}\n`);
    });
}

/** Adds `soapix benchmark <name>`. */
export function registerBenchmarkCommand(program: Command, io: ExperimentIO): Command {
  const cmd = program
    .command('benchmark')
    .description('Benchmarks across models (see `soapix benchmark <name> --help`).');
  registerInvariance(cmd, io, MEMBER_NAMES, LEARNED_MEMBERS);
  registerCompare(cmd, io);
  return cmd;
}
