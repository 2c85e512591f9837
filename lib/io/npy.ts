/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), as specified in
 * numpy/lib/format.py: the magic `\x93NUMPY`, a major and a minor version byte,
 * the header length (uint16 little-endian in 1.0, uint32 in 2.0/3.0), an ASCII
 * (3.0: UTF-8) Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (N, C), }` padded with
 * spaces and ended by '\n' so that the data starts at a multiple of 64 bytes,
 * then the elements, row-major (C order).
 *
 * {@link NpyWriter} streams rows into a file whose row count is only known at
 * the end: the header is written first with room for a 20-digit count and
 * rewritten with the final count on close. Files are written as
 * `<path>.partial` and renamed onto `<path>` only when complete (see
 * atomic-file.ts), so `numpy.load(path)` never sees a half-written file.
 *
 * Written files are always little-endian ('<f4', '<f8', '<i4', '|u1', '<i8', ...)
 * with `fortran_order: False`; `numpy.load` reads them with no custom code.
 */
import { promises as fsp, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import {
  commitFile,
  fileOutputError,
  partialPathFor,
  removeQuietly,
  writeFileAtomic,
} from '../util/atomic-file';

/** Element types soapix reads and writes. */
export type NpyDType =
  | 'float32'
  | 'float64'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64';

/** The typed array that holds elements of each {@link NpyDType}. */
export interface NpyArrayByType {
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
}

/** Any typed array an `.npy` file can hold. */
export type NpyTypedArray = NpyArrayByType[NpyDType];

/** A decoded `.npy` file; `dtype` discriminates the concrete typed array of `data`. */
export type NpyArray = {
  [K in NpyDType]: {
    dtype: K;
    /** Dimension sizes, outermost first; `[]` for a 0-d array. */
    shape: number[];
    /** Elements in C (row-major) order, native byte order. */
    data: NpyArrayByType[K];
  };
}[NpyDType];

interface DTypeInfo {
  /** numpy's descr string as written. */
  descr: string;
  size: number;
  ctor: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): NpyTypedArray; new (length: number): NpyTypedArray };
  kind: 'float' | 'int' | 'bigint';
  min: number;
  max: number;
}

const DTYPES: Record<NpyDType, DTypeInfo> = {
  float32: { descr: '<f4', size: 4, ctor: Float32Array as never, kind: 'float', min: -Infinity, max: Infinity },
  float64: { descr: '<f8', size: 8, ctor: Float64Array as never, kind: 'float', min: -Infinity, max: Infinity },
  int8: { descr: '|i1', size: 1, ctor: Int8Array as never, kind: 'int', min: -128, max: 127 },
  uint8: { descr: '|u1', size: 1, ctor: Uint8Array as never, kind: 'int', min: 0, max: 255 },
  int16: { descr: '<i2', size: 2, ctor: Int16Array as never, kind: 'int', min: -32768, max: 32767 },
  uint16: { descr: '<u2', size: 2, ctor: Uint16Array as never, kind: 'int', min: 0, max: 65535 },
  int32: { descr: '<i4', size: 4, ctor: Int32Array as never, kind: 'int', min: -2147483648, max: 2147483647 },
  uint32: { descr: '<u4', size: 4, ctor: Uint32Array as never, kind: 'int', min: 0, max: 4294967295 },
  int64: { descr: '<i8', size: 8, ctor: BigInt64Array as never, kind: 'bigint', min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
  uint64: { descr: '<u8', size: 8, ctor: BigUint64Array as never, kind: 'bigint', min: 0, max: Number.MAX_SAFE_INTEGER },
};

/** All dtype names, in a fixed order. */
export const NPY_DTYPES: readonly NpyDType[] = Object.freeze(Object.keys(DTYPES) as NpyDType[]);

/** Bytes per element of `dtype`. */
export function npyItemSize(dtype: NpyDType): number {
  return DTYPES[dtype].size;
}

/** numpy's type string for `dtype`, e.g. '<f4'. */
export function npyDescr(dtype: NpyDType): string {
  return DTYPES[dtype].descr;
}

/** The dtype of a typed array, or undefined for one .npy cannot hold (Uint8ClampedArray, ...). */
export function dtypeOfArray(a: unknown): NpyDType | undefined {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof BigUint64Array) return 'uint64';
  return undefined;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';
const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
/** Data starts at a multiple of this many bytes (numpy's ARRAY_ALIGN). */
const ALIGN = 64;
/** Digits reserved for the streamed row count (enough for any count below 10^20). */
const COUNT_DIGITS = 20;

function assertDType(dtype: unknown, where: string): asserts dtype is NpyDType {
  if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPES, dtype)) {
    throw new TypeError(`${where}: dtype must be one of ${NPY_DTYPES.join(', ')}; got ${JSON.stringify(dtype)}`);
  }
}

function shapeLiteral(shape: readonly (number | string)[]): string {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

function headerDict(descr: string, shape: readonly (number | string)[]): string {
  return `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeLiteral(shape)}, }`;
}

/**
 * Builds the complete header (magic, version, length, padded dict, '\n').
 * @param totalLength - pad to exactly this many bytes (must be large enough); default: the
 *   smallest multiple of 64 that fits.
 */
function buildHeader(descr: string, shape: readonly (number | string)[], totalLength?: number): Buffer {
  const dict = headerDict(descr, shape);
  // Version 1.0 (uint16 length) whenever the header fits, else 2.0 (uint32 length).
  let preamble = 10;
  let major = 1;
  const minimal = (p: number): number => Math.ceil((p + dict.length + 1) / ALIGN) * ALIGN;
  let total = totalLength ?? minimal(preamble);
  if (total - preamble > 0xffff) {
    preamble = 12;
    major = 2;
    total = totalLength ?? minimal(preamble);
  }
  const headerLen = total - preamble;
  if (dict.length + 1 > headerLen) {
    throw new RangeError(`npy: header for shape ${shapeLiteral(shape)} does not fit in ${total} bytes`);
  }
  const buf = Buffer.alloc(total, 0x20);
  MAGIC.copy(buf, 0);
  buf[6] = major;
  buf[7] = 0;
  if (major === 1) buf.writeUInt16LE(headerLen, 8);
  else buf.writeUInt32LE(headerLen, 8);
  buf.write(dict, preamble, 'latin1');
  buf[total - 1] = 0x0a;
  return buf;
}

/** Length of the streamed header: fits any count up to COUNT_DIGITS digits. */
function streamingHeaderLength(descr: string, columns: number): number {
  const placeholder = '9'.repeat(COUNT_DIGITS);
  return buildHeader(descr, columns > 0 ? [placeholder, columns] : [placeholder]).length;
}

function swapBytes(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) {
    for (let k = 0; k < size; k++) out[i + k] = bytes[i + size - 1 - k];
  }
  return out;
}

function describeInput(a: unknown): string {
  if (ArrayBuffer.isView(a)) return a.constructor.name;
  if (Array.isArray(a)) return 'Array';
  return typeof a;
}

/**
 * Converts `values` to the typed array of `dtype`: returned as is when it already
 * has that type, else copied with checks (integer dtypes need integers in range).
 */
function toTypedArray(values: unknown, dtype: NpyDType, where: string): NpyTypedArray {
  const info = DTYPES[dtype];
  if (values instanceof (info.ctor as unknown as typeof Float32Array)) {
    return values as NpyTypedArray;
  }
  const isArrayLike =
    (ArrayBuffer.isView(values) && !(values instanceof DataView)) ||
    Array.isArray(values) ||
    (typeof values === 'object' && values !== null && typeof (values as { length?: unknown }).length === 'number');
  if (!isArrayLike) {
    throw new TypeError(`${where}: expected a typed array or an array of numbers, got ${describeInput(values)}`);
  }
  const src = values as ArrayLike<number | bigint>;
  const n = src.length;
  const out = new info.ctor(n);
  if (info.kind === 'float') {
    const o = out as Float32Array | Float64Array;
    for (let i = 0; i < n; i++) {
      const v = src[i];
      if (typeof v !== 'number' && typeof v !== 'bigint') {
        throw new TypeError(`${where}: element ${i} is ${typeof v}, not a number`);
      }
      o[i] = Number(v);
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const v = src[i];
    if (typeof v === 'bigint') {
      if (info.kind === 'bigint') {
        const ok = dtype === 'int64' ? BigInt.asIntN(64, v) === v : BigInt.asUintN(64, v) === v;
        if (!ok) throw new RangeError(`${where}: element ${i} = ${v} does not fit in ${dtype}`);
        (out as BigInt64Array)[i] = v;
        continue;
      }
      const num = Number(v);
      if (num < info.min || num > info.max) throw new RangeError(`${where}: element ${i} = ${v} does not fit in ${dtype}`);
      (out as Int32Array)[i] = num;
      continue;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < info.min || v > info.max) {
      throw new RangeError(
        `${where}: element ${i} = ${String(v)} is not an integer in ${info.min}..${info.max} (dtype ${dtype})`,
      );
    }
    if (info.kind === 'bigint') (out as BigInt64Array)[i] = BigInt(v);
    else (out as Int32Array)[i] = v;
  }
  return out;
}

/** Little-endian bytes of a typed array (a view when the host is little-endian). */
function leBytes(a: NpyTypedArray, size: number): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return LITTLE_ENDIAN_HOST || size === 1 ? view : swapBytes(view, size);
}

async function writeFully(fh: fsp.FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, off, bytes.byteLength - off, position + off);
    if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    off += bytesWritten;
  }
}

/** Options of {@link NpyWriter.create}. */
export interface NpyWriterOptions {
  /** Element type of the file. */
  dtype: NpyDType;
  /** Values per row: the file's shape is (rows, columns); 0 for a 1-D file of shape (rows,). */
  columns: number;
  /**
   * Bytes buffered in memory before a write to disk. Default 4 MiB. Writes at least
   * this large go straight to the file.
   */
  bufferSize?: number;
}

/** What {@link NpyWriter.close} returns. */
export interface NpyWriteResult {
  path: string;
  dtype: NpyDType;
  shape: number[];
  /** File size in bytes. */
  bytes: number;
}

type WriterState = 'open' | 'closing' | 'closed' | 'aborted' | 'failed';

/**
 * Streams rows into an `.npy` file whose row count is only known at the end.
 *
 * Data goes to `<path>.partial`; {@link close} writes the final shape into the
 * header, fsyncs, and renames the file onto `path`. {@link abort} (or any I/O
 * error) deletes the partial file, so `path` only ever holds a complete file.
 *
 * @example
 * const w = await NpyWriter.create('features.npy', { dtype: 'float32', columns: 308 });
 * for await (const batch of batches) await w.write(batch); // Float32Array, whole rows
 * await w.close();
 */
export class NpyWriter {
  /** The final path (written on close). */
  readonly path: string;
  /** The temporary file filled until close: `<path>.partial`. */
  readonly tempPath: string;
  readonly dtype: NpyDType;
  /** Values per row; 0 for a 1-D file. */
  readonly columns: number;

  private fh: fsp.FileHandle | undefined;
  private readonly headerLength: number;
  private readonly itemSize: number;
  private readonly buf: Uint8Array;
  private fill = 0;
  /** File offset where the buffered bytes go. */
  private pos: number;
  private rowCount = 0;
  private state: WriterState = 'open';
  private failure: Error | undefined;
  /** Serializes writes, flushes, close and abort. */
  private queue: Promise<void> = Promise.resolve();

  private constructor(filePath: string, fh: fsp.FileHandle, dtype: NpyDType, columns: number, headerLength: number, bufferSize: number) {
    this.path = filePath;
    this.tempPath = partialPathFor(filePath);
    this.fh = fh;
    this.dtype = dtype;
    this.columns = columns;
    this.headerLength = headerLength;
    this.itemSize = DTYPES[dtype].size;
    this.buf = new Uint8Array(bufferSize);
    this.pos = headerLength;
  }

  /**
   * Creates `<path>.partial` (replacing a stale one) and writes a provisional header.
   *
   * @throws TypeError / RangeError for bad options; FileOutputError naming `path` when the
   *   file cannot be created (missing directory, a parent that is a file, permissions, ...).
   */
  static async create(filePath: string, options: NpyWriterOptions): Promise<NpyWriter> {
    if (typeof filePath !== 'string' || filePath.length === 0) {
      throw new TypeError(`NpyWriter.create: path must be a non-empty string, got ${String(filePath)}`);
    }
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('NpyWriter.create: options { dtype, columns } are required');
    }
    assertDType(options.dtype, 'NpyWriter.create');
    const columns = options.columns;
    if (typeof columns !== 'number' || !Number.isSafeInteger(columns) || columns < 0) {
      throw new RangeError(`NpyWriter.create: columns must be an integer >= 0 (0 for 1-D), got ${String(columns)}`);
    }
    const bufferSize = options.bufferSize ?? 4 * 1024 * 1024;
    if (!Number.isSafeInteger(bufferSize) || bufferSize < 1 || bufferSize > 1024 * 1024 * 1024) {
      throw new RangeError(`NpyWriter.create: bufferSize must be an integer in 1..2^30, got ${String(bufferSize)}`);
    }
    const descr = DTYPES[options.dtype].descr;
    const headerLength = streamingHeaderLength(descr, columns);
    const tmp = partialPathFor(filePath);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(tmp, 'w');
    } catch (err) {
      throw fileOutputError('create', filePath, err);
    }
    const writer = new NpyWriter(filePath, fh, options.dtype, columns, headerLength, bufferSize);
    try {
      await writeFully(fh, writer.header(), 0);
    } catch (err) {
      await writer.cleanup();
      throw fileOutputError('write', filePath, err);
    }
    return writer;
  }

  /** Rows accepted so far (including rows still buffered in memory). */
  get rows(): number {
    return this.rowCount;
  }

  /** The file's shape as it stands. */
  get shape(): number[] {
    return this.columns > 0 ? [this.rowCount, this.columns] : [this.rowCount];
  }

  private header(): Buffer {
    return buildHeader(DTYPES[this.dtype].descr, this.shape, this.headerLength);
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private checkUsable(op: string): void {
    if (this.state === 'failed') {
      throw new Error(`NpyWriter ${op}: ${this.path}: an earlier write failed: ${this.failure?.message ?? 'unknown error'}`);
    }
    if (this.state !== 'open') {
      throw new Error(`NpyWriter ${op}: ${this.path}: the writer is ${this.state === 'closing' ? 'closing' : this.state}`);
    }
  }

  /**
   * Appends whole rows (row-major; length a multiple of `columns`). A typed array of
   * the file's dtype is used as is; other arrays of numbers are converted (integer
   * dtypes need integers in range). The returned promise resolves once the data is
   * in the writer's buffer or on disk, so awaiting each write bounds memory.
   * Do not modify `rows` before the promise resolves. Writes are applied in call order.
   * Writes still pending when {@link abort} is called resolve without writing.
   *
   * @throws (rejects) RangeError for a partial row; FileOutputError on an I/O error,
   *   after which the partial file has been removed and the writer is unusable.
   */
  async write(rows: NpyTypedArray | ArrayLike<number>): Promise<void> {
    this.checkUsable('write');
    const arr = toTypedArray(rows, this.dtype, `NpyWriter.write(${this.path})`);
    let nRows = arr.length;
    if (this.columns > 0) {
      if (arr.length % this.columns !== 0) {
        throw new RangeError(
          `NpyWriter.write(${this.path}): got ${arr.length} values, not a whole number of rows of ${this.columns}`,
        );
      }
      nRows = arr.length / this.columns;
    }
    if (arr.length === 0) return;
    this.rowCount += nRows;
    const bytes = leBytes(arr, this.itemSize);
    return this.enqueue(async () => {
      if (this.state === 'failed') throw this.failure;
      if (this.state === 'aborted') return; // accepted before abort(): discarded with the file
      try {
        await this.append(bytes);
      } catch (err) {
        throw await this.fail(err);
      }
    });
  }

  private async append(bytes: Uint8Array): Promise<void> {
    const cap = this.buf.length;
    if (this.fill + bytes.length <= cap) {
      this.buf.set(bytes, this.fill);
      this.fill += bytes.length;
      if (this.fill === cap) await this.flush();
      return;
    }
    await this.flush();
    if (bytes.length >= cap) {
      await writeFully(this.fhOrThrow(), bytes, this.pos);
      this.pos += bytes.length;
    } else {
      this.buf.set(bytes, 0);
      this.fill = bytes.length;
    }
  }

  private fhOrThrow(): fsp.FileHandle {
    if (this.fh === undefined) throw new Error(`NpyWriter: ${this.path}: file is not open`);
    return this.fh;
  }

  private async flush(): Promise<void> {
    if (this.fill === 0) return;
    await writeFully(this.fhOrThrow(), this.buf.subarray(0, this.fill), this.pos);
    this.pos += this.fill;
    this.fill = 0;
  }

  /** Records an I/O failure: closes and deletes the partial file; returns the error to throw. */
  private async fail(err: unknown): Promise<Error> {
    const e = fileOutputError('write', this.path, err);
    if (this.state !== 'failed') {
      this.state = 'failed';
      this.failure = e;
      await this.cleanup();
    }
    return this.failure ?? e;
  }

  private async cleanup(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    if (fh !== undefined) await fh.close().catch(() => undefined);
    await removeQuietly(this.tempPath);
  }

  /**
   * Writes the remaining rows, puts the final shape into the header, fsyncs, and
   * renames `<path>.partial` onto `path` (then fsyncs the directory).
   *
   * @throws FileOutputError naming `path` on an I/O error (the partial file is removed).
   */
  async close(): Promise<NpyWriteResult> {
    this.checkUsable('close');
    this.state = 'closing';
    return this.enqueue(async () => {
      if (this.failure !== undefined) throw this.failure;
      try {
        await this.flush();
        const fh = this.fhOrThrow();
        await writeFully(fh, this.header(), 0);
        await fh.sync();
        this.fh = undefined;
        await fh.close();
      } catch (err) {
        throw await this.fail(err);
      }
      try {
        await commitFile(this.tempPath, this.path);
      } catch (err) {
        this.state = 'failed';
        this.failure = err as Error;
        throw err;
      }
      this.state = 'closed';
      return { path: this.path, dtype: this.dtype, shape: this.shape, bytes: this.pos };
    });
  }

  /**
   * Stops writing and deletes the partial file; `path` is left as it was. Safe to call
   * more than once, and after a failure; does nothing after a successful close.
   */
  async abort(): Promise<void> {
    if (this.state === 'closed' || this.state === 'aborted') return;
    if (this.state === 'open') this.state = 'aborted';
    await this.enqueue(async () => {
      if (this.state === 'closed') return;
      this.state = this.state === 'failed' ? 'failed' : 'aborted';
      await this.cleanup();
    });
  }
}

/** Options of {@link writeNpy}. */
export interface WriteNpyOptions {
  /** Default: the dtype of `data` when it is a typed array .npy can hold, else 'float64'. */
  dtype?: NpyDType;
  /** Default `[data.length]`. The product must equal the number of elements. */
  shape?: readonly number[];
}

/** The complete bytes of an `.npy` file holding `data` with `shape`. */
export function encodeNpy(data: NpyTypedArray | ArrayLike<number>, options: WriteNpyOptions = {}): Buffer {
  const dtype = options.dtype ?? dtypeOfArray(data) ?? 'float64';
  assertDType(dtype, 'encodeNpy');
  const arr = toTypedArray(data, dtype, 'encodeNpy');
  const shape = options.shape !== undefined ? [...options.shape] : [arr.length];
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`encodeNpy: bad shape ${shapeLiteral(shape)}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== arr.length) {
    throw new RangeError(`encodeNpy: shape ${shapeLiteral(shape)} has ${count} elements, data has ${arr.length}`);
  }
  const header = buildHeader(DTYPES[dtype].descr, shape);
  return Buffer.concat([header, leBytes(arr, DTYPES[dtype].size)]);
}

