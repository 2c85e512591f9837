/**
 * Local patches of (optionally rotated) images for Experiment 4 (docs/PAPER-FACTS.md §7): each image is
 * rotated by a seeded random angle (bilinear, size kept), a centre pixel is drawn among its points
 * (pixels whose Algorithm-1 height z is > 0), and the size x size window around it is cut out,
 * zero outside the image. The label is the image's. Then the two views of a patch: its raw
 * pixels for the CNN, and SOAP at the centre pixel's point from the patch's points only.
 */
import type { Dataset } from '../data/dataset';
import { defaultThreshold, imageToPoints, type ImageToPointsOptions } from '../data/image';
import { Rng } from '../util/random';
import { deriveSeed } from '../features/sampling';
import type { Soap } from '../soap/soap';
import { rotateImage, type GrayPixels, type Interpolation as RotationInterpolation } from '../data/transform';
import { IMAGE_OPTIONS } from './common';

/** A set of square patches with labels and where they came from. */
export interface PatchSet {
  /** Patch side in pixels (odd). */
  size: number;
  /** Number of patches. */
  count: number;
  /** Intensities, patch after patch, each row-major size x size. */
  pixels: Uint8Array;
  labels: Int32Array;
  /** Index of each patch's source image in its data set. */
  image: Int32Array;
  /** Rotation applied to the source image, degrees (0 when not rotated). */
  angle: Float64Array;
  /** Centre pixel (row * cols + col) in the rotated source image. */
  centre: Int32Array;
}

/** Options of {@link makePatchSet}. */
export interface PatchSetOptions {
  /** Patch side, an odd integer >= 3. */
  size: number;
  /** Rotate each image by a uniform random angle in [0, 360) before cutting. */
  rotate: boolean;
  /** Seed of the angles and centres; each image's draws depend only on (seed, image index). */
  seed: number;
  /** Resampling of the rotation (default 'bilinear'). */
  interpolation?: RotationInterpolation;
  /** Image-to-points options deciding which pixels are points (default Algorithm 1's). */
  image?: ImageToPointsOptions;
}

const DOMAIN_PATCH = 0x50415443; // "PATC"
const DOMAIN_ORDER = 0x4f524452; // "ORDR"

/** Checks a patch size (odd, 3..255) and returns it. */
export function checkPatchSize(size: number): number {
  if (!Number.isInteger(size) || size < 3 || size > 255 || size % 2 === 0) {
    throw new RangeError(
      `patch size must be an odd integer in 3..255 (a centre pixel needs an odd side), got ${String(size)}`,
    );
  }
  return size;
}

/** The size x size window of `img` centred on (row, col); pixels outside the image are 0. */
export function extractPatch(img: GrayPixels, row: number, col: number, size: number): Uint8Array {
  const half = (size - 1) >> 1;
  const out = new Uint8Array(size * size);
  for (let i = 0; i < size; i++) {
    const r = row - half + i;
    if (r < 0 || r >= img.rows) continue;
    for (let j = 0; j < size; j++) {
      const c = col - half + j;
      if (c >= 0 && c < img.cols) out[i * size + j] = img.pixels[r * img.cols + c]!;
    }
  }
  return out;
}

/**
 * The first `count` images of a seeded permutation of `ds` (the same seed gives the same order;
 * a larger count extends a smaller one), for nested training sets of growing size.
 */
export function imageOrder(length: number, seed: number): Int32Array {
  const order = new Int32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  return new Rng(deriveSeed(seed, DOMAIN_ORDER)).shuffle(order);
}

/**
 * One patch from each image in `indices` (in that order). An image with no point (after
 * rotation) gives no patch, so `count` can be smaller than `indices.length`.
 */
