/**
 * `soapix experiment codae`: CODAE against its ablation and the baselines on a data set with known
 * factors (lib/experiments/codae.ts; docs/CODAE.md). Registered on the `experiment` command by
 * lib/cli.ts, next to the experiments of lib/commands/experiment.ts whose runner helpers it uses.
 */
import { Command, Option } from 'commander';
import * as path from 'node:path';

import { integerParser, numberParser } from '../cli/parse';
import type { BackendName } from '../ml/backend';
import { UsageError } from '../util/usage-error';
import { addCheckpointOption, addGridOptions, runGrid, type ExperimentIO, type GridOpts } from './experiment-options';

const MODELS = ['codae', 'codae-nomoment', 'spatial-vae', 'beta-vae', 'dae'] as const;
type ModelName = (typeof MODELS)[number];

function intList(flag: string, min: number, distinct = false): (v: string) => number[] {
  return (v: string) => {
    const parts = v.split(',').map((t) => Number(t.trim()));
    if (parts.length === 0 || !parts.every((n) => Number.isSafeInteger(n) && n >= min))
      throw new UsageError(`${flag} must be comma-separated integers >= ${min}, got '${v}'`);
    if (distinct && new Set(parts).size !== parts.length) throw new UsageError(`${flag} must be distinct, got '${v}'`);
    return parts;
  };
}

function modelList(v: string): ModelName[] {
  const parts = v.split(',').map((t) => t.trim());
  if (!parts.every((p) => (MODELS as readonly string[]).includes(p)))
    throw new UsageError(`--models must be a comma-separated subset of ${MODELS.join(',')}, got '${v}'`);
  return [...new Set(parts)] as ModelName[];
}

interface CodaeOpts extends GridOpts {
  dataset: 'xyrcs' | 'dsprites' | 'mnist';
  models: ModelName[];
  seeds: number[];
  trainImages?: number;
  testImages?: number;
  epochs?: number;
  dataSeed: number;
  widths?: number[];
  hidden?: number;
  decoderWidth?: number;
  pixelSubsample?: number;
  mlpWidth?: number;
  batchSize?: number;
  learningRate?: number;
  backend: 'auto' | BackendName;
  tiny: boolean;
  checkpointMinutes?: number;
}

/** Adds `soapix experiment codae` to the `experiment` command. */
export function registerCodaeExperiment(parent: Command, io: ExperimentIO): void {
  const cmd = parent
    .command('codae')
    .description(
      'CODAE (centroid- and orientation-aware disentangling autoencoder) against its ablation without the moment loss and the baselines ' +
        '(spatial-VAE, β-VAE, DAE) on XYRCS-like or dSprites-like images (our procedural generators, not the original files) or MNIST-RT. ' +
        'One training per (model, seed) in units/, models in models/; results.json with the eight disentanglement scores with and without x, y, θ ' +
        "(mean ± std and best seed), pose estimates, invariant latents, the paper's claims and the aims; figures and report.html. " +
        '--workers for processes, --shard i/n for machines; reruns skip finished trainings.',
    )
    .requiredOption('--out <dir>', 'output folder, created if missing (required)')
    .addOption(new Option('--dataset <name>', 'data set').choices(['xyrcs', 'dsprites', 'mnist']).default('xyrcs'))
    .option('--models <list>', `subset of ${MODELS.join(',')} (default all)`, modelList)
    .option(
      '--seeds <list>',
      'weight seeds, one training per model and seed (default 1,2,3)',
      intList('--seeds', 0, true),
    )
    .option('--train-images <n>', 'training images (default 8000)', integerParser(2))
    .option('--test-images <n>', 'test images, every factor known (default 2000)', integerParser(50))
    .option('--epochs <n>', 'epochs per training (default: xyrcs 10, dsprites 8, mnist 8)', integerParser(1))
    .option('--data-seed <n>', 'seed of the data (test set: + 1, probe objects: + 2)', integerParser(0), 1)
    .option('--widths <list>', "CODAE's p4 G-channels (default 4,8,16)", intList('--widths', 1))
    .option('--hidden <n>', "width of CODAE's branch layers (default 64)", integerParser(1))
    .option('--decoder-width <n>', 'width of the coordinate decoders (default 64)', integerParser(1))
    .option(
      '--pixel-subsample <n>',
      'pixels per training step of the coordinate decoders, 0 = all (default 256)',
      integerParser(0),
    )
    .option('--mlp-width <n>', 'width of the fully connected networks (default 128)', integerParser(1))
    .option('--batch-size <n>', 'batch size (default 64)', integerParser(1))
    .option(
      '--learning-rate <lr>',
      'Adam learning rate of every model (default 0.002)',
      numberParser({ min: 0, minExclusive: true }),
    )
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .option('--tiny', 'CI mode: tiny sizes and networks (checks the plumbing, not the numbers)', false)
    .option('--threads <n>', 'threads per process (0: the cores divided among the workers)', integerParser(0, 4096), 0)
    .option('-q, --quiet', 'print only the final lines', false);
  addCheckpointOption(cmd);
  addGridOptions(cmd, 'trainings', true).action(async (o: CodaeOpts) => {
    const exp = await import('../experiments/codae.js');
    const d = o.tiny ? exp.TINY_CODAE : { ...exp.CODAE_DEFAULTS[o.dataset], scale: exp.CODAE_SCALE };
    const spec: import('../experiments/codae.js').CodaeSpec = {
      dataset: o.dataset,
      models: o.models ?? [...MODELS],
      seeds: o.seeds ?? [1, 2, 3],
      trainImages: o.trainImages ?? d.trainImages,
      testImages: o.testImages ?? d.testImages,
      epochs: o.epochs ?? d.epochs,
      dataSeed: o.dataSeed,
      scale: {
        widths: o.widths ?? [...d.scale.widths],
        hidden: o.hidden ?? d.scale.hidden,
        decoderWidth: o.decoderWidth ?? d.scale.decoderWidth,
        pixelSubsample: o.pixelSubsample ?? d.scale.pixelSubsample,
        mlpWidth: o.mlpWidth ?? d.scale.mlpWidth,
        batchSize: o.batchSize ?? d.scale.batchSize,
        learningRate: o.learningRate ?? d.scale.learningRate,
      },
      backend: o.backend,
      ...(o.checkpointMinutes !== undefined ? { checkpointMinutes: o.checkpointMinutes } : {}),
    };
    const r = (await runGrid(exp.codaeExperiment, spec, o, io)).summary;
    if (r === null) return;
    const f = (v: number): string => v.toFixed(3);
    io.stdout.write(
      r.models
        .map(
          (m) =>
            `${m.model}: average score ${f(m.withPose.average.mean)} ± ${f(m.withPose.average.std)} with x, y, θ, ${f(m.withoutPose.average.mean)} ± ${f(m.withoutPose.average.std)} without (best seed ${m.bestSeed}); |r| x ${f(m.absRx.mean)}, y ${f(m.absRy.mean)}; kNN ${f(m.knnAccuracy.mean)}`,
        )
        .join('\n') +
        '\n' +
        [...r.claims, ...r.aims]
          .map(
            (c) => `${c.holds === null ? 'not tested' : c.holds ? 'holds' : 'does not hold'}: ${c.claim}: ${c.detail}`,
          )
          .join('\n') +
        `\n${r.data}\nwrote ${path.join(o.out, 'results.json')}, ${path.join(o.out, 'report.html')}\n`,
    );
  });
}