/**
 * Writes a whole array as an `.npy` file, atomically (`<path>.partial`, fsync, rename).
 * For data that arrives in pieces use {@link NpyWriter}.
 */
export async function writeNpy(
  filePath: string,
  data: NpyTypedArray | ArrayLike<number>,
  options: WriteNpyOptions = {},
): Promise<void> {
  await writeFileAtomic(filePath, encodeNpy(data, options));
}

/** A parsed `.npy` header. */
export interface NpyHeader {
  dtype: NpyDType;
  /** The descr string as found, e.g. '<f4'. */
  descr: string;
  shape: number[];
  /** Format version, e.g. [1, 0]. */
  version: [number, number];
  /** Byte offset of the first element. */
  dataOffset: number;
  /** Bytes of element data the shape implies. */
  dataBytes: number;
}

const DESCR_TO_DTYPE: Record<string, NpyDType> = {
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
};

function parseDescr(descr: string, what: string): NpyDType {
  const m = /^([<>|=]?)([a-zA-Z]\d+)$/.exec(descr);
  const dtype = m ? DESCR_TO_DTYPE[m[2]] : undefined;
  if (!m || dtype === undefined) {
    throw new Error(
      `${what}: unsupported dtype '${descr}'; supported are little-endian ${Object.keys(DESCR_TO_DTYPE).join(', ')}`,
    );
  }
  const order = m[1];
  const size = DTYPES[dtype].size;
  if (size > 1 && order !== '<') {
    throw new Error(`${what}: dtype '${descr}' is not little-endian; convert it in numpy with a.astype('<${m[2]}')`);
  }
  return dtype;
}

