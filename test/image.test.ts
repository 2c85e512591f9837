import { describe, expect, it } from 'vitest';
import { loadMnist } from '../lib/io/idx';
import { defaultThreshold, imageToPoints, intensityToZTable, mnistImage, type GrayImage } from '../lib/data/image';
import { Rng } from '../lib/util/random';
import { readReference } from './helpers/reference';

/** Reference case a for training image i (test/fixtures/reference; docs/REFERENCE-DATA.md). */
function readRef(i: number): { source: { image_index: number; label: number }; points: number[][] } {
  const ref = readReference(`a_paper_rc63_n7_l10_s3_train${String(i).padStart(5, '0')}.json`);
  return { source: ref.source as { image_index: number; label: number }, points: ref.points };
}

function toTriples(p: Float64Array): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < p.length; k += 3) out.push([p[k] as number, p[k + 1] as number, p[k + 2] as number]);
  return out;
}

describe('imageToPoints on MNIST', () => {
  const mnist = loadMnist('train');

  it('reproduces the reference points of training images 0..2 exactly, in order', () => {
    for (let i = 0; i < 3; i++) {
      const ref = readRef(i);
      expect(ref.source.image_index).toBe(i);
      expect(mnist.labels[i]).toBe(ref.source.label);
      const pts = imageToPoints(mnistImage(mnist, i));
      expect(pts.count).toBe(ref.points.length);
      expect(pts.positions.length).toBe(3 * pts.count);
      expect(pts.pixelIndex.length).toBe(pts.count);
      expect(toTriples(pts.positions)).toEqual(ref.points);
      for (let p = 0; p < pts.count; p++) {
        const [x, y] = ref.points[p] as [number, number, number];
        expect(pts.pixelIndex[p]).toBe(y * 28 + x);
      }
    }
  });

  it('image 0 has 159 points with the defaults (floor(I/10) > 0)', () => {
    const img = mnistImage(mnist, 0);
    const pts = imageToPoints(img);
    expect(pts.count).toBe(159);
    let manual = 0;
    for (const v of img.pixels) if (Math.floor(v / 10) > 0) manual++;
    expect(manual).toBe(159);
  });

  it("zRounding 'none' keeps every non-zero pixel with z = I/10", () => {
    const img = mnistImage(mnist, 0);
    const pts = imageToPoints(img, { zRounding: 'none' });
    let nonZero = 0;
    for (const v of img.pixels) if (v > 0) nonZero++;
    expect(pts.count).toBe(nonZero);
    for (let p = 0; p < pts.count; p++) {
      const I = img.pixels[pts.pixelIndex[p] as number] as number;
      expect(pts.positions[3 * p + 2]).toBe(I / 10);
      expect(pts.positions[3 * p]).toBe((pts.pixelIndex[p] as number) % 28);
      expect(pts.positions[3 * p + 1]).toBe(Math.floor((pts.pixelIndex[p] as number) / 28));
    }
    // Same threshold as the default floor rule gives the same point set, unrounded z.
    const same = imageToPoints(img, { zRounding: 'none', threshold: 10 });
    const floor = imageToPoints(img);
    expect(Array.from(same.pixelIndex)).toEqual(Array.from(floor.pixelIndex));
  });
});

describe('imageToPoints options', () => {
  const img: GrayImage = { pixels: [0, 5, 9, 10, 19, 20, 100, 255, 254], rows: 3, cols: 3 };

  it('default threshold is the smallest intensity with z > 0', () => {
    expect(defaultThreshold()).toBe(10);
    expect(defaultThreshold(0.1, 'none')).toBe(1);
    expect(defaultThreshold(0.25, 'floor')).toBe(4);
    expect(defaultThreshold(1 / 300, 'floor')).toBe(256);
    const t = intensityToZTable();
    expect(t[9]).toBe(0);
    expect(t[10]).toBe(1);
    expect(t[255]).toBe(25);
    expect(intensityToZTable(0.1, 'none')[255]).toBe(25.5);
  });

  it('applies the default rule on a small image', () => {
    const pts = imageToPoints(img);
    expect(toTriples(pts.positions)).toEqual([
      [0, 1, 1],
      [1, 1, 1],
      [2, 1, 2],
      [0, 2, 10],
      [1, 2, 25],
      [2, 2, 25],
    ]);
    expect(Array.from(pts.pixelIndex)).toEqual([3, 4, 5, 6, 7, 8]);
  });

  it('honours an explicit threshold and zScale', () => {
    const low = imageToPoints(img, { threshold: 5 });
    expect(low.count).toBe(8);
    expect(toTriples(low.positions).slice(0, 2)).toEqual([
      [1, 0, 0],
      [2, 0, 0],
    ]);
    expect(imageToPoints(img, { threshold: 0 }).count).toBe(9);
    expect(imageToPoints(img, { threshold: 256 }).count).toBe(0);
    expect(imageToPoints(img, { threshold: 100 }).count).toBe(3);
    const half = imageToPoints(img, { zScale: 0.5 });
    expect(half.count).toBe(8); // floor(I/2) > 0 iff I >= 2
    expect(half.positions[2]).toBe(2); // I = 5
    const none = imageToPoints(img, { zScale: 0.3, zRounding: 'none' });
    expect(none.positions[2]).toBe(5 * 0.3);
  });

  it('accepts Uint8Array and Uint8ClampedArray pixels', () => {
    const a = imageToPoints({ ...img, pixels: Uint8Array.from(img.pixels) });
    const b = imageToPoints({ ...img, pixels: Uint8ClampedArray.from(img.pixels) });
    const c = imageToPoints(img);
    expect(Array.from(a.positions)).toEqual(Array.from(c.positions));
    expect(Array.from(b.positions)).toEqual(Array.from(c.positions));
  });

  it('returns an empty cloud for a blank image', () => {
    const pts = imageToPoints({ pixels: new Uint8Array(16), rows: 4, cols: 4 });
    expect(pts.count).toBe(0);
    expect(pts.positions.length).toBe(0);
  });
});

