/**
 * The rotationally invariant VAEs as extractors (docs/RVAE.md): the posterior means of the content
 * latents z (the angle latent, which turns with the image, is left out).
 *
 * - rVAE (`RVAE_MODELS.rvae`): never reads a label.
 * - crVAE (`RVAE_MODELS.crvae`): its decoder is conditioned on the one-hot class, so training reads
 *   every training label (marked on the leaderboard: beyond the probes' label budget). Here its
 *   encoder is not conditioned (`conditionEncoder: false`), so a test image is encoded from the
 *   image alone, without a true or predicted label; z then holds what the class does not explain
 *   (style), which is what the class-conditioned model is built to leave in z.
 *
 * Training: the notebook's network (widths 128) with pyroVED's batch of 100, 256 of 784 pixels per
 * step (docs/RVAE.md, "Reproduction scale"), the first `images` of the training split, early
 * stopping (patience 3) on the validation objective.
 */
import type { ImageBatch } from '../../data/augment';
import { Rvae } from '../../ml/models/rvae';
import { RVAE_MODELS } from '../../ml/models/rvae-config';
import type { ExtractorContext, ExtractorTrainingData } from '../extractor';
import { fitOnFirstImages, LearnedExtractor, SharedModel, type LearnedTraining, type ModelCache } from './learned';

/** Which rVAE. */
export type RvaeKind = 'rvae' | 'crvae';

/** Pixels per training step (docs/RVAE.md: 256 of 784 keeps the estimate unbiased at a third of the cost). */
const PIXELS_PER_STEP = 256;

async function trainRvae(
  model: Rvae,
  t: LearnedTraining,
  label: string,
  data: ExtractorTrainingData,
  ctx: ExtractorContext,
): Promise<Record<string, unknown>> {
  return fitOnFirstImages(
    model,
    t,
    data,
    ctx,
    label,
    (e) => `loss ${e.loss.toFixed(2)}, validation ${e.valLoss?.toFixed(2) ?? '-'}`,
    'bestValidationObjective',
  );
}

/** The content latents of an rVAE or crVAE with `latentDim` content latents. */
export function rvaeExtractors(
  kind: RvaeKind,
  latentDim: number,
  t: LearnedTraining,
  seed: number,
  cache?: ModelCache,
): LearnedExtractor<Rvae>[] {
  const options = {
    ...RVAE_MODELS[kind],
    ...(kind === 'crvae' ? { conditionEncoder: false } : {}),
    latentDim,
    pixelSubsample: PIXELS_PER_STEP,
    seed,
  };
  const shared = new SharedModel(
    {
      label: kind,
      create: () => new Rvae(options),
      train: (model, data, ctx) => trainRvae(model, t, kind, data, ctx),
      save: async (model, dir, extra) => void (await model.save(dir, { extra })),
      load: async (dir) => {
        const model = await Rvae.load(dir);
        return { model, extra: model.savedInfo?.extra ?? null };
      },
      dispose: (model) => model.dispose(),
    },
    cache,
  );
  const description =
    kind === 'rvae'
      ? `rVAE content latents (${latentDim}; posterior means, angle latent left out)`
      : `crVAE content latents (${latentDim}; decoder conditioned on the class: trained with every training label; encoder unconditioned, so test images are encoded without labels)`;
  return [
    new LearnedExtractor({
      name: kind,
      family: 'vae',
      description,
      labels: kind === 'crvae' ? 'train' : 'none',
      exactD4Invariant: false,
      shared,
      encode: async (m, images: ImageBatch) =>
        (await m.encode({ data: images.data, count: images.count, height: images.height, width: images.width })).z,
    }),
  ];
}
