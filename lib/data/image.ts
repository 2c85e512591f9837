/**
 * Image to 3-D point cloud conversion (Algorithm 1 of the SOAP-for-images paper).
 *
 * Pixel (row i, column j) with intensity I becomes the point (x = j, y = i, z)
 * with z = floor(I * zScale) (default zScale 0.1, i.e. floor(I / 10)); pixels
 * below an intensity threshold are dropped. Points are emitted in row-major
 * pixel order. Optional Gaussian positional noise can be added, seeded and
 * deterministic.
 */
import type { MnistData } from '../io/idx';
import { Rng } from '../util/random';

/** A grayscale image, row-major: pixel (i, j) is `pixels[i * cols + j]`. */
export interface GrayImage {
  /** Intensities, integers 0..255, length rows * cols. */
  pixels: Uint8Array | Uint8ClampedArray | readonly number[];
  /** Number of rows (image height), a positive integer. */
  rows: number;
  /** Number of columns (image width), a positive integer. */
  cols: number;
}

/** How intensity is turned into height. */
export type ZRounding = 'floor' | 'none';

/** Gaussian positional noise added to every point. */
export interface Displacement {
  /** Standard deviation of the N(0, sigma^2) noise added to x, y and z; finite, >= 0. */
  sigma: number;
  /** Seed of the noise generator (a safe integer); the same seed gives the same points. */
  seed: number;
}

/** Options of {@link imageToPoints}. */
export interface ImageToPointsOptions {
  /**
   * Multiplier from intensity to height. Default 0.1 (the paper's "divided by
   * 10"). When 1/zScale is an integer (0.1 -> 10), z is computed as
   * I / (1/zScale), so it equals exact division by that integer.
   */
  zScale?: number;
  /**
   * `'floor'` (default): z = floor(I * zScale), as in Algorithm 1.
   * `'none'`: z = I * zScale, the prose variant (max 25.5).
   */
  zRounding?: ZRounding;
  /**
   * Keep a pixel iff its intensity I >= threshold. A finite number in 0..256.
   * Default: the smallest intensity 0..255 whose z is > 0 (10 for the default
   * zScale 0.1 with 'floor'; 1 with 'none'); 256 (keep nothing) if none is.
   */
  threshold?: number;
  /** Optional positional noise; default none. */
  displacement?: Displacement;
}

/** The points of an image. */
export interface ImagePoints {
  /** x, y, z of each point, interleaved; length 3 * count. */
  positions: Float64Array;
  /** Number of points. */
  count: number;
  /** Pixel index (row * cols + col) each point came from; length count. */
  pixelIndex: Int32Array;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return `${typeof v} ${JSON.stringify(v)}`;
  return `a value of type ${typeof v}`;
}

function validateZScale(zScale: unknown): number {
  if (typeof zScale !== 'number') {
    throw new TypeError(`imageToPoints: zScale must be a number, got ${describe(zScale)}; allowed is a finite number > 0 (default 0.1)`);
  }
  if (!Number.isFinite(zScale) || zScale <= 0) {
    throw new RangeError(`imageToPoints: zScale = ${zScale} is out of range; allowed is a finite number > 0 (default 0.1)`);
  }
  return zScale;
}

function validateZRounding(zRounding: unknown): ZRounding {
  if (typeof zRounding !== 'string') {
    throw new TypeError(`imageToPoints: zRounding must be a string, got ${describe(zRounding)}; allowed are 'floor' (default) and 'none'`);
  }
  if (zRounding !== 'floor' && zRounding !== 'none') {
    throw new RangeError(`imageToPoints: unknown zRounding ${JSON.stringify(zRounding)}; allowed are 'floor' (default) and 'none'`);
  }
  return zRounding;
}

/**
 * Height z for each intensity 0..255 under the given scale and rounding.
 *
 * @param zScale - default 0.1.
 * @param zRounding - default `'floor'`.
 * @returns a 256-entry table, `table[I]` = z of intensity I.
 * @throws TypeError / RangeError on invalid options (see {@link ImageToPointsOptions}).
 */
