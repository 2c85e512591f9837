/**
 * Image to 3-D point cloud conversion (Algorithm 1 of the SOAP-for-images paper), for grayscale
 * and multi-channel images alike.
 *
 * Value I of channel c at pixel (row i, column j) becomes the point (x = j, y = i, z) with
 * z = floor(I * zScale) (default zScale 0.1, i.e. floor(I / 10)) and the species of channel c
 * (default atomic number c + 1: H for gray; H, He, Li for R, G, B, the paper's future-work
 * idea of colour channels as separate densities). A value is kept iff I >= threshold: that rule
 * is written once, in {@link keepsValue}, and the conversion and the point count
 * ({@link countKeptValues}) both use it. Points come in row-major pixel order, and within a
 * pixel in channel order. Optional Gaussian positional noise is seeded and deterministic.
 */
import type { MnistData } from '../io/idx';
import { atomicNumber } from '../soap/species';
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

/** Atomic numbers of the default species of channels 0, 1, 2 (R, G, B): H, He, Li (the SOAP paper's
 * future-work idea: colour channels as separate density channels, docs/PAPER-FACTS.md §1). */
export const RGB_SPECIES: readonly number[] = Object.freeze([1, 2, 3]);

/**
 * An image with `channels` interleaved values per pixel: pixel (i, j), channel c is
 * `pixels[(i * cols + j) * channels + c]`; length rows * cols * channels.
 */
export interface MultiChannelImage extends GrayImage {
  /** Values per pixel, an integer in 1..255; default 1 (grayscale). */
  channels?: number;
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
   * Keep a value iff its intensity I >= threshold. A finite number in 0..256.
   * Default: the smallest intensity 0..255 whose z is > 0 (10 for the default
   * zScale 0.1 with 'floor'; 1 with 'none'); 256 (keep nothing) if none is.
   */
  threshold?: number;
  /** Optional positional noise; default none. */
  displacement?: Displacement;
  /**
   * Species of channel c (symbol or atomic number), one per channel. Default:
   * atomic number c + 1, i.e. H for gray; H, He, Li for RGB.
   */
  channelSpecies?: ReadonlyArray<string | number>;
}

/** The points of an image. */
export interface ImagePoints {
  /** x, y, z of each point, interleaved; length 3 * count. */
  positions: Float64Array;
  /** Number of points. */
  count: number;
  /** Pixel index (row * cols + col) each point came from; length count. */
  pixelIndex: Int32Array;
  /** Atomic number of each point (its channel's species); length count. */
  species: Uint8Array;
  /** Channel (0-based) each point came from; length count. */
  channel: Uint8Array;
  /** Atomic number of each channel, e.g. [1] for gray, [1, 2, 3] for RGB: pass as the Soap's `species`. */
  channelSpecies: number[];
}

/** The largest intensity threshold: 256 keeps no value (intensities are 0..255). */
export const MAX_THRESHOLD = 256;

/** The conversion rule resolved from the options: the height of each intensity and the threshold. */
export interface PointRule {
  /** `zTable[I]` = z of intensity I (0..255). */
  zTable: Float64Array;
  /** A value I becomes a point iff I >= threshold. */
  threshold: number;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
    return `${typeof v} ${JSON.stringify(v)}`;
  return `a value of type ${typeof v}`;
}

function validateZScale(zScale: unknown, fn: string): number {
  if (typeof zScale !== 'number') {
    throw new TypeError(
      `${fn}: zScale must be a number, got ${describe(zScale)}; allowed is a finite number > 0 (default 0.1)`,
    );
  }
  if (!Number.isFinite(zScale) || zScale <= 0) {
    throw new RangeError(`${fn}: zScale = ${zScale} is out of range; allowed is a finite number > 0 (default 0.1)`);
  }
  return zScale;
}