describe('imageToPoints displacement', () => {
  const mnist = loadMnist('train');
  const img = mnistImage(mnist, 0);

  it('is deterministic for a seed and differs between seeds', () => {
    const a = imageToPoints(img, { displacement: { sigma: 0.5, seed: 7 } });
    const b = imageToPoints(img, { displacement: { sigma: 0.5, seed: 7 } });
    const c = imageToPoints(img, { displacement: { sigma: 0.5, seed: 8 } });
    expect(Array.from(a.positions)).toEqual(Array.from(b.positions));
    expect(Array.from(a.positions)).not.toEqual(Array.from(c.positions));
    expect(Array.from(a.pixelIndex)).toEqual(Array.from(imageToPoints(img).pixelIndex));
  });

  it('sigma 0 leaves the points unchanged', () => {
    const a = imageToPoints(img, { displacement: { sigma: 0, seed: 1 } });
    expect(Array.from(a.positions)).toEqual(Array.from(imageToPoints(img).positions));
  });

  it('noise has mean ~0 and std ~sigma on x, y and z', () => {
    const base = imageToPoints(img).positions;
    const sigma = 1.7;
    const sums = [0, 0, 0];
    const sq = [0, 0, 0];
    let n = 0;
    for (let seed = 0; seed < 40; seed++) {
      const d = imageToPoints(img, { displacement: { sigma, seed } }).positions;
      for (let k = 0; k < d.length; k++) {
        const e = (d[k] as number) - (base[k] as number);
        sums[k % 3]! += e;
        sq[k % 3]! += e * e;
      }
      n += d.length / 3;
    }
    for (let c = 0; c < 3; c++) {
      const mean = sums[c]! / n;
      const std = Math.sqrt(sq[c]! / n - mean * mean);
      // n = 6360 samples per axis: std error of the mean ~0.02, of the std ~0.015.
      expect(Math.abs(mean)).toBeLessThan(0.1);
      expect(Math.abs(std - sigma) / sigma).toBeLessThan(0.05);
    }
  });

  it('draws x, y, z per point in order from new Rng(seed).normal()', () => {
    const base = imageToPoints(img).positions;
    const d = imageToPoints(img, { displacement: { sigma: 2, seed: 123 } }).positions;
    const rng = new Rng(123);
    for (let k = 0; k < 9; k++) expect(d[k]).toBe((base[k] as number) + 2 * rng.normal());
  });
});

