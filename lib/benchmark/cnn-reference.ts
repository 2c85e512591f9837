/**
 * The supervised reference of the benchmark (not an extractor): the paper's CNN (lib/ml/models/
 * cnn.ts; conv 16 3x3 + ReLU + max-pool 2, conv 32 3x3 + ReLU + max-pool 2, dense 64 + ReLU,
 * softmax; 'valid' padding) on whole 28 x 28 images, trained end to end on the labelled images of
 * each label budget and probe seed (the same images the probes get), and scored on the test split:
 *
 * - 'augmented': on the labelled images as the benchmark augments them (turned, mirrored);
 * - 'upright': on the same source images without any transform (no rotation augmentation).
 *
 * Training: Adam (learning rate `learningRate`; 1e-3 at every scale), batch `batchSize` (128),
 * at most `epochs` epochs with early stopping on the validation loss of a seeded 10 % of the
 * labelled images (`patience`; best weights restored). The
 * paper's Experiment-4 settings (Adam 1e-4, batch 2048) take a single step per epoch at a budget of
 * 100 images, so the probes' optimiser settings are used instead.
 */
import type { AugmentedImages } from '../data/augment';
import { CnnClassifier } from '../ml/models/cnn';
import { deriveSeed } from '../features/sampling';
import { budgetIndices } from './data';
import { withCoreSeconds } from './extractor';

export type CnnCondition = 'augmented' | 'upright';
export const CNN_CONDITIONS: readonly CnnCondition[] = Object.freeze(['augmented', 'upright']);

/** Training settings of the reference CNN. */
export interface CnnReferenceSettings {
  epochs: number;
  patience: number;
  learningRate: number;
  batchSize: number;
}

/** One trained CNN. */
export interface CnnRecord {
  condition: CnnCondition;
  budget: number;
  seed: number;
  accuracy: number;
  epochs: number;
  coreSeconds: number;
}

const DOMAIN_CNN = 0x434e4e21; // "CNN!"

/** Rows `idx` of an image set as labelled rows for the CNN. */
function labelled(
  images: AugmentedImages,
  idx: Int32Array,
): { x: Float32Array; y: Int32Array; rows: number; cols: number } {
  const px = images.height * images.width;
  const x = new Float32Array(idx.length * px);
  idx.forEach((i, r) => x.set(images.data.subarray(i * px, (i + 1) * px), r * px));
  return { x, y: Int32Array.from(idx, (i) => images.labels[i]!), rows: idx.length, cols: px };
}

/** Trains and tests the CNN at every (budget, seed) for one condition. */
export async function cnnReference(
  condition: CnnCondition,
  trainImages: AugmentedImages,
  test: AugmentedImages,
  o: {
    budgets: readonly number[];
    seeds: number;
    seed: number;
    settings: CnnReferenceSettings;
    log: (line: string) => void;
    signal?: AbortSignal;
  },
): Promise<CnnRecord[]> {
  const out: CnnRecord[] = [];
  const testX = test.data;
  for (let s = 0; s < o.seeds; s++) {
    for (const budget of o.budgets) {
      o.signal?.throwIfAborted();
      const data = labelled(trainImages, budgetIndices(o.seed, s, trainImages.count, budget));
      const seed = deriveSeed(o.seed, DOMAIN_CNN, CNN_CONDITIONS.indexOf(condition), s, budget) % 2 ** 31;
      const cnn = CnnClassifier.create({
        height: trainImages.height,
        width: trainImages.width,
        learningRate: o.settings.learningRate,
        seed,
      });
      try {
        const r = await withCoreSeconds(() =>
          cnn.train(data, {
            epochs: o.settings.epochs,
            batchSize: o.settings.batchSize,
            validation: 0.1,
            earlyStopping: { patience: o.settings.patience },
            seed,
            signal: o.signal,
          }),
        );
        const predicted = cnn.predictClasses(testX);
        let right = 0;
        for (let i = 0; i < test.count; i++) if (predicted[i] === test.labels[i]) right++;
        const rec: CnnRecord = {
          condition,
          budget,
          seed: s,
          accuracy: right / test.count,
          epochs: r.value.epochs.length,
          coreSeconds: r.coreSeconds,
        };
        o.log(
          `cnn-${condition}: ${budget} labels, seed ${s}: test accuracy ${rec.accuracy.toFixed(4)} (${rec.epochs} epochs, ${rec.coreSeconds.toFixed(0)} core-s)`,
        );
        out.push(rec);
      } finally {
        cnn.dispose();
      }
    }
  }
  return out;
}
