/**
 * `Transpose` for the wasm backend when the transposed rows are a multiple of 256 floats long.
 *
 * The shipped kernel transposes an R x C matrix at about 0.7 ns per element, except when R (the
 * length of the output rows) is a multiple of 256: then the columns it writes lie a multiple of
 * 1 KB apart, share cache sets, and it slows down 5-13x (measured: 8.4 ns per element at
 * R = 25,600; 0.7 at R = 25,000). Back-propagation transposes an activation matrix of
 * (pixels x images) rows for every weight gradient (kernels in ../backend.ts), so a batch of 100
 * images with 256 pixels per step hit this case in every layer. Here such transposes of the last
 * two axes run as a blocked JavaScript loop over the wasm heap (tiles of 64 source rows x 8
 * columns: each output row segment is written contiguously while its 64 source rows stay in the
 * cache), about 3 ns per element; every other transpose goes to the shipped kernel. The result is
 * an exact copy either way.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';

/** The part of the wasm backend this kernel uses (as the other JavaScript kernels in ../backend.ts). */
interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

const TILE_ROWS = 64;
const TILE_COLS = 8;

/** Copies the transpose of each `rows` x `cols` matrix of `src` (matrix after matrix) into `dst`. */
export function transposeBlocked(
  src: Float32Array,
  dst: Float32Array,
  batch: number,
  rows: number,
  cols: number,
): void {
  const size = rows * cols;
  for (let b = 0; b < batch; b++) {
    const base = b * size;
    for (let r0 = 0; r0 < rows; r0 += TILE_ROWS) {
      const r1 = Math.min(r0 + TILE_ROWS, rows);
      for (let c0 = 0; c0 < cols; c0 += TILE_COLS) {
        const c1 = Math.min(c0 + TILE_COLS, cols);
        for (let c = c0; c < c1; c++) {
          let di = base + c * rows + r0;
          let si = base + r0 * cols + c;
          for (let r = r0; r < r1; r++, di++, si += cols) dst[di] = src[si];
        }
      }
    }
  }
}

/** Wraps the shipped wasm `Transpose`: swaps of the last two axes into rows of a multiple of 256 floats run blocked. */
export function transposeWasm(original: KernelFunc): KernelFunc {
  const fn = (args: {
    inputs: { x: TensorInfo };
    attrs: { perm: number[] };
    backend: unknown;
  }): TensorInfo | TensorInfo[] => {
    const { x } = args.inputs;
    const perm = args.attrs.perm;
    const n = x.shape.length;
    const swapsLastTwo =
      n >= 2 && perm.length === n && perm.every((p, i) => (i < n - 2 ? p === i : p === (i === n - 2 ? n - 1 : n - 2)));
    const rows = x.shape[n - 2];
    if (x.dtype !== 'float32' || !swapsLastTwo || rows % 256 !== 0 || rows === 0)
      return original(args as unknown as Parameters<KernelFunc>[0]);
    const cols = x.shape[n - 1];
    const batch = x.shape.slice(0, n - 2).reduce((a, d) => a * d, 1);
    const backend = args.backend as HeapBackend;
    const out = backend.makeOutput([...x.shape.slice(0, n - 2), cols, rows], 'float32');
    transposeBlocked(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), batch, rows, cols);
    return out;
  };
  return fn as unknown as KernelFunc;
}