function validateZRounding(zRounding: unknown, fn: string): ZRounding {
  if (typeof zRounding !== 'string') {
    throw new TypeError(
      `${fn}: zRounding must be a string, got ${describe(zRounding)}; allowed are 'floor' (default) and 'none'`,
    );
  }
  if (zRounding !== 'floor' && zRounding !== 'none') {
    throw new RangeError(
      `${fn}: unknown zRounding ${JSON.stringify(zRounding)}; allowed are 'floor' (default) and 'none'`,
    );
  }
  return zRounding;
}

function zTableOf(zScale: number, zRounding: ZRounding): Float64Array {
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
 * Height z for each intensity 0..255 under the given scale and rounding.
 *
 * @param zScale - default 0.1.
 * @param zRounding - default `'floor'`.
 * @returns a 256-entry table, `table[I]` = z of intensity I.
 * @throws TypeError / RangeError on invalid options (see {@link ImageToPointsOptions}).
 */
export function intensityToZTable(zScale = 0.1, zRounding: ZRounding = 'floor'): Float64Array {
  return zTableOf(validateZScale(zScale, 'imageToPoints'), validateZRounding(zRounding, 'imageToPoints'));
}

function firstPositive(table: Float64Array): number {
  for (let I = 0; I < 256; I++) if ((table[I] as number) > 0) return I;
  return MAX_THRESHOLD;
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
  return firstPositive(intensityToZTable(zScale, zRounding));
}

/**
 * Resolves and checks zScale, zRounding and threshold (the default threshold applied).
 *
 * @param opts - see {@link ImageToPointsOptions}; other fields are ignored.
 * @param fn - the function named in error messages.
 * @throws TypeError / RangeError on an invalid option.
 */
export function pointRule(opts: ImageToPointsOptions = {}, fn = 'imageToPoints'): PointRule {
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`${fn}: opts must be an object, got ${describe(opts)}`);
  }
  const zTable = zTableOf(validateZScale(opts.zScale ?? 0.1, fn), validateZRounding(opts.zRounding ?? 'floor', fn));
  if (opts.threshold === undefined) return { zTable, threshold: firstPositive(zTable) };
  if (typeof opts.threshold !== 'number') {
    throw new TypeError(
      `${fn}: threshold must be a number, got ${describe(opts.threshold)}; allowed is a finite number in 0..${MAX_THRESHOLD}`,
    );
  }
  if (!Number.isFinite(opts.threshold) || opts.threshold < 0 || opts.threshold > MAX_THRESHOLD) {
    throw new RangeError(
      `${fn}: threshold = ${opts.threshold} is out of range; allowed is a finite number in 0..${MAX_THRESHOLD}`,
    );
  }
  return { zTable, threshold: opts.threshold };
}

/** Whether a pixel value becomes a point: the one place this rule is written. */
export function keepsValue(rule: PointRule, value: number): boolean {
  return value >= rule.threshold;
}

/**
 * Number of values of `pixels` (all channels) that become points under `rule`: the point count
 * of the image, without converting it (noise moves points, never adds or removes one).
 */
export function countKeptValues(pixels: ArrayLike<number>, rule: PointRule): number {
  let count = 0;
  for (let k = 0; k < pixels.length; k++) if (keepsValue(rule, pixels[k] as number)) count++;
  return count;
}

/** The noise generator and width of `displacement`, checked; undefined without noise. */
function noiseOf(displacement: unknown, fn: string): { rng: Rng; sigma: number } | undefined {
  if (displacement === undefined) return undefined;
  if (typeof displacement !== 'object' || displacement === null) {
    throw new TypeError(`${fn}: displacement must be an object { sigma, seed }, got ${describe(displacement)}`);
  }
  const { sigma, seed } = displacement as { sigma?: unknown; seed?: unknown };
  if (typeof sigma !== 'number') {
    throw new TypeError(
      `${fn}: displacement.sigma must be a number, got ${describe(sigma)}; allowed is a finite number >= 0`,
    );
  }
  if (!Number.isFinite(sigma) || sigma < 0) {
    throw new RangeError(`${fn}: displacement.sigma = ${sigma} is out of range; allowed is a finite number >= 0`);
  }
  if (typeof seed !== 'number') {
    throw new TypeError(`${fn}: displacement.seed must be a number, got ${describe(seed)}; allowed is a safe integer`);
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`${fn}: displacement.seed = ${seed} is out of range; allowed is a safe integer`);
  }
  return { rng: new Rng(seed), sigma };
}

