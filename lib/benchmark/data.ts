/**
 * The benchmark's data protocol (docs/BENCHMARK.md, "Protocol"): one set of images for every
 * extractor.
 *
 * - Augmentation: `augmentImages(ds, { ...ROTATED_MIRRORED, interpolation, seed })`, i.e. every image
 *   turned by an angle uniform in [0°, 360°) and mirrored with probability 0.5 (the
 *   equivariant-autoencoder paper's augmented MNIST), resampled bilinearly or from the nearest pixel.
 * - Training split: source training images 0 .. train-1 (augmentation seed `seed`); the learned
 *   extractors train on it without labels (the crVAE with its labels), and the probes draw their
 *   labelled images from it.
 * - Validation split: the last `validation` source training images (same augmentation seed;
 *   disjoint from the training split): early stopping of the learned extractors.
 * - Test split: source test images 0 .. test-1 (augmentation seed derived from `seed`).
 * - Label budgets: for probe seed s, one seeded permutation of the training split; a budget of b
 *   labels is its first b images (nested budgets, the same for every extractor).
 * - Upright training split: the training split's source images without any transform (for the
 *   supervised CNN reference trained without rotation augmentation).
 *
 * Image i's angle and mirror depend only on (seed, i) (lib/data/augment.ts), so every process,
 * worker and shard builds the same sets.
 */
import { augmentImages, ROTATED_MIRRORED, type AugmentedImages } from '../data/augment';
import type { Dataset } from '../data/dataset';
import { fashionMnistDataset, mnistDataset } from '../data/datasets';
import type { Interpolation } from '../data/transform';
import { deriveSeed } from '../features/sampling';
import { Rng } from '../util/random';

export type BenchmarkDatasetName = 'mnist' | 'fashion-mnist';
export const BENCHMARK_DATASETS: readonly BenchmarkDatasetName[] = Object.freeze(['mnist', 'fashion-mnist']);

/** What the data of a benchmark run depend on. */
export interface BenchmarkDataSpec {
  dataset: BenchmarkDatasetName;
  /** Folder of the Fashion-MNIST IDX files (default Debian's). */
  fashionDir?: string;
  /** Resampling of the augmented images. */
  interpolation: Interpolation;
  /** Training split size (source training images 0 .. trainImages-1). */
  trainImages: number;
  /** Validation split size (the last source training images). */
  validationImages: number;
  /** Test split size (source test images 0 .. testImages-1). */
  testImages: number;
  seed: number;
}

/** The splits of one run. */
export interface BenchmarkData {
  train: AugmentedImages;
  validation: AugmentedImages;
  test: AugmentedImages;
  /** Seeds of the augmentations, recorded in results.json. */
  seeds: { train: number; test: number };
  classNames: readonly string[];
}

const DOMAIN_TEST = 0x54455354; // "TEST"
const DOMAIN_BUDGET = 0x42554447; // "BUDG"

function source(o: Pick<BenchmarkDataSpec, 'dataset' | 'fashionDir'>, split: 'train' | 'test'): Dataset {
  if (o.dataset === 'mnist') return mnistDataset(split);
  if (o.dataset === 'fashion-mnist')
    return fashionMnistDataset(split, o.fashionDir !== undefined ? { dir: o.fashionDir } : {});
  throw new RangeError(`unknown dataset '${String(o.dataset)}'; known: ${BENCHMARK_DATASETS.join(', ')}`);
}

/** Checks the sizes against the source data sets; returns them. */
export function checkBenchmarkData(o: BenchmarkDataSpec): { train: Dataset; test: Dataset } {
  const train = source(o, 'train');
  const test = source(o, 'test');
  for (const [k, v] of [
    ['trainImages', o.trainImages],
    ['validationImages', o.validationImages],
    ['testImages', o.testImages],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be a positive integer, got ${String(v)}`);
  }
  if (o.trainImages + o.validationImages > train.length) {
    throw new RangeError(
      `${o.trainImages} training + ${o.validationImages} validation images need more than the ${train.length} images of ${train.name}`,
    );
  }
  if (o.testImages > test.length)
    throw new RangeError(`${o.testImages} test images exceed the ${test.length} images of ${test.name}`);
  return { train, test };
}

/** The seed of the test split's augmentation. */
export function testAugmentSeed(seed: number): number {
  return deriveSeed(seed, DOMAIN_TEST) % 2 ** 31;
}

/** Builds the three augmented splits. */
export function benchmarkData(o: BenchmarkDataSpec): BenchmarkData {
  const { train, test } = checkBenchmarkData(o);
  const aug = { ...ROTATED_MIRRORED, interpolation: o.interpolation };
  const testSeed = testAugmentSeed(o.seed);
  return {
    train: augmentImages(train, { ...aug, seed: o.seed, start: 0, count: o.trainImages }),
    validation: augmentImages(train, {
      ...aug,
      seed: o.seed,
      start: train.length - o.validationImages,
      count: o.validationImages,
    }),
    test: augmentImages(test, { ...aug, seed: testSeed, start: 0, count: o.testImages }),
    seeds: { train: o.seed, test: testSeed },
    classNames: train.classNames ?? [],
  };
}

/** The training split's source images upright (no turn, no mirror), as floats in [0, 1]. */
export function uprightTrainImages(o: BenchmarkDataSpec): AugmentedImages {
  const { train } = checkBenchmarkData(o);
  return augmentImages(train, { angles: [0, 0], seed: o.seed, start: 0, count: o.trainImages });
}

/** Indices into the training split of the labelled images of probe seed `probeSeed` (0-based) at budget `budget`. */
export function budgetIndices(seed: number, probeSeed: number, trainImages: number, budget: number): Int32Array {
  if (!Number.isInteger(budget) || budget < 1 || budget > trainImages)
    throw new RangeError(`label budget ${String(budget)} must be an integer in 1..${trainImages} (the training split)`);
  const order = Int32Array.from({ length: trainImages }, (_, i) => i);
  new Rng(deriveSeed(seed, DOMAIN_BUDGET, probeSeed)).shuffle(order);
  return order.subarray(0, budget).slice();
}
