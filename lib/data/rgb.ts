/**
 * Multi-channel images to species-labelled points: each channel becomes its
 * own chemical species (the paper's future-work idea: R, G, B as H, He, Li),
 * so SOAP sees colour as separate density channels.
 */
import { atomicNumber } from '../soap/species';
import { Rng } from '../util/random';
import {
  defaultThreshold,
  imageToPoints,
  intensityToZTable,
  type ImagePoints,
  type ImageToPointsOptions,
} from './image';

/** Atomic numbers of the default species of channels 0, 1, 2 (R, G, B): H, He, Li. */
export const RGB_SPECIES: readonly number[] = Object.freeze([1, 2, 3]);

/** An image with `channels` interleaved values per pixel (pixel (i, j), channel c at `(i * cols + j) * channels + c`). */
export interface MultiChannelImage {
  /** Intensities, integers 0..255, length rows * cols * channels. */
  pixels: Uint8Array | Uint8ClampedArray | readonly number[];
  rows: number;
  cols: number;
  /** Values per pixel; default 1. */
  channels?: number;
}

/** Options of {@link imageToSpeciesPoints}: those of `imageToPoints` plus the species of each channel. */
export interface ImageToSpeciesPointsOptions extends ImageToPointsOptions {
  /**
   * Species of channel c (symbol or atomic number), one per channel. Default:
   * atomic number c + 1, i.e. H for gray; H, He, Li for RGB.
   */
  channelSpecies?: ReadonlyArray<string | number>;
}

/** Points of a multi-channel image, each labelled with the species of its channel. */
export interface SpeciesPoints extends ImagePoints {
  /** Atomic number of each point (its channel's species); length count. */
  species: Uint8Array;
  /** Channel (0-based) each point came from; length count. */
  channel: Uint8Array;
  /** Atomic number of each channel, e.g. [1, 2, 3] for RGB: pass as the Soap's `species`. */
  channelSpecies: number[];
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return `${typeof v} ${JSON.stringify(v)}`;
  return `a value of type ${typeof v}`;
}

const FN = 'imageToSpeciesPoints';

/**
 * Converts an image with one or more channels to species-labelled 3-D points.
 *
 * Each channel is treated as a grayscale image under Algorithm 1 (see
 * `imageToPoints`): value v of channel c at row i, column j is kept iff
 * v >= threshold and gives the point (x = j, y = i, z(v)) of species
 * `channelSpecies[c]`. A pixel can therefore give up to `channels` points at
 * the same (x, y). Points are in row-major pixel order, and within a pixel in
 * channel order. With `displacement`, N(0, sigma^2) noise is added to x, y
 * and z of every point in that order from `new Rng(seed).normal()`.
 *
 * With one channel the result equals `imageToPoints(image, opts)` (same
 * positions, pixelIndex and noise), with every species H (1) by default.
 *
 * @param image - pixels, rows, cols, channels (e.g. an `ImageRecord` from a Dataset).
 * @param opts - zScale, zRounding, threshold, displacement as in `imageToPoints`, plus `channelSpecies`.
 * @throws TypeError / RangeError on an invalid image or option (messages name the value).
 */
