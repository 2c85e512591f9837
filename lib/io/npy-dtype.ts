/**
 * Element types of `.npy` files: numpy's descr strings ('<f4', '|u1', '<i8', ...), the typed
 * array of each, and conversion between typed arrays and little-endian bytes (swapped on a
 * big-endian host). Integer dtypes accept only integers in range when converting plain arrays.
 */
import { endianness } from 'node:os';

/** Element types soapix reads and writes. */
export type NpyDType =
  'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';

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

/** What soapix knows of each dtype. */
export interface DTypeInfo {
  /** numpy's descr string as written. */
  descr: string;
  size: number;
  ctor: {
    new (buffer: ArrayBufferLike, byteOffset: number, length: number): NpyTypedArray;
    new (length: number): NpyTypedArray;
  };
  kind: 'float' | 'int' | 'bigint';
  min: number;
  max: number;
}

/** The dtypes soapix reads and writes, with their numpy descr, size and range. */
export const DTYPES: Record<NpyDType, DTypeInfo> = {
  float32: { descr: '<f4', size: 4, ctor: Float32Array as never, kind: 'float', min: -Infinity, max: Infinity },
  float64: { descr: '<f8', size: 8, ctor: Float64Array as never, kind: 'float', min: -Infinity, max: Infinity },
  int8: { descr: '|i1', size: 1, ctor: Int8Array as never, kind: 'int', min: -128, max: 127 },
  uint8: { descr: '|u1', size: 1, ctor: Uint8Array as never, kind: 'int', min: 0, max: 255 },
  int16: { descr: '<i2', size: 2, ctor: Int16Array as never, kind: 'int', min: -32768, max: 32767 },
  uint16: { descr: '<u2', size: 2, ctor: Uint16Array as never, kind: 'int', min: 0, max: 65535 },
  int32: { descr: '<i4', size: 4, ctor: Int32Array as never, kind: 'int', min: -2147483648, max: 2147483647 },
  uint32: { descr: '<u4', size: 4, ctor: Uint32Array as never, kind: 'int', min: 0, max: 4294967295 },
  int64: {
    descr: '<i8',
    size: 8,
    ctor: BigInt64Array as never,
    kind: 'bigint',
    min: -Number.MAX_SAFE_INTEGER,
    max: Number.MAX_SAFE_INTEGER,
  },
  uint64: {
    descr: '<u8',
    size: 8,
    ctor: BigUint64Array as never,
    kind: 'bigint',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
  },
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

/** Whether this machine stores numbers little-endian (as .npy files written here are). */
export const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Throws TypeError unless `dtype` is one of {@link NPY_DTYPES}. */
export function assertDType(dtype: unknown, where: string): asserts dtype is NpyDType {
  if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPES, dtype)) {
    throw new TypeError(`${where}: dtype must be one of ${NPY_DTYPES.join(', ')}; got ${JSON.stringify(dtype)}`);
  }
}

/** A copy of `bytes` with every `size`-byte element reversed (endianness swap). */
export function swapBytes(bytes: Uint8Array, size: number): Uint8Array {
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
export function toTypedArray(values: unknown, dtype: NpyDType, where: string): NpyTypedArray {
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
      if (num < info.min || num > info.max)
        throw new RangeError(`${where}: element ${i} = ${v} does not fit in ${dtype}`);
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
export function leBytes(a: NpyTypedArray, size: number): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return LITTLE_ENDIAN_HOST || size === 1 ? view : swapBytes(view, size);
}

/** A typed array over `bytes` (copied when unaligned or on a big-endian host). */
export function typedFromBytes(dtype: NpyDType, bytes: Uint8Array): NpyTypedArray {
  const info = DTYPES[dtype];
  let b = bytes;
  if (!LITTLE_ENDIAN_HOST && info.size > 1) b = swapBytes(b, info.size);
  else if (b.byteOffset % info.size !== 0) b = b.slice();
  return new info.ctor(b.buffer, b.byteOffset, b.byteLength / info.size);
}
