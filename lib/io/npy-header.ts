/**
 * The `.npy` header, as specified in numpy/lib/format.py: the magic `\x93NUMPY`, a major and a
 * minor version byte, the header length (uint16 little-endian in 1.0, uint32 in 2.0/3.0), an
 * ASCII (3.0: UTF-8) Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (N, C), }` padded with spaces and ended by
 * '\n' so that the data starts at a multiple of 64 bytes. Building (with room for a streamed
 * row count) and parsing with every check a reader needs.
 */
import { DTYPES, type NpyDType } from './npy-dtype';

/** The first six bytes of every .npy file: \x93NUMPY. */
export const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
/** Data starts at a multiple of this many bytes (numpy's ARRAY_ALIGN). */
export const ALIGN = 64;
/** Digits reserved for the streamed row count (enough for any count below 10^20). */
export const COUNT_DIGITS = 20;

/** A shape as numpy writes it: `()`, `(3,)`, `(2, 3)`. */
export function shapeLiteral(shape: readonly (number | string)[]): string {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** The header's dict literal (before padding). */
export function headerDict(descr: string, shape: readonly (number | string)[]): string {
  return `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeLiteral(shape)}, }`;
}

/**
 * Builds the complete header (magic, version, length, padded dict, '\n').
 * @param totalLength - pad to exactly this many bytes (must be large enough); default: the
 *   smallest multiple of 64 that fits.
 */
export function buildHeader(descr: string, shape: readonly (number | string)[], totalLength?: number): Buffer {
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
export function streamingHeaderLength(descr: string, columns: number): number {
  const placeholder = '9'.repeat(COUNT_DIGITS);
  return buildHeader(descr, columns > 0 ? [placeholder, columns] : [placeholder]).length;
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
