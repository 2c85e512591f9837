/**
 * What the learned extractors share: one trained model behind one or more extractors (a D4
 * equivariant autoencoder gives its mean and its Gram code), trained once on the benchmark's
 * training split with early stopping on the validation split, its training CPU time counted, and
 * optionally saved to and reloaded from a folder (so that a rerun of a benchmark unit that failed
 * after training does not train again). A saved model is reused only when the key it was saved
 * with (the JSON of everything the training depends on) is the key asked for.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';

import type { ImageBatch } from '../../data/augment';
import { firstImages } from '../../experiments/code-evaluation';
import type { CodeMatrix } from '../../ml/layers/mean-pooling';
import type { FitEpochLog } from '../../ml/train/fit';
import {
  withCoreSeconds,
  type Extractor,
  type ExtractorContext,
  type ExtractorFamily,
  type ExtractorTrainingData,
} from '../extractor';

/** How much a learned extractor trains. */
export interface LearnedTraining {
  /** Maximum epochs (early stopping on the validation split, patience 3, may end sooner). */
  epochs: number;
  /** Training images: the first `images` of the training split (at most its size). */
  images: number;
}

/** The part of a model's `fit` that {@link fitOnFirstImages} calls (every learned extractor's model has it). */
export interface FitsImages<E extends FitEpochLog> {
  readonly parameterCount: number;
  fit(
    images: ImageBatch,
    options: {
      epochs: number;
      validation: ImageBatch;
      earlyStopping: { patience: number };
      signal?: AbortSignal;
      onEpoch?: (log: E) => void;
    },
  ): Promise<{ epochs: readonly E[]; bestEpoch: number | null }>;
}

/**
 * The benchmark's training of a learned extractor: the first `t.images` training images, at most
 * `t.epochs` epochs, early stopping (patience 3) on the validation split, one log line per epoch
 * (`describe` gives its loss part). Returns what the unit records; the best epoch's validation
 * loss goes under `bestKey` (its name says what the model's validation loss is).
 */
export async function fitOnFirstImages<E extends FitEpochLog>(
  model: FitsImages<E>,
  t: LearnedTraining,
  data: ExtractorTrainingData,
  ctx: ExtractorContext,
  label: string,
  describe: (log: E) => string,
  bestKey: 'bestValidationMse' | 'bestValidationObjective',
): Promise<Record<string, unknown>> {
  const train = firstImages(data.train, t.images);
  const h = await model.fit(train, {
    epochs: t.epochs,
    validation: data.validation,
    earlyStopping: { patience: 3 },
    signal: ctx.signal,
    onEpoch: (e) => ctx.log(`${label}: epoch ${e.epoch}/${t.epochs}: ${describe(e)} (${e.seconds.toFixed(0)} s)`),
  });
  return {
    images: train.count,
    validationImages: data.validation.count,
    epochs: h.epochs.length,
    bestEpoch: h.bestEpoch,
    [bestKey]: h.bestEpoch === null ? null : (h.epochs[h.bestEpoch - 1]?.valLoss ?? null),
    parameters: model.parameterCount,
  };
}

/** How to build, train, save and load one kind of model. */
export interface ModelRecipe<M> {
  /** What the model is (for log lines). */
  label: string;
  create(): M;
  /** Trains `model`; returns what to record (epochs run, best validation loss, ...). */
  train(model: M, data: ExtractorTrainingData, ctx: ExtractorContext): Promise<Record<string, unknown>>;
  save(model: M, dir: string, extra: Record<string, unknown>): Promise<void>;
  /** The model and the `extra` it was saved with. */
  load(dir: string): Promise<{ model: M; extra: Record<string, unknown> | null }>;
  dispose(model: M): void;
}

/** Where a trained model is kept between runs: a folder and the key of what it depends on. */
export interface ModelCache {
  dir: string;
  key: string;
}

