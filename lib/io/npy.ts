/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), as specified in
 * numpy/lib/format.py: the magic `\x93NUMPY`, a major and a minor version byte,
 * the header length (uint16 little-endian in 1.0, uint32 in 2.0/3.0), an ASCII
 * (3.0: UTF-8) Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (N, C), }` padded with
 * spaces and ended by '\n' so that the data starts at a multiple of 64 bytes,
 * then the elements, row-major (C order).
 *
 * NpyWriter streams rows into a file whose row count is only known at
 * the end: the header is written first with room for a 20-digit count and
 * rewritten with the final count on close. Files are written as
 * `<path>.partial` and renamed onto `<path>` only when complete (see
 * atomic-file.ts), so `numpy.load(path)` never sees a half-written file.
 *
 * Written files are always little-endian ('<f4', '<f8', '<i4', '|u1', '<i8', ...)
 * with `fortran_order: False`; `numpy.load` reads them with no custom code.
 *
 * The code is split by job: npy-dtype.ts (element types and byte conversion), npy-header.ts
 * (building and parsing headers), npy-writer.ts (NpyWriter, writeNpy, encodeNpy) and
 * npy-reader.ts (readNpy, readNpySync, readNpyHeader, readNpyChunks, parseNpy). This module is
 * their public face.
 */
export {
  NPY_DTYPES,
  npyItemSize,
  npyDescr,
  dtypeOfArray,
  type NpyDType,
  type NpyArrayByType,
  type NpyTypedArray,
  type NpyArray,
} from './npy-dtype';
export { parseNpyHeader, type NpyHeader } from './npy-header';
export {
  NpyWriter,
  encodeNpy,
  writeNpy,
  type NpyWriterOptions,
  type NpyWriteResult,
  type WriteNpyOptions,
} from './npy-writer';
export { parseNpy, readNpy, readNpySync, readNpyHeader, readNpyChunks, type NpyChunk } from './npy-reader';
