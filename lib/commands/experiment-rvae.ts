/**
 * `soapix experiment rvae`: the rVAE essay on rotated MNIST (lib/experiments/rvae.ts; docs/RVAE.md).
 */
import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';

import { integerParser, numberParser } from '../cli/parse';
import { UsageError } from '../util/usage-error';
import {
  addCheckpointOption,
  addCommonOptions,
  addGridOptions,
  parseChoiceList,
  runGrid,
  type CommonOpts,
  type GridOpts,
  type RegisterExperiment,
} from './experiment-options';

/** Parses `--seeds 0,1,2` (distinct integers >= 0). */
function parseSeeds(v: string): number[] {
  const parts = v.split(',').map((t) => t.trim());
  const seeds = parts.map(Number);
  if (
    !parts.every((t) => /^\d+$/.test(t)) ||
    !seeds.every((n) => Number.isSafeInteger(n) && n <= 2 ** 31 - 1) ||
    new Set(seeds).size !== seeds.length
  ) {
    throw new UsageError(`--seeds must be distinct comma-separated integers in 0..${2 ** 31 - 1}, got '${v}'`);
  }
  return seeds;
}

export const registerRvae: RegisterExperiment = (parent, io) => {
  const cmd = parent
    .command('rvae')
    .description(
      'The rVAE essay on rotated MNIST: VAE, cVAE, rVAE (trvae: with translation) and class-conditioned rVAE, one training per (model, seed). ' +
        'Each unit saves its model to models/<model>-seed<s>/ and its figures (latent space coloured by angle and digit, encoded vs true angle, ' +
        'decoded latent manifold, reconstructions) to figures/; the run that finds every training done writes results.json (angle recovery, ' +
        "angle leakage, invariance ratio, kNN and k-means digit accuracy, -ELBO, the issue's aims and the essay's claims) and report.html. " +
        "Defaults: the notebook's scale (60,000 images, 100 epochs, width 128, all pixels, batch 100). --workers for processes, --shard i/n for machines; reruns skip finished trainings.",
    );
  addCommonOptions(cmd)
    .option(
      '--models <list>',
      'subset of vae,cvae,rvae,trvae,crvae (default vae,cvae,rvae,crvae)',
      parseChoiceList('--models', ['vae', 'cvae', 'rvae', 'trvae', 'crvae'] as const),
    )
    .addOption(
      new Option(
        '--angles <degrees>',
        'integer rotation angles uniform in [-A, A]: 60 (the notebook) or 180 (full turns)',
      )
        .choices(['60', '180'])
        .default('60'),
    )
    .option('--seeds <list>', 'model seeds: one training per model and seed (default: --seed)', parseSeeds)
    .option('--train-images <n>', 'rotated MNIST training images (default 60000)', integerParser(10, 60000))
    .option(
      '--test-images <n>',
      'rotated MNIST test images for codes and test -ELBO (default 10000)',
      integerParser(20, 10000),
    )
    .option(
      '--eval-train-images <n>',
      'training images on which the train -ELBO is evaluated (default 10000, at most --train-images)',
      integerParser(1, 60000),
    )
    .option(
      '--epochs <n>',
      'epochs of the coordinate-decoder models rvae, trvae, crvae (default 100, the notebook)',
      integerParser(1),
    )
    .option('--dense-epochs <n>', 'epochs of vae and cvae (default: --epochs)', integerParser(1))
    .option('--width <n>', 'hidden width of every encoder and decoder (default 128)', integerParser(1, 4096))
    .option(
      '--pixels <n>',
      'pixels per training step of the coordinate decoder, an unbiased rescaled subsample (0 = all 784; default 0)',
      integerParser(0, 784),
    )
    .option('--batch <n>', 'batch size (default 100)', integerParser(1))
    .option(
      '--learning-rate <lr>',
      'Adam learning rate (default 0.001)',
      numberParser({ min: 0, minExclusive: true, max: 1 }),
    )
    .option(
      '--beta <b>',
      "KL weight of every model in the run (default: the notebook's, 1 for vae and cvae, 3 for rvae, trvae and crvae)",
      numberParser({ min: 0, max: 1000 }),
    )
    .option(
      '--angle-prior <radians>',
      "prior std of the angle latent (default 1: pyroVED's N(0, 1), the notebook)",
      numberParser({ min: 0, minExclusive: true, max: 100 }),
    )
    .addOption(
      new Option(
        '--angle-kl <kind>',
        "KL of the angle latent: normal (default, pyroVED) or width (AtomAI's, no penalty on the mean angle)",
      ).choices(['normal', 'width']),
    )
    .option('--latent-dim <n>', 'content latents (default 2, the essay)', integerParser(2, 64))
    .option(
      '--series-digits <n>',
      'test digits turned through --series-angles angles for the invariance ratio (default 1000)',
      integerParser(1, 10000),
    )
    .option('--series-angles <n>', 'angles per series digit, evenly over the range (default 9)', integerParser(2, 360))
    .option('--data-seed <n>', 'seed of the rotations (default 0)', integerParser(0, 2 ** 31 - 1))
    .option('--manifold-size <n>', 'side of the decoded latent-manifold grid (default 12)', integerParser(2, 40))
    .option(
      '--scatter-points <n>',
      'test codes drawn in the latent scatter plots (default 3000)',
      integerParser(1, 10000),
    );
  addCheckpointOption(cmd);
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
          beta?: number;
          anglePrior?: number;
          angleKl?: 'normal' | 'width';
          latentDim?: number;
          seriesDigits?: number;
          seriesAngles?: number;
          dataSeed?: number;
          manifoldSize?: number;
          scatterPoints?: number;
          checkpointMinutes?: number;
        },
      command: Command,
    ) => {
      const rv = await import('../experiments/rvae.js');
      if (o.seeds !== undefined && command.getOptionValueSource('seed') === 'cli')
        throw new UsageError('give --seed or --seeds, not both');
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
        ...rv.lossOverrides(o),
        latentDim: o.latentDim ?? d.latentDim,
        seriesDigits: o.seriesDigits ?? d.seriesDigits,
        seriesAngles: o.seriesAngles ?? d.seriesAngles,
        dataSeed: o.dataSeed ?? d.dataSeed,
        manifoldSize: o.manifoldSize ?? d.manifoldSize,
        scatterPoints: o.scatterPoints ?? d.scatterPoints,
        backend: o.backend,
        threads: 0,
        workers: o.workers === 0 ? availableParallelism() : o.workers,
        ...(o.checkpointMinutes !== undefined ? { checkpointMinutes: o.checkpointMinutes } : {}),
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
