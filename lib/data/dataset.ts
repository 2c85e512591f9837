/**
 * The one interface every image source implements (MNIST, Fashion-MNIST, IDX pairs, image folders).
 */

/** One image: row-major pixels, `channels` interleaved values per pixel (1 = gray, 3 = RGB). */
export interface ImageRecord {
  pixels: Uint8Array;
  rows: number;
  cols: number;
  channels: number;
  /** Class label (integer), or -1 when the source has none. */
  label: number;
}

/** An image together with its position in the data set. */
export interface IndexedImage extends ImageRecord {
  index: number;
}

/** A random-access, finite collection of images. */
export interface Dataset extends AsyncIterable<IndexedImage> {
  /** Short description, e.g. "mnist/train". Recorded in output metadata. */
  readonly name: string;
  readonly length: number;
  /** Class names by label, when known (e.g. Fashion-MNIST's "T-shirt/top"...). */
  readonly classNames?: readonly string[];
  /** The image at `index` (0 <= index < length). Throws RangeError outside. */
  get(index: number): IndexedImage;
}