describe('imageToPoints input validation', () => {
  const ok: GrayImage = { pixels: [0, 50, 100, 200], rows: 2, cols: 2 };

  it('rejects wrong shapes and types with TypeError', () => {
    expect(() => imageToPoints(null as unknown as GrayImage)).toThrow(TypeError);
    expect(() => imageToPoints({ ...ok, pixels: [1, 2, 3] })).toThrow(/length 3, expected rows \* cols = 2 \* 2 = 4/);
    expect(() => imageToPoints({ ...ok, pixels: [1, 2, 3] })).toThrow(TypeError);
    expect(() => imageToPoints({ ...ok, pixels: new Float32Array(4) as unknown as number[] })).toThrow(/Float32Array/);
    expect(() => imageToPoints({ ...ok, pixels: 'abcd' as unknown as number[] })).toThrow(TypeError);
    expect(() => imageToPoints({ ...ok, pixels: [0, '1', 2, 3] as unknown as number[] })).toThrow(
      /pixels\[1\] \(row 0, col 1\)/,
    );
    expect(() => imageToPoints({ ...ok, rows: 2.5 })).toThrow(TypeError);
    expect(() => imageToPoints(ok, { zRounding: 3 as unknown as 'floor' })).toThrow(TypeError);
    expect(() => imageToPoints(ok, { threshold: '10' as unknown as number })).toThrow(TypeError);
    expect(() =>
      imageToPoints(ok, { displacement: { sigma: 1 } as unknown as { sigma: number; seed: number } }),
    ).toThrow(/seed must be a number/);
  });

  it('rejects out-of-range values with RangeError', () => {
    expect(() => imageToPoints({ ...ok, pixels: [0, 256, 0, 0] })).toThrow(RangeError);
    expect(() => imageToPoints({ ...ok, pixels: [0, -1, 0, 0] })).toThrow(
      /= -1 is out of range; allowed are integers 0\.\.255/,
    );
    expect(() => imageToPoints({ ...ok, pixels: [0, 1.5, 0, 0] })).toThrow(RangeError);
    expect(() => imageToPoints({ ...ok, pixels: [0, Number.NaN, 0, 0] })).toThrow(RangeError);
    expect(() => imageToPoints({ ...ok, pixels: [0, Infinity, 0, 0] })).toThrow(RangeError);
    expect(() => imageToPoints({ pixels: [], rows: 0, cols: 0 })).toThrow(RangeError);
    expect(() => imageToPoints(ok, { zScale: 0 })).toThrow(RangeError);
    expect(() => imageToPoints(ok, { zScale: Number.NaN })).toThrow(RangeError);
    expect(() => imageToPoints(ok, { zRounding: 'round' as unknown as 'floor' })).toThrow(
      /'floor' \(default\) and 'none'/,
    );
    expect(() => imageToPoints(ok, { threshold: 300 })).toThrow(/0\.\.256/);
    expect(() => imageToPoints(ok, { threshold: -1 })).toThrow(RangeError);
    expect(() => imageToPoints(ok, { displacement: { sigma: -1, seed: 0 } })).toThrow(RangeError);
    expect(() => imageToPoints(ok, { displacement: { sigma: 1, seed: 0.5 } })).toThrow(RangeError);
  });

  it('mnistImage checks the index', () => {
    const m = { images: new Uint8Array(8), labels: new Uint8Array(2), count: 2, rows: 2, cols: 2 };
    expect(Array.from(mnistImage(m, 1).pixels)).toEqual([0, 0, 0, 0]);
    expect(() => mnistImage(m, 2)).toThrow(RangeError);
    expect(() => mnistImage(m, 0.5)).toThrow(TypeError);
  });
});

describe('Rng (seeded PRNG used for displacement)', () => {
  it('matches the xoshiro128** reference output for a known state', () => {
    // First outputs of xoshiro128** with state {1, 2, 3, 4}, from the reference C code.
    const rng = new Rng(0) as unknown as { s0: number; s1: number; s2: number; s3: number; nextUint32(): number };
    rng.s0 = 1;
    rng.s1 = 2;
    rng.s2 = 3;
    rng.s3 = 4;
    const first = Array.from({ length: 4 }, () => rng.nextUint32());
    expect(first).toEqual([11520, 0, 5927040, 70819200]);
    for (let k = 0; k < 996; k++) rng.nextUint32();
    // Outputs 1001..1004.
    expect(Array.from({ length: 4 }, () => rng.nextUint32())).toEqual([136054147, 2224941748, 1458134130, 3964477073]);
  });

  it('same seed gives the same sequence; different seeds differ', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 20 }, () => a.nextFloat());
    expect(Array.from({ length: 20 }, () => b.nextFloat())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.nextFloat())).not.toEqual(sa);
    expect(new Rng(-5).nextUint32()).not.toBe(new Rng(5).nextUint32());
    expect(new Rng(2 ** 40).nextUint32()).not.toBe(new Rng(0).nextUint32());
  });

  it('nextFloat is in [0, 1), nextInt(n) in 0..n-1 and roughly uniform', () => {
    const rng = new Rng(1);
    const counts = new Array<number>(10).fill(0);
    let lo = 1;
    let hi = 0;
    for (let k = 0; k < 100000; k++) {
      const f = rng.nextFloat();
      lo = Math.min(lo, f);
      hi = Math.max(hi, f);
      counts[rng.nextInt(10)]!++;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
    const big = rng.nextInt(2 ** 40);
    expect(Number.isInteger(big) && big >= 0 && big < 2 ** 40).toBe(true);
    expect(rng.nextInt(1)).toBe(0);
    expect(() => rng.nextInt(0)).toThrow(RangeError);
    expect(() => rng.nextInt(1.5)).toThrow(TypeError);
  });

  it('normal() has mean ~0, std ~1; normal(m, s) scales', () => {
    const rng = new Rng(3);
    let s = 0;
    let s2 = 0;
    const n = 200000;
    for (let k = 0; k < n; k++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(Math.sqrt(s2 / n) - 1)).toBeLessThan(0.01);
    const r1 = new Rng(9);
    const r2 = new Rng(9);
    expect(r1.normal(5, 2)).toBe(5 + 2 * r2.normal());
    expect(() => r1.normal(0, -1)).toThrow(RangeError);
  });

  it('shuffle permutes in place, deterministically', () => {
    const a = Array.from({ length: 50 }, (_, k) => k);
    const b = new Int32Array(a);
    new Rng(11).shuffle(a);
    new Rng(11).shuffle(b);
    expect(Array.from(b)).toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, k) => k));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, k) => k));
    expect(() => new Rng(0).shuffle('abc' as unknown as string[])).toThrow(TypeError);
    expect(() => new Rng(1.5)).toThrow(TypeError);
  });
});
