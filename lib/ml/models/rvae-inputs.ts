/**
 * Checks of what callers hand to {@link Rvae}: image batches (size, length, values in [0, 1]),
 * class labels (present for a conditional model, integers in range), latent matrices, angles and
 * shifts. Each throws a TypeError/RangeError that says what was wrong and what is allowed.
 */
import type { Float32Matrix, ResolvedRvaeOptions, RvaeImages } from './rvae-config';

/** Throws unless `images` is an image batch of the model's size with finite values in [0, 1]. */
export function checkImages(images: RvaeImages, o: Pick<ResolvedRvaeOptions, 'height' | 'width'>, what: string): void {
  if (images === null || typeof images !== 'object')
    throw new TypeError(`${what} must be an image batch { data, count, height, width }`);
  if (!(images.data instanceof Float32Array))
    throw new TypeError(`${what}.data must be a Float32Array of intensities in [0, 1]`);
  if (!Number.isInteger(images.count) || images.count < 0)
    throw new RangeError(`${what}.count must be an integer >= 0, got ${String(images.count)}`);
  if (images.height !== o.height || images.width !== o.width) {
    throw new RangeError(
      `${what} are ${String(images.height)}x${String(images.width)} images, but the model reads ${o.height}x${o.width}`,
    );
  }
  const n = o.height * o.width;
  if (images.data.length !== images.count * n) {
    throw new RangeError(
      `${what}.data has ${images.data.length} values, expected count * height * width = ${images.count} * ${o.height} * ${o.width}`,
    );
  }
  const d = images.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (!(v >= 0 && v <= 1)) {
      const img = Math.floor(i / n);
      const p = i % n;
      throw new RangeError(
        `${what}: image ${img}, pixel (row ${Math.floor(p / o.width)}, column ${p % o.width}) is ${v}; intensities must be finite and in [0, 1] (the Bernoulli likelihood)`,
      );
    }
  }
}

/**
 * The labels a conditional model uses for `count` images (from `labels`, else `images.labels`),
 * checked; null for an unconditional model (labels are then ignored).
 */
export function resolveLabels(
  labels: Int32Array | undefined,
  fallback: Int32Array | undefined,
  count: number,
  classes: number,
  what: string,
): Int32Array | null {
  if (classes === 0) return null;
  const l = labels ?? fallback;
  if (l === undefined)
    throw new TypeError(
      `${what}: the model is conditioned on ${classes} classes, so it needs labels (an Int32Array, one class per image)`,
    );
  if (!(l instanceof Int32Array)) throw new TypeError(`${what}: labels must be an Int32Array`);
  if (l.length !== count) throw new RangeError(`${what}: ${l.length} labels for ${count} images`);
  for (let i = 0; i < l.length; i++) {
    if (!(l[i] >= 0 && l[i] < classes))
      throw new RangeError(`${what}: label ${l[i]} of image ${i} is outside 0..${classes - 1}`);
  }
  return l;
}

/** Throws unless `z` is a count x cols float matrix with finite values. */
export function checkMatrix(z: Float32Matrix, cols: number, what: string): void {
  if (z === null || typeof z !== 'object' || !(z.data instanceof Float32Array))
    throw new TypeError(`${what} must be a matrix { data: Float32Array, rows, cols }`);
  if (z.cols !== cols)
    throw new RangeError(`${what} has ${String(z.cols)} columns, but the model has ${cols} content latents`);
  if (!Number.isInteger(z.rows) || z.rows < 0 || z.data.length !== z.rows * z.cols) {
    throw new RangeError(
      `${what}.data has ${z.data.length} values, expected rows * cols = ${String(z.rows)} * ${String(z.cols)}`,
    );
  }
  const i = z.data.findIndex((v) => !Number.isFinite(v));
  if (i >= 0)
    throw new RangeError(
      `${what}: value ${z.data[i]} at row ${Math.floor(i / cols)}, column ${i % cols} is not finite`,
    );
}

/** Throws unless `a` is a Float32Array of `length` finite values. */
export function checkVector(a: Float32Array, length: number, what: string): void {
  if (!(a instanceof Float32Array)) throw new TypeError(`${what} must be a Float32Array`);
  if (a.length !== length) throw new RangeError(`${what} has ${a.length} values, expected ${length}`);
  const i = a.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) throw new RangeError(`${what}: value ${a[i]} at index ${i} is not finite`);
}
