/**
 * `soapix experiment <name>`: the paper's experiments. Each experiment is one register function
 * below, added to EXPERIMENTS; it defines its subcommand's options and action. The experiments
 * made of independent units (docs/RUNNER.md) run through {@link runGrid}: --workers, --shard,
 * progress lines, and the message of a run that leaves units to other shards.
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
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'))
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

interface CommonOpts {
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

const fmt = (x: number): string => x.toFixed(4);

/** Data sizes and training settings: the flags where given, else the protocol's (paper or tiny) values. */
function trainingSettings(
  o: { trainSamples?: number; testSamples?: number; epochs?: number; patience?: number; hidden?: number[] },
  d: { trainSamples: number; testSamples: number; epochs: number; patience: number; hidden: readonly number[] },
): { trainSamples: number; testSamples: number; epochs: number; patience: number; hidden: number[] } {
  return {
    trainSamples: o.trainSamples ?? d.trainSamples,
    testSamples: o.testSamples ?? d.testSamples,
    epochs: o.epochs ?? d.epochs,
    patience: o.patience ?? d.patience,
    hidden: o.hidden ?? [...d.hidden],
  };
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
    .option('--shard <i/n>', `run only ${what} k (in protocol order) with k mod n = i-1 (1 <= i <= n, e.g. --shard $SLURM_ARRAY_TASK_ID/N); the run that finds every one done merges`, parseShard)
    .option('--workers <n>', `parallel worker processes, each running a share of the ${what} (default: 1; 0 = one per core)`, integerParser(0, 1024), 1);
  return summary ? cmd.option('--no-summary', `skip the merge (results.json, figures, report) even when every one of the ${what} is done`) : cmd;
}

/**
 * Runs `def` with `spec` through the runner: progress lines on stderr (unless --quiet), and, when
 * the run leaves units to other shards, a line on stdout saying which. Resolves with the outcome.
 */
