// The procedural factor data of the CODAE work (lib/data/shapes.ts, moments.ts, xyrcs.ts,
// dsprites.ts): image moments of rendered shapes against their known pose, the isotropic cases,
// and the generators' determinism, factors and bad input.
import { describe, expect, it } from 'vitest';

import { dspritesImages, DSPRITES_GRID, dspritesValue } from '../lib/data/dsprites';
import { factorColumn } from '../lib/data/factor-images';
import { imageMoments, momentsAt } from '../lib/data/moments';
import { circle, drawShape, ellipse, heart, rectangle, square, triangle } from '../lib/data/shapes';
import { xyrcsImages, XYRCS_BRIGHTNESS } from '../lib/data/xyrcs';

/** |a - b| modulo π, in degrees. */
function axisError(a: number, b: number): number {
  const d = (((a - b) % Math.PI) + Math.PI) % Math.PI;
  return (Math.min(d, Math.PI - d) * 180) / Math.PI;
}

function render(
  shape: ReturnType<typeof ellipse>,
  x: number,
  y: number,
  angle: number,
  size = 48,
  supersample = 8,
): Float32Array {
  return drawShape(new Float32Array(size * size), size, size, shape, { x, y, angle }, { supersample });
}

describe('imageMoments', () => {
  it('recovers the centroid (< 0.05 px) and the major axis (< 1°) of rendered 2:1 ellipses', () => {
    const poses = [
      [23.5, 23.5, 0],
      [21.3, 25.8, 0.4],
      [26.1, 20.2, -1.2],
      [24.7, 22.9, Math.PI / 2],
      [22.2, 24.4, 2.9],
    ];
    for (const [x, y, angle] of poses) {
      const m = imageMoments({ data: render(ellipse(8, 4), x, y, angle), height: 48, width: 48 });
      expect(m.defined).toBe(true);
      expect(Math.abs(m.x - x)).toBeLessThan(0.05);
      expect(Math.abs(m.y - y)).toBeLessThan(0.05);
      expect(axisError(m.angle, angle)).toBeLessThan(1);
      expect(m.angle).toBeGreaterThan(-Math.PI / 2);
      expect(m.angle).toBeLessThanOrEqual(Math.PI / 2);
    }
  });

  it('measures angles counter-clockwise as displayed (y down in the image)', () => {
    // A thin bar from the lower left to the upper right is at +45°.
    const img = new Float32Array(9 * 9);
    for (let k = 0; k < 9; k++) img[(8 - k) * 9 + k] = 1;
    const m = imageMoments({ data: img, height: 9, width: 9 });
    expect(m.x).toBeCloseTo(4, 10);
    expect(m.y).toBeCloseTo(4, 10);
    expect(m.angle).toBeCloseTo(Math.PI / 4, 10);
    expect(m.eccentricity).toBeCloseTo(1, 10);
  });

  it('finds the major axis of the XYRCS triangle and rectangle along their orientation', () => {
    for (const shape of [triangle(8, 12), rectangle(12, 6)]) {
      for (const angle of [-1.3, -0.2, 0.7, 1.5]) {
        const m = imageMoments({ data: render(shape, 24.2, 23.1, angle), height: 48, width: 48 });
        expect(axisError(m.angle, angle)).toBeLessThan(1);
      }
    }
  });

  it('leaves the orientation undefined for isotropic moments (disc, square) and blank images', () => {
    for (const shape of [circle(5), square(10)]) {
      for (const angle of [0, 0.3, 1.1]) {
        const m = imageMoments({ data: render(shape, 23.7, 24.2, angle, 48, 4), height: 48, width: 48 });
        expect(m.defined).toBe(false);
        expect(Number.isNaN(m.angle)).toBe(true);
        expect(Number.isFinite(m.x)).toBe(true);
      }
    }
    const blank = imageMoments({ data: new Float32Array(16), height: 4, width: 4 });
    expect(blank).toMatchObject({ defined: false, mass: 0 });
    expect(Number.isNaN(blank.x)).toBe(true);
    // A heart is not isotropic: defined.
    expect(imageMoments({ data: render(heart(20), 24, 24, 0.5), height: 48, width: 48 }).defined).toBe(true);
  });

  it('rejects bad input with a clear message', () => {
    expect(() => imageMoments({ data: new Float32Array(10), height: 3, width: 3 })).toThrow(
      /expected height \* width = 3 \* 3/,
    );
    expect(() => imageMoments({ data: Float32Array.from([0, -1, 0, 0]), height: 2, width: 2 })).toThrow(
      /pixel \(row 0, column 1\) is -1; intensities must be finite and >= 0/,
    );
    expect(() => imageMoments({ data: Float32Array.from([0, NaN, 0, 0]), height: 2, width: 2 })).toThrow(/NaN/);
    expect(() => imageMoments({ data: new Float32Array(4), height: 0, width: 4 })).toThrow(/positive integers/);
    expect(() => imageMoments({ data: [1, 2] as unknown as Float32Array, height: 1, width: 2 })).toThrow(
      /Float32Array/,
    );
  });
});

