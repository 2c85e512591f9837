/**
 * Augmented image sets for the learned invariant extractors: each source image turned by a random
 * angle, optionally mirrored and shifted, stored as floats in [0, 1] with every factor kept per
 * image (label, angle, mirror, shift, source index).
 *
 * One generator serves every model and the benchmark (docs/CONVENTIONS.md, "Images"):
 * - the rVAE notebook's rotated MNIST: integer angles uniform in [-60°, 60°], bilinear
 *   ({@link ROTATED_60});
 * - the equivariant-autoencoder paper's augmented MNIST: angles uniform in [0°, 360°), mirror
 *   with probability 0.5 ({@link ROTATED_MIRRORED});
 * - rotated and shifted images for translation-aware models ({@link ROTATED_SHIFTED}).
 * Image i's factors depend only on (seed, i), so any subset or shard of the set is reproducible.
 */
import type { Dataset } from './dataset';
import { transformFloatImage, type Interpolation } from './transform';
import { Rng } from '../util/random';

/** A batch of same-sized gray images, values in [0, 1], row-major, image after image. */
export interface ImageBatch {
  data: Float32Array;
  count: number;
  height: number;
  width: number;
}

/** How the images are augmented. Angles are in degrees, counter-clockwise as displayed. */
export interface AugmentOptions {
  /** Angle range [min, max) in degrees ([min, max] when `integerAngles`). Default [0, 360). */
  angles?: readonly [number, number];
  /** Draw whole degrees only (the rVAE notebook's `randint`). Default false. */
  integerAngles?: boolean;
  /** Probability that an image is mirrored left-right (before the rotation). Default 0. */
  mirror?: number;
  /** Largest shift in pixels along x and along y, each uniform in [-shift, shift]. Default 0. */
  shift?: number;
  /** Draw whole-pixel shifts only. Default true. */
  integerShifts?: boolean;
  interpolation?: Interpolation;
  /** Seed of the angles, mirrors and shifts. Required: every random step takes a seed. */
  seed: number;
  /** First source image used. Default 0. */
  start?: number;
  /** Number of images (source images start, start + 1, ...). Default: the rest of the source. */
  count?: number;
}

/** The augmented images with the factors that made them. */
export interface AugmentedImages extends ImageBatch {
  /** Class label of each image (the source's; -1 where it has none). */
  labels: Int32Array;
  /** Angle of each image in radians, counter-clockwise as displayed. */
  angles: Float32Array;
  /** 1 where the image was mirrored (before rotating). */
  mirrored: Uint8Array;
  /** Shift of each image [dx, dy] in pixels (x right, y down), count x 2. */
  shifts: Float32Array;
  /** Index of each image in the source data set. */
  source: Int32Array;
}

/** The rVAE notebook's rotated MNIST: integer angles uniform in [-60°, 60°], bilinear. */
export const ROTATED_60: Readonly<Omit<AugmentOptions, 'seed'>> = Object.freeze({
  angles: [-60, 60] as const,
  integerAngles: true,
  interpolation: 'bilinear' as const,
});

/** The equivariant-autoencoder paper's augmentation: angles uniform in [0°, 360°), mirror with p = 0.5. */
export const ROTATED_MIRRORED: Readonly<Omit<AugmentOptions, 'seed'>> = Object.freeze({
  angles: [0, 360] as const,
  mirror: 0.5,
  interpolation: 'bilinear' as const,
});

/** Full rotations and whole-pixel shifts of up to ±3 px (the later benchmark's translation set). */
export const ROTATED_SHIFTED: Readonly<Omit<AugmentOptions, 'seed'>> = Object.freeze({
  angles: [0, 360] as const,
  shift: 3,
  interpolation: 'bilinear' as const,
});