export function intensityToZTable(zScale = 0.1, zRounding: ZRounding = 'floor'): Float64Array {
  validateZScale(zScale);
  validateZRounding(zRounding);
  const table = new Float64Array(256);
  const divisor = 1 / zScale;
  const exactDivisor = Number.isInteger(divisor);
  for (let I = 0; I < 256; I++) {
    const raw = exactDivisor ? I / divisor : I * zScale;
    table[I] = zRounding === 'floor' ? Math.floor(raw) : raw;
  }
  return table;
}

/**
 * The default intensity threshold: the smallest intensity 0..255 whose height
 * z is > 0, or 256 if none is.
 *
 * @param zScale - default 0.1.
 * @param zRounding - default `'floor'`.
 * @returns 10 for the defaults (z = floor(I / 10) > 0 iff I >= 10).
 */
export function defaultThreshold(zScale = 0.1, zRounding: ZRounding = 'floor'): number {
  const table = intensityToZTable(zScale, zRounding);
  for (let I = 0; I < 256; I++) if ((table[I] as number) > 0) return I;
  return 256;
}

function validateImage(image: unknown): GrayImage {
  if (typeof image !== 'object' || image === null || Array.isArray(image)) {
    throw new TypeError(`imageToPoints: image must be an object { pixels, rows, cols }, got ${describe(image)}`);
  }
  const { pixels, rows, cols } = image as { pixels?: unknown; rows?: unknown; cols?: unknown };
  for (const [name, v] of [['rows', rows], ['cols', cols]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new TypeError(`imageToPoints: image.${name} must be an integer, got ${describe(v)}; allowed are integers >= 1`);
    }
    if (v < 1) {
      throw new RangeError(`imageToPoints: image.${name} = ${v} is out of range; allowed are integers >= 1`);
    }
  }
  const isArray = Array.isArray(pixels);
  if (!(pixels instanceof Uint8Array) && !(pixels instanceof Uint8ClampedArray) && !isArray) {
    throw new TypeError(
      `imageToPoints: image.pixels must be a Uint8Array, Uint8ClampedArray or number[], got ${
        ArrayBuffer.isView(pixels) ? (pixels as object).constructor.name : describe(pixels)
      }`,
    );
  }
  const px = pixels as Uint8Array | Uint8ClampedArray | readonly unknown[];
  const r = rows as number;
  const c = cols as number;
  if (px.length !== r * c) {
    throw new TypeError(
      `imageToPoints: image.pixels has length ${px.length}, expected rows * cols = ${r} * ${c} = ${r * c}`,
    );
  }
  if (isArray) {
    const arr = px as readonly unknown[];
    for (let k = 0; k < arr.length; k++) {
      const v = arr[k];
      if (typeof v !== 'number') {
        throw new TypeError(
          `imageToPoints: image.pixels[${k}] (row ${Math.floor(k / c)}, col ${k % c}) is ${describe(v)}; allowed are integers 0..255`,
        );
      }
      if (!Number.isInteger(v) || v < 0 || v > 255) {
        throw new RangeError(
          `imageToPoints: image.pixels[${k}] (row ${Math.floor(k / c)}, col ${k % c}) = ${v} is out of range; allowed are integers 0..255`,
        );
      }
    }
  }
  return { pixels: px as GrayImage['pixels'], rows: r, cols: c };
}

/**
 * Converts a grayscale image to a 3-D point cloud (Algorithm 1).
 *
 * For row i, column j and intensity I, the pixel is kept iff I >= threshold,
 * and gives the point (x = j, y = i, z) with z = floor(I * zScale)
 * (`zRounding: 'floor'`, default) or z = I * zScale (`'none'`). Points are in
 * row-major pixel order. With `displacement`, N(0, sigma^2) noise is added to
 * x, y and z of every point, drawn in that order point by point from
 * `new Rng(seed).normal()`.
 *
 * With the defaults (zScale 0.1, 'floor', threshold 10) this is exactly the
 * conversion used for the reference files: z = floor(I / 10), keep if z > 0.
 *
 * @param image - the image; see {@link GrayImage}.
 * @param opts - see {@link ImageToPointsOptions}; all optional.
 * @throws TypeError if the image or an option has the wrong type or shape
 *   (e.g. pixels length != rows * cols, non-number pixels).
 * @throws RangeError if a value is out of range (pixel outside integers
 *   0..255, rows/cols < 1, zScale <= 0, threshold outside 0..256, sigma < 0,
 *   seed not a safe integer).
 */