describe('XYRCS-like generator', () => {
  const set = xyrcsImages({ count: 300, seed: 4 });

  it('is deterministic, and image i depends only on (seed, i)', () => {
    const again = xyrcsImages({ count: 300, seed: 4 });
    expect(Buffer.from(again.data.buffer).equals(Buffer.from(set.data.buffer))).toBe(true);
    const part = xyrcsImages({ count: 50, seed: 4, start: 100 });
    expect(Array.from(part.data)).toEqual(Array.from(set.data.subarray(100 * 1024, 150 * 1024)));
    expect(Array.from(part.factors)).toEqual(Array.from(set.factors.subarray(100 * 5, 150 * 5)));
    expect(Array.from(xyrcsImages({ count: 5, seed: 5 }).factors)).not.toEqual(Array.from(set.factors.subarray(0, 25)));
  });

  it('stores every factor, and the images show them', () => {
    expect(set.factorNames).toEqual(['x', 'y', 'angle', 'brightness', 'shape']);
    expect(set.discrete).toEqual([false, false, false, true, true]);
    const x = factorColumn(set, 'x');
    const angle = factorColumn(set, 'angle');
    const bright = factorColumn(set, 'brightness');
    for (let i = 0; i < set.count; i++) {
      const m = momentsAt(set.data, 32, 32, i);
      expect(Math.abs(m.x - x[i])).toBeLessThan(0.1);
      expect(Math.abs(m.y - set.factors[i * 5 + 1])).toBeLessThan(0.1);
      expect(Math.abs(x[i] - 15.5)).toBeLessThanOrEqual(6);
      expect(angle[i]).toBeGreaterThanOrEqual(-Math.PI / 2);
      expect(angle[i]).toBeLessThan(Math.PI / 2);
      expect(XYRCS_BRIGHTNESS.map(Math.fround)).toContain(bright[i]);
      expect(set.labels[i]).toBe(set.factors[i * 5 + 4]);
      let max = 0;
      for (let p = 0; p < 1024; p++) max = Math.max(max, set.data[i * 1024 + p]);
      expect(max).toBeCloseTo(bright[i], 5); // some pixel is fully covered
      if (set.labels[i] === 0) expect(m.defined).toBe(false);
      else expect(axisError(m.angle, angle[i])).toBeLessThan(3);
    }
    for (let c = 0; c < 3; c++) expect(set.labels.filter((l) => l === c).length).toBeGreaterThan(70);
  });

  it('rejects bad options', () => {
    expect(() => xyrcsImages({ count: -1, seed: 1 })).toThrow(/count/);
    expect(() => xyrcsImages({ count: 1, seed: 1.5 })).toThrow(/seed/);
    expect(() => xyrcsImages({ count: 1, seed: 1, shift: 20 })).toThrow(/shift/);
    expect(() => xyrcsImages({ count: 1, seed: 1, size: 4 })).toThrow(/size/);
  });
});

describe('dSprites-like generator', () => {
  const set = dspritesImages({ count: 120, seed: 2 });

  it('draws binary 64 x 64 images on the dSprites factor grid', () => {
    expect(DSPRITES_GRID.reduce((a, b) => a * b, 1)).toBe(737280);
    expect(set.height).toBe(64);
    expect(set.factorNames).toEqual(['shape', 'scale', 'angle', 'x', 'y']);
    expect(set.data.every((v) => v === 0 || v === 1)).toBe(true);
    const scales = new Set(Array.from({ length: 6 }, (_, j) => Math.fround(dspritesValue('scale', j))));
    const positions = new Set(Array.from({ length: 32 }, (_, j) => Math.fround(dspritesValue('position', j))));
    for (let i = 0; i < set.count; i++) {
      const [shape, scale, angle, x, y] = set.factors.subarray(i * 5, i * 5 + 5);
      expect([0, 1, 2]).toContain(shape);
      expect(scales.has(scale)).toBe(true);
      expect(positions.has(x) && positions.has(y)).toBe(true);
      const k = (angle * 40) / (2 * Math.PI);
      expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-5);
      // The shape stays inside the frame: no pixel on the border.
      for (let t = 0; t < 64; t++) {
        expect(set.data[i * 4096 + t]).toBe(0);
        expect(set.data[i * 4096 + 63 * 64 + t]).toBe(0);
      }
      const m = momentsAt(set.data, 64, 64, i);
      expect(Math.abs(m.x - x)).toBeLessThan(0.5);
      expect(Math.abs(m.y - y)).toBeLessThan(0.5);
    }
    expect(Array.from(dspritesImages({ count: 20, seed: 2, start: 100 }).factors)).toEqual(
      Array.from(set.factors.subarray(500, 600)),
    );
  });
});