/** The factors of image `index` under `o` (depend only on the seed and the index). */
export function augmentFactors(
  o: AugmentOptions,
  index: number,
): { degrees: number; mirror: boolean; shift: [number, number] } {
  // One small generator per image, seeded from (seed, index): shards and subsets agree with the whole.
  const rng = new Rng((Math.imul(o.seed | 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const [lo, hi] = o.angles ?? [0, 360];
  const degrees = o.integerAngles ? lo + rng.nextInt(hi - lo + 1) : lo + (hi - lo) * rng.nextFloat();
  const mirror = rng.nextFloat() < (o.mirror ?? 0);
  const s = o.shift ?? 0;
  const draw = (): number =>
    s === 0 ? 0 : (o.integerShifts ?? true) ? rng.nextInt(2 * s + 1) - s : -s + 2 * s * rng.nextFloat();
  const dx = draw();
  const dy = draw();
  return { degrees, mirror, shift: [dx, dy] };
}

function check(o: AugmentOptions, length: number): { start: number; count: number } {
  if (!Number.isInteger(o.seed)) throw new RangeError(`augment: seed must be an integer, got ${String(o.seed)}`);
  const [lo, hi] = o.angles ?? [0, 360];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) {
    throw new RangeError(`augment: angles must be a finite range [min, max] with min <= max, got [${lo}, ${hi}]`);
  }
  if (o.integerAngles && (!Number.isInteger(lo) || !Number.isInteger(hi))) {
    throw new RangeError(`augment: integerAngles needs whole-degree bounds, got [${lo}, ${hi}]`);
  }
  const p = o.mirror ?? 0;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`augment: mirror is a probability in [0, 1], got ${p}`);
  const s = o.shift ?? 0;
  if (!(s >= 0 && Number.isFinite(s)) || ((o.integerShifts ?? true) && !Number.isInteger(s))) {
    throw new RangeError(
      `augment: shift must be a non-negative ${(o.integerShifts ?? true) ? 'integer' : 'number'} of pixels, got ${s}`,
    );
  }
  const start = o.start ?? 0;
  if (!Number.isInteger(start) || start < 0 || start > length)
    throw new RangeError(`augment: start must be an integer in [0, ${length}], got ${start}`);
  const count = o.count ?? length - start;
  if (!Number.isInteger(count) || count < 0 || start + count > length) {
    throw new RangeError(
      `augment: count must be an integer in [0, ${length - start}] (source has ${length} images from start ${start}), got ${count}`,
    );
  }
  return { start, count };
}

/**
 * Images `start .. start + count - 1` of `ds`, each transformed by its own random factors
 * (see {@link augmentFactors}), as floats in [0, 1]. The source must be gray with one image size.
 */
export function augmentImages(ds: Dataset, o: AugmentOptions): AugmentedImages {
  const { start, count } = check(o, ds.length);
  const first = count > 0 ? ds.get(start) : undefined;
  const height = first?.rows ?? 0;
  const width = first?.cols ?? 0;
  const n = height * width;
  const data = new Float32Array(count * n);
  const labels = new Int32Array(count);
  const angles = new Float32Array(count);
  const mirrored = new Uint8Array(count);
  const shifts = new Float32Array(count * 2);
  const source = new Int32Array(count);
  const scaled = new Float32Array(n);
  for (let i = 0; i < count; i++) {
    const rec = ds.get(start + i);
    if (rec.channels !== 1)
      throw new RangeError(
        `augment: image ${start + i} of ${ds.name} has ${rec.channels} channels; only gray images are supported`,
      );
    if (rec.rows !== height || rec.cols !== width) {
      throw new RangeError(
        `augment: image ${start + i} of ${ds.name} is ${rec.rows}x${rec.cols}, the first was ${height}x${width}; all images must have one size`,
      );
    }
    for (let k = 0; k < n; k++) scaled[k] = rec.pixels[k]! / 255;
    const f = augmentFactors(o, start + i);
    transformFloatImage(
      scaled,
      height,
      width,
      { degrees: f.degrees, mirror: f.mirror, shift: f.shift, interpolation: o.interpolation },
      data.subarray(i * n, (i + 1) * n),
    );
    labels[i] = rec.label;
    angles[i] = (f.degrees * Math.PI) / 180;
    mirrored[i] = f.mirror ? 1 : 0;
    shifts[2 * i] = f.shift[0];
    shifts[2 * i + 1] = f.shift[1];
    source[i] = start + i;
  }
  return { data, count, height, width, labels, angles, mirrored, shifts, source };
}

/** Options of {@link rotationSeries}. */
export interface RotationSeriesOptions {
  /** Angles in degrees (counter-clockwise as displayed) every source image is turned through. */
  degrees: readonly number[];
  /** First source image. Default 0. */
  start?: number;
  /** Number of source images. Default: the rest of the source. */
  count?: number;
  interpolation?: Interpolation;
}

/**
 * Each of the source images `start .. start + count - 1` turned through every angle of `degrees`:
 * image i * degrees.length + j is source image start + i at angle j (groups of consecutive images
 * per source, as the rVAE's invariance ratio reads them). Floats in [0, 1]; no randomness.
 */
export function rotationSeries(ds: Dataset, o: RotationSeriesOptions): AugmentedImages {
  if (!Array.isArray(o.degrees) || o.degrees.length === 0 || !o.degrees.every((d) => Number.isFinite(d))) {
    throw new RangeError('rotationSeries: degrees must be a non-empty array of finite angles');
  }
  const { start, count } = check({ seed: 0, start: o.start, count: o.count }, ds.length);
  const k = o.degrees.length;
  const first = count > 0 ? ds.get(start) : undefined;
  const height = first?.rows ?? 0;
  const width = first?.cols ?? 0;
  const n = height * width;
  const total = count * k;
  const data = new Float32Array(total * n);
  const labels = new Int32Array(total);
  const angles = new Float32Array(total);
  const source = new Int32Array(total);
  const scaled = new Float32Array(n);
  for (let i = 0; i < count; i++) {
    const rec = ds.get(start + i);
    if (rec.channels !== 1 || rec.rows !== height || rec.cols !== width) {
      throw new RangeError(
        `rotationSeries: image ${start + i} of ${ds.name} is ${rec.rows}x${rec.cols}x${rec.channels}; all must be gray ${height}x${width}`,
      );
    }
    for (let p = 0; p < n; p++) scaled[p] = rec.pixels[p]! / 255;
    for (let j = 0; j < k; j++) {
      const at = i * k + j;
      transformFloatImage(
        scaled,
        height,
        width,
        { degrees: o.degrees[j], interpolation: o.interpolation ?? 'bilinear' },
        data.subarray(at * n, (at + 1) * n),
      );
      labels[at] = rec.label;
      angles[at] = (o.degrees[j]! * Math.PI) / 180;
      source[at] = start + i;
    }
  }
  return {
    data,
    count: total,
    height,
    width,
    labels,
    angles,
    mirrored: new Uint8Array(total),
    shifts: new Float32Array(total * 2),
    source,
  };
}
