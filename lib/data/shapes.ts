/**
 * Filled 2-D shapes drawn into gray images at a pose, the building block of the procedural factor
 * data sets (xyrcs.ts, dsprites.ts) and of the moment tests.
 *
 * A shape is a region of its own frame (u to the right, v up, its area centroid at the origin, its
 * major axis along u for the elongated ones). Drawn at pose (x, y, angle, scale) it is scaled, turned counter-clockwise as
 * displayed by `angle`, and its centroid put at pixel (x, y) (x = column to the right, y = row
 * down; docs/CONVENTIONS.md, "Images"). Pixel (r, c) covers [c - 1/2, c + 1/2] x [r - 1/2, r + 1/2];
 * its value is the covered fraction (s x s point samples, `supersample`) times the brightness, or,
 * for binary images, the brightness where at least half of the samples are inside and 0 elsewhere.
 *
 * A sample at pixel offset (dx, dy) = (px - x, py - y) is in the shape when its frame coordinates
 *
 *     u = ( dx cos a - dy sin a) / scale,     v = (-dx sin a - dy cos a) / scale
 *
 * (the inverse of the turn, with y flipped to point up) fall inside the region.
 */

/** The shapes the generators draw. */
export type ShapeName = 'circle' | 'triangle' | 'rectangle' | 'square' | 'ellipse' | 'heart';
export const SHAPE_NAMES: readonly ShapeName[] = Object.freeze([
  'circle',
  'triangle',
  'rectangle',
  'square',
  'ellipse',
  'heart',
]);

/** A region in its own frame, centroid at the origin, major axis along u. */
export interface ShapeGeometry {
  name: ShapeName;
  /** Whether (u, v) is inside. */
  inside(u: number, v: number): boolean;
  /** A radius about the centroid that contains the whole shape. */
  radius: number;
}

/** A disc of radius r. */
export function circle(r: number): ShapeGeometry {
  positive(r, 'circle radius');
  return { name: 'circle', inside: (u, v) => u * u + v * v <= r * r, radius: r };
}

/** An ellipse with semi-axes a (along u) and b. */
export function ellipse(a: number, b: number): ShapeGeometry {
  positive(a, 'ellipse semi-axis a');
  positive(b, 'ellipse semi-axis b');
  return { name: 'ellipse', inside: (u, v) => (u * u) / (a * a) + (v * v) / (b * b) <= 1, radius: Math.max(a, b) };
}

/** A rectangle `length` along u by `width` along v. */
export function rectangle(length: number, width: number): ShapeGeometry {
  positive(length, 'rectangle length');
  positive(width, 'rectangle width');
  return {
    name: 'rectangle',
    inside: (u, v) => Math.abs(u) <= length / 2 && Math.abs(v) <= width / 2,
    radius: Math.hypot(length, width) / 2,
  };
}

/** A square of side s. */
export function square(s: number): ShapeGeometry {
  return { ...rectangle(s, s), name: 'square' };
}

/**
 * An isosceles triangle with base b (along v) and height h (along u), apex pointing to +u. Its
 * centroid is a third of the height above the base, so the base is at u = -h/3 and the apex at
 * u = 2h/3. With h > b sqrt(3)/2 its major axis is the height (u).
 */
export function triangle(base: number, height: number): ShapeGeometry {
  positive(base, 'triangle base');
  positive(height, 'triangle height');
  const apex = (2 * height) / 3;
  return {
    name: 'triangle',
    inside: (u, v) => u >= -height / 3 && u <= apex && Math.abs(v) <= ((base / 2) * (apex - u)) / height,
    radius: Math.max(apex, Math.hypot(height / 3, base / 2)),
  };
}

/** The implicit heart (x² + y² - 1)³ - x² y³ <= 0: lobes at +y, the tip at (0, -1). */
function inUnitHeart(x: number, y: number): boolean {
  const q = x * x + y * y - 1;
  return q * q * q - x * x * y * y * y <= 0;
}

/** Area centroid and extent of the unit heart, from a fine grid (computed on first use). */
let unitHeart: { cy: number; radius: number } | null = null;
function unitHeartFrame(): { cy: number; radius: number } {
  if (unitHeart) return unitHeart;
  const n = 1200;
  const lo = -1.5;
  const step = 3 / n;
  let area = 0;
  let sy = 0;
  let reach = 0;
  const cells: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const y = lo + (i + 0.5) * step;
    for (let j = 0; j < n; j++) {
      const x = lo + (j + 0.5) * step;
      if (inUnitHeart(x, y)) {
        area++;
        sy += y;
        cells.push([x, y]);
      }
    }
  }
  const cy = sy / area; // cx = 0 by symmetry
  for (const [x, y] of cells) reach = Math.max(reach, Math.hypot(x, y - cy));
  unitHeart = { cy, radius: reach + step };
  return unitHeart;
}

