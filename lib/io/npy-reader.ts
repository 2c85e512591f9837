/**
 * Reading `.npy` files: whole (from memory or a file), only the header, or in chunks of rows so
 * that files larger than memory can be processed. Every read checks the header and that the
 * file size is exactly what the shape implies (truncated and overlong files are refused).
 */
import { promises as fsp, readFileSync } from 'node:fs';
import { DTYPES, typedFromBytes, type NpyArray, type NpyTypedArray } from './npy-dtype';
import { parseNpyHeader, type NpyHeader } from './npy-header';

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
  return new Error(`cannot read ${filePath}: ${code ?? msg}${code === 'ENOENT' ? ' (no such file)' : ''}`, {
    cause: err,
  });
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
      yield {
        data: typedFromBytes(header.dtype, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)),
        startRow: start,
        rows,
      };
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  return header;
}
