/**
 * An XYRCS-like set (our procedural generator, not the original files; docs/CODAE.md, "Data
 * generators"): one shape per image on black, with five factors, x, y (the centroid, pixels),
 * R (orientation), C (colour: brightness) and S (shape).
 *
 * Defaults (docs/CODAE.md; 32 x 32, anti-aliased with 4 x 4 samples per pixel):
 * - shape uniform over circle (radius 5 px), isosceles triangle (base 8, height 12, apex along the
 *   orientation) and rectangle (12 x 6, long side along the orientation);
 * - centroid uniform within ±6 px of the image centre ((W - 1) / 2, (H - 1) / 2), continuous;
 * - orientation uniform in [-π/2, π/2) radians, counter-clockwise as displayed (meaningless for the
 *   circle; for the triangle and rectangle the major axis of the second moments, so image moments
 *   recover it modulo π);
 * - brightness uniform over {0.4, 0.55, 0.7, 0.85, 1.0}.
 * Image i depends only on (seed, i).
 */
import { checkRange, imageRng, type FactorImages } from './factor-images';
import { circle, drawShape, rectangle, triangle, type ShapeGeometry, type ShapePose } from './shapes';

/** The shape classes, in label order. */
export const XYRCS_SHAPES: readonly string[] = Object.freeze(['circle', 'triangle', 'rectangle']);
/** The brightness levels. */
export const XYRCS_BRIGHTNESS: readonly number[] = Object.freeze([0.4, 0.55, 0.7, 0.85, 1.0]);
/** The factor columns. */
export const XYRCS_FACTORS: readonly string[] = Object.freeze(['x', 'y', 'angle', 'brightness', 'shape']);

/** Options of {@link xyrcsImages}. */
export interface XyrcsOptions {
  count: number;
  seed: number;
  /** First image index (image i of the set is the same whatever the start). Default 0. */
  start?: number;
  /** Image side. Default 32. */
  size?: number;
  /** Largest offset of the centroid from the image centre along x and y, pixels. Default 6. */
  shift?: number;
  /** Samples per pixel side. Default 4. */
  supersample?: number;
}

/** The geometry of shape class `k` (sizes scale with the image side, 32 px being the reference). */
export function xyrcsShape(k: number, size = 32): ShapeGeometry {
  const f = size / 32;
  if (k === 0) return circle(5 * f);
  if (k === 1) return triangle(8 * f, 12 * f);
  if (k === 2) return rectangle(12 * f, 6 * f);
  throw new RangeError(`xyrcsShape: shape class must be 0 (circle), 1 (triangle) or 2 (rectangle), got ${String(k)}`);
}

/** One XYRCS image of shape class `shape` at `pose` with `brightness` (drawn into a new size x size image). */
export function drawXyrcs(
  shape: number,
  brightness: number,
  pose: ShapePose,
  size = 32,
  supersample = 4,
): Float32Array {
  return drawShape(new Float32Array(size * size), size, size, xyrcsShape(shape, size), pose, {
    brightness,
    supersample,
  });
}

/** Images `start .. start + count - 1` of the XYRCS-like set seeded with `seed`; see the file comment. */
export function xyrcsImages(o: XyrcsOptions): FactorImages {
  const { start, count } = checkRange(o, 'xyrcsImages');
  const size = o.size ?? 32;
  if (!Number.isInteger(size) || size < 8 || size > 1024)
    throw new RangeError(`xyrcsImages: size must be an integer in [8, 1024], got ${String(size)}`);
  const shift = o.shift ?? 6 * (size / 32);
  if (!(shift >= 0 && shift <= size / 4))
    throw new RangeError(
      `xyrcsImages: shift must be in [0, ${size / 4}] pixels (the shape must stay inside), got ${String(shift)}`,
    );
  const supersample = o.supersample ?? 4;
  const P = size * size;
  const F = XYRCS_FACTORS.length;
  const data = new Float32Array(count * P);
  const factors = new Float32Array(count * F);
  const labels = new Int32Array(count);
  const centre = (size - 1) / 2;
  const geometries = [0, 1, 2].map((k) => xyrcsShape(k, size));
  for (let i = 0; i < count; i++) {
    const rng = imageRng(o.seed, start + i);
    const shape = rng.nextInt(3);
    const x = centre + shift * (2 * rng.nextFloat() - 1);
    const y = centre + shift * (2 * rng.nextFloat() - 1);
    const angle = Math.PI * (rng.nextFloat() - 0.5);
    const brightness = XYRCS_BRIGHTNESS[rng.nextInt(XYRCS_BRIGHTNESS.length)];
    drawShape(
      data.subarray(i * P, (i + 1) * P),
      size,
      size,
      geometries[shape],
      { x, y, angle },
      { brightness, supersample },
    );
    factors.set([x, y, angle, brightness, shape], i * F);
    labels[i] = shape;
  }
  return {
    data,
    count,
    height: size,
    width: size,
    factorNames: [...XYRCS_FACTORS],
    factors,
    discrete: [false, false, false, true, true],
    labels,
    shapes: [...XYRCS_SHAPES],
  };
}