export async function runGrid<Spec, Unit, Result, Summary, State>(def: Experiment<Spec, Unit, Result, Summary, State>, spec: Spec, o: GridOpts, io: ExperimentIO): Promise<RunOutcome<Unit, Summary>> {
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

const registerClassify: RegisterExperiment = (parent, io) => {
  const cmd = parent
    .command('classify')
    .description(
      'Experiment 1: train the pixel classifier at given SOAP parameters on sampled MNIST spectra and evaluate on the test images. ' +
        'Writes results.json, model/, confusion / training / prediction-map figures and report.html. ' +
        'Full protocol: --train-samples 120000 --test-samples 10000 --epochs 300 (the defaults). ' +
        '--runs N repeats it with seeds --seed, --seed + 1, ...: one JSON per run in units/ (each run\'s full results in runs/seed-<s>/, no model or figures), ' +
        'then results.json with every run and the mean ± standard deviation of each metric, and report.html; --workers and --shard i/n spread the runs.',
    );
  addGridOptions(addTrainingOptions(addSoapOptions(addCommonOptions(cmd))).option('--runs <n>', 'runs with seeds seed, seed + 1, ... (default 1: one run, with model and figures)', integerParser(1, 10000), 1), 'runs', false).action(
    async (o: CommonOpts & { runs: number; workers: number; shard?: ShardSpec }, command: Command) => {
      const { runClassify, PAPER_CLASSIFY, TINY_CLASSIFY } = await import('../experiments/classify.js');
      const d = o.tiny ? TINY_CLASSIFY : PAPER_CLASSIFY;
      const log = o.quiet ? undefined : (line: string) => void io.stderr.write(line + '\n');
      const soap = { rCut: o.rCut ?? d.rCut, nMax: o.nMax ?? d.nMax, lMax: o.lMax ?? d.lMax, sigma: o.sigma ?? d.sigma };
      if (o.runs > 1) {
        const { classifyRunsExperiment } = await import('../experiments/classify-runs.js');
        const r = (await runGrid(classifyRunsExperiment, { ...soap, runs: o.runs, ...trainingSettings(o, d), seed: o.seed, backend: o.backend }, o, io)).summary;
        if (r === null) return;
        const pm = (m: 'accuracy' | 'precision' | 'recall' | 'f1'): string => `${fmt(r.mean[m])} ± ${fmt(r.std[m])}`;
        io.stdout.write(
          `${r.runs} runs (seeds ${r.seeds[0]}..${r.seeds.at(-1)}): test accuracy ${pm('accuracy')}  precision ${pm('precision')}  recall ${pm('recall')}  F1 ${pm('f1')}\n` +
            `wrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'report.html')}\n`,
        );
        return;
      }
      const given = (['workers', 'shard'] as const).filter((k) => command.getOptionValueSource(k) === 'cli').map((k) => `--${k}`);
      if (given.length) throw new UsageError(`${given.join(' and ')} ${given.length > 1 ? 'apply' : 'applies'} to --runs N with N > 1 (one run trains one classifier)`);
      const r = await runClassify({ out: o.out, ...soap, ...trainingSettings(o, d), seed: o.seed, backend: o.backend, threads: o.threads, log, signal: io.signal });
      io.stdout.write(
        `test accuracy ${fmt(r.test.accuracy)}  precision ${fmt(r.test.precision)}  recall ${fmt(r.test.recall)}  F1 ${fmt(r.test.f1)}  ` +
          `(${r.test.n} test spectra; ${r.training.epochsRun} epochs, best ${r.training.bestEpoch ?? '-'}; backend ${r.backend.name}; ` +
          `${r.seconds.total.toFixed(1)} s)\nwrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'report.html')}\n`,
      );
    },
  );
};

const registerHparamSearch: RegisterExperiment = (parent, io) => {
  const cmd = parent
    .command('hparam-search')
    .description(
      'Experiment 1: Monte Carlo search over r_cut [2,100], n_max [2,11], l_max [2,11], sigma [1,10]. One JSON per trial in units/ ' +
        '(each trial\'s full classify results in trials/trial-NNNN/), then search.json, scatter plots coloured by accuracy and report.html. ' +
        'Full protocol: --trials 168 --epochs 300 --train-samples 120000 --test-samples 10000. --shard i/n for machines, --workers for processes; ' +
        'reruns skip finished trials; the run that finds every trial done writes search.json.',
    );
  addGridOptions(addTrainingOptions(addCommonOptions(cmd)).option('--trials <n>', 'number of trials (paper 168)', integerParser(1), 168), 'trials', true).action(
    async (o: CommonOpts & GridOpts & { trials: number }) => {
      const { hparamSearchExperiment } = await import('../experiments/hparam-search.js');
      const { PAPER_CLASSIFY, TINY_CLASSIFY } = await import('../experiments/classify.js');
      const d = o.tiny ? TINY_CLASSIFY : PAPER_CLASSIFY;
      const r = (await runGrid(hparamSearchExperiment, { trials: o.trials, ...trainingSettings(o, d), seed: o.seed, backend: o.backend }, o, io)).summary;
      if (r === null) return;
      const best = r.best;
      io.stdout.write(
        `${r.done}/${r.trials} trials done` +
          (best
            ? `; best: trial ${best.trial} rCut ${best.rCut} nMax ${best.nMax} lMax ${best.lMax} sigma ${best.sigma}: val accuracy ${best.valAccuracy?.toFixed(4)}, test accuracy ${fmt(best.testAccuracy)}`
            : '') +
          `\nwrote ${path.join(o.out, 'search.json')}, ${path.join(o.out, 'report.html')}\n`,
      );
    },
  );
};

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

const registerCompression: RegisterExperiment = (parent, io) => {
  const cmd = parent
    .command('compression')
    .description(
      'Experiment 2: PCA, linear AE and deep AEs (h_m 2,4,10) over a grid of code widths h_e: validation reconstruction MSE and the ' +
        'test accuracy of the Experiment-1 classifier retrained on the codes, relative to the full features. Writes results.json, ' +
        'figures (MSE vs h_e, accuracy vs h_e, correlation matrix) and report.html. Full protocol: the defaults. ' +
        'One JSON per h_e in units/; --workers for processes, --shard i/n for machines; reruns skip finished h_e. ' +
        'Every trained autoencoder is saved to models/<method>-he<h_e>/ (model.json, weights.bin, soapix.json with the SOAP parameters and scaler; Autoencoder.load reads it).',
    );
  addSoapOptions(addCommonOptions(cmd))
    .option('--train-samples <T>', 'train+validation spectra, split 80:20 (paper 120000)', integerParser(10))
    .option('--test-samples <n>', 'test spectra for the classifier accuracy (default 10000)', integerParser(1))
    .option('--he <list>', 'code widths h_e (default 5,10,20,50,100,150,200,250)', parseNumberList('--he', true))
    .option('--hm <list>', 'deep-AE hidden multipliers h_m (default 2,4,10)', parseNumberList('--hm', true))
    .option('--methods <list>', 'subset of pca,linear-ae,deep-ae (default all)')
    .option('--epochs <n>', 'maximum autoencoder epochs, early stopping on validation MSE (default 300; paper 10000)', integerParser(1))
    .option('--patience <n>', 'autoencoder early-stopping patience (default 10)', integerParser(1))
    .option('--classifier-epochs <n>', 'maximum classifier epochs (default 50)', integerParser(1))
    .option('--classifier-patience <n>', 'classifier early-stopping patience (default 5)', integerParser(1))
    .option('--threads <n>', 'featurization threads (0: all cores)', integerParser(0, 4096), 0)
  addGridOptions(cmd, 'h_e grid points (ascending h_e)', false).action(
    async (o: CommonOpts & GridOpts & { he?: number[]; hm?: number[]; methods?: string; classifierEpochs?: number; classifierPatience?: number }) => {
      const { compressionExperiment, compressionSpec, TINY_SOAP } = await import('../experiments/compression.js');
      const methods = o.methods?.split(',').map((m) => m.trim());
      if (methods && !methods.every((m) => m === 'pca' || m === 'linear-ae' || m === 'deep-ae')) {
        throw new UsageError(`--methods must be a subset of pca,linear-ae,deep-ae, got '${o.methods}'`);
      }
      const soap = o.rCut !== undefined || o.nMax !== undefined || o.lMax !== undefined || o.sigma !== undefined;
      const { PAPER_OPTIMUM } = await import('../experiments/common.js');
      const d = o.tiny ? TINY_SOAP : PAPER_OPTIMUM;
      const spec = compressionSpec({
        tiny: o.tiny,
        seed: o.seed,
        trainSamples: o.trainSamples,
        testSamples: o.testSamples,
        he: o.he,
        hm: o.hm,
        methods: methods as ('pca' | 'linear-ae' | 'deep-ae')[] | undefined,
        epochs: o.epochs,
        patience: o.patience,
        classifierEpochs: o.classifierEpochs,
        classifierPatience: o.classifierPatience,
        backend: o.backend === 'auto' ? undefined : o.backend,
        soap: soap ? { rCut: o.rCut ?? d.rCut, nMax: o.nMax ?? d.nMax, lMax: o.lMax ?? d.lMax, sigma: o.sigma ?? d.sigma } : undefined,
      });
      const r = (await runGrid(compressionExperiment, spec, o, io)).summary;
      if (r === null) return;
      io.stdout.write(
        `baseline test accuracy ${fmt(r.baseline.accuracy)} (${r.features} features)\n` +
          r.points.map((p) => `${p.method} h_e ${p.he}: val MSE ${p.valMse.toPrecision(4)}, accuracy ${fmt(p.accuracy)} (${(100 * p.relativeAccuracy).toFixed(1)} %)`).join('\n') +
          `\nwrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'report.html')}\n`,
      );
    },
  );
};

const registerNoise: RegisterExperiment = (parent, io) => {
  const cmd = parent
    .command('noise')
    .description(
      'Experiment 3: accuracy on test images whose points are displaced by N(0, sigma_d^2) in x, y, z, relative to sigma_d = 0. ' +
        '--protocol fixed-model (the default): the Experiment-1 classifier predicts the noisy spectra; --model DIR takes a saved model ' +
        '(soapix experiment classify writes DIR/model), without it a classifier is trained first. --protocol retrain (the reading that ' +
        'reproduces the paper\'s 92 % at 1.0 and 51 % at 3.9, its "validation accuracy" of §4.4): at every sigma_d and at 0, spectra of the ' +
        'noisy test images (SOAP at the paper optimum), split 80:20 by image (the same split at every level), a RobustScaler and a fresh ' +
        '512-256-128 MLP fitted on the 80 %, accuracy on the 20 %; --model is refused with it. Its levels are independent trainings, one JSON ' +
        'per level in units/: --workers for processes, --shard i/n for machines; reruns skip finished levels; the run that finds every level ' +
        'done writes results.json, accuracy_vs_sigma.png and report.html (fixed-model writes them at once). ' +
        '--tiny: 200 images, sigma_d 0.1, 1, 5, 2 epochs, small SOAP and MLP.',
    );
  addCommonOptions(cmd)
    .addOption(new Option('--protocol <name>', 'fixed-model: one classifier trained without noise; retrain: a new classifier per noise level, validation accuracy').choices(['fixed-model', 'retrain']).default('fixed-model'))
    .option('--model <dir>', 'fixed-model: saved Experiment-1 model folder (or a classify output folder holding model/); not with retrain')
    .option('--sigmas <list>', 'noise levels sigma_d (default 20 log-spaced in [0.1, 5.0])', parseNumberList('--sigmas', false))
    .option('--test-images <n>', 'MNIST test images (default 10000)', integerParser(1, 10000))
    .option('--per-image <n>', 'retrain: spectra drawn per test image (Algorithm 3; default 1)', integerParser(1, 1000))
    .option('--train-samples <T>', 'fixed-model without --model: train+validation spectra of the classifier (default 20000)', integerParser(10))
    .option('--epochs <n>', 'maximum epochs of the classifier trained here (fixed-model without --model), or of each retrained one (default 30)', integerParser(1))
    .option('--patience <n>', 'early stopping patience of those classifiers (retrain: on validation accuracy) (default 5)', integerParser(1))
    .option('--threads <n>', 'featurization threads (0: all cores)', integerParser(0, 4096), 0)
  addGridOptions(cmd, 'levels of --protocol retrain (sigma_d = 0, then ascending sigma_d)', true).action(
    async (o: CommonOpts & GridOpts & { protocol: 'fixed-model' | 'retrain'; model?: string; sigmas?: number[]; testImages?: number; perImage?: number }, command: Command) => {
      const noise = await import('../experiments/noise.js');
      const backend = o.backend === 'auto' ? undefined : o.backend;
      const print = (r: import('../experiments/noise.js').NoiseResults): void =>
        void io.stdout.write(
          (r.protocol === 'retrain' ? 'protocol retrain (validation accuracy of a classifier retrained per noise level)\n' : '') +
            r.points.map((p) => `sigma_d ${p.sigma.toPrecision(3)}: ${r.protocol === 'retrain' ? 'validation ' : ''}accuracy ${fmt(p.accuracy)} (${(100 * p.relativeAccuracy).toFixed(1)} %)`).join('\n') +
            `\nwrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'report.html')}\n`,
        );
      if (o.protocol === 'retrain') {
        if (o.model !== undefined) throw new UsageError('--model is for --protocol fixed-model; --protocol retrain trains a new classifier at every noise level');
        if (o.trainSamples !== undefined) throw new UsageError('--train-samples is for --protocol fixed-model without --model; with retrain the data are the test images (--test-images, --per-image)');
        const spec = noise.noiseRetrainSpec({
          tiny: o.tiny,
          seed: o.seed,
          sigmas: noise.noiseSigmas(o),
          testImages: o.testImages ?? (o.tiny ? 200 : 10000),
          perImage: o.perImage,
          epochs: o.epochs,
          patience: o.patience,
          backend,
        });
        const r = (await runGrid(noise.noiseRetrainExperiment, spec, o, io)).summary;
        if (r !== null) print(r);
        return;
      }
      if (o.perImage !== undefined) throw new UsageError('--per-image applies to --protocol retrain only');
      const given = [
        ...(command.getOptionValueSource('workers') === 'cli' ? ['--workers'] : []),
        ...(o.shard !== undefined ? ['--shard'] : []),
        ...(o.summary === false ? ['--no-summary'] : []),
      ];
      if (given.length) {
        throw new UsageError(`${given.join(' and ')} ${given.length > 1 ? 'apply' : 'applies'} to --protocol retrain only: fixed-model trains at most one classifier (add --protocol retrain to retrain per noise level in parallel)`);
      }
      const r = await noise.runNoiseExperiment({
        out: o.out,
        protocol: 'fixed-model',
        model: o.model,
        sigmas: o.sigmas,
        testImages: o.testImages,
        trainSamples: o.trainSamples,
        epochs: o.epochs,
        patience: o.patience,
        seed: o.seed,
        tiny: o.tiny,
        threads: o.threads,
        backend,
        log: o.quiet ? () => undefined : (line: string) => void io.stderr.write(line + '\n'),
        signal: io.signal,
      });
      if (r !== null) print(r);
    },
  );
};

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

const registerRotation: RegisterExperiment = (parent, io) => {
  const cmd = parent
    .command('rotation')
    .description(
      'Experiment 4: SOAP (Experiment-1 MLP on SOAP at the patch centre) against the paper\'s CNN (raw patch) on patches of rotated test ' +
        'images, as learning curves: conditions rotated (training patches rotated too) and upright; mean ± std over runs per training size. ' +
        'Also soap-extra (SOAP + mean intensity + point count). One JSON per task in units/; --workers for processes, --shard i/n for ' +
        'machines; reruns skip finished tasks; the run that finds every task done writes results.json, learning_curves.png and report.html. ' +
        'Full protocol: --sizes 100..6000 step 100 (the default) --runs 10 --epochs 1000.',
    );
  addSoapOptions(addCommonOptions(cmd))
    .addOption(new Option('--dataset <name>', 'image source').choices(['mnist', 'fashion-mnist']).default('mnist'))
    .option('--fashion-dir <dir>', 'folder of the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)')
    .option('--patch-size <n>', 'patch side in pixels, odd (default 13)', integerParser(3, 255))
    .addOption(
      new Option('--interpolation <name>', 'resampling of the rotated images: bilinear mixes grey levels, nearest keeps them').choices(['bilinear', 'nearest']).default('bilinear'),
    )
    .option('--sizes <list>', 'training sizes, train + validation (default 100,200,...,6000)', parseNumberList('--sizes', true))
    .option('--runs <n>', 'runs per size (paper 10)', integerParser(1, 1000))
    .option('--test-patches <n>', 'rotated test patches, one per test image (paper 10000)', integerParser(1))
    .option('--epochs <n>', 'maximum epochs (paper 1000)', integerParser(1))
    .option('--patience <n>', 'early stopping patience on validation loss (default 100)', integerParser(1))
    .option('--conditions <list>', 'subset of rotated,upright (default both)', parseChoiceList('--conditions', ['rotated', 'upright'] as const))
    .option('--models <list>', 'subset of soap,soap-extra,cnn (default all)', parseChoiceList('--models', ['soap', 'soap-extra', 'cnn'] as const))
    .option('--hidden <widths>', 'MLP widths of the SOAP models (default 512,256,128)', parseHidden)
    .option('--cnn-learning-rate <lr>', 'Adam learning rate of the CNN (paper 1e-4)', numberParser({ min: 0, minExclusive: true }), 1e-4)
    .option('--threads <n>', 'SOAP threads (0: all cores)', integerParser(0, 4096), 0)
  addGridOptions(cmd, 'tasks', true).action(
    async (
      o: CommonOpts &
        GridOpts & {
          dataset: 'mnist' | 'fashion-mnist';
          fashionDir?: string;
          patchSize?: number;
          interpolation: 'bilinear' | 'nearest';
          sizes?: number[];
          runs?: number;
          testPatches?: number;
          conditions?: ('rotated' | 'upright')[];
          models?: ('soap' | 'soap-extra' | 'cnn')[];
          cnnLearningRate: number;
        },
    ) => {
      const rot = await import('../experiments/rotation.js');
      const d = o.tiny ? rot.TINY_ROTATION : rot.PAPER_ROTATION;
      const { PAPER_OPTIMUM } = await import('../experiments/common.js');
      const sd = o.tiny ? rot.TINY_ROTATION_SOAP : PAPER_OPTIMUM;
      const spec: import('../experiments/rotation.js').RotationSpec = {
        dataset: o.dataset,
        ...(o.fashionDir !== undefined ? { fashionDir: o.fashionDir } : {}),
        soap: { rCut: o.rCut ?? sd.rCut, nMax: o.nMax ?? sd.nMax, lMax: o.lMax ?? sd.lMax, sigma: o.sigma ?? sd.sigma },
        patchSize: o.patchSize ?? d.patchSize,
        interpolation: o.interpolation,
        sizes: o.sizes ?? [...d.sizes],
        runs: o.runs ?? d.runs,
        testPatches: o.testPatches ?? d.testPatches,
        epochs: o.epochs ?? d.epochs,
        patience: o.patience ?? d.patience,
        conditions: o.conditions ?? [...rot.ROTATION_CONDITIONS],
        models: o.models ?? [...rot.ROTATION_MODELS],
        hidden: o.hidden ?? [512, 256, 128],
        cnnLearningRate: o.cnnLearningRate,
        seed: o.seed,
        backend: o.backend,
        threads: o.threads,
        workers: o.workers === 0 ? availableParallelism() : o.workers,
      };
      const r = (await runGrid(rot.rotationExperiment, spec, o, io)).summary;
      if (r === null) return;
      io.stdout.write(
        r.curves.map((c) => `${c.condition} ${c.model} n=${c.size}: test accuracy ${fmt(c.mean)} ± ${fmt(c.std)} (${c.runs} runs)`).join('\n') +
          '\n' +
          r.claims.map((c) => `${c.holds === null ? 'not tested' : c.holds ? 'holds' : 'does not hold'}: ${c.claim}: ${c.detail}`).join('\n') +
          `\nwrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'report.html')}\n`,
      );
    },
  );
};


/** Parses `--seeds 0,1,2` (distinct integers >= 0). */
function parseSeeds(v: string): number[] {
  const parts = v.split(',').map((t) => t.trim());
  const seeds = parts.map(Number);
  if (!parts.every((t) => /^\d+$/.test(t)) || !seeds.every((n) => Number.isSafeInteger(n) && n <= 2 ** 31 - 1) || new Set(seeds).size !== seeds.length) {
    throw new UsageError(`--seeds must be distinct comma-separated integers in 0..${2 ** 31 - 1}, got '${v}'`);
  }
  return seeds;
}

const registerRvae: RegisterExperiment = (parent, io) => {
  const cmd = parent
    .command('rvae')
    .description(
      'The rVAE essay on rotated MNIST: VAE, cVAE, rVAE (trvae: with translation) and class-conditioned rVAE, one training per (model, seed). ' +
        'Each unit saves its model to models/<model>-seed<s>/ and its figures (latent space coloured by angle and digit, encoded vs true angle, ' +
        'decoded latent manifold, reconstructions) to figures/; the run that finds every training done writes results.json (angle recovery, ' +
        'angle leakage, invariance ratio, kNN and k-means digit accuracy, -ELBO, the issue\'s aims and the essay\'s claims) and report.html. ' +
        'Defaults: the notebook\'s scale (60,000 images, 100 epochs, width 128, all pixels, batch 100). --workers for processes, --shard i/n for machines; reruns skip finished trainings.',
    );
  addCommonOptions(cmd)
    .option('--models <list>', 'subset of vae,cvae,rvae,trvae,crvae (default vae,cvae,rvae,crvae)', parseChoiceList('--models', ['vae', 'cvae', 'rvae', 'trvae', 'crvae'] as const))
    .addOption(new Option('--angles <degrees>', 'integer rotation angles uniform in [-A, A]: 60 (the notebook) or 180 (full turns)').choices(['60', '180']).default('60'))
    .option('--seeds <list>', 'model seeds: one training per model and seed (default: --seed)', parseSeeds)
    .option('--train-images <n>', 'rotated MNIST training images (default 60000)', integerParser(10, 60000))
    .option('--test-images <n>', 'rotated MNIST test images for codes and test -ELBO (default 10000)', integerParser(20, 10000))
    .option('--eval-train-images <n>', 'training images on which the train -ELBO is evaluated (default 10000, at most --train-images)', integerParser(1, 60000))
    .option('--epochs <n>', 'epochs of the coordinate-decoder models rvae, trvae, crvae (default 100, the notebook)', integerParser(1))
    .option('--dense-epochs <n>', 'epochs of vae and cvae (default: --epochs)', integerParser(1))
    .option('--width <n>', 'hidden width of every encoder and decoder (default 128)', integerParser(1, 4096))
    .option('--pixels <n>', 'pixels per training step of the coordinate decoder, an unbiased rescaled subsample (0 = all 784; default 0)', integerParser(0, 784))
    .option('--batch <n>', 'batch size (default 100)', integerParser(1))
    .option('--learning-rate <lr>', 'Adam learning rate (default 0.001)', numberParser({ min: 0, minExclusive: true, max: 1 }))
    .option('--latent-dim <n>', 'content latents (default 2, the essay)', integerParser(2, 64))
    .option('--series-digits <n>', 'test digits turned through --series-angles angles for the invariance ratio (default 1000)', integerParser(1, 10000))
    .option('--series-angles <n>', 'angles per series digit, evenly over the range (default 9)', integerParser(2, 360))
    .option('--data-seed <n>', 'seed of the rotations (default 0)', integerParser(0, 2 ** 31 - 1))
    .option('--manifold-size <n>', 'side of the decoded latent-manifold grid (default 12)', integerParser(2, 40))
    .option('--scatter-points <n>', 'test codes drawn in the latent scatter plots (default 3000)', integerParser(1, 10000));
  addGridOptions(cmd, 'trainings', true).action(
    async (
      o: CommonOpts &
        GridOpts & {
          models?: ('vae' | 'cvae' | 'rvae' | 'trvae' | 'crvae')[];
          angles: '60' | '180';
          seeds?: number[];
          trainImages?: number;
          evalTrainImages?: number;
          testImages?: number;
          denseEpochs?: number;
          width?: number;
          pixels?: number;
          batch?: number;
          learningRate?: number;
          latentDim?: number;
          seriesDigits?: number;
          seriesAngles?: number;
          dataSeed?: number;
          manifoldSize?: number;
          scatterPoints?: number;
        },
      command: Command,
    ) => {
      const rv = await import('../experiments/rvae.js');
      if (o.seeds !== undefined && command.getOptionValueSource('seed') === 'cli') throw new UsageError('give --seed or --seeds, not both');
      const d = o.tiny ? rv.TINY_RVAE : rv.NOTEBOOK_RVAE;
      const trainImages = o.trainImages ?? d.trainImages;
      const epochs = o.epochs ?? d.epochs;
      const spec: import('../experiments/rvae.js').RvaeSpec = {
        models: o.models ?? [...rv.DEFAULT_RVAE_MODELS],
        seeds: o.seeds ?? [o.seed],
        angles: o.angles === '180' ? 180 : 60,
        trainImages,
        testImages: o.testImages ?? d.testImages,
        evalTrainImages: o.evalTrainImages ?? Math.min(d.evalTrainImages, trainImages),
        epochs,
        denseEpochs: o.denseEpochs ?? epochs,
        width: o.width ?? d.width,
        pixels: o.pixels ?? d.pixels,
        batch: o.batch ?? d.batch,
        learningRate: o.learningRate ?? d.learningRate,
        latentDim: o.latentDim ?? d.latentDim,
        seriesDigits: o.seriesDigits ?? d.seriesDigits,
        seriesAngles: o.seriesAngles ?? d.seriesAngles,
        dataSeed: o.dataSeed ?? d.dataSeed,
        manifoldSize: o.manifoldSize ?? d.manifoldSize,
        scatterPoints: o.scatterPoints ?? d.scatterPoints,
        backend: o.backend,
        threads: 0,
        workers: o.workers === 0 ? availableParallelism() : o.workers,
      };
      const r = (await runGrid(rv.rvaeExperiment, spec, { ...o, threads: 0 }, io)).summary;
      if (r === null) return;
      const f = (x: { mean: number } | null): string => (x === null ? '-' : x.mean.toFixed(3));
      const verdict = (h: boolean | null): string => (h === null ? 'see numbers' : h ? 'holds' : 'does not hold');
      io.stdout.write(
        r.summaries
          .map(
            (x) =>
              `${x.label}: angle |r| ${f(x.angleAbsR)}, largest content |r| ${f(x.leakage)}, invariance ratio ${f(x.invarianceRatio)}, ` +
              `kNN ${f(x.knnAccuracy)}, k-means ${f(x.kmeansAccuracy)}, -ELBO train ${x.negativeElboTrain.mean.toFixed(2)} test ${x.negativeElboTest.mean.toFixed(2)} (${x.seeds.length} seed${x.seeds.length > 1 ? 's' : ''})`,
          )
          .join('\n') +
          '\n' +
          [...r.aims, ...r.claims].map((c) => `${verdict(c.holds)}: ${c.claim}: ${c.detail}`).join('\n') +
          `\nwrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'report.html')}\n`,
      );
    },
  );
};

/** Every experiment subcommand; add one register function here to add an experiment. */
export const EXPERIMENTS: RegisterExperiment[] = [registerClassify, registerHparamSearch, registerCompression, registerNoise, registerRotation, registerRvae];

/** Adds `soapix experiment <name>` with every registered experiment. */
export function registerExperimentCommand(program: Command, io: ExperimentIO): Command {
  const cmd = program.command('experiment').description("Run one of the paper's experiments (see `soapix experiment <name> --help`).");
  for (const register of EXPERIMENTS) register(cmd, io);
  return cmd;
}
