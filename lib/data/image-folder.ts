/**
 * A folder of PNG/JPEG files as a {@link Dataset} (decoded with sharp, loaded on first use so that
 * importing soapix does not load libvips): one sub-folder per class, gray or RGB, optional resize.
 * The images are decoded into one contiguous buffer, bounded by `maxBytes`.
 */
import { readdirSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type SharpModule = require('sharp');
import { describeValue, InMemoryDataset, type InMemoryDatasetInit } from './datasets';

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
      throw new Error(
        `imageFolderDataset: cannot read folder ${d}: ${err instanceof Error ? err.message : String(err)}`,
      );
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
    throw new TypeError(`${fn}: dir must be a non-empty string, got ${describeValue(dir)}`);
  }
  if (typeof opts !== 'object' || opts === null)
    throw new TypeError(`${fn}: opts must be an object, got ${describeValue(opts)}`);
  const mode = opts.mode ?? 'gray';
  if (mode !== 'gray' && mode !== 'rgb') {
    throw new RangeError(`${fn}: unknown mode ${describeValue(mode)}; allowed are 'gray' (default) and 'rgb'`);
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
    throw new RangeError(
      `${fn}: unknown fit ${describeValue(fit)}; allowed are 'fill' (default), 'contain' and 'cover'`,
    );
  }
  const concurrency = opts.concurrency ?? Math.max(1, Math.min(8, os.availableParallelism?.() ?? os.cpus().length));
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`${fn}: concurrency must be an integer >= 1, got ${describeValue(concurrency)}`);
  }
  const maxBytes = opts.maxBytes ?? 2 ** 30;
  if (typeof maxBytes !== 'number' || !(maxBytes > 0)) {
    throw new RangeError(`${fn}: maxBytes must be a number > 0, got ${describeValue(maxBytes)}`);
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
