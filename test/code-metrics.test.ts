// The code metrics of the rVAE experiment: circular statistics (lib/ml/metrics/circular.ts), image
// orientation (orientation.ts), the combined scoring (code-metrics.ts), and the pieces of the
// experiment's figures that compute something (normal quantiles of the manifold grid, image tiling).
import { describe, expect, it } from 'vitest';

import { transformFloatImage } from '../lib/data/transform';
import { manifoldAxis, manifoldCodes, normalQuantile } from '../lib/experiments/rvae-figures';
import { angleAgreement, circularLinearCorrelation, polarAngles } from '../lib/ml/metrics/circular';
import { codeMetrics } from '../lib/ml/metrics/code-metrics';
import { orientationSpread, principalAxis } from '../lib/ml/metrics/orientation';
import { tileImages } from '../lib/report/image-grid';
import { Rng } from '../lib/util/random';

const rad = (d: number): number => (d * Math.PI) / 180;

describe('circular statistics', () => {
  it('circular-linear correlation is 1 for x = a + b cos(psi - psi0), near 0 for independent values, and symmetric in the shift of psi', () => {
    const rng = new Rng(3);
    const psi = Array.from({ length: 2000 }, () => -Math.PI + 2 * Math.PI * rng.nextFloat());
    const x = psi.map((p) => 2 - 3 * Math.cos(p - 0.7));
    expect(circularLinearCorrelation(x, psi)).toBeCloseTo(1, 10);
    const noise = psi.map(() => rng.normal());
    expect(circularLinearCorrelation(noise, psi)).toBeLessThan(0.08);
    const shifted = psi.map((p) => p + 1.3);
    expect(circularLinearCorrelation(noise, shifted)).toBeCloseTo(circularLinearCorrelation(noise, psi), 10);
    // A linear angle over a half circle is mostly explained by (cos, sin) of itself.
    const half = psi.map((p) => p / 2);
    expect(circularLinearCorrelation(half, half)).toBeGreaterThan(0.95);
    expect(() => circularLinearCorrelation([1, 2], [0, 1])).toThrow(/at least 3/);
    expect(() => circularLinearCorrelation([1, 2, Number.NaN], [0, 1, 2])).toThrow(/not finite/);
  });

  it('angle agreement finds the offset and the direction, modulo full turns', () => {
    const rng = new Rng(5);
    const truth = Array.from({ length: 500 }, () => rad(-180 + 360 * rng.nextFloat()));
    const same = truth.map((t) => t + 0.4 + 2 * Math.PI * Math.round(rng.normal()));
    const a = angleAgreement(same, truth);
    expect(a.resultant).toBeCloseTo(1, 10);
    expect(a.direction).toBe(1);
    expect(a.offset).toBeCloseTo(0.4, 10);
    const mirrored = truth.map((t) => -t - 1);
    const b = angleAgreement(mirrored, truth);
    expect(b.direction).toBe(-1);
    expect(b.resultant).toBeCloseTo(1, 10);
    expect(b.offset).toBeCloseTo(-1, 10);
    const random = truth.map(() => rad(360 * rng.nextFloat()));
    expect(angleAgreement(random, truth).resultant).toBeLessThan(0.15);
  });

  it('polar angles are measured about the mean of the codes', () => {
    const z = { data: Float64Array.from([11, 5, 10, 6, 9, 5, 10, 4]), rows: 4, cols: 2 };
    expect(Array.from(polarAngles(z)).map((a) => Math.round((a * 180) / Math.PI))).toEqual([0, 90, 180, -90]);
    expect(() => polarAngles({ data: new Float64Array(6), rows: 2, cols: 3 })).toThrow(/2-D codes/);
  });
});

/** A bar through the centre of a side x side image, along `degrees` (counter-clockwise as displayed). */
function bar(side: number, degrees: number): Float32Array {
  const img = new Float32Array(side * side);
  const mid = (side - 1) / 2;
  for (let c = 2; c < side - 2; c++) img[Math.round(mid) * side + c] = 1;
  img[Math.round(mid) * side + Math.round(mid) + 1] = 1;
  const out = new Float32Array(side * side);
  transformFloatImage(img, side, side, { degrees }, out);
  return out;
}

describe('image orientation', () => {
  it('the principal axis of a bar is its direction, counter-clockwise as displayed; 90° turns are exact', () => {
    const side = 21;
    const images = { data: new Float32Array(4 * side * side), count: 4, height: side, width: side };
    [0, 30, 90, -45].forEach((d, i) => images.data.set(bar(side, d), i * side * side));
    expect(principalAxis(images, 0).degrees).toBeCloseTo(0, 6);
    expect(principalAxis(images, 0).elongation).toBeGreaterThan(0.95);
    expect(principalAxis(images, 1).degrees).toBeCloseTo(30, 0);
    expect(Math.abs(principalAxis(images, 2).degrees)).toBeCloseTo(90, 6);
    expect(principalAxis(images, 3).degrees).toBeCloseTo(-45, 0);
    expect(principalAxis({ data: new Float32Array(9), count: 1, height: 3, width: 3 }, 0)).toEqual({
      degrees: 0,
      elongation: 0,
    });
  });

  it('one common turn moves the mean axis and keeps the spread; random turns widen it', () => {
    const side = 21;
    const rng = new Rng(7);
    const n = 200;
    const make = (angle: (i: number) => number) => {
      const b = { data: new Float32Array(n * side * side), count: n, height: side, width: side };
      for (let i = 0; i < n; i++) b.data.set(bar(side, angle(i)), i * side * side);
      return b;
    };
    const slants = Array.from({ length: n }, () => 10 * rng.normal());
    const upright = orientationSpread(make((i) => 90 + slants[i]!));
    const turned = orientationSpread(make((i) => 90 + slants[i]! + 25));
    const random = orientationSpread(make((i) => 90 + slants[i]! + (-60 + 120 * rng.nextFloat())));
    expect(upright.spreadDegrees!).toBeGreaterThan(5);
    expect(upright.spreadDegrees!).toBeLessThan(15);
    expect(turned.spreadDegrees!).toBeCloseTo(upright.spreadDegrees!, 0);
    expect(
      turned.meanDegrees! - upright.meanDegrees! + (upright.meanDegrees! > 0 && turned.meanDegrees! < 0 ? 180 : 0),
    ).toBeCloseTo(25, 0);
    expect(random.spreadDegrees!).toBeGreaterThan(2 * upright.spreadDegrees!);
    expect(orientationSpread({ data: new Float32Array(9), count: 1, height: 3, width: 3 }).spreadDegrees).toBeNull();
    expect(() => orientationSpread({ data: new Float32Array(8), count: 1, height: 3, width: 3 })).toThrow(
      /9 values each|values for 1 images/,
    );
  });
});

