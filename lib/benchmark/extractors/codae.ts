/**
 * CODAE as an extractor (docs/CODAE.md): its invariant latents z, the group max-pool of the C4
 * trunk's maps through two dense layers (the centroid x, y and the angle, which move with the image,
 * are left out).
 *
 * Network: the sizes of `soapix experiment codae` (lib/experiments/codae.ts, CODAE_SCALE: trunk
 * widths 4-8-16, hidden 64, decoder width 64, 256 of the 784 pixels per step for the reconstruction
 * term, batch 64, Adam 2e-3, moment loss weight 1 fading to 0 over the first half of training) on
 * 28 x 28 images, with `latentDim` invariant latents (4 on MNIST-RT in that experiment). Trained
 * without labels on the first `images` of the training split, early stopping (patience 3) on the
 * validation same-view MSE.
 *
 * Invariance: the trunk is exactly C4-equivariant on 28 x 28 (a side divisible by 4) and z is a max
 * over the four turns and all cells, so z is unchanged by the 90°, 180° and 270° turns to float
 * rounding (tested). A mirror is not in C4: the lifting and p4 filters are not mirror-symmetric, so
 * a mirrored image gives other latents (tested), and `exactD4Invariant` is false.
 */
import type { ImageBatch } from '../../data/augment';
import { Codae } from '../../ml/models/codae';
import type { CodaeOptions } from '../../ml/models/codae-config';
import type { ExtractorContext, ExtractorTrainingData } from '../extractor';
import { fitOnFirstImages, LearnedExtractor, SharedModel, type LearnedTraining, type ModelCache } from './learned';

/** The network of `soapix experiment codae` (CODAE_SCALE), on the benchmark's 28 x 28 images. */
export const CODAE_BENCHMARK_NETWORK: Readonly<CodaeOptions> = Object.freeze({
  imageSize: 28,
  widths: [4, 8, 16],
  hidden: 64,
  decoderWidth: 64,
  pixelSubsample: 256,
  batchSize: 64,
  learningRate: 2e-3,
  momentWeight: 1,
});

async function trainCodae(
  model: Codae,
  t: LearnedTraining,
  data: ExtractorTrainingData,
  ctx: ExtractorContext,
): Promise<Record<string, unknown>> {
  return fitOnFirstImages(
    model,
    t,
    data,
    ctx,
    'codae',
    (e) => `loss ${e.loss.toFixed(5)}, validation MSE ${e.valLoss?.toFixed(5) ?? '-'}, beta ${e.beta.toFixed(2)}`,
    'bestValidationMse',
  );
}

/**
 * CODAE's invariant latents (`latentDim` of them). `network` overrides sizes of
 * {@link CODAE_BENCHMARK_NETWORK} (the tests use a smaller one).
 */
export function codaeExtractors(
  latentDim: number,
  t: LearnedTraining,
  seed: number,
  cache?: ModelCache,
  network: Partial<CodaeOptions> = {},
): LearnedExtractor<Codae>[] {
  const options: CodaeOptions = {
    ...CODAE_BENCHMARK_NETWORK,
    widths: [...CODAE_BENCHMARK_NETWORK.widths!],
    ...network,
    latentDim,
    seed,
  };
  const shared = new SharedModel(
    {
      label: 'codae',
      create: () => new Codae(options),
      train: (model, data, ctx) => trainCodae(model, t, data, ctx),
      save: async (model, dir, extra) => void (await model.save(dir, { extra })),
      load: async (dir) => {
        const model = await Codae.load(dir);
        return { model, extra: model.savedInfo?.extra ?? null };
      },
      dispose: (model) => model.dispose(),
    },
    cache,
  );
  return [
    new LearnedExtractor({
      name: 'codae',
      family: 'codae',
      description: `CODAE invariant latents z (${latentDim}; C4 trunk ${options.widths!.join('-')} with group max-pool; centroid and angle left out; exact under the 90° turns, not under mirrors)`,
      labels: 'none',
      exactD4Invariant: false,
      shared,
      encode: async (m, images: ImageBatch) =>
        (await m.encode({ data: images.data, count: images.count, height: images.height, width: images.width })).z,
    }),
  ];
}
