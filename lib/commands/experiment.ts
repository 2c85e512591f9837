/**
 * `soapix experiment <name>`: the paper's experiments. Each experiment is one register function
 * below, added to EXPERIMENTS; it defines its subcommand's options and action. The experiments
 * made of independent units (docs/RUNNER.md) run through {@link runGrid}: --workers, --shard,
 * progress lines, and the message of a run that leaves units to other shards.
 */
import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';

import { integerParser, numberParser, type ShardSpec } from '../cli/parse';
import { UsageError } from '../util/usage-error';
import {
  addCheckpointOption,
  addCommonOptions,
  addGridOptions,
  addSoapOptions,
  addTrainingOptions,
  parseChoiceList,
  parseHidden,
  parseNumberList,
  runGrid,
  type CommonOpts,
  type ExperimentIO,
  type GridOpts,
  type RegisterExperiment,
} from './experiment-options';
import { registerCompressionCombine } from './experiment-compression-combine';
import { registerRvae } from './experiment-rvae';

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

const registerClassify: RegisterExperiment = (parent, io) => {
  const cmd = parent
    .command('classify')
    .description(
      'Experiment 1: train the pixel classifier at given SOAP parameters on sampled MNIST spectra and evaluate on the test images. ' +
        'Writes results.json, model/, confusion / training / prediction-map figures and report.html. ' +
        'Full protocol: --train-samples 120000 --test-samples 10000 --epochs 300 (the defaults). ' +
        "--runs N repeats it with seeds --seed, --seed + 1, ...: one JSON per run in units/ (each run's full results in runs/seed-<s>/, no model or figures), " +
        'then results.json with every run and the mean ± standard deviation of each metric, and report.html; --workers and --shard i/n spread the runs.',
    );
  addGridOptions(
    addTrainingOptions(addSoapOptions(addCommonOptions(cmd))).option(
      '--runs <n>',
      'runs with seeds seed, seed + 1, ... (1: one run, with model and figures)',
      integerParser(1, 10000),
      1,
    ),
    'runs',
    false,
  ).action(async (o: CommonOpts & { runs: number; workers: number; shard?: ShardSpec }, command: Command) => {
    const { runClassify, PAPER_CLASSIFY, TINY_CLASSIFY } = await import('../experiments/classify.js');
    const d = o.tiny ? TINY_CLASSIFY : PAPER_CLASSIFY;
    const log = o.quiet ? undefined : (line: string) => void io.stderr.write(line + '\n');
    const soap = { rCut: o.rCut ?? d.rCut, nMax: o.nMax ?? d.nMax, lMax: o.lMax ?? d.lMax, sigma: o.sigma ?? d.sigma };
    if (o.runs > 1) {
      const { classifyRunsExperiment } = await import('../experiments/classify-runs.js');
      const r = (
        await runGrid(
          classifyRunsExperiment,
          { ...soap, runs: o.runs, ...trainingSettings(o, d), seed: o.seed, backend: o.backend },
          o,
          io,
        )
      ).summary;
      if (r === null) return;
      const pm = (m: 'accuracy' | 'precision' | 'recall' | 'f1'): string => `${fmt(r.mean[m])} ± ${fmt(r.std[m])}`;
      io.stdout.write(
        `${r.runs} runs (seeds ${r.seeds[0]}..${r.seeds.at(-1)}): test accuracy ${pm('accuracy')}  precision ${pm('precision')}  recall ${pm('recall')}  F1 ${pm('f1')}\n` +
          `wrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'report.html')}\n`,
      );
      return;
    }
    const given = (['workers', 'shard'] as const)
      .filter((k) => command.getOptionValueSource(k) === 'cli')
      .map((k) => `--${k}`);
    if (given.length)
      throw new UsageError(
        `${given.join(' and ')} ${given.length > 1 ? 'apply' : 'applies'} to --runs N with N > 1 (one run trains one classifier)`,
      );
    const r = await runClassify({
      out: o.out,
      ...soap,
      ...trainingSettings(o, d),
      seed: o.seed,
      backend: o.backend,
      threads: o.threads,
      log,
      signal: io.signal,
    });
    io.stdout.write(
      `test accuracy ${fmt(r.test.accuracy)}  precision ${fmt(r.test.precision)}  recall ${fmt(r.test.recall)}  F1 ${fmt(r.test.f1)}  ` +
        `(${r.test.n} test spectra; ${r.training.epochsRun} epochs, best ${r.training.bestEpoch ?? '-'}; backend ${r.backend.name}; ` +
        `${r.seconds.total.toFixed(1)} s)\nwrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'report.html')}\n`,
    );
  });
};

