/**
 * Writing `.npy` files: {@link NpyWriter} streams rows into a file whose row count is only known
 * at the end (the header is written first with room for a 20-digit count and rewritten with the
 * final count on close); {@link writeNpy} / {@link encodeNpy} write a whole array. Files are
 * written as `<path>.partial` and renamed onto `<path>` only when complete (see
 * atomic-file.ts), so `numpy.load(path)` never sees a half-written file. Written files are
 * always little-endian with `fortran_order: False`.
 */
import { promises as fsp } from 'node:fs';
import { commitFile, fileOutputError, partialPathFor, removeQuietly, writeFileAtomic } from '../util/atomic-file';
import {
  assertDType,
  DTYPES,
  dtypeOfArray,
  leBytes,
  toTypedArray,
  type NpyDType,
  type NpyTypedArray,
} from './npy-dtype';
import { buildHeader, shapeLiteral, streamingHeaderLength } from './npy-header';

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

  private constructor(
    filePath: string,
    fh: fsp.FileHandle,
    dtype: NpyDType,
    columns: number,
    headerLength: number,
    bufferSize: number,
  ) {
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
      throw new Error(
        `NpyWriter ${op}: ${this.path}: an earlier write failed: ${this.failure?.message ?? 'unknown error'}`,
      );
    }
    if (this.state !== 'open') {
      throw new Error(
        `NpyWriter ${op}: ${this.path}: the writer is ${this.state === 'closing' ? 'closing' : this.state}`,
      );
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
