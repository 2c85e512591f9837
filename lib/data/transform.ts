/**
 * Geometric transforms of one image about its centre: mirror, rotation and shift, with bilinear or
 * nearest-pixel resampling and zero fill outside the image.
 *
 * Output pixel (r, c) with offsets (dx, dy) = (c - cx, r - cy) from the centre
 * (cx, cy) = ((W - 1) / 2, (H - 1) / 2) reads the source at
 *
 *     sx = cx + cos(a) (dx - tx) - sin(a) (dy - ty)
 *     sy = cy + sin(a) (dx - tx) + cos(a) (dy - ty)
 *
 * and, when mirrored, at column W - 1 - sx. Row 0 is at the top (y points down), so a positive
 * angle a turns the content counter-clockwise as displayed, and a shift (tx, ty) moves it tx pixels
 * to the right and ty pixels down. The order is mirror first, then rotate, then shift. These are
 * the conventions of docs/CONVENTIONS.md ("Images") that the learned models (rVAE, CODAE) share.
 */

/** How a transform resamples: bilinear (mixes neighbouring intensities) or the nearest source pixel. */
export type Interpolation = 'bilinear' | 'nearest';
export const INTERPOLATIONS: readonly Interpolation[] = Object.freeze(['bilinear', 'nearest']);

/** A gray image as raw bytes (MNIST-style, 0..255), row-major. */
export interface GrayPixels {
  pixels: Uint8Array;
  rows: number;
  cols: number;
}

/** One transform: angle in degrees (counter-clockwise as displayed), optional mirror and shift. */
export interface ImageTransform {
  degrees?: number;
  /** Mirror left-right before rotating. Default false. */
  mirror?: boolean;
  /** Shift [dx, dy] in pixels (dx to the right, dy down), applied after the rotation. Default [0, 0]. */
  shift?: readonly [number, number];
  interpolation?: Interpolation;
}

function checkInterpolation(interpolation: unknown): asserts interpolation is Interpolation {
  if (interpolation !== 'bilinear' && interpolation !== 'nearest') {
    throw new RangeError(`unknown interpolation '${String(interpolation)}'; known: ${INTERPOLATIONS.join(', ')}`);
  }
}

/**
 * Resamples `src` (rows x cols, row-major) under transform `t` into `out`, in float64 arithmetic.
 * `round` turns each value into what `out` stores (identity for float output, clamp and round for
 * bytes). The one resampling loop of the project: byte and float images share it.
 */
function resample<T extends Float32Array | Uint8Array>(
  src: ArrayLike<number>,
  rows: number,
  cols: number,
  t: ImageTransform,
  out: T,
  round: (v: number) => number,
): T {
  const interpolation = t.interpolation ?? 'bilinear';
  checkInterpolation(interpolation);
  const degrees = t.degrees ?? 0;
  const [tx, ty] = t.shift ?? [0, 0];
  if (!Number.isFinite(degrees) || !Number.isFinite(tx) || !Number.isFinite(ty)) {
    throw new RangeError(`transform angle and shift must be finite numbers (got ${degrees}°, [${tx}, ${ty}])`);
  }
  const a = (degrees * Math.PI) / 180;
  // Exact values at multiples of 90° so that quarter turns are exact permutations of pixels.
  const quarter = Number.isInteger(degrees / 90) ? (((degrees / 90) % 4) + 4) % 4 : -1;
  const cos = quarter >= 0 ? [1, 0, -1, 0][quarter]! : Math.cos(a);
  const sin = quarter >= 0 ? [0, 1, 0, -1][quarter]! : Math.sin(a);
  const cy = (rows - 1) / 2;
  const cx = (cols - 1) / 2;
  const mirror = t.mirror === true;
  const at = (r: number, c: number): number => {
    if (r < 0 || r >= rows || c < 0 || c >= cols) return 0;
    return src[r * cols + (mirror ? cols - 1 - c : c)]!;
  };
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const dx = c - cx - tx;
      const dy = r - cy - ty;
      const sx = cos * dx - sin * dy + cx;
      const sy = sin * dx + cos * dy + cy;
      if (interpolation === 'nearest') {
        out[r * cols + c] = round(at(Math.round(sy), Math.round(sx)));
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const v =
        (1 - fx) * (1 - fy) * at(y0, x0) +
        fx * (1 - fy) * at(y0, x0 + 1) +
        (1 - fx) * fy * at(y0 + 1, x0) +
        fx * fy * at(y0 + 1, x0 + 1);
      out[r * cols + c] = round(v);
    }
  }
  return out;
}

const toByte = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));
const identity = (v: number): number => v;

/**
 * Rotates a byte image by `degrees` (counter-clockwise as displayed) about its centre, size kept;
 * pixels from outside are 0. Bilinear values are rounded to the nearest byte; 'nearest' copies the
 * nearest source pixel, so every output intensity is one of the input's.
 */
export function rotateImage(img: GrayPixels, degrees: number, interpolation: Interpolation = 'bilinear'): GrayPixels {
  const { rows, cols } = img;
  const pixels = resample(img.pixels, rows, cols, { degrees, interpolation }, new Uint8Array(rows * cols), toByte);
  return { pixels, rows, cols };
}

/** Mirrors a byte image left-right. */
export function mirrorImage(img: GrayPixels): GrayPixels {
  const { rows, cols } = img;
  return {
    pixels: resample(img.pixels, rows, cols, { mirror: true }, new Uint8Array(rows * cols), toByte),
    rows,
    cols,
  };
}

/**
 * Applies `t` to a float image (rows x cols, row-major) without rounding; writes into `out` when
 * given (it must not alias `src`).
 */
export function transformFloatImage(
  src: ArrayLike<number>,
  rows: number,
  cols: number,
  t: ImageTransform,
  out: Float32Array = new Float32Array(rows * cols),
): Float32Array {
  if (out.length !== rows * cols) throw new RangeError(`output has ${out.length} values, expected ${rows} x ${cols}`);
  return resample(src, rows, cols, t, out, identity);
}