interface CheckedImage {
  pixels: ArrayLike<number>;
  rows: number;
  cols: number;
  channels: number;
}

function validateImage(image: unknown, fn: string): CheckedImage {
  if (typeof image !== 'object' || image === null || Array.isArray(image)) {
    throw new TypeError(`${fn}: image must be an object { pixels, rows, cols, channels? }, got ${describe(image)}`);
  }
  const {
    pixels,
    rows,
    cols,
    channels: ch,
  } = image as { pixels?: unknown; rows?: unknown; cols?: unknown; channels?: unknown };
  for (const [name, v] of [
    ['rows', rows],
    ['cols', cols],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new TypeError(`${fn}: image.${name} must be an integer, got ${describe(v)}; allowed are integers >= 1`);
    }
    if (v < 1) {
      throw new RangeError(`${fn}: image.${name} = ${v} is out of range; allowed are integers >= 1`);
    }
  }
  const channels = ch ?? 1;
  if (typeof channels !== 'number' || !Number.isInteger(channels) || channels < 1 || channels > 255) {
    throw new RangeError(`${fn}: image.channels must be an integer in 1..255, got ${describe(channels)}`);
  }
  const isArray = Array.isArray(pixels);
  if (!(pixels instanceof Uint8Array) && !(pixels instanceof Uint8ClampedArray) && !isArray) {
    throw new TypeError(
      `${fn}: image.pixels must be a Uint8Array, Uint8ClampedArray or number[], got ${
        ArrayBuffer.isView(pixels) ? (pixels as object).constructor.name : describe(pixels)
      }`,
    );
  }
  const px = pixels as ArrayLike<unknown>;
  const r = rows as number;
  const c = cols as number;
  const n = r * c * channels;
  if (px.length !== n) {
    const product = channels === 1 ? `rows * cols = ${r} * ${c}` : `rows * cols * channels = ${r} * ${c} * ${channels}`;
    throw new TypeError(`${fn}: image.pixels has length ${px.length}, expected ${product} = ${n}`);
  }
  if (isArray) {
    for (let k = 0; k < n; k++) {
      const v = px[k];
      const p = Math.floor(k / channels);
      const where = `image.pixels[${k}] (row ${Math.floor(p / c)}, col ${p % c}${channels === 1 ? '' : `, channel ${k % channels}`})`;
      if (typeof v !== 'number') {
        throw new TypeError(`${fn}: ${where} is ${describe(v)}; allowed are integers 0..255`);
      }
      if (!Number.isInteger(v) || v < 0 || v > 255) {
        throw new RangeError(`${fn}: ${where} = ${v} is out of range; allowed are integers 0..255`);
      }
    }
  }
  return { pixels: px as ArrayLike<number>, rows: r, cols: c, channels };
}

