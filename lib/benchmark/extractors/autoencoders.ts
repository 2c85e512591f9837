/**
 * The image autoencoders as extractors (docs/EQUIVARIANT-AE.md): the plain convolutional
 * autoencoder's 64-wide code, and the equivariant autoencoder's invariant codes. One D4 or D12
 * model trained with mean pooling gives both its mean code (m = 32 values, the row mean of V) and
 * its Gram code (D4 1,824, D12 4,064 values); the attention model is trained on its own. Training:
 * Adam 1e-3, batch 64, the first `images` of the training split, early stopping (patience 3) on
 * the validation MSE with the best weights restored.
 *
 * Mean, Gram and attention codes are exactly invariant to the 90° turns and mirrors (the p4 layers
 * are exact there, the D12 input turns by 30° and 60° only permute under them, and the attention
 * weights are computed from V by group convolutions, so they move with V); under other angles they
 * are invariant only as far as the encoder's output moves with the image. The plain autoencoder is
 * not invariant at all.
 */
import type { ImageBatch } from '../../data/augment';
import type { GroupName } from '../../ml/groups/dihedral';
import { gramPool } from '../../ml/layers/gram-pooling';
import { meanPool, type CodeMatrix, type EquivariantCodes } from '../../ml/layers/mean-pooling';
import { ConvAutoencoder } from '../../ml/models/conv-autoencoder';
import {
  EquivariantAutoencoder,
  type EquivariantAutoencoderOptions,
  type PoolingName,
} from '../../ml/models/equivariant-autoencoder';
import type { ImageAutoencoder } from '../../ml/models/image-autoencoder';
import type { ExtractorContext, ExtractorTrainingData } from '../extractor';
import {
  fitOnFirstImages,
  LearnedExtractor,
  SharedModel,
  type LearnedTraining,
  type ModelCache,
  type ModelRecipe,
} from './learned';

/** Trains an image autoencoder on the first `t.images` training images; returns what to record. */
async function trainAutoencoder(
  model: ImageAutoencoder,
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
    (e) => `loss ${e.loss.toFixed(5)}, validation MSE ${e.valLoss?.toFixed(5) ?? '-'}`,
    'bestValidationMse',
  );
}

function recipe<
  M extends ImageAutoencoder & { save(dir: string, meta: { extra: Record<string, unknown> }): Promise<unknown> },
>(label: string, t: LearnedTraining, create: () => M, load: (dir: string) => Promise<M>): ModelRecipe<M> {
  return {
    label,
    create,
    train: (model, data, ctx) => trainAutoencoder(model, t, label, data, ctx),
    save: async (model, dir, extra) => void (await model.save(dir, { extra })),
    load: async (dir) => {
      const model = await load(dir);
      return { model, extra: model.savedMeta };
    },
    dispose: (model) => model.dispose(),
  };
}

/** The plain convolutional autoencoder's code. */
export function convAutoencoderExtractors(
  t: LearnedTraining,
  seed: number,
  cache?: ModelCache,
): LearnedExtractor<ConvAutoencoder>[] {
  const shared = new SharedModel(
    recipe(
      'convae',
      t,
      () => new ConvAutoencoder({ seed }),
      (dir) => ConvAutoencoder.load(dir),
    ),
    cache,
  );
  return [
    new LearnedExtractor({
      name: 'convae',
      family: 'autoencoder',
      description: 'code of the plain convolutional autoencoder (64 values; widths 16, 32, 64)',
      exactD4Invariant: false,
      shared,
      encode: (m, images) => m.encode(images),
    }),
  ];
}

/**
 * V of a batch, kept for the batch object it was computed for: the mean and the Gram extractor of
 * one model encode the same batches, and the encoder runs once per batch. (The cost measurement
 * encodes a fresh batch object, so each extractor's timing includes the encoder.)
 */
class CodeCache {
  private readonly codes = new WeakMap<ImageBatch, EquivariantCodes>();
  async of(model: EquivariantAutoencoder, images: ImageBatch): Promise<EquivariantCodes> {
    let v = this.codes.get(images);
    if (!v) {
      v = await model.encodeEquivariant(images);
      this.codes.set(images, v);
    }
    return v;
  }
}

/**
 * The pooled codes of one equivariant autoencoder of `group` ('mean' and 'gram' from one model;
 * 'attention' its own model). `model` overrides the model's default options (e.g. narrower widths).
 */
export function equivariantExtractors(
  group: GroupName,
  poolings: readonly PoolingName[],
  t: LearnedTraining,
  seed: number,
  cache?: ModelCache,
  model: Omit<EquivariantAutoencoderOptions, 'group' | 'pooling' | 'seed'> = {},
): LearnedExtractor<EquivariantAutoencoder>[] {
  const attention = poolings.includes('attention');
  if (attention && poolings.length > 1)
    throw new RangeError("equivariantExtractors: 'attention' trains its own model; ask for it alone");
  const trainedAs: PoolingName = attention ? 'attention' : 'mean';
  const g = group.toLowerCase();
  const label = attention ? `eqae-attention-${g}` : `eqae-${g}`;
  const shared = new SharedModel(
    recipe(
      label,
      t,
      () => new EquivariantAutoencoder({ ...model, group, pooling: trainedAs, seed }),
      (dir) => EquivariantAutoencoder.load(dir),
    ),
    cache,
  );
  const codes = new CodeCache();
  const what: Record<PoolingName, string> = {
    mean: 'mean over the group of the equivariant code V (m = 32 values)',
    gram: 'Gram pooling of V (inner products of its columns under the centraliser permutations)',
    attention: 'equivariant attention pooling of V, then a linear layer (64 values; trained through)',
  };
  return poolings.map(
    (pooling) =>
      new LearnedExtractor({
        name: `eqae-${pooling}-${g}`,
        family: 'equivariant-autoencoder',
        description: `${group} equivariant autoencoder: ${what[pooling]}`,
        exactD4Invariant: true,
        shared,
        encode: async (m, images) => {
          if (pooling === 'attention') return m.encode(images);
          const v = await codes.of(m, images);
          if (pooling === 'mean') return meanPool(v);
          const { data, rows, cols }: CodeMatrix = gramPool(v, m.group, { permutations: m.options.gramPermutations });
          return { data, rows, cols };
        },
      }),
  );
}