describe('codeMetrics', () => {
  it('scores an angle-leaking code, a class code and a perfect angle latent', () => {
    const rng = new Rng(11);
    const n = 600;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const angles = Float32Array.from({ length: n }, () => rad(-60 + 120 * rng.nextFloat()));
    // Latent 1 = the angle (leaks), latent 2 = the class (clusters).
    const codes = { data: new Float32Array(2 * n), rows: n, cols: 2 };
    for (let i = 0; i < n; i++) {
      codes.data[2 * i] = angles[i]! + 0.01 * rng.normal();
      codes.data[2 * i + 1] = 5 * labels[i]! + 0.1 * rng.normal();
    }
    const encoded = Float32Array.from(angles, (a) => -a + 0.3 + rad(2) * rng.normal());
    // Series: 20 "digits" x 4 angles; within a digit latent 2 is constant and latent 1 moves with the angle.
    const series = { data: new Float32Array(80 * 2), rows: 80, cols: 2 };
    for (let g = 0; g < 20; g++) {
      for (let j = 0; j < 4; j++) {
        series.data[2 * (4 * g + j)] = rad(-60 + 40 * j);
        series.data[2 * (4 * g + j) + 1] = 5 * (g % 3);
      }
    }
    const m = codeMetrics({
      codes,
      labels,
      angles,
      encodedAngles: encoded,
      series: { codes: series, groupSize: 4 },
      seed: 1,
    });
    expect(m.images).toBe(n);
    expect(m.angle!.absR).toBeGreaterThan(0.99);
    expect(m.angle!.slope).toBeCloseTo(-1, 1);
    expect(m.angle!.residualStdDegrees).toBeCloseTo(2, 0);
    expect(m.angle!.agreement.direction).toBe(-1);
    expect(m.leakage.perLatent[0]).toBeGreaterThan(0.99);
    expect(m.leakage.perLatent[1]).toBeLessThan(0.15);
    expect(m.leakage.max).toBe(m.leakage.perLatent[0]);
    expect(m.circularLeakage.perLatent[0]).toBeGreaterThan(0.95);
    expect(m.knn.accuracy).toBe(1);
    expect(m.kmeans.accuracy).toBeGreaterThan(0.99);
    expect(m.kmeans.k).toBe(3);
    // Latent 1 turns as much as over the data set, latent 2 not at all.
    expect(m.invariance!.perLatent[1]).toBe(0);
    expect(m.invariance!.perLatent[0]).toBeGreaterThan(0.5);
    expect(m.polarAngleCorrelation).not.toBeNull();
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
    const plain = codeMetrics({ codes, labels, angles, seed: 1 });
    expect(plain.angle).toBeNull();
    expect(plain.invariance).toBeNull();
    expect(() => codeMetrics({ codes, labels: labels.subarray(1), angles, seed: 1 })).toThrow(
      /one Int32Array label per code/,
    );
    expect(() => codeMetrics({ codes, labels, angles: angles.subarray(2), seed: 1 })).toThrow(/true angles for/);
  });
});

describe('figure helpers', () => {
  it('normal quantiles match known values; the manifold grid runs over quantiles 0.05..0.95, largest z2 on top', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(normalQuantile(0.05)).toBeCloseTo(-1.6448536269514722, 8);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306167813, 7);
    expect(() => normalQuantile(1)).toThrow(/\(0, 1\)/);
    const axis = manifoldAxis(3);
    expect(axis[0]).toBeCloseTo(-1.6448536269514722, 8);
    expect(axis[1]).toBeCloseTo(0, 12);
    const z = manifoldCodes(3, 2);
    expect(z.rows).toBe(9);
    expect(z.data[0]).toBeCloseTo(axis[0]!, 6); // top-left: smallest z1 ...
    expect(z.data[1]).toBeCloseTo(axis[2]!, 6); // ... largest z2
    expect(z.data[2 * 8 + 1]).toBeCloseTo(axis[0]!, 6); // bottom-right: smallest z2
  });

  it('tiles images row by row with gaps', () => {
    const images = { data: Float32Array.from([0, 1, 1, 0, 0.5, 0.5, 0.5, 2]), count: 2, height: 2, width: 2 };
    const t = tileImages(images, { columns: 2, gap: 1, gapLevel: 7 });
    expect([t.width, t.height]).toEqual([5, 2]);
    expect(Array.from(t.pixels)).toEqual([0, 255, 7, 128, 128, 255, 0, 7, 128, 255]);
    const col = tileImages(images, { columns: 1 });
    expect([col.width, col.height]).toEqual([2, 4]);
  });
});