export function makePatchSet(ds: Dataset, indices: ArrayLike<number>, o: PatchSetOptions): PatchSet {
  const size = checkPatchSize(o.size);
  const imageOpts = o.image ?? IMAGE_OPTIONS;
  const threshold = imageOpts.threshold ?? defaultThreshold(imageOpts.zScale, imageOpts.zRounding);
  const n = indices.length;
  const set: PatchSet = {
    size,
    count: 0,
    pixels: new Uint8Array(n * size * size),
    labels: new Int32Array(n),
    image: new Int32Array(n),
    angle: new Float64Array(n),
    centre: new Int32Array(n),
  };
  const candidates: number[] = [];
  for (let k = 0; k < n; k++) {
    const idx = indices[k]!;
    const rec = ds.get(idx);
    if (rec.channels !== 1)
      throw new RangeError(`${ds.name}[${idx}]: patches need grayscale images, got ${rec.channels} channels`);
    const rng = new Rng(deriveSeed(o.seed, DOMAIN_PATCH, idx));
    const angle = o.rotate ? 360 * rng.nextFloat() : 0;
    const img: GrayPixels = o.rotate
      ? rotateImage(rec, angle, o.interpolation)
      : { pixels: rec.pixels, rows: rec.rows, cols: rec.cols };
    candidates.length = 0;
    for (let p = 0; p < img.pixels.length; p++) if (img.pixels[p]! >= threshold) candidates.push(p);
    if (candidates.length === 0) continue;
    const centre = candidates[rng.nextInt(candidates.length)]!;
    const c = set.count++;
    set.pixels.set(extractPatch(img, Math.floor(centre / img.cols), centre % img.cols, size), c * size * size);
    set.labels[c] = rec.label;
    set.image[c] = idx;
    set.angle[c] = angle;
    set.centre[c] = centre;
  }
  return set;
}

/** The first `count` patches of a set (views, no copy). */
export function slicePatchSet(s: PatchSet, count: number): PatchSet {
  const m = Math.min(count, s.count);
  const p = s.size * s.size;
  return {
    size: s.size,
    count: m,
    pixels: s.pixels.subarray(0, m * p),
    labels: s.labels.subarray(0, m),
    image: s.image.subarray(0, m),
    angle: s.angle.subarray(0, m),
    centre: s.centre.subarray(0, m),
  };
}

/** The CNN's input: each patch's intensities / 255, float32, count x size^2. */
export function patchPixelFeatures(s: PatchSet): Float32Array {
  const n = s.count * s.size * s.size;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = s.pixels[i]! / 255;
  return x;
}

/**
 * SOAP at each patch's centre pixel from the patch's own points (Algorithm 1 on the patch, the
 * centre being the point of the middle pixel): float32, count x soap.featureCount. With `extras`,
 * two more columns per row: the patch's mean intensity / 255 and its number of points (both
 * unchanged by rotation, up to the corners of the square).
 */
export async function patchSoapFeatures(
  soap: Soap,
  s: PatchSet,
  o: { extras?: boolean; threads?: number; image?: ImageToPointsOptions; batch?: number } = {},
): Promise<{ x: Float32Array; cols: number }> {
  const imageOpts = o.image ?? IMAGE_OPTIONS;
  const f = soap.featureCount;
  const cols = f + (o.extras ? 2 : 0);
  const x = new Float32Array(s.count * cols);
  const area = s.size * s.size;
  const middle = ((s.size - 1) >> 1) * (s.size + 1);
  const batch = o.batch ?? 2048;
  for (let b0 = 0; b0 < s.count; b0 += batch) {
    const b1 = Math.min(s.count, b0 + batch);
    const structures: { positions: Float64Array }[] = [];
    const centers: { indices: number[] }[] = [];
    const counts: number[] = [];
    for (let k = b0; k < b1; k++) {
      const patch = { pixels: s.pixels.subarray(k * area, (k + 1) * area), rows: s.size, cols: s.size };
      const pts = imageToPoints(patch, imageOpts);
      const ci = pts.pixelIndex.indexOf(middle);
      if (ci < 0) throw new Error(`patch ${k}: its centre pixel is not a point (intensity below the threshold)`);
      structures.push({ positions: pts.positions });
      centers.push({ indices: [ci] });
      counts.push(pts.count);
    }
    const mats = await soap.createMany(structures, { centers, dtype: 'float32', threads: o.threads ?? 0 });
    for (let k = b0; k < b1; k++) {
      const row = x.subarray(k * cols, (k + 1) * cols);
      row.set(mats[k - b0]!.data, 0);
      if (o.extras) {
        let sum = 0;
        for (let p = k * area; p < (k + 1) * area; p++) sum += s.pixels[p]!;
        row[f] = sum / area / 255;
        row[f + 1] = counts[k - b0]!;
      }
    }
  }
  return { x, cols };
}