const registerHparamSearch: RegisterExperiment = (parent, io) => {
  const cmd = parent
    .command('hparam-search')
    .description(
      'Experiment 1: Monte Carlo search over r_cut [2,100], n_max [2,11], l_max [2,11], sigma [1,10]. One JSON per trial in units/ ' +
        "(each trial's full classify results in trials/trial-NNNN/), then search.json, scatter plots coloured by accuracy and report.html. " +
        'Full protocol: --trials 168 --epochs 300 --train-samples 120000 --test-samples 10000. --shard i/n for machines, --workers for processes; ' +
        'reruns skip finished trials; the run that finds every trial done writes search.json.',
    );
  addGridOptions(
    addTrainingOptions(addCommonOptions(cmd)).option(
      '--trials <n>',
      'number of trials (paper 168)',
      integerParser(1),
      168,
    ),
    'trials',
    true,
  ).action(async (o: CommonOpts & GridOpts & { trials: number }) => {
    const { hparamSearchExperiment } = await import('../experiments/hparam-search.js');
    const { PAPER_CLASSIFY, TINY_CLASSIFY } = await import('../experiments/classify.js');
    const d = o.tiny ? TINY_CLASSIFY : PAPER_CLASSIFY;
    const r = (
      await runGrid(
        hparamSearchExperiment,
        { trials: o.trials, ...trainingSettings(o, d), seed: o.seed, backend: o.backend },
        o,
        io,
      )
    ).summary;
    if (r === null) return;
    const best = r.best;
    io.stdout.write(
      `${r.done}/${r.trials} trials done` +
        (best
          ? `; best: trial ${best.trial} rCut ${best.rCut} nMax ${best.nMax} lMax ${best.lMax} sigma ${best.sigma}: val accuracy ${best.valAccuracy?.toFixed(4)}, test accuracy ${fmt(best.testAccuracy)}`
          : '') +
        `\nwrote ${path.join(o.out, 'search.json')}, ${path.join(o.out, 'report.html')}\n`,
    );
  });
};

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
    .option(
      '--epochs <n>',
      'maximum autoencoder epochs, early stopping on validation MSE (default 1000; paper 10000)',
      integerParser(1),
    )
    .option('--patience <n>', 'autoencoder early-stopping patience (default 30)', integerParser(1))
    .option(
      '--learning-rate <lr>',
      "autoencoders' initial Adam learning rate (default 1e-3; paper 1e-4 at constant rate)",
      numberParser({ min: 0, minExclusive: true, max: 1 }),
    )
    .option(
      '--lr-patience <n>',
      'halve the learning rate after n epochs without a lower validation MSE; 0 keeps it constant (default 10)',
      integerParser(0),
    )
    .option(
      '--lr-factor <f>',
      'multiplier of each learning-rate cut (default 0.5)',
      numberParser({ min: 0, minExclusive: true, max: 1 }),
    )
    .option('--min-learning-rate <lr>', 'floor of the learning-rate cuts (default 1e-6)', numberParser({ min: 0 }))
    .option('--classifier-epochs <n>', 'maximum classifier epochs (default 50)', integerParser(1))
    .option('--classifier-patience <n>', 'classifier early-stopping patience (default 5)', integerParser(1))
    .option('--threads <n>', 'featurization threads (0: all cores)', integerParser(0, 4096), 0);
  addCheckpointOption(cmd, "each autoencoder's training state");
  addGridOptions(cmd, 'h_e grid points (ascending h_e)', false).action(
    async (
      o: CommonOpts &
        GridOpts & {
          he?: number[];
          hm?: number[];
          methods?: string;
          classifierEpochs?: number;
          classifierPatience?: number;
          learningRate?: number;
          lrPatience?: number;
          lrFactor?: number;
          minLearningRate?: number;
          checkpointMinutes?: number;
        },
    ) => {
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
        learningRate: o.learningRate,
        lrPatience: o.lrPatience,
        lrFactor: o.lrFactor,
        minLearningRate: o.minLearningRate,
        classifierEpochs: o.classifierEpochs,
        classifierPatience: o.classifierPatience,
        checkpointMinutes: o.checkpointMinutes,
        backend: o.backend === 'auto' ? undefined : o.backend,
        soap: soap
          ? { rCut: o.rCut ?? d.rCut, nMax: o.nMax ?? d.nMax, lMax: o.lMax ?? d.lMax, sigma: o.sigma ?? d.sigma }
          : undefined,
      });
      const r = (await runGrid(compressionExperiment, spec, o, io)).summary;
      if (r === null) return;
      io.stdout.write(
        `baseline test accuracy ${fmt(r.baseline.accuracy)} (${r.features} features)\n` +
          r.points
            .map(
              (p) =>
                `${p.method} h_e ${p.he}: val MSE ${p.valMse.toPrecision(4)}, accuracy ${fmt(p.accuracy)} (${(100 * p.relativeAccuracy).toFixed(1)} %)`,
            )
            .join('\n') +
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
    .addOption(
      new Option(
        '--protocol <name>',
        'fixed-model: one classifier trained without noise; retrain: a new classifier per noise level, validation accuracy',
      )
        .choices(['fixed-model', 'retrain'])
        .default('fixed-model'),
    )
    .option(
      '--model <dir>',
      'fixed-model: saved Experiment-1 model folder (or a classify output folder holding model/); not with retrain',
    )
    .option(
      '--sigmas <list>',
      'noise levels sigma_d (default 20 log-spaced in [0.1, 5.0])',
      parseNumberList('--sigmas', false),
    )
    .option('--test-images <n>', 'MNIST test images (default 10000)', integerParser(1, 10000))
    .option('--per-image <n>', 'retrain: spectra drawn per test image (Algorithm 3; default 1)', integerParser(1, 1000))
    .option(
      '--train-samples <T>',
      'fixed-model without --model: train+validation spectra of the classifier (default 20000)',
      integerParser(10),
    )
    .option(
      '--epochs <n>',
      'maximum epochs of the classifier trained here (fixed-model without --model), or of each retrained one (default 30)',
      integerParser(1),
    )
    .option(
      '--patience <n>',
      'early stopping patience of those classifiers (retrain: on validation accuracy) (default 5)',
      integerParser(1),
    )
    .option('--threads <n>', 'featurization threads (0: all cores)', integerParser(0, 4096), 0);
  addGridOptions(cmd, 'levels of --protocol retrain (sigma_d = 0, then ascending sigma_d)', true).action(
    async (
      o: CommonOpts &
        GridOpts & {
          protocol: 'fixed-model' | 'retrain';
          model?: string;
          sigmas?: number[];
          testImages?: number;
          perImage?: number;
        },
      command: Command,
    ) => {
      const noise = await import('../experiments/noise.js');
      const backend = o.backend === 'auto' ? undefined : o.backend;
      const print = (r: import('../experiments/noise.js').NoiseResults): void =>
        void io.stdout.write(
          (r.protocol === 'retrain'
            ? 'protocol retrain (validation accuracy of a classifier retrained per noise level)\n'
            : '') +
            r.points
              .map(
                (p) =>
                  `sigma_d ${p.sigma.toPrecision(3)}: ${r.protocol === 'retrain' ? 'validation ' : ''}accuracy ${fmt(p.accuracy)} (${(100 * p.relativeAccuracy).toFixed(1)} %)`,
              )
              .join('\n') +
            `\nwrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'report.html')}\n`,
        );
      if (o.protocol === 'retrain') {
        if (o.model !== undefined)
          throw new UsageError(
            '--model is for --protocol fixed-model; --protocol retrain trains a new classifier at every noise level',
          );
        if (o.trainSamples !== undefined)
          throw new UsageError(
            '--train-samples is for --protocol fixed-model without --model; with retrain the data are the test images (--test-images, --per-image)',
          );
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
        throw new UsageError(
          `${given.join(' and ')} ${given.length > 1 ? 'apply' : 'applies'} to --protocol retrain only: fixed-model trains at most one classifier (add --protocol retrain to retrain per noise level in parallel)`,
        );
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

const registerRotation: RegisterExperiment = (parent, io) => {
  const cmd = parent
    .command('rotation')
    .description(
      "Experiment 4: SOAP (Experiment-1 MLP on SOAP at the patch centre) against the paper's CNN (raw patch) on patches of rotated test " +
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
      new Option(
        '--interpolation <name>',
        'resampling of the rotated images: bilinear mixes grey levels, nearest keeps them',
      )
        .choices(['bilinear', 'nearest'])
        .default('bilinear'),
    )
    .option(
      '--sizes <list>',
      'training sizes, train + validation (default 100,200,...,6000)',
      parseNumberList('--sizes', true),
    )
    .option('--runs <n>', 'runs per size (paper 10)', integerParser(1, 1000))
    .option('--test-patches <n>', 'rotated test patches, one per test image (paper 10000)', integerParser(1))
    .option('--epochs <n>', 'maximum epochs (paper 1000)', integerParser(1))
    .option('--patience <n>', 'early stopping patience on validation loss (default 100)', integerParser(1))
    .option(
      '--conditions <list>',
      'subset of rotated,upright (default both)',
      parseChoiceList('--conditions', ['rotated', 'upright'] as const),
    )
    .option(
      '--models <list>',
      'subset of soap,soap-extra,cnn (default all)',
      parseChoiceList('--models', ['soap', 'soap-extra', 'cnn'] as const),
    )
    .option('--hidden <widths>', 'MLP widths of the SOAP models (default 512,256,128)', parseHidden)
    .option(
      '--cnn-learning-rate <lr>',
      'Adam learning rate of the CNN (paper 1e-4)',
      numberParser({ min: 0, minExclusive: true }),
      1e-4,
    )
    .option('--threads <n>', 'SOAP threads (0: all cores)', integerParser(0, 4096), 0);
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
        r.curves
          .map(
            (c) =>
              `${c.condition} ${c.model} n=${c.size}: test accuracy ${fmt(c.mean)} ± ${fmt(c.std)} (${c.runs} runs)`,
          )
          .join('\n') +
          '\n' +
          r.claims
            .map(
              (c) =>
                `${c.holds === null ? 'not tested' : c.holds ? 'holds' : 'does not hold'}: ${c.claim}: ${c.detail}`,
            )
            .join('\n') +
          `\nwrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'report.html')}\n`,
      );
    },
  );
};

/** Every experiment subcommand; add one register function here to add an experiment. */
export const EXPERIMENTS: RegisterExperiment[] = [
  registerClassify,
  registerHparamSearch,
  registerCompression,
  registerCompressionCombine,
  registerNoise,
  registerRotation,
  registerRvae,
];

/** Adds `soapix experiment <name>` with every registered experiment. */
export function registerExperimentCommand(program: Command, io: ExperimentIO): Command {
  const cmd = program
    .command('experiment')
    .description("Run one of the paper's experiments (see `soapix experiment <name> --help`).");
  for (const register of EXPERIMENTS) register(cmd, io);
  return cmd;
}
