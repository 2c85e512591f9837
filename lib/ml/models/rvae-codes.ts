/**
 * Encodes images with a trained {@link Rvae} and scores its codes (metrics/code-metrics.ts): the
 * evaluation step of the rVAE experiment, kept as a library function so that other experiments
 * (the invariance benchmark) encode and score rVAE / crVAE content latents the same way.
 *
 * Posterior means are the codes (docs/RVAE.md "Evaluation"). A conditional model (cVAE, crVAE)
 * encodes each image with its true class. The model's angle latent is scored as the encoded angle
 * when the model has one.
 */
import type { ImageBatch } from '../../data/augment';
import { codeMetrics, type CodeMetrics } from '../metrics/code-metrics';
import type { Rvae, RvaeEncoding } from './rvae';

/** Images with the factors that made them (an `AugmentedImages` set has these fields). */
export type LabelledAngleImages = ImageBatch & { labels: Int32Array; angles: Float32Array };

/** Options of {@link evaluateRvaeCodes}. */
export interface RvaeCodeEvaluationOptions {
  /** Source digits each turned through several angles, `groupSize` consecutive images per digit (`rotationSeries`), for the invariance ratio. */
  series?: { images: ImageBatch & { labels: Int32Array }; groupSize: number } | null;
  /** Seed of the kNN folds and k-means starts. */
  seed: number;
  /** kNN neighbours (default 10), folds (default 5), k-means restarts (default 10). */
  k?: number;
  folds?: number;
  kmeansRestarts?: number;
}

/** Result of {@link evaluateRvaeCodes}: the metrics and the encodings they came from. */
export interface RvaeCodeEvaluation {
  metrics: CodeMetrics;
  encoding: RvaeEncoding;
  seriesEncoding: RvaeEncoding | null;
}

/** Encodes `images` (and the series) with `model` and scores the content codes against the true angles and classes. */
export async function evaluateRvaeCodes(
  model: Rvae,
  images: LabelledAngleImages,
  options: RvaeCodeEvaluationOptions,
): Promise<RvaeCodeEvaluation> {
  if (
    images === null ||
    typeof images !== 'object' ||
    !(images.labels instanceof Int32Array) ||
    !(images.angles instanceof Float32Array)
  ) {
    throw new TypeError(
      'evaluateRvaeCodes: images need labels (Int32Array) and true angles (Float32Array, radians), as augmentImages gives',
    );
  }
  const encoding = await model.encode(images, { labels: images.labels });
  const series = options.series ?? null;
  const seriesEncoding = series ? await model.encode(series.images, { labels: series.images.labels }) : null;
  const metrics = codeMetrics({
    codes: encoding.z,
    labels: images.labels,
    angles: images.angles,
    encodedAngles: model.options.rotation ? encoding.angle : null,
    series: series && seriesEncoding ? { codes: seriesEncoding.z, groupSize: series.groupSize } : null,
    seed: options.seed,
    k: options.k,
    folds: options.folds,
    kmeansRestarts: options.kmeansRestarts,
  });
  return { metrics, encoding, seriesEncoding };
}