export function imageToSpeciesPoints(image: MultiChannelImage, opts: ImageToSpeciesPointsOptions = {}): SpeciesPoints {
  if (typeof image !== 'object' || image === null || Array.isArray(image)) {
    throw new TypeError(`${FN}: image must be an object { pixels, rows, cols, channels }, got ${describe(image)}`);
  }
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`${FN}: opts must be an object, got ${describe(opts)}`);
  }
  const channels = image.channels ?? 1;
  if (typeof channels !== 'number' || !Number.isInteger(channels) || channels < 1 || channels > 255) {
    throw new RangeError(`${FN}: image.channels must be an integer in 1..255, got ${describe(channels)}`);
  }
  let speciesOfChannel: number[];
  if (opts.channelSpecies === undefined) {
    if (channels > 118) {
      throw new RangeError(`${FN}: ${channels} channels need opts.channelSpecies (the default c + 1 goes past 118)`);
    }
    speciesOfChannel = Array.from({ length: channels }, (_, c) => c + 1);
  } else {
    const cs: unknown = opts.channelSpecies;
    if (!Array.isArray(cs) || cs.length !== channels) {
      throw new RangeError(
        `${FN}: channelSpecies must be an array of ${channels} species (one per channel), got ${
          Array.isArray(cs) ? `${cs.length} entries` : describe(cs)
        }`,
      );
    }
    speciesOfChannel = cs.map((s: unknown, c) => {
      try {
        return atomicNumber(s as string | number);
      } catch (err) {
        throw new RangeError(`${FN}: channelSpecies[${c}]: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  if (channels === 1) {
    const base = imageToPoints({ pixels: image.pixels, rows: image.rows, cols: image.cols }, opts);
    const z = speciesOfChannel[0] as number;
    return {
      ...base,
      species: new Uint8Array(base.count).fill(z),
      channel: new Uint8Array(base.count),
      channelSpecies: speciesOfChannel,
    };
  }

  // Validate options and the image shape by running imageToPoints on a 1 x 1
  // image (cheap), then the pixels here.
  const { rows, cols } = image;
  for (const [name, v] of [['rows', rows], ['cols', cols]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new RangeError(`${FN}: image.${name} must be an integer >= 1, got ${describe(v)}`);
    }
  }
  try {
    imageToPoints({ pixels: [0], rows: 1, cols: 1 }, opts);
  } catch (err) {
    const msg = err instanceof Error ? err.message.replace(/^imageToPoints:/, `${FN}:`) : String(err);
    throw err instanceof TypeError ? new TypeError(msg) : new RangeError(msg);
  }
  const pixels: unknown = image.pixels;
  if (!(pixels instanceof Uint8Array) && !(pixels instanceof Uint8ClampedArray) && !Array.isArray(pixels)) {
    throw new TypeError(`${FN}: image.pixels must be a Uint8Array, Uint8ClampedArray or number[], got ${describe(pixels)}`);
  }
  const px = pixels as ArrayLike<unknown>;
  const n = rows * cols * channels;
  if (px.length !== n) {
    throw new TypeError(
      `${FN}: image.pixels has length ${px.length}, expected rows * cols * channels = ${rows} * ${cols} * ${channels} = ${n}`,
    );
  }
  if (Array.isArray(pixels)) {
    for (let k = 0; k < n; k++) {
      const v = px[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
        const p = Math.floor(k / channels);
        throw new RangeError(
          `${FN}: image.pixels[${k}] (row ${Math.floor(p / cols)}, col ${p % cols}, channel ${k % channels}) is ${describe(v)}; ` +
            'allowed are integers 0..255',
        );
      }
    }
  }
  const values = px as ArrayLike<number>;

  const zScale = opts.zScale ?? 0.1;
  const zRounding = opts.zRounding ?? 'floor';
  const table = intensityToZTable(zScale, zRounding);
  const threshold = opts.threshold ?? defaultThreshold(zScale, zRounding);

  let count = 0;
  for (let k = 0; k < n; k++) if ((values[k] as number) >= threshold) count++;
  const positions = new Float64Array(3 * count);
  const pixelIndex = new Int32Array(count);
  const species = new Uint8Array(count);
  const channel = new Uint8Array(count);
  let p = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const pix = i * cols + j;
      const base = pix * channels;
      for (let c = 0; c < channels; c++) {
        const v = values[base + c] as number;
        if (v < threshold) continue;
        positions[3 * p] = j;
        positions[3 * p + 1] = i;
        positions[3 * p + 2] = table[v] as number;
        pixelIndex[p] = pix;
        species[p] = speciesOfChannel[c] as number;
        channel[p] = c;
        p++;
      }
    }
  }
  if (opts.displacement !== undefined) {
    const rng = new Rng(opts.displacement.seed);
    const sigma = opts.displacement.sigma;
    for (let q = 0; q < 3 * count; q++) positions[q] = (positions[q] as number) + rng.normal(0, sigma);
  }
  return { positions, count, pixelIndex, species, channel, channelSpecies: speciesOfChannel };
}
