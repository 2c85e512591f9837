/**
 * Random sampling of SOAP centres, Algorithm 3 of the paper (docs/PAPER-FACTS.md §3):
 * T times, pick a random image, then a random point of it; the sample's label is
 * the image's label. SOAP is then computed only at the sampled points.
 *
 * The draws are split in two stages so that images can be processed in any order,
 * in batches, or on many machines (shards), and still give the same sample:
 *
 * 1. {@link planSamples} draws the image of each of the T samples from
 *    `Rng(seed)` and keeps only how many samples landed on each image
 *    (a Uint32Array of per-image counts: T draws cost 4 bytes per image, not an
 *    object per draw).
 * 2. {@link pointsForImage} draws, once an image's point count is known, its
 *    point indices (uniform, with replacement, one per sample that picked the
 *    image) from an Rng seeded by (seed, image index) alone, so the result does not
 *    depend on which images were processed before, or where.
 *
 * Images with no points. Pass `pointCounts` (points per image; computing them is
 * cheap: the image-to-points conversion without SOAP) to {@link planSamples}: the
 * image draws are then uniform over the images that have at least one point, and
 * the total is exactly T. Without `pointCounts` every image can be drawn; the
 * draws that land on an image that turns out to have no points are dropped
 * ({@link pointsForImage} returns an empty array), so the sample has fewer than T
 * rows; {@link droppedDraws} counts them. When no image is empty both ways give the
 * same plan for the same seed.
 *
 * Output order: samples are grouped by image in ascending image order (the order a
 * streaming run produces them); within an image, in draw order. {@link sampleOffsets}
 * gives each image's first row, so shards can be merged by image index.
 */
import { Rng } from '../util/random';

/** Options of {@link planSamples}. */
export interface SamplePlanOptions {
  /** Number of images in the data set. */
  datasetLength: number;
  /** T: the number of (image, point) samples. */
  count: number;
  /** Seed (any safe integer). The same seed, length, count and pointCounts give the same plan. */
  seed: number;
  /**
   * Points per image, when known before sampling: images with 0 points are never drawn,
   * so the sample has exactly `count` rows. Its length must be `datasetLength`.
   */
  pointCounts?: ArrayLike<number>;
}

/** The image stage of a sample: how many samples each image gets. */
export interface SamplePlan {
  readonly datasetLength: number;
  /** T. */
  readonly count: number;
  readonly seed: number;
  /** Samples per image (length `datasetLength`, sums to `count`). */
  readonly counts: Uint32Array;
  /** Points per image the plan was made with, if given. */
  readonly pointCounts?: Uint32Array;
}

const TWO_POW_32 = 4294967296;
/** Most samples (and images) a plan can hold: counts are stored as uint32. */
export const MAX_SAMPLE_COUNT = TWO_POW_32 - 1;
/** Domain tags so the streams used for different purposes never coincide. */
const DOMAIN_IMAGES = 0x494d4753; // "IMGS"
const DOMAIN_POINTS = 0x504e5453; // "PNTS"
const DOMAIN_SPLIT = 0x53504c54; // "SPLT"

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkSafeInt(v: unknown, name: string, where: string, min = -Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new RangeError(
      `${where}: ${name} must be an integer >= ${min === -Number.MAX_SAFE_INTEGER ? '-(2^53-1)' : min}, got ${String(v)}`,
    );
  }
  return v;
}

/**
 * A seed for an independent Rng stream derived from `seed` and integer `parts`
 * (hashing, so neighbouring inputs give unrelated streams). Returns a safe integer
 * in 0..2^53-1.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  checkSafeInt(seed, 'seed', 'deriveSeed');
  const words = [seed >>> 0, Math.floor(seed / TWO_POW_32) >>> 0, parts.length];
  for (const p of parts) {
    checkSafeInt(p, 'part', 'deriveSeed');
    words.push(p >>> 0, Math.floor(p / TWO_POW_32) >>> 0);
  }
  let h1 = 0x243f6a88;
  let h2 = 0x85a308d3;
  for (const w of words) {
    h1 = fmix32((h1 ^ w) + 0x9e3779b9);
    h2 = fmix32((Math.imul(h2, 0xcc9e2d51) ^ w ^ h1) + 0x7f4a7c15);
  }
  h1 = fmix32(h1 ^ h2);
  return (h1 & 0x1fffff) * TWO_POW_32 + h2;
}

/**
 * Draws the image of each of `count` samples, uniformly (over the images with points
 * when `pointCounts` is given).
 *
 * @throws RangeError for bad sizes or seed, a `pointCounts` of the wrong length or with
 *   non-integers, or samples requested from a data set with no (non-empty) image.
 */
