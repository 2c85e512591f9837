/**
 * Image sets made from known generative factors (the procedural XYRCS-like and dSprites-like sets,
 * docs/CODAE.md, "Data generators"): the images and, per image, every factor that made it, as a
 * count x factors matrix with the factors' names and kinds. The disentanglement metrics
 * (lib/ml/metrics/disentanglement.ts) read exactly this matrix.
 */
import type { ImageBatch } from './augment';
import { Rng } from '../util/random';

/** Images with the factors that made them. */
export interface FactorImages extends ImageBatch {
  /** Names of the factor columns, in order. */
  factorNames: string[];
  /** count x factorNames.length, row-major: the factor values of each image. */
  factors: Float32Array;
  /** Per factor: true for a categorical factor (its values are classes), false for an ordered one. */
  discrete: boolean[];
  /** Shape class of each image (index into `shapes`): the labels of class probes. */
  labels: Int32Array;
  /** Names of the shape classes. */
  shapes: string[];
}

/** A generator of image `index` of a set seeded with `seed`: depends only on (seed, index), so subsets and shards agree with the whole. */
export function imageRng(seed: number, index: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${String(seed)}`);
  return new Rng(
    (Math.imul(seed | 0, 0x9e3779b1) ^
      Math.imul(index + 1, 0x85ebca6b) ^
      Math.imul(Math.floor(seed / 2 ** 32) | 0, 0x27d4eb2f)) >>>
      0,
  );
}

/** Checks the size options of a generator; returns start and count. */
export function checkRange(o: { count: number; start?: number }, where: string): { start: number; count: number } {
  const start = o.start ?? 0;
  if (!Number.isInteger(o.count) || o.count < 0 || o.count > 10_000_000)
    throw new RangeError(`${where}: count must be an integer in [0, 10000000], got ${String(o.count)}`);
  if (!Number.isInteger(start) || start < 0)
    throw new RangeError(`${where}: start must be an integer >= 0, got ${String(start)}`);
  return { start, count: o.count };
}

/** The column of factor `name` of a set (a copy). */
export function factorColumn(set: Pick<FactorImages, 'factorNames' | 'factors' | 'count'>, name: string): Float32Array {
  const k = set.factorNames.indexOf(name);
  if (k < 0) throw new RangeError(`no factor '${name}'; the set has ${set.factorNames.join(', ')}`);
  const f = set.factorNames.length;
  const out = new Float32Array(set.count);
  for (let i = 0; i < set.count; i++) out[i] = set.factors[i * f + k];
  return out;
}
