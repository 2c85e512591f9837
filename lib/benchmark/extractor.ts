/**
 * The one small interface every invariant extractor of the benchmark implements (docs/BENCHMARK.md):
 * an extractor turns each image of an {@link ImageBatch} into one vector,
 *
 *     f : [0, 1]^(H x W) -> R^d,   encode(images) = { data, rows: images.count, cols: d },
 *
 * optionally after `fit` on the benchmark's training split (unlabelled images, plus their labels
 * for an extractor whose `labels` is 'train'). The benchmark is a composition over this interface:
 * the same data, probes, clustering, invariance and cost measurements for every extractor
 * (probes.ts, invariance.ts, cost.ts). An adapter for a new model is a short file in extractors/
 * and one entry in registry.ts.
 */
import type { AugmentedImages, ImageBatch } from '../data/augment';
import type { CodeMatrix } from '../ml/layers/mean-pooling';

/** The families the leaderboard groups extractors by. */
export type ExtractorFamily = 'pixels' | 'soap' | 'autoencoder' | 'equivariant-autoencoder' | 'vae' | 'codae';

/** What an extractor's `fit` may use: unlabelled training images, a validation split, and (for label-conditioned models) the training labels. */
export interface ExtractorTrainingData {
  /** The benchmark's training split (augmented; `labels` present but only read when the extractor's `labels` is 'train'). */
  train: AugmentedImages;
  /** The validation split (early stopping of learned extractors). */
  validation: AugmentedImages;
}

/** Where a fit runs. */
export interface ExtractorContext {
  /** Threads for native work (SOAP); TensorFlow.js on wasm uses one. */
  threads: number;
  /** Progress lines. */
  log: (line: string) => void;
  signal?: AbortSignal;
}

/** An invariant (or not) feature extractor under test. */
export interface Extractor {
  /** Leaderboard name, unique in the benchmark, e.g. 'soap-outer-paper', 'eqae-gram-d4'. */
  readonly name: string;
  readonly family: ExtractorFamily;
  /** One line: what the vector is. */
  readonly description: string;
  /** 'none': never reads a label; 'train': `fit` reads every training label (beyond the probes' label budget; marked on the leaderboard). */
  readonly labels: 'none' | 'train';
  /** True when f(gx) = f(x) holds exactly for the 90° turns and mirrors (up to float rounding): tested. */
  readonly exactD4Invariant: boolean;
  /** Learns from the training split (absent: nothing to learn). Called once, before `encode`. */
  fit?(data: ExtractorTrainingData, ctx: ExtractorContext): Promise<void>;
  /** One vector per image, rows = images.count. */
  encode(images: ImageBatch, ctx: ExtractorContext): Promise<CodeMatrix>;
  /** CPU seconds (all threads) the fit took; 0 without fit. Several extractors sharing one model report that model's. */
  readonly trainingCoreSeconds: number;
  /** What the fit did (epochs, images, losses), for results.json. */
  readonly trainingInfo?: Record<string, unknown>;
  /** Frees models. */
  dispose?(): void;
}

/** CPU seconds (user + system, every thread of this process) spent in `fn`, with its result. */
export async function withCoreSeconds<T>(fn: () => Promise<T>): Promise<{ value: T; coreSeconds: number }> {
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, coreSeconds: (c.user + c.system) / 1e6 };
}