export function imageToPoints(image: GrayImage, opts: ImageToPointsOptions = {}): ImagePoints {
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`imageToPoints: opts must be an object, got ${describe(opts)}`);
  }
  const { pixels, rows, cols } = validateImage(image);
  const zScale = validateZScale(opts.zScale ?? 0.1);
  const zRounding = validateZRounding(opts.zRounding ?? 'floor');
  const table = intensityToZTable(zScale, zRounding);

  let threshold: number;
  if (opts.threshold === undefined) {
    threshold = defaultThreshold(zScale, zRounding);
  } else {
    if (typeof opts.threshold !== 'number') {
      throw new TypeError(`imageToPoints: threshold must be a number, got ${describe(opts.threshold)}; allowed is a finite number in 0..256`);
    }
    if (!Number.isFinite(opts.threshold) || opts.threshold < 0 || opts.threshold > 256) {
      throw new RangeError(`imageToPoints: threshold = ${opts.threshold} is out of range; allowed is a finite number in 0..256`);
    }
    threshold = opts.threshold;
  }

  let rng: Rng | undefined;
  let sigma = 0;
  if (opts.displacement !== undefined) {
    const d: unknown = opts.displacement;
    if (typeof d !== 'object' || d === null) {
      throw new TypeError(`imageToPoints: displacement must be an object { sigma, seed }, got ${describe(d)}`);
    }
    const { sigma: s, seed } = d as { sigma?: unknown; seed?: unknown };
    if (typeof s !== 'number') {
      throw new TypeError(`imageToPoints: displacement.sigma must be a number, got ${describe(s)}; allowed is a finite number >= 0`);
    }
    if (!Number.isFinite(s) || s < 0) {
      throw new RangeError(`imageToPoints: displacement.sigma = ${s} is out of range; allowed is a finite number >= 0`);
    }
    if (typeof seed !== 'number') {
      throw new TypeError(`imageToPoints: displacement.seed must be a number, got ${describe(seed)}; allowed is a safe integer`);
    }
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`imageToPoints: displacement.seed = ${seed} is out of range; allowed is a safe integer`);
    }
    sigma = s;
    rng = new Rng(seed);
  }

  const n = rows * cols;
  let count = 0;
  for (let k = 0; k < n; k++) if ((pixels[k] as number) >= threshold) count++;

  const positions = new Float64Array(3 * count);
  const pixelIndex = new Int32Array(count);
  let p = 0;
  for (let i = 0; i < rows; i++) {
    const rowStart = i * cols;
    for (let j = 0; j < cols; j++) {
      const I = pixels[rowStart + j] as number;
      if (I < threshold) continue;
      positions[3 * p] = j;
      positions[3 * p + 1] = i;
      positions[3 * p + 2] = table[I] as number;
      pixelIndex[p] = rowStart + j;
      p++;
    }
  }
  if (rng !== undefined) {
    for (let q = 0; q < 3 * count; q++) positions[q] = (positions[q] as number) + rng.normal(0, sigma);
  }
  return { positions, count, pixelIndex };
}

/**
 * One image of an MNIST split as a {@link GrayImage}; `pixels` is a view into
 * `mnist.images` (no copy).
 *
 * @param mnist - a split from `loadMnist`.
 * @param index - image index, an integer in 0..count-1.
 * @throws TypeError if `index` is not an integer; RangeError if it is out of range.
 */
export function mnistImage(mnist: MnistData, index: number): GrayImage {
  if (typeof index !== 'number' || !Number.isInteger(index)) {
    throw new TypeError(`mnistImage: index must be an integer, got ${describe(index)}; allowed are 0..${mnist.count - 1}`);
  }
  if (index < 0 || index >= mnist.count) {
    throw new RangeError(`mnistImage: index ${index} is out of range; allowed are 0..${mnist.count - 1}`);
  }
  const size = mnist.rows * mnist.cols;
  return { pixels: mnist.images.subarray(index * size, (index + 1) * size), rows: mnist.rows, cols: mnist.cols };
}