export function planSamples(options: SamplePlanOptions): SamplePlan {
  const where = 'planSamples';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options are required`);
  const length = checkSafeInt(options.datasetLength, 'datasetLength', where, 0);
  const count = checkSafeInt(options.count, 'count', where, 0);
  const seed = checkSafeInt(options.seed, 'seed', where);
  if (length > MAX_SAMPLE_COUNT || count > MAX_SAMPLE_COUNT) {
    throw new RangeError(`${where}: datasetLength and count must be below 2^32`);
  }
  let pointCounts: Uint32Array | undefined;
  let eligible: Uint32Array | undefined;
  if (options.pointCounts !== undefined) {
    const pc = options.pointCounts;
    if (pc === null || typeof pc !== 'object' || typeof pc.length !== 'number' || pc.length !== length) {
      throw new RangeError(
        `${where}: pointCounts must have datasetLength = ${length} entries, got ${String(pc?.length)}`,
      );
    }
    pointCounts = new Uint32Array(length);
    let nonEmpty = 0;
    for (let i = 0; i < length; i++) {
      const v = pc[i];
      if (!Number.isInteger(v) || v < 0 || v > TWO_POW_32 - 1) {
        throw new RangeError(`${where}: pointCounts[${i}] = ${String(v)} is not an integer in 0..2^32-1`);
      }
      pointCounts[i] = v;
      if (v > 0) nonEmpty++;
    }
    if (nonEmpty < length) {
      eligible = new Uint32Array(nonEmpty);
      for (let i = 0, k = 0; i < length; i++) if (pointCounts[i] > 0) eligible[k++] = i;
    }
  }
  const pool = eligible !== undefined ? eligible.length : length;
  if (count > 0 && pool === 0) {
    throw new RangeError(
      length === 0
        ? `${where}: cannot draw ${count} samples from an empty data set`
        : `${where}: cannot draw ${count} samples: no image has any point (check the intensity threshold)`,
    );
  }
  const counts = new Uint32Array(length);
  const rng = new Rng(deriveSeed(seed, DOMAIN_IMAGES));
  if (eligible !== undefined) {
    for (let t = 0; t < count; t++) counts[eligible[rng.nextInt(pool)]]++;
  } else {
    for (let t = 0; t < count; t++) counts[rng.nextInt(pool)]++;
  }
  return { datasetLength: length, count, seed, counts, pointCounts };
}

/**
 * The point indices sampled in image `imageIndex` once it is known to have `numPoints`
 * points: `plan.counts[imageIndex]` indices, uniform in 0..numPoints-1, with replacement,
 * in draw order. Depends only on (plan.seed, imageIndex, count, numPoints), never on other
 * images or on processing order. Empty for an image that was not drawn, and for a drawn
 * image with no points (those draws are dropped; see {@link droppedDraws}).
 *
 * @throws RangeError for an index out of range, a bad numPoints, or a numPoints that
 *   differs from the plan's `pointCounts` (the image-to-points options changed?).
 */
export function pointsForImage(plan: SamplePlan, imageIndex: number, numPoints: number): Uint32Array {
  const where = 'pointsForImage';
  if (!Number.isSafeInteger(imageIndex) || imageIndex < 0 || imageIndex >= plan.datasetLength) {
    throw new RangeError(`${where}: imageIndex ${String(imageIndex)} is out of range 0..${plan.datasetLength - 1}`);
  }
  checkSafeInt(numPoints, 'numPoints', where, 0);
  if (plan.pointCounts !== undefined && plan.pointCounts[imageIndex] !== numPoints) {
    throw new RangeError(
      `${where}: image ${imageIndex} has ${numPoints} points but the plan was made with ${plan.pointCounts[imageIndex]} ` +
        '(were the image-to-points options changed?)',
    );
  }
  const k = plan.counts[imageIndex];
  if (k === 0 || numPoints === 0) return new Uint32Array(0);
  const rng = new Rng(deriveSeed(plan.seed, DOMAIN_POINTS, imageIndex));
  const out = new Uint32Array(k);
  for (let i = 0; i < k; i++) out[i] = rng.nextInt(numPoints);
  return out;
}

/**
 * A centre selector for `featurize(..., { centers })`: image i's centres are
 * `pointsForImage(plan, i, numPoints)` (empty for images that were not drawn).
 */
export function sampleCenters(plan: SamplePlan): (imageIndex: number, numPoints: number) => Uint32Array {
  return (imageIndex, numPoints) => pointsForImage(plan, imageIndex, numPoints);
}

/** Indices of the images that got at least one sample, ascending (the images to process). */
export function sampledImages(plan: SamplePlan): Uint32Array {
  let n = 0;
  for (let i = 0; i < plan.counts.length; i++) if (plan.counts[i] > 0) n++;
  const out = new Uint32Array(n);
  for (let i = 0, k = 0; i < plan.counts.length; i++) if (plan.counts[i] > 0) out[k++] = i;
  return out;
}

/**
 * Row offsets of the images in the sampled output (grouped by image, ascending): image i's
 * samples are rows offsets[i] .. offsets[i+1]-1; offsets[datasetLength] = T. Assumes no
 * draws are dropped (always true for a plan made with pointCounts).
 */
export function sampleOffsets(plan: SamplePlan): Float64Array {
  const out = new Float64Array(plan.datasetLength + 1);
  for (let i = 0; i < plan.datasetLength; i++) out[i + 1] = out[i] + plan.counts[i];
  return out;
}

/**
 * Samples lost to images without points, given each image's point count (as found while
 * processing): the sum of `plan.counts[i]` over images with `pointCounts[i] === 0`.
 */
export function droppedDraws(plan: SamplePlan, pointCounts: ArrayLike<number>): number {
  if (pointCounts.length !== plan.datasetLength) {
    throw new RangeError(`droppedDraws: pointCounts has ${pointCounts.length} entries, the plan ${plan.datasetLength}`);
  }
  let dropped = 0;
  for (let i = 0; i < plan.datasetLength; i++) if (pointCounts[i] === 0) dropped += plan.counts[i];
  return dropped;
}

/** The two index sets of {@link trainValSplit}. */
export interface TrainValSplit {
  /** round(n * fraction) indices in random order. */
  train: Uint32Array;
  /** The remaining indices, in random order. */
  val: Uint32Array;
}

/**
 * Splits 0..n-1 at random into a training set of round(n * fraction) indices and a
 * validation set of the rest (the paper: 80:20), both in shuffled order. Deterministic
 * for a given (n, fraction, seed).
 *
 * @throws RangeError for a bad n, a fraction outside [0, 1], or a bad seed.
 */
export function trainValSplit(n: number, fraction = 0.8, seed = 0): TrainValSplit {
  const where = 'trainValSplit';
  checkSafeInt(n, 'n', where, 0);
  if (n > TWO_POW_32 - 1) throw new RangeError(`${where}: n must be below 2^32, got ${n}`);
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) {
    throw new RangeError(`${where}: fraction must be a number in [0, 1], got ${String(fraction)}`);
  }
  checkSafeInt(seed, 'seed', where);
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  new Rng(deriveSeed(seed, DOMAIN_SPLIT, n)).shuffle(perm);
  const nTrain = Math.round(n * fraction);
  return { train: perm.slice(0, nTrain), val: perm.slice(nTrain) };
}