/** One model trained once, shared by the extractors that read it. */
export class SharedModel<M> {
  private model: M | null = null;
  private pending: Promise<M> | null = null;
  /** CPU seconds of the training (as recorded when the model was trained, also when reloaded). */
  coreSeconds = 0;
  info: Record<string, unknown> = {};

  constructor(
    private readonly recipe: ModelRecipe<M>,
    private readonly cache?: ModelCache,
  ) {}

  /** The trained model: trained on the first call (or loaded from the cache), then the same. */
  async ensure(data: ExtractorTrainingData, ctx: ExtractorContext): Promise<M> {
    if (this.model) return this.model;
    this.pending ??= this.build(data, ctx);
    this.model = await this.pending;
    return this.model;
  }

  /** The trained model; throws before {@link ensure}. */
  get trained(): M {
    if (!this.model) throw new Error(`${this.recipe.label}: encode before fit`);
    return this.model;
  }

  private async build(data: ExtractorTrainingData, ctx: ExtractorContext): Promise<M> {
    const cache = this.cache;
    if (cache && existsSync(cache.dir)) {
      try {
        const { model, extra } = await this.recipe.load(cache.dir);
        if (extra?.['key'] === cache.key && typeof extra['coreSeconds'] === 'number') {
          this.coreSeconds = extra['coreSeconds'];
          this.info = { ...((extra['info'] as Record<string, unknown>) ?? {}), reloadedFrom: cache.dir };
          ctx.log(`${this.recipe.label}: reloaded the trained model from ${cache.dir}`);
          return model;
        }
        this.recipe.dispose(model);
        ctx.log(`${this.recipe.label}: ${cache.dir} holds a model of other settings; training again`);
      } catch (err) {
        ctx.log(`${this.recipe.label}: cannot reload ${cache.dir} (${(err as Error).message}); training again`);
      }
      await rm(cache.dir, { recursive: true, force: true });
    }
    const model = this.recipe.create();
    try {
      const r = await withCoreSeconds(() => this.recipe.train(model, data, ctx));
      this.coreSeconds = r.coreSeconds;
      this.info = r.value;
      if (cache)
        await this.recipe.save(model, cache.dir, { key: cache.key, coreSeconds: r.coreSeconds, info: r.value });
    } catch (err) {
      this.recipe.dispose(model);
      throw err;
    }
    return model;
  }

  dispose(): void {
    if (this.model) this.recipe.dispose(this.model);
    this.model = null;
    this.pending = null;
  }
}

/** Options of {@link LearnedExtractor}. */
export interface LearnedExtractorOptions<M> {
  name: string;
  family: ExtractorFamily;
  description: string;
  labels?: 'none' | 'train';
  exactD4Invariant: boolean;
  shared: SharedModel<M>;
  encode(model: M, images: ImageBatch): Promise<CodeMatrix>;
}

/** An extractor reading a shared trained model. */
export class LearnedExtractor<M> implements Extractor {
  readonly name: string;
  readonly family: ExtractorFamily;
  readonly description: string;
  readonly labels: 'none' | 'train';
  readonly exactD4Invariant: boolean;
  private readonly o: LearnedExtractorOptions<M>;

  constructor(o: LearnedExtractorOptions<M>) {
    this.o = o;
    this.name = o.name;
    this.family = o.family;
    this.description = o.description;
    this.labels = o.labels ?? 'none';
    this.exactD4Invariant = o.exactD4Invariant;
  }

  get trainingCoreSeconds(): number {
    return this.o.shared.coreSeconds;
  }

  get trainingInfo(): Record<string, unknown> {
    return this.o.shared.info;
  }

  async fit(data: ExtractorTrainingData, ctx: ExtractorContext): Promise<void> {
    await this.o.shared.ensure(data, ctx);
  }

  async encode(images: ImageBatch, ctx: ExtractorContext): Promise<CodeMatrix> {
    ctx.signal?.throwIfAborted();
    return this.o.encode(this.o.shared.trained, images);
  }

  dispose(): void {
    this.o.shared.dispose();
  }
}