/**
 * A heart of height `size` (tip to the top of the lobes: the implicit curve spans y from -1 at the
 * tip to about 1.25 at the lobes, scaled by size / 2.25). Its axis of symmetry is the frame's v
 * axis with the tip at -v, so at angle 0 it stands upright as drawn, tip down (unlike the other
 * shapes, its long axis is not u). Centroid at the origin like every shape here.
 */
export function heart(size: number): ShapeGeometry {
  positive(size, 'heart size');
  const k = size / 2.25;
  const { cy, radius } = unitHeartFrame();
  return { name: 'heart', inside: (u, v) => inUnitHeart(u / k, v / k + cy), radius: radius * k };
}

function positive(v: number, what: string): void {
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
    throw new RangeError(`${what} must be a finite number > 0, got ${String(v)}`);
}

/** Where and how a shape is drawn. */
export interface ShapePose {
  /** Centroid column and row in pixels (x right, y down). */
  x: number;
  y: number;
  /** Turn in radians, counter-clockwise as displayed. */
  angle: number;
  /** Size factor. Default 1. */
  scale?: number;
}

/** Options of {@link drawShape}. */
export interface DrawOptions {
  /** Value of a fully covered pixel. Default 1. */
  brightness?: number;
  /** Point samples per pixel side (s x s per pixel). Default 4. */
  supersample?: number;
  /** Binary image: `brightness` where at least half of a pixel's samples are inside, else 0. Default false (covered fraction). */
  binary?: boolean;
}

/**
 * Draws `shape` at `pose` into `out` (a height x width image, row-major), replacing the pixels it
 * touches (the others are left as they are: start from zeros for one shape on black).
 */
export function drawShape(
  out: Float32Array,
  height: number,
  width: number,
  shape: ShapeGeometry,
  pose: ShapePose,
  options: DrawOptions = {},
): Float32Array {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1)
    throw new RangeError(`drawShape: height and width must be positive integers, got ${height} x ${width}`);
  if (out.length !== height * width)
    throw new RangeError(`drawShape: the image has ${out.length} values, expected ${height} x ${width}`);
  const scale = pose.scale ?? 1;
  for (const [k, v] of [
    ['x', pose.x],
    ['y', pose.y],
    ['angle', pose.angle],
  ] as const) {
    if (!Number.isFinite(v)) throw new RangeError(`drawShape: pose.${k} must be finite, got ${String(v)}`);
  }
  positive(scale, 'drawShape: pose.scale');
  const brightness = options.brightness ?? 1;
  if (!(brightness >= 0 && brightness <= 1))
    throw new RangeError(`drawShape: brightness must be in [0, 1], got ${String(brightness)}`);
  const s = options.supersample ?? 4;
  if (!Number.isInteger(s) || s < 1 || s > 64)
    throw new RangeError(`drawShape: supersample must be an integer in [1, 64], got ${String(s)}`);
  const cos = Math.cos(pose.angle);
  const sin = Math.sin(pose.angle);
  const reach = shape.radius * scale + 1;
  const r0 = Math.max(0, Math.floor(pose.y - reach));
  const r1 = Math.min(height - 1, Math.ceil(pose.y + reach));
  const c0 = Math.max(0, Math.floor(pose.x - reach));
  const c1 = Math.min(width - 1, Math.ceil(pose.x + reach));
  const samples = s * s;
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      let hits = 0;
      for (let i = 0; i < s; i++) {
        const dy = r - 0.5 + (i + 0.5) / s - pose.y;
        for (let j = 0; j < s; j++) {
          const dx = c - 0.5 + (j + 0.5) / s - pose.x;
          const u = (dx * cos - dy * sin) / scale;
          const v = (-dx * sin - dy * cos) / scale;
          if (shape.inside(u, v)) hits++;
        }
      }
      if (hits === 0) continue;
      out[r * width + c] = options.binary ? (2 * hits >= samples ? brightness : 0) : (brightness * hits) / samples;
    }
  }
  return out;
}
