/**
 * A dSprites-like set (our procedural generator on the dSprites factor grid, not the original
 * files; docs/CODAE.md, "Data generators"): binary 64 x 64 images of one white shape on black,
 * each a point of the grid
 *
 *     shape 3 (square, ellipse, heart) x scale 6 (0.5 .. 1) x orientation 40 (0 .. 2π, step 2π/40)
 *     x position x 32 x position y 32                                   = 737,280 combinations,
 *
 * drawn uniformly at random (with replacement) per image. Sizes at scale 1: square side 18 px,
 * ellipse 24 x 12 px (long axis along the orientation), heart 20 px tall (tip down at orientation
 * 0). A position value p in 0..1 (32 steps) puts the centroid at margin + p (side - 1 - 2 margin)
 * pixels, margin 14 px at 64 (every shape stays inside at every orientation). Pixels are on where
 * at least half of their 4 x 4 samples fall inside. Factors stored per image: shape (class), scale,
 * orientation (radians, counter-clockwise as displayed) and the centroid x, y in pixels.
 */
import { checkRange, imageRng, type FactorImages } from './factor-images';
import { drawShape, ellipse, heart, square, type ShapeGeometry } from './shapes';

export const DSPRITES_SHAPES: readonly string[] = Object.freeze(['square', 'ellipse', 'heart']);
export const DSPRITES_FACTORS: readonly string[] = Object.freeze(['shape', 'scale', 'angle', 'x', 'y']);
/** Grid sizes of the factors, in {@link DSPRITES_FACTORS} order. */
export const DSPRITES_GRID: readonly number[] = Object.freeze([3, 6, 40, 32, 32]);

/** Options of {@link dspritesImages}. */
export interface DspritesOptions {
  count: number;
  seed: number;
  /** First image index. Default 0. */
  start?: number;
  /** Image side (sizes and margins scale with it; 64 is the dSprites size). Default 64. */
  size?: number;
}

/** The geometry of shape class `k` at scale 1 for an image of side `size`. */
export function dspritesShape(k: number, size = 64): ShapeGeometry {
  const f = size / 64;
  if (k === 0) return square(18 * f);
  if (k === 1) return ellipse(12 * f, 6 * f);
  if (k === 2) return heart(20 * f);
  throw new RangeError(`dspritesShape: shape class must be 0 (square), 1 (ellipse) or 2 (heart), got ${String(k)}`);
}

/** The grid values of factor `k` at grid index `j`: scale, angle (radians), or position (pixels). */
export function dspritesValue(factor: 'scale' | 'angle' | 'position', j: number, size = 64): number {
  if (factor === 'scale') return 0.5 + (0.5 * j) / 5;
  if (factor === 'angle') return (2 * Math.PI * j) / 40;
  const margin = 14 * (size / 64);
  return margin + (j / 31) * (size - 1 - 2 * margin);
}

/** Images `start .. start + count - 1` of the dSprites-like set seeded with `seed`; see the file comment. */
export function dspritesImages(o: DspritesOptions): FactorImages {
  const { start, count } = checkRange(o, 'dspritesImages');
  const size = o.size ?? 64;
  if (!Number.isInteger(size) || size < 16 || size > 1024)
    throw new RangeError(`dspritesImages: size must be an integer in [16, 1024], got ${String(size)}`);
  const P = size * size;
  const F = DSPRITES_FACTORS.length;
  const data = new Float32Array(count * P);
  const factors = new Float32Array(count * F);
  const labels = new Int32Array(count);
  const geometries = [0, 1, 2].map((k) => dspritesShape(k, size));
  for (let i = 0; i < count; i++) {
    const rng = imageRng(o.seed, start + i);
    const shape = rng.nextInt(3);
    const scale = dspritesValue('scale', rng.nextInt(6));
    const angle = dspritesValue('angle', rng.nextInt(40));
    const x = dspritesValue('position', rng.nextInt(32), size);
    const y = dspritesValue('position', rng.nextInt(32), size);
    drawShape(
      data.subarray(i * P, (i + 1) * P),
      size,
      size,
      geometries[shape],
      { x, y, angle, scale },
      { binary: true, supersample: 4 },
    );
    factors.set([shape, scale, angle, x, y], i * F);
    labels[i] = shape;
  }
  return {
    data,
    count,
    height: size,
    width: size,
    factorNames: [...DSPRITES_FACTORS],
    factors,
    discrete: [true, false, false, false, false],
    labels,
    shapes: [...DSPRITES_SHAPES],
  };
}
