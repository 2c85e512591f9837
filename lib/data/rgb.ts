/**
 * Multi-channel images as species-labelled points: each channel becomes its own chemical
 * species (the paper's future-work idea: R, G, B as H, He, Li), so SOAP sees colour as separate
 * density channels. The conversion itself is `imageToPoints` (image.ts), which handles any
 * number of channels; this module names the RGB species and keeps the multi-channel spelling.
 */
import { imageToPoints, type ImagePoints, type ImageToPointsOptions, type MultiChannelImage } from './image';

/** Atomic numbers of the default species of channels 0, 1, 2 (R, G, B): H, He, Li. */
export const RGB_SPECIES: readonly number[] = Object.freeze([1, 2, 3]);

/** Options of {@link imageToSpeciesPoints}: those of `imageToPoints` (channelSpecies included). */
export type ImageToSpeciesPointsOptions = ImageToPointsOptions;

/** Points of a multi-channel image, each labelled with the species of its channel. */
export type SpeciesPoints = ImagePoints;

/**
 * `imageToPoints` under the multi-channel name (its error messages name imageToSpeciesPoints):
 * value v of channel c at row i, column j is kept iff v >= threshold and gives the point
 * (x = j, y = i, z(v)) of species `channelSpecies[c]`. With one channel the result equals
 * `imageToPoints(image, opts)`.
 *
 * @param image - pixels, rows, cols, channels (e.g. an `ImageRecord` from a Dataset).
 * @param opts - zScale, zRounding, threshold, displacement, channelSpecies as in `imageToPoints`.
 * @throws TypeError / RangeError on an invalid image or option (messages name the value).
 */
export function imageToSpeciesPoints(image: MultiChannelImage, opts: ImageToSpeciesPointsOptions = {}): SpeciesPoints {
  try {
    return imageToPoints(image, opts);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('imageToPoints:')) throw err;
    const msg = err.message.replace(/^imageToPoints:/, 'imageToSpeciesPoints:');
    throw err instanceof TypeError ? new TypeError(msg) : err instanceof RangeError ? new RangeError(msg) : new Error(msg);
  }
}
