/**
 * Image moments: the centroid and the orientation of the intensity distribution of a gray image,
 * the targets of CODAE's moment loss (docs/CODAE.md, "Image moments").
 *
 * With pixel (row r, column c) at x = c, y = r (docs/CONVENTIONS.md, "Images") and intensity I:
 *
 *     M_00 = Σ I,   x̄ = Σ x I / M_00,   ȳ = Σ y I / M_00
 *     μ_20 = Σ (x - x̄)² I / M_00,   μ_02 = Σ (y - ȳ)² I / M_00,   μ_11 = Σ (x - x̄)(y - ȳ) I / M_00
 *
 * The orientation of the major axis, counter-clockwise as displayed (y up, hence the sign of μ_11):
 *
 *     θ = ½ atan2(-2 μ_11, μ_20 - μ_02)   in (-π/2, π/2]
 *
 * It is defined only modulo π, and not at all where the second moments are isotropic
 * (μ_20 = μ_02 and μ_11 = 0: a disc, a square, an equilateral triangle). `defined` is false when
 * the eccentricity e = sqrt((μ_20 - μ_02)² + 4 μ_11²) / (μ_20 + μ_02) (0 for isotropic moments, 1
 * for a line) is at most `isotropyTolerance`, or the image is blank.
 */

/** One gray image, row-major, intensities >= 0. */
export interface MomentImage {
  data: Float32Array;
  height: number;
  width: number;
}

/** What {@link imageMoments} returns. */
export interface ImageMoments {
  /** Centroid column in pixels (x to the right); NaN for a blank image. */
  x: number;
  /** Centroid row in pixels (y down); NaN for a blank image. */
  y: number;
  /** Major-axis angle in radians, counter-clockwise as displayed, in (-π/2, π/2]; NaN when not defined. */
  angle: number;
  /** False for a blank image or isotropic second moments (then the angle means nothing). */
  defined: boolean;
  /** Total intensity M_00. */
  mass: number;
  /** Eccentricity of the second moments in [0, 1] (0: isotropic); NaN for a blank image. */
  eccentricity: number;
}

/** Options of {@link imageMoments}. */
export interface ImageMomentsOptions {
  /** Eccentricity at or below which the orientation is undefined. Default 0.03 ({@link ISOTROPY_TOLERANCE}). */
  isotropyTolerance?: number;
}

/** Default eccentricity below which the orientation is undefined (a disc of radius 5 px drawn with 4 x 4 samples per pixel has up to ~0.01, a 2:1 ellipse 0.6). */
export const ISOTROPY_TOLERANCE = 0.03;

/** Moments of image `index` of a batch (no checks: the callers check). */
export function momentsAt(
  data: Float32Array,
  height: number,
  width: number,
  index: number,
  tolerance = ISOTROPY_TOLERANCE,
): ImageMoments {
  const off = index * height * width;
  let m = 0;
  let sx = 0;
  let sy = 0;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const v = data[off + r * width + c];
      m += v;
      sx += c * v;
      sy += r * v;
    }
  }
  if (!(m > 0))
    return { x: Number.NaN, y: Number.NaN, angle: Number.NaN, defined: false, mass: m, eccentricity: Number.NaN };
  const x = sx / m;
  const y = sy / m;
  let mu20 = 0;
  let mu02 = 0;
  let mu11 = 0;
  for (let r = 0; r < height; r++) {
    const dy = r - y;
    for (let c = 0; c < width; c++) {
      const v = data[off + r * width + c];
      if (v === 0) continue;
      const dx = c - x;
      mu20 += dx * dx * v;
      mu02 += dy * dy * v;
      mu11 += dx * dy * v;
    }
  }
  mu20 /= m;
  mu02 /= m;
  mu11 /= m;
  const spread = mu20 + mu02;
  const eccentricity = spread > 0 ? Math.hypot(mu20 - mu02, 2 * mu11) / spread : 0;
  const defined = eccentricity > tolerance;
  return {
    x,
    y,
    angle: defined ? 0.5 * Math.atan2(-2 * mu11, mu20 - mu02) : Number.NaN,
    defined,
    mass: m,
    eccentricity,
  };
}

/**
 * Centroid and orientation of one gray image (see the file comment).
 *
 * @throws RangeError when the size does not match the data, or a value is negative or not finite.
 */
export function imageMoments(image: MomentImage, options: ImageMomentsOptions = {}): ImageMoments {
  if (image === null || typeof image !== 'object' || !(image.data instanceof Float32Array)) {
    throw new TypeError('imageMoments: expected one image { data: Float32Array, height, width }');
  }
  const { data, height, width } = image;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(
      `imageMoments: height and width must be positive integers, got ${String(height)} x ${String(width)}`,
    );
  }
  if (data.length !== height * width) {
    throw new RangeError(
      `imageMoments: data has ${data.length} values, expected height * width = ${height} * ${width} (one image)`,
    );
  }
  const tol = options.isotropyTolerance ?? ISOTROPY_TOLERANCE;
  if (!(tol >= 0 && tol < 1))
    throw new RangeError(`imageMoments: isotropyTolerance must be in [0, 1), got ${String(tol)}`);
  for (let i = 0; i < data.length; i++) {
    if (!(data[i] >= 0 && data[i] < Infinity)) {
      throw new RangeError(
        `imageMoments: pixel (row ${Math.floor(i / width)}, column ${i % width}) is ${data[i]}; intensities must be finite and >= 0`,
      );
    }
  }
  return momentsAt(data, height, width, 0, tol);
}
