/**
 * Image transforms (lib/data/transform.ts) and the augmented image sets (lib/data/augment.ts):
 * the direction conventions, exact quarter turns, shifts, determinism and subsets.
 */
import { describe, expect, it } from 'vitest';

import { augmentFactors, augmentImages, ROTATED_60, ROTATED_MIRRORED } from '../lib/data/augment';
import { InMemoryDataset } from '../lib/data/datasets';
import { rotateImage, transformFloatImage } from '../lib/data/transform';

/** A 6 x 5 float image with distinct values. */
const H = 6;
const W = 5;
const img = Float32Array.from({ length: H * W }, (_, k) => (k + 1) / (H * W));
const at = (a: Float32Array, r: number, c: number, w = W): number => a[r * w + c]!;

describe('transformFloatImage', () => {
  it('a quarter turn is an exact counter-clockwise permutation on a square image (both resamplings)', () => {
    const n = 7;
    const sq = Float32Array.from({ length: n * n }, (_, k) => Math.sin(k) + 2);
    for (const interpolation of ['bilinear', 'nearest'] as const) {
      const q = transformFloatImage(sq, n, n, { degrees: 90, interpolation });
      // Counter-clockwise as displayed: the right column becomes the top row.
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) expect(at(q, r, c, n)).toBe(at(sq, c, n - 1 - r, n));
      const back = transformFloatImage(q, n, n, { degrees: -90, interpolation });
      expect(Array.from(back)).toEqual(Array.from(sq));
    }
  });

  it('an integer shift moves the content right and down, zero filled', () => {
    const s = transformFloatImage(img, H, W, { shift: [2, 1] });
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const want = r - 1 >= 0 && c - 2 >= 0 ? at(img, r - 1, c - 2) : 0;
        expect(at(s, r, c)).toBe(want);
      }
    }
  });

  it('mirror flips left-right before the rotation', () => {
    const m = transformFloatImage(img, H, W, { mirror: true });
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) expect(at(m, r, c)).toBe(at(img, r, W - 1 - c));
    const mr = transformFloatImage(img, H, W, { mirror: true, degrees: 180 });
    const rm = transformFloatImage(m, H, W, { degrees: 180 });
    expect(Array.from(mr)).toEqual(Array.from(rm));
  });

  it('agrees with the byte rotation before its rounding', () => {
    const bytes = Uint8Array.from(img, (v) => Math.round(v * 255));
    const f = transformFloatImage(bytes, H, W, { degrees: 33 });
    const b = rotateImage({ pixels: bytes, rows: H, cols: W }, 33).pixels;
    for (let k = 0; k < H * W; k++) expect(b[k]).toBe(Math.max(0, Math.min(255, Math.round(f[k]!))));
  });

  it('rejects unknown resamplings and non-finite angles', () => {
    expect(() => transformFloatImage(img, H, W, { interpolation: 'bicubic' as 'nearest' })).toThrow(
      /unknown interpolation 'bicubic'; known: bilinear, nearest/,
    );
    expect(() => transformFloatImage(img, H, W, { degrees: Number.NaN })).toThrow(/finite/);
  });
});

describe('augmentImages', () => {
  const pixels = Uint8Array.from({ length: 10 * H * W }, (_, k) => (k * 37) % 256);
  const ds = new InMemoryDataset({
    name: 'toy',
    pixels,
    rows: H,
    cols: W,
    channels: 1,
    labels: Uint8Array.from({ length: 10 }, (_, i) => i % 3),
  });

  it('keeps every factor, is deterministic under the seed, and a subset equals the same rows of the whole', () => {
    const all = augmentImages(ds, { ...ROTATED_MIRRORED, seed: 5 });
    const again = augmentImages(ds, { ...ROTATED_MIRRORED, seed: 5 });
    expect(Array.from(again.data)).toEqual(Array.from(all.data));
    const part = augmentImages(ds, { ...ROTATED_MIRRORED, seed: 5, start: 4, count: 3 });
    expect(Array.from(part.data)).toEqual(Array.from(all.data.subarray(4 * H * W, 7 * H * W)));
    expect(Array.from(part.angles)).toEqual(Array.from(all.angles.subarray(4, 7)));
    expect(Array.from(all.labels)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
    expect(Array.from(all.source)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const other = augmentImages(ds, { ...ROTATED_MIRRORED, seed: 6 });
    expect(Array.from(other.angles)).not.toEqual(Array.from(all.angles));
    // Each image is its source under its recorded factors.
    for (let i = 0; i < 10; i++) {
      const src = Float32Array.from(pixels.subarray(i * H * W, (i + 1) * H * W), (v) => v / 255);
      const want = transformFloatImage(src, H, W, {
        degrees: (all.angles[i]! * 180) / Math.PI,
        mirror: all.mirrored[i] === 1,
        interpolation: 'bilinear',
      });
      for (let k = 0; k < H * W; k++) expect(all.data[i * H * W + k]).toBeCloseTo(want[k]!, 5);
    }
  });

  it('draws the notebook angles as whole degrees in [-60, 60] and mirrors about half of the images', () => {
    const degrees = Array.from({ length: 2000 }, (_, i) => augmentFactors({ ...ROTATED_60, seed: 1 }, i).degrees);
    expect(degrees.every((d) => Number.isInteger(d) && d >= -60 && d <= 60)).toBe(true);
    expect(Math.min(...degrees)).toBe(-60);
    expect(Math.max(...degrees)).toBe(60);
    const mirrors = Array.from(
      { length: 2000 },
      (_, i) => augmentFactors({ ...ROTATED_MIRRORED, seed: 1 }, i).mirror,
    ).filter(Boolean).length;
    expect(mirrors).toBeGreaterThan(900);
    expect(mirrors).toBeLessThan(1100);
    const shifts = Array.from({ length: 500 }, (_, i) => augmentFactors({ seed: 2, shift: 3 }, i).shift).flat();
    expect(shifts.every((s) => Number.isInteger(s) && Math.abs(s) <= 3)).toBe(true);
    expect(new Set(shifts).size).toBe(7);
  });

  it('rejects bad options with a message that names them', () => {
    expect(() => augmentImages(ds, { seed: 1, mirror: 2 })).toThrow(/mirror is a probability/);
    expect(() => augmentImages(ds, { seed: 1, angles: [10, 5] })).toThrow(/min <= max/);
    expect(() => augmentImages(ds, { seed: 1, start: 8, count: 5 })).toThrow(/count must be an integer in \[0, 2\]/);
    expect(() => augmentImages(ds, { seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => augmentImages(ds, { seed: 1, shift: 1.5 })).toThrow(/shift must be a non-negative integer/);
  });
});