/**
 * Parses and checks the header at the start of `buf`.
 *
 * @param fileSize - total size of the file, when `buf` holds only its beginning; default `buf.length`.
 * @throws Error naming `what` for a bad magic, an unsupported version or dtype, a truncated
 *   header, or a data size that does not match the shape (truncated or overlong file).
 */
export function parseNpyHeader(buf: Uint8Array, what = 'npy', fileSize = buf.length): NpyHeader {
  if (fileSize < 10 || buf.length < 8) {
    throw new Error(`${what}: not a .npy file: only ${fileSize} bytes (truncated or empty)`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (buf[i] !== MAGIC[i]) throw new Error(`${what}: not a .npy file (the magic string \\x93NUMPY is missing)`);
  }
  const major = buf[6];
  const minor = buf[7];
  if (major !== 1 && major !== 2 && major !== 3) {
    throw new Error(`${what}: unsupported .npy format version ${major}.${minor}; supported are 1.0, 2.0, 3.0`);
  }
  const preamble = major === 1 ? 10 : 12;
  if (buf.length < preamble) throw new Error(`${what}: truncated .npy header (${fileSize} bytes)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const dataOffset = preamble + headerLen;
  if (buf.length < dataOffset) {
    throw new Error(
      `${what}: truncated .npy header: the header says ${headerLen} bytes, the file has ${Math.max(0, fileSize - preamble)}`,
    );
  }
  const text = Buffer.from(buf.buffer, buf.byteOffset + preamble, headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descrM = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(text);
  const fortranM = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shapeM = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!text.trimStart().startsWith('{') || !descrM || !fortranM || !shapeM) {
    throw new Error(
      `${what}: malformed .npy header (expected descr, fortran_order and shape; structured dtypes are not supported): ${JSON.stringify(text.trim().slice(0, 200))}`,
    );
  }
  const dtype = parseDescr(descrM[2], what);
  const shape: number[] = [];
  for (const part of shapeM[1].split(',')) {
    const t = part.trim();
    if (t === '') continue;
    if (!/^\d+L?$/.test(t)) throw new Error(`${what}: malformed shape (${shapeM[1]}) in the .npy header`);
    const v = Number(t.replace('L', ''));
    if (!Number.isSafeInteger(v)) throw new Error(`${what}: dimension ${t} is too large`);
    shape.push(v);
  }
  if (fortranM[1] === 'True' && shape.filter((d) => d > 1).length > 1) {
    throw new Error(`${what}: Fortran-order arrays are not supported; save with np.ascontiguousarray(a)`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const dataBytes = count * DTYPES[dtype].size;
  const have = fileSize - dataOffset;
  if (have < dataBytes) {
    throw new Error(
      `${what}: truncated .npy file: shape ${shapeLiteral(shape)} ${descrM[2]} needs ${dataBytes} bytes of data, the file has ${have}`,
    );
  }
  if (have > dataBytes) {
    throw new Error(
      `${what}: corrupt .npy file: ${have - dataBytes} unexpected bytes after the data of shape ${shapeLiteral(shape)} ${descrM[2]}`,
    );
  }
  return { dtype, descr: descrM[2], shape, version: [major, minor], dataOffset, dataBytes };
}

/** A typed array over `bytes` (copied when unaligned or on a big-endian host). */
function typedFromBytes(dtype: NpyDType, bytes: Uint8Array): NpyTypedArray {
  const info = DTYPES[dtype];
  let b = bytes;
  if (!LITTLE_ENDIAN_HOST && info.size > 1) b = swapBytes(b, info.size);
  else if (b.byteOffset % info.size !== 0) b = b.slice();
  return new info.ctor(b.buffer, b.byteOffset, b.byteLength / info.size);
}

/**
 * Decodes a complete `.npy` file held in memory.
 * @throws Error naming `what` on any format problem (see {@link parseNpyHeader}).
 */
export function parseNpy(buf: Uint8Array, what = 'npy'): NpyArray {
  const h = parseNpyHeader(buf, what);
  const data = typedFromBytes(h.dtype, buf.subarray(h.dataOffset, h.dataOffset + h.dataBytes));
  return { dtype: h.dtype, shape: h.shape, data } as NpyArray;
}

function readError(filePath: string, err: unknown): Error {
  const code = (err as { code?: string }).code;
  const msg = err instanceof Error ? err.message : String(err);
  return new Error(`cannot read ${filePath}: ${code ?? msg}${code === 'ENOENT' ? ' (no such file)' : ''}`, { cause: err });
}

/** Reads a whole `.npy` file. @throws Error naming the path for unreadable, truncated or malformed files. */
export async function readNpy(filePath: string): Promise<NpyArray> {
  let buf: Buffer;
  try {
    buf = await fsp.readFile(filePath);
  } catch (err) {
    throw readError(filePath, err);
  }
  return parseNpy(buf, filePath);
}

/** Synchronous {@link readNpy}. */
export function readNpySync(filePath: string): NpyArray {
  let buf: Buffer;
  try {
    buf = readFileSync(filePath);
  } catch (err) {
    throw readError(filePath, err);
  }
  return parseNpy(buf, filePath);
}

async function readAt(fh: fsp.FileHandle, length: number, position: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await fh.read(out, off, length - off, position + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off === length ? out : out.subarray(0, off);
}

/** Reads and checks only the header of an `.npy` file (the size is checked against the shape). */
export async function readNpyHeader(filePath: string): Promise<NpyHeader> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(filePath, 'r');
  } catch (err) {
    throw readError(filePath, err);
  }
  try {
    const size = (await fh.stat()).size;
    const pre = await readAt(fh, Math.min(size, 12), 0);
    if (pre.length < 10) return parseNpyHeader(pre, filePath, size);
    const major = pre[6];
    const headerLen = major === 1 ? pre.readUInt16LE(8) : pre.length >= 12 ? pre.readUInt32LE(8) : 0;
    const preamble = major === 1 ? 10 : 12;
    const head = await readAt(fh, Math.min(size, preamble + headerLen), 0);
    return parseNpyHeader(head, filePath, size);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** One piece of a file read by {@link readNpyChunks}. */
export interface NpyChunk {
  /** Elements of rows `startRow .. startRow + rows - 1`. */
  data: NpyTypedArray;
  startRow: number;
  rows: number;
}

/**
 * Reads an `.npy` file in pieces of at most `rowsPerChunk` rows (along the first axis),
 * so files larger than memory can be processed (e.g. `soapix merge`). A 0-d file
 * yields one chunk of one element.
 */
export async function* readNpyChunks(
  filePath: string,
  options: { rowsPerChunk?: number } = {},
): AsyncGenerator<NpyChunk, NpyHeader, void> {
  const rowsPerChunk = options.rowsPerChunk ?? 65536;
  if (!Number.isSafeInteger(rowsPerChunk) || rowsPerChunk < 1) {
    throw new RangeError(`readNpyChunks: rowsPerChunk must be an integer >= 1, got ${String(rowsPerChunk)}`);
  }
  const header = await readNpyHeader(filePath);
  const totalRows = header.shape.length === 0 ? 1 : header.shape[0];
  const rowElems = header.shape.slice(1).reduce((a, b) => a * b, 1);
  const rowBytes = rowElems * DTYPES[header.dtype].size;
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(filePath, 'r');
  } catch (err) {
    throw readError(filePath, err);
  }
  try {
    for (let start = 0; start < totalRows; start += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, totalRows - start);
      const want = rows * rowBytes;
      const bytes = await readAt(fh, want, header.dataOffset + start * rowBytes);
      if (bytes.length < want) throw new Error(`${filePath}: truncated .npy file (it shrank while being read)`);
      yield { data: typedFromBytes(header.dtype, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)), startRow: start, rows };
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  return header;
}