/** Atomic number of each channel: `channelSpecies` resolved, or c + 1. */
function speciesOfChannels(channelSpecies: unknown, channels: number, fn: string): number[] {
  if (channelSpecies === undefined) {
    if (channels > 118) {
      throw new RangeError(`${fn}: ${channels} channels need opts.channelSpecies (the default c + 1 goes past 118)`);
    }
    return Array.from({ length: channels }, (_, c) => c + 1);
  }
  if (!Array.isArray(channelSpecies) || channelSpecies.length !== channels) {
    throw new RangeError(
      `${fn}: channelSpecies must be an array of ${channels} species (one per channel), got ${
        Array.isArray(channelSpecies) ? `${channelSpecies.length} entries` : describe(channelSpecies)
      }`,
    );
  }
  return channelSpecies.map((s: unknown, c) => {
    try {
      return atomicNumber(s as string | number);
    } catch (err) {
      throw new RangeError(`${fn}: channelSpecies[${c}]: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

/**
 * Converts a grayscale or multi-channel image to a 3-D point cloud (Algorithm 1).
 *
 * For row i, column j and channel c with value I, the value is kept iff I >= threshold, and
 * gives the point (x = j, y = i, z) of species `channelSpecies[c]` with z = floor(I * zScale)
 * (`zRounding: 'floor'`, default) or z = I * zScale (`'none'`). A pixel can therefore give up to
 * `channels` points at the same (x, y). Points are in row-major pixel order, and within a pixel
 * in channel order. With `displacement`, N(0, sigma^2) noise is added to x, y and z of every
 * point, drawn in that order point by point from `new Rng(seed).normal()`.
 *
 * With the defaults (zScale 0.1, 'floor', threshold 10) and one channel this is exactly the
 * conversion used for the reference files: z = floor(I / 10), keep if z > 0.
 *
 * @param image - the image; see {@link GrayImage} and {@link MultiChannelImage} (e.g. an
 *   `ImageRecord` from a Dataset).
 * @param opts - see {@link ImageToPointsOptions}; all optional.
 * @throws TypeError if the image or an option has the wrong type or shape
 *   (e.g. pixels length != rows * cols * channels, non-number pixels).
 * @throws RangeError if a value is out of range (pixel outside integers
 *   0..255, rows/cols < 1, channels outside 1..255, zScale <= 0, threshold outside 0..256,
 *   sigma < 0, seed not a safe integer, channelSpecies of the wrong length or unknown).
 */
export function imageToPoints(image: GrayImage | MultiChannelImage, opts: ImageToPointsOptions = {}): ImagePoints {
  const fn = 'imageToPoints';
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`${fn}: opts must be an object, got ${describe(opts)}`);
  }
  const { pixels, rows, cols, channels } = validateImage(image, fn);
  const rule = pointRule(opts, fn);
  const noise = noiseOf(opts.displacement, fn);
  const channelSpecies = speciesOfChannels(opts.channelSpecies, channels, fn);

  const count = countKeptValues(pixels, rule);
  const positions = new Float64Array(3 * count);
  const pixelIndex = new Int32Array(count);
  const species = new Uint8Array(count);
  const channel = new Uint8Array(count);
  const { zTable } = rule;
  // One pass over the values in memory order: pixel by pixel (row-major), channel by channel.
  let p = 0;
  let c = 0;
  let col = 0;
  let row = 0;
  const n = rows * cols * channels;
  for (let k = 0; k < n; k++) {
    const I = pixels[k] as number;
    if (keepsValue(rule, I)) {
      positions[3 * p] = col;
      positions[3 * p + 1] = row;
      positions[3 * p + 2] = zTable[I] as number;
      pixelIndex[p] = row * cols + col;
      species[p] = channelSpecies[c] as number;
      channel[p] = c;
      p++;
    }
    if (++c === channels) {
      c = 0;
      if (++col === cols) {
        col = 0;
        row++;
      }
    }
  }
  if (noise !== undefined) {
    for (let q = 0; q < 3 * count; q++) positions[q] = (positions[q] as number) + noise.rng.normal(0, noise.sigma);
  }
  return { positions, count, pixelIndex, species, channel, channelSpecies };
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
    throw new TypeError(
      `mnistImage: index must be an integer, got ${describe(index)}; allowed are 0..${mnist.count - 1}`,
    );
  }
  if (index < 0 || index >= mnist.count) {
    throw new RangeError(`mnistImage: index ${index} is out of range; allowed are 0..${mnist.count - 1}`);
  }
  const size = mnist.rows * mnist.cols;
  return { pixels: mnist.images.subarray(index * size, (index + 1) * size), rows: mnist.rows, cols: mnist.cols };
}
