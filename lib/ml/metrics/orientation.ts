/**
 * The orientation of gray images from their intensity moments, and how much it varies over a set
 * (the rVAE essay's "the digits in the latent space are oriented in one direction", measured).
 *
 * With x = column (right) and y = -row (up, so angles are counter-clockwise as displayed, the
 * convention of docs/CONVENTIONS.md), the central second moments mu20 = sum I (x - mx)^2,
 * mu02 = sum I (y - my)^2, mu11 = sum I (x - mx)(y - my) give the principal axis
 * alpha = 1/2 atan2(2 mu11, mu20 - mu02) (an axis: alpha and alpha + 180 degrees are the same) and
 * the elongation e = sqrt((mu20 - mu02)^2 + 4 mu11^2) / (mu20 + mu02) in [0, 1] (0 for a round blob,
 * whose axis is undefined; 1 for a line).
 *
 * Over a set, the axes are compared as doubled angles (axial data, Mardia & Jupp §9.3): weighted by
 * elongation, the mean resultant length Rbar of exp(2 i alpha) gives the circular standard
 * deviation of the axis, sqrt(-2 ln Rbar) / 2. Turning every image of a set by one angle shifts the
 * mean axis by that angle and leaves the spread unchanged; turning each by its own random angle
 * widens the spread.
 */
import type { ImageBatch } from '../../data/augment';

/** Principal axis (degrees, counter-clockwise from the +x axis, in (-90, 90]) and elongation of one image. */
export interface ImageAxis {
  degrees: number;
  elongation: number;
}

/** The principal axis of image `index` of `images` (elongation 0 for an empty or round image). */
export function principalAxis(images: ImageBatch, index: number): ImageAxis {
  const { height: h, width: w } = images;
  const off = index * h * w;
  let m = 0;
  let sx = 0;
  let sy = 0;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const v = images.data[off + r * w + c];
      m += v;
      sx += v * c;
      sy += v * -r;
    }
  }
  if (!(m > 0)) return { degrees: 0, elongation: 0 };
  const mx = sx / m;
  const my = sy / m;
  let m20 = 0;
  let m02 = 0;
  let m11 = 0;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const v = images.data[off + r * w + c];
      const dx = c - mx;
      const dy = -r - my;
      m20 += v * dx * dx;
      m02 += v * dy * dy;
      m11 += v * dx * dy;
    }
  }
  const trace = m20 + m02;
  if (!(trace > 0)) return { degrees: 0, elongation: 0 };
  let degrees = (0.5 * Math.atan2(2 * m11, m20 - m02) * 180) / Math.PI;
  if (degrees <= -90) degrees += 180;
  return { degrees, elongation: Math.hypot(m20 - m02, 2 * m11) / trace };
}

/** Result of {@link orientationSpread}. */
export interface OrientationSpread {
  /** Circular standard deviation of the principal axes, degrees (0 = all parallel); null when no image has an axis. */
  spreadDegrees: number | null;
  /** Elongation-weighted mean axis, degrees in (-90, 90]; null when undefined. */
  meanDegrees: number | null;
  /** Weighted mean resultant length of the doubled axis angles, in [0, 1]. */
  resultant: number;
  /** Mean elongation of the images. */
  meanElongation: number;
  images: number;
}

/** The spread of the principal axes of `images` (see the file comment). */
export function orientationSpread(images: ImageBatch): OrientationSpread {
  const { count, height, width, data } = images;
  if (!Number.isInteger(count) || count < 1 || data.length !== count * height * width) {
    throw new RangeError(
      `orientationSpread: need at least one image with ${height}x${width} values each, got ${data.length} values for ${count} images`,
    );
  }
  let c = 0;
  let s = 0;
  let wsum = 0;
  for (let i = 0; i < count; i++) {
    const a = principalAxis(images, i);
    const t = (2 * a.degrees * Math.PI) / 180;
    c += a.elongation * Math.cos(t);
    s += a.elongation * Math.sin(t);
    wsum += a.elongation;
  }
  const resultant = wsum > 0 ? Math.min(1, Math.hypot(c, s) / wsum) : 0;
  // No image with an axis, or axes cancelling exactly: no mean direction and no finite spread.
  if (!(resultant > 0))
    return { spreadDegrees: null, meanDegrees: null, resultant: 0, meanElongation: wsum / count, images: count };
  const spread = (Math.sqrt(-2 * Math.log(resultant)) / 2) * (180 / Math.PI);
  let mean = (0.5 * Math.atan2(s, c) * 180) / Math.PI;
  if (mean <= -90) mean += 180;
  return { spreadDegrees: spread, meanDegrees: mean, resultant, meanElongation: wsum / count, images: count };
}
