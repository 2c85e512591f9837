/**
 * The invariance error of an extractor f (docs/BENCHMARK.md, "Measurements"):
 *
 *     e(x, g) = ‖f(gx) − f(x)‖ / ‖f(x)‖,   reported as the median over images x and transforms g,
 *
 * for three sets of transforms g of an image (lib/data/transform.ts: about the image centre,
 * counter-clockwise as displayed, mirror first):
 *
 * - 'd4': the 7 non-trivial 90° turns and mirrors (r, r², r³, m, r m, r² m, r³ m). These are exact
 *   pixel permutations, identical under bilinear and nearest resampling, so they are computed once;
 *   an exactly invariant extractor gives float rounding here (the maximum is kept for that check);
 * - 'turns30': the 8 turns by multiples of 30° that are not multiples of 90° (30, 60, 120, ...,
 *   330), under bilinear and under nearest resampling;
 * - 'random': `randomAngles` seeded angles uniform in [0°, 360°) per image, under both resamplings
 *   (the same angles for both).
 *
 * Two versions: on the extractor's raw vectors, and on the standardised vectors the probes see
 * (each column scaled by its std on the training split), so that one huge column (SOAP's l = 0
 * block) does not hide the others. Their ratio is comparable across extractors: 0 is invariant,
 * about √2 is as far apart as two unrelated images.
 */
import type { ImageBatch } from '../data/augment';
import { transformFloatImage, type ImageTransform, type Interpolation } from '../data/transform';
import type { CodeMatrix } from '../ml/layers/mean-pooling';
import { applyStandardizer, type Standardizer } from '../ml/probes/standardize';
import { Rng } from '../util/random';
import type { Extractor, ExtractorContext } from './extractor';

/** The 7 non-trivial elements of D4 as image transforms. */
export const D4_TRANSFORMS: readonly ImageTransform[] = Object.freeze([
  { degrees: 90 },
  { degrees: 180 },
  { degrees: 270 },
  { mirror: true },
  { mirror: true, degrees: 90 },
  { mirror: true, degrees: 180 },
  { mirror: true, degrees: 270 },
]);

/** The turns by multiples of 30° that are not quarter turns. */
export const TURNS_30: readonly number[] = Object.freeze([30, 60, 120, 150, 210, 240, 300, 330]);

/** Median and largest error of one set of transforms, raw and standardised. */
export interface ErrorStats {
  median: number;
  max: number;
  medianStandardized: number;
  maxStandardized: number;
  /** Number of (image, transform) pairs. */
  pairs: number;
}

/** The invariance errors of one extractor. */
export interface InvarianceRecord {
  d4: ErrorStats;
  turns30: Record<Interpolation, ErrorStats>;
  random: Record<Interpolation, ErrorStats>;
  images: number;
  randomAngles: number;
}

/** Options of {@link measureInvariance}. */
export interface InvarianceOptions {
  /** Random angles per image. */
  randomAngles: number;
  /** Seed of the random angles. */
  seed: number;
  /** Standardiser of the extractor's vectors (fitted on the training split); without it the standardised stats equal the raw ones. */
  standardizer?: Standardizer;
}

/** Every image of `images` under every transform of `ts(i)`: image i's copies are consecutive. */
function transformed(images: ImageBatch, per: number, ts: (i: number, j: number) => ImageTransform): ImageBatch {
  const px = images.height * images.width;
  const data = new Float32Array(images.count * per * px);
  for (let i = 0; i < images.count; i++) {
    const src = images.data.subarray(i * px, (i + 1) * px);
    for (let j = 0; j < per; j++) {
      const at = i * per + j;
      transformFloatImage(src, images.height, images.width, ts(i, j), data.subarray(at * px, (at + 1) * px));
    }
  }
  return { data, count: images.count * per, height: images.height, width: images.width };
}

function norm(a: Float32Array, offset: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[offset + k]! ** 2;
  return Math.sqrt(s);
}

function dist(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += (a[ao + k]! - b[bo + k]!) ** 2;
  return Math.sqrt(s);
}

function median(v: number[]): number {
  if (v.length === 0) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Relative errors of f(g x) (rows of `moved`, `per` per image) against f(x) (rows of `base`). */
function relativeErrors(base: CodeMatrix, moved: CodeMatrix, per: number): number[] {
  const d = base.cols;
  const out: number[] = [];
  for (let i = 0; i < base.rows; i++) {
    const n = norm(base.data, i * d, d);
    for (let j = 0; j < per; j++) {
      const e = dist(moved.data, (i * per + j) * d, base.data, i * d, d);
      // A zero vector is invariant when its images are zero too; otherwise the error is infinite.
      out.push(n > 0 ? e / n : e === 0 ? 0 : Number.POSITIVE_INFINITY);
    }
  }
  return out;
}

function stats(base: CodeMatrix, moved: CodeMatrix, per: number, s: Standardizer | undefined): ErrorStats {
  const raw = relativeErrors(base, moved, per);
  const std = s ? relativeErrors(applyStandardizer(s, base), applyStandardizer(s, moved), per) : raw;
  return {
    median: median(raw),
    max: Math.max(...raw),
    medianStandardized: median(std),
    maxStandardized: Math.max(...std),
    pairs: raw.length,
  };
}

/** The invariance errors of `extractor` (fitted) on `images`. */
export async function measureInvariance(
  extractor: Extractor,
  images: ImageBatch,
  o: InvarianceOptions,
  ctx: ExtractorContext,
): Promise<InvarianceRecord> {
  if (!Number.isInteger(o.randomAngles) || o.randomAngles < 1)
    throw new RangeError(`randomAngles must be a positive integer, got ${String(o.randomAngles)}`);
  const base = await extractor.encode(images, ctx);
  const encode = (b: ImageBatch): Promise<CodeMatrix> => extractor.encode(b, ctx);
  const d4 = stats(
    base,
    await encode(transformed(images, D4_TRANSFORMS.length, (_i, j) => D4_TRANSFORMS[j]!)),
    D4_TRANSFORMS.length,
    o.standardizer,
  );
  const rng = new Rng(o.seed);
  const angles = Float64Array.from({ length: images.count * o.randomAngles }, () => 360 * rng.nextFloat());
  const turns30 = {} as Record<Interpolation, ErrorStats>;
  const random = {} as Record<Interpolation, ErrorStats>;
  for (const interpolation of ['bilinear', 'nearest'] as const) {
    const t = transformed(images, TURNS_30.length, (_i, j) => ({ degrees: TURNS_30[j]!, interpolation }));
    turns30[interpolation] = stats(base, await encode(t), TURNS_30.length, o.standardizer);
    const r = transformed(images, o.randomAngles, (i, j) => ({
      degrees: angles[i * o.randomAngles + j]!,
      interpolation,
    }));
    random[interpolation] = stats(base, await encode(r), o.randomAngles, o.standardizer);
  }
  return { d4, turns30, random, images: images.count, randomAngles: o.randomAngles };
}
