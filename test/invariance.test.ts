/**
 * Symmetries and consistency of the public API: rotations, reflections, translations and
 * permutations; float32 output; centre selection; averaging; compression; feature labels.
 */
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../lib/io/idx';
import { imageToPoints, mnistImage } from '../lib/data/image';
import { Rng } from '../lib/util/random';
import { Soap, type FeatureMatrix, type SoapOptions } from '../lib/soap/soap';
import { flatPoints, maxAbs, readReference, relMaxDiff } from './helpers/reference';

const TOL = 1e-10;
const PAPER = { rCut: 63, nMax: 7, lMax: 10, sigma: 3 } as const;
const SMALL = { rCut: 5, nMax: 4, lMax: 3, sigma: 1 } as const;
const CLUSTER_FILE = 'e_cluster30_HCO_gto_rc5_n4_l3_s0.5.json';

type Mat3 = [number, number, number, number, number, number, number, number, number];

/** Rotation matrix of a random unit quaternion (4 normal draws, normalised: uniform on SO(3)). */
function randomRotation(rng: Rng): Mat3 {
  let w = 0,
    x = 0,
    y = 0,
    z = 0,
    n = 0;
  while (n < 1e-6) {
    w = rng.normal();
    x = rng.normal();
    y = rng.normal();
    z = rng.normal();
    n = Math.hypot(w, x, y, z);
  }
  w /= n;
  x /= n;
  y /= n;
  z /= n;
  return [
    1 - 2 * (y * y + z * z),
    2 * (x * y - z * w),
    2 * (x * z + y * w),
    2 * (x * y + z * w),
    1 - 2 * (x * x + z * z),
    2 * (y * z - x * w),
    2 * (x * z - y * w),
    2 * (y * z + x * w),
    1 - 2 * (x * x + y * y),
  ];
}

/** Householder reflection I - 2 u u^T for a random unit u (determinant -1). */
function randomReflection(rng: Rng): Mat3 {
  const u = [rng.normal(), rng.normal(), rng.normal()];
  const n = Math.hypot(u[0]!, u[1]!, u[2]!);
  const [a, b, c] = u.map((v) => v / n) as [number, number, number];
  return [
    1 - 2 * a * a,
    -2 * a * b,
    -2 * a * c,
    -2 * b * a,
    1 - 2 * b * b,
    -2 * b * c,
    -2 * c * a,
    -2 * c * b,
    1 - 2 * c * c,
  ];
}

function det3(m: Mat3): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

function transform(p: Float64Array, m: Mat3, t: [number, number, number] = [0, 0, 0]): Float64Array {
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i += 3) {
    const x = p[i]!,
      y = p[i + 1]!,
      z = p[i + 2]!;
    out[i] = m[0] * x + m[1] * y + m[2] * z + t[0];
    out[i + 1] = m[3] * x + m[4] * y + m[5] * z + t[1];
    out[i + 2] = m[6] * x + m[7] * y + m[8] * z + t[2];
  }
  return out;
}

function permutePoints(p: Float64Array, perm: number[]): Float64Array {
  const out = new Float64Array(p.length);
  perm.forEach((src, dst) => out.set(p.subarray(3 * src, 3 * src + 3), 3 * dst));
  return out;
}

function permuteRows(m: FeatureMatrix, perm: number[]): Float64Array {
  const out = new Float64Array(m.data.length);
  perm.forEach((src, dst) => out.set(m.data.subarray(src * m.cols, (src + 1) * m.cols), dst * m.cols));
  return out;
}

function rowsOf(m: FeatureMatrix, idx: ArrayLike<number>): Float64Array {
  const out = new Float64Array(idx.length * m.cols);
  for (let k = 0; k < idx.length; k++) out.set(m.data.subarray(idx[k]! * m.cols, (idx[k]! + 1) * m.cols), k * m.cols);
  return out;
}

interface Cloud {
  name: string;
  positions: Float64Array;
  species?: string[];
  options: SoapOptions;
}

const mnist = loadMnist('train');
const mnistClouds: Cloud[] = [];
for (const i of [0, 1, 7]) {
  const positions = imageToPoints(mnistImage(mnist, i)).positions;
  mnistClouds.push({ name: `MNIST train ${i}, paper 63/7/10/3`, positions, options: { species: ['H'], ...PAPER } });
  mnistClouds.push({ name: `MNIST train ${i}, small 5/4/3/1`, positions, options: { species: ['H'], ...SMALL } });
}
const cluster = readReference(CLUSTER_FILE);
const clusterCloud: Cloud = {
  name: 'H/C/O cluster of 30 (reference case e)',
  positions: flatPoints(cluster),
  species: cluster.species,
  options: { species: ['H', 'C', 'O'], rCut: 5, nMax: 4, lMax: 3, sigma: 0.5 },
};
const polyCloud: Cloud = {
  name: 'MNIST train 0, polynomial 10/5/4/1',
  positions: mnistClouds[0]!.positions,
  options: { species: ['H'], rCut: 10, nMax: 5, lMax: 4, sigma: 1, rbf: 'polynomial' },
};
const clouds = [...mnistClouds, clusterCloud, polyCloud];

describe.each(clouds)('symmetries: $name', (cloud) => {
  const soap = new Soap(cloud.options);
  const base = soap.createSync({ positions: cloud.positions, species: cloud.species });

  it('has non-trivial output (so the comparisons can fail)', () => {
    expect(base.rows).toBe(cloud.positions.length / 3);
    expect(maxAbs(base.data)).toBeGreaterThan(0);
    expect(base.data.every(Number.isFinite)).toBe(true);
  });

  it('is invariant under random rotations', () => {
    const rng = new Rng(11);
    for (let k = 0; k < 3; k++) {
      const R = randomRotation(rng);
      expect(det3(R)).toBeCloseTo(1, 12);
      const m = soap.createSync({ positions: transform(cloud.positions, R), species: cloud.species });
      expect(relMaxDiff(m.data, base.data)).toBeLessThanOrEqual(TOL);
    }
  });

  it('is invariant under reflections (mirror planes and rotation-reflections)', () => {
    const rng = new Rng(12);
    for (let k = 0; k < 3; k++) {
      const M = k === 0 ? ([-1, 0, 0, 0, 1, 0, 0, 0, 1] as Mat3) : randomReflection(rng);
      expect(det3(M)).toBeCloseTo(-1, 12);
      const m = soap.createSync({ positions: transform(cloud.positions, M), species: cloud.species });
      expect(relMaxDiff(m.data, base.data)).toBeLessThanOrEqual(TOL);
    }
    // point inversion -I
    const inv = soap.createSync({
      positions: transform(cloud.positions, [-1, 0, 0, 0, -1, 0, 0, 0, -1]),
      species: cloud.species,
    });
    expect(relMaxDiff(inv.data, base.data)).toBeLessThanOrEqual(TOL);
  });

  it('is invariant under translations', () => {
    const rng = new Rng(13);
    const I: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    for (let k = 0; k < 3; k++) {
      const t: [number, number, number] = [rng.normal(0, 50), rng.normal(0, 50), rng.normal(0, 50)];
      const m = soap.createSync({ positions: transform(cloud.positions, I, t), species: cloud.species });
      expect(relMaxDiff(m.data, base.data)).toBeLessThanOrEqual(TOL);
    }
  });

  it('permuting the points permutes the rows the same way', () => {
    const rng = new Rng(14);
    const n = cloud.positions.length / 3;
    for (let k = 0; k < 3; k++) {
      const perm = rng.shuffle([...Array(n).keys()]);
      const species = cloud.species ? perm.map((i) => cloud.species![i]!) : undefined;
      const m = soap.createSync({ positions: permutePoints(cloud.positions, perm), species });
      expect(relMaxDiff(m.data, permuteRows(base, perm))).toBeLessThanOrEqual(TOL);
    }
  });

  it('a combined rotation + reflection + translation + permutation leaves the rows unchanged', async () => {
    const rng = new Rng(15);
    const n = cloud.positions.length / 3;
    const perm = rng.shuffle([...Array(n).keys()]);
    const R = randomRotation(rng);
    const P = transform(permutePoints(cloud.positions, perm), [-1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const moved = transform(P, R, [rng.normal(0, 20), rng.normal(0, 20), rng.normal(0, 20)]);
    const species = cloud.species ? perm.map((i) => cloud.species![i]!) : undefined;
    const m = await soap.create({ positions: moved, species });
    expect(relMaxDiff(m.data, permuteRows(base, perm))).toBeLessThanOrEqual(TOL);
  });

  it('the symmetry checks are sensitive: a 0.05 displacement of one point changes the output by > 1e-6', () => {
    const p = cloud.positions.slice();
    p[0] = p[0]! + 0.05;
    const m = soap.createSync({ positions: p, species: cloud.species });
    expect(relMaxDiff(m.data, base.data)).toBeGreaterThan(1e-6);
  });
});

describe('reference case f vs case a image 0', () => {
  const a = readReference('a_paper_rc63_n7_l10_s3_train00000.json');
  const f = readReference('f_paper_rc63_n7_l10_s3_train00000_rot37z_mirrorx_translated.json');

  it("f's points are a's points rotated 37° about z, mirrored in x and translated", () => {
    const th = (37 * Math.PI) / 180;
    const c = Math.cos(th),
      s = Math.sin(th);
    // M @ Rz: M = diag(-1, 1, 1)
    const MR: Mat3 = [-c, s, 0, s, c, 0, 0, 0, 1];
    const expected = transform(flatPoints(a), MR, [12.345, -6.789, 3.21]);
    expect(f.points.length).toBe(a.points.length);
    const got = flatPoints(f);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-12);
  });

  it("DScribe's own f and a descriptors agree to 1e-12 of the max", () => {
    expect(relMaxDiff(f.descriptor, a.descriptor)).toBeLessThanOrEqual(1e-12);
  });

  it('soapix gives f = a to 1e-10 of the max (own basis) and matches both DScribe outputs', () => {
    const soap = new Soap({ species: ['H'], ...PAPER });
    const ma = soap.createSync({ positions: a.points });
    const mf = soap.createSync({ positions: f.points });
    const rel = relMaxDiff(mf.data, ma.data);
    console.log(`soapix case f vs case a image 0: ${rel.toExponential(2)} of the max`);
    expect(rel).toBeLessThanOrEqual(TOL);
    expect(relMaxDiff(ma.data, a.descriptor)).toBeLessThanOrEqual(1e-4);
    expect(relMaxDiff(mf.data, f.descriptor)).toBeLessThanOrEqual(1e-4);
  });
});

describe('float32 output', () => {
  // GTO on an integer grid (MNIST) is computed in float32: within 1e-5 of the largest float64 value
  // (test/kernel-paths.test.ts checks every reference case on every SIMD path). Elsewhere (off-grid
  // points, the polynomial basis) float32 output is the float64 result rounded.
  const cases: [Cloud, 'float32' | 'rounded'][] = [
    [mnistClouds[0]!, 'float32'],
    [mnistClouds[1]!, 'float32'],
    [clusterCloud, 'rounded'],
    [polyCloud, 'rounded'],
  ];
  for (const [cloud, kind] of cases) {
    it(`${kind === 'rounded' ? 'is the float64 result rounded to float32' : 'is within 1e-5 of the float64 result'} (${cloud.name})`, async () => {
      const soap = new Soap(cloud.options);
      const m64 = soap.createSync({ positions: cloud.positions, species: cloud.species });
      const m32 = soap.createSync({ positions: cloud.positions, species: cloud.species }, { dtype: 'float32' });
      const a32 = await soap.create({ positions: cloud.positions, species: cloud.species }, { dtype: 'float32' });
      expect(m64.data).toBeInstanceOf(Float64Array);
      expect(m32.data).toBeInstanceOf(Float32Array);
      expect(a32.data).toBeInstanceOf(Float32Array);
      expect([m32.rows, m32.cols]).toEqual([m64.rows, m64.cols]);
      expect(maxAbs(m64.data)).toBeGreaterThan(0);
      // sync and async runs give the same bits
      expect(a32.data).toEqual(m32.data);
      if (kind === 'float32') {
        expect(relMaxDiff(m32.data, m64.data)).toBeLessThanOrEqual(1e-5);
        return;
      }
      let notRounded = 0,
        worstRel = 0;
      for (let i = 0; i < m64.data.length; i++) {
        const x = m64.data[i]!;
        if (m32.data[i] !== Math.fround(x)) notRounded++;
        const d = Math.abs(m32.data[i]! - x);
        if (x !== 0) worstRel = Math.max(worstRel, d / Math.abs(x));
        else expect(m32.data[i]).toBe(0);
      }
      expect(worstRel).toBeLessThanOrEqual(1e-6);
      expect(relMaxDiff(m32.data, m64.data)).toBeLessThanOrEqual(1e-7);
      expect(notRounded).toBe(0);
    });
  }
});

describe('centres', () => {
  for (const cloud of [mnistClouds[0]!, mnistClouds[1]!, clusterCloud, polyCloud]) {
    describe(cloud.name, () => {
      const soap = new Soap(cloud.options);
      const n = cloud.positions.length / 3;
      const all = soap.createSync({ positions: cloud.positions, species: cloud.species });

      it('{ indices } gives the same rows as the all-centres run (any order, repeats allowed)', () => {
        const rng = new Rng(21);
        const idx = [0, n - 1, ...Array.from({ length: 10 }, () => rng.nextInt(n)), 3, 3];
        const m = soap.createSync(
          { positions: cloud.positions, species: cloud.species },
          { centers: { indices: idx } },
        );
        expect([m.rows, m.cols]).toEqual([idx.length, all.cols]);
        expect(relMaxDiff(m.data, rowsOf(all, idx))).toBeLessThanOrEqual(1e-13);
        // an empty list of indices gives no rows
        const e = soap.createSync({ positions: cloud.positions, species: cloud.species }, { centers: { indices: [] } });
        expect(e.rows).toBe(0);
        expect(e.data.length).toBe(0);
      });

      it('{ positions } at the point positions gives the same rows as all-centres', async () => {
        const rng = new Rng(22);
        const idx = Array.from({ length: 8 }, () => rng.nextInt(n));
        const pos = idx.map((i) => Array.from(cloud.positions.subarray(3 * i, 3 * i + 3)));
        const m = await soap.create(
          { positions: cloud.positions, species: cloud.species },
          { centers: { positions: pos } },
        );
        expect([m.rows, m.cols]).toEqual([idx.length, all.cols]);
        expect(relMaxDiff(m.data, rowsOf(all, idx))).toBeLessThanOrEqual(1e-13);
        // every point as an explicit centre position reproduces the whole matrix
        const full = soap.createSync(
          { positions: cloud.positions, species: cloud.species },
          { centers: { positions: cloud.positions } },
        );
        expect(relMaxDiff(full.data, all.data)).toBeLessThanOrEqual(1e-13);
      });

      it('a centre position far away from every point gives an all-zero row', () => {
        const m = soap.createSync(
          { positions: cloud.positions, species: cloud.species },
          { centers: { positions: [[1e6, 0, 0]] } },
        );
        expect(m.rows).toBe(1);
        expect(maxAbs(m.data)).toBe(0);
      });
    });
  }
});

describe('averaging', () => {
  const cases = [mnistClouds[0]!, mnistClouds[1]!, clusterCloud, polyCloud];

  it.each(cases)("'outer' equals the mean of the rows ($name)", (cloud) => {
    const off = new Soap(cloud.options).createSync({ positions: cloud.positions, species: cloud.species });
    const outer = new Soap({ ...cloud.options, average: 'outer' }).createSync({
      positions: cloud.positions,
      species: cloud.species,
    });
    expect([outer.rows, outer.cols]).toEqual([1, off.cols]);
    const mean = new Float64Array(off.cols);
    for (let r = 0; r < off.rows; r++)
      for (let c = 0; c < off.cols; c++) mean[c] += off.data[r * off.cols + c]! / off.rows;
    expect(relMaxDiff(outer.data, mean)).toBeLessThanOrEqual(1e-12);
  });

  it.each(cases)("'inner' is the power spectrum of the averaged coefficients ($name)", (cloud) => {
    // Averaging c over C centres = the coefficients of the density sum_k rho(r + x_k) / C. A
    // structure holding every difference x_i - x_k (same species as i) seen from the origin has
    // the coefficients sum_k c_k, and p is quadratic in c: p(that) = C^2 p(average c).
    const n = cloud.positions.length / 3;
    const P = cloud.positions;
    const diff = new Float64Array(3 * n * n);
    const species: string[] | undefined = cloud.species ? [] : undefined;
    let o = 0;
    for (let k = 0; k < n; k++)
      for (let i = 0; i < n; i++) {
        diff[o++] = P[3 * i]! - P[3 * k]!;
        diff[o++] = P[3 * i + 1]! - P[3 * k + 1]!;
        diff[o++] = P[3 * i + 2]! - P[3 * k + 2]!;
        species?.push(cloud.species![i]!);
      }
    const inner = new Soap({ ...cloud.options, average: 'inner' }).createSync({ positions: P, species: cloud.species });
    const outer = new Soap({ ...cloud.options, average: 'outer' }).createSync({ positions: P, species: cloud.species });
    const sum = new Soap(cloud.options).createSync(
      { positions: diff, species },
      { centers: { positions: [[0, 0, 0]] } },
    );
    expect([inner.rows, inner.cols]).toEqual([1, sum.cols]);
    expect(inner.data.every(Number.isFinite)).toBe(true);
    const expected = sum.data.map((v) => v / (n * n));
    expect(relMaxDiff(inner.data, expected)).toBeLessThanOrEqual(1e-10);
    // inner and outer are different things
    expect(relMaxDiff(inner.data, outer.data)).toBeGreaterThan(1e-3);
  });

  it('with a single centre, inner = outer = the non-averaged row', () => {
    for (const cloud of [mnistClouds[0]!, clusterCloud, polyCloud]) {
      const s = { positions: cloud.positions, species: cloud.species };
      const centers = { indices: [5] };
      const off = new Soap(cloud.options).createSync(s, { centers });
      const inner = new Soap({ ...cloud.options, average: 'inner' }).createSync(s, { centers });
      const outer = new Soap({ ...cloud.options, average: 'outer' }).createSync(s, { centers });
      expect(maxAbs(off.data)).toBeGreaterThan(0);
      expect(relMaxDiff(inner.data, off.data)).toBeLessThanOrEqual(1e-13);
      expect(relMaxDiff(outer.data, off.data)).toBeLessThanOrEqual(1e-13);
      // a one-point structure, all centres
      const one = { positions: [[1, 2, 3]], species: cloud.species ? ['O'] : undefined };
      const a = new Soap(cloud.options).createSync(one);
      const b = new Soap({ ...cloud.options, average: 'inner' }).createSync(one);
      expect(a.rows).toBe(1);
      expect(relMaxDiff(b.data, a.data)).toBeLessThanOrEqual(1e-13);
    }
  });

  it('averaged output gives one row per structure in a batch', async () => {
    const soap = new Soap({ species: ['H'], ...SMALL, average: 'outer' });
    const ms = await soap.createMany(mnistClouds.slice(0, 4).map((c) => ({ positions: c.positions })));
    expect(ms.map((m) => m.rows)).toEqual([1, 1, 1, 1]);
  });
});

describe('compression', () => {
  it("'mu2' for a one-species system equals 'off'", () => {
    for (const cloud of [mnistClouds[0]!, mnistClouds[1]!, polyCloud]) {
      const off = new Soap(cloud.options).createSync({ positions: cloud.positions });
      const mu2 = new Soap({ ...cloud.options, compression: 'mu2' }).createSync({ positions: cloud.positions });
      expect(mu2.cols).toBe(off.cols);
      expect(relMaxDiff(mu2.data, off.data)).toBeLessThanOrEqual(1e-14);
    }
  });

  it("'mu2' on the H/C/O cluster equals 'off' on the same cluster with every point relabelled H", () => {
    const { positions, options } = clusterCloud;
    const mu2 = new Soap({ ...options, compression: { mode: 'mu2' } }).createSync({
      positions,
      species: clusterCloud.species,
    });
    const pooled = new Soap({ ...options, species: ['H'] }).createSync({ positions });
    expect(mu2.cols).toBe(pooled.cols);
    expect(relMaxDiff(mu2.data, pooled.data)).toBeLessThanOrEqual(1e-12);
  });

  it("'crossover' keeps exactly the same-species blocks of 'off'", () => {
    const { positions, species, options } = clusterCloud;
    const soapOff = new Soap(options);
    const soapX = new Soap({ ...options, compression: 'crossover' });
    const off = soapOff.createSync({ positions, species });
    const x = soapX.createSync({ positions, species });
    const labelsOff = soapOff.featureLabels().map((l) => l.name);
    const cols = soapX.featureLabels().map((l) => labelsOff.indexOf(l.name));
    expect(cols.every((c) => c >= 0)).toBe(true);
    const picked = new Float64Array(x.data.length);
    for (let r = 0; r < x.rows; r++)
      for (let c = 0; c < x.cols; c++) picked[r * x.cols + c] = off.data[r * off.cols + cols[c]!]!;
    expect(relMaxDiff(x.data, picked)).toBeLessThanOrEqual(1e-14);
  });
});

describe('featureLabels', () => {
  function expectedLabels(species: string[], nMax: number, lMax: number, mode: string): string[] {
    const out: string[] = [];
    const block = (a: string, b: string, tri: boolean): void => {
      for (let l = 0; l <= lMax; l++)
        for (let n = 0; n < nMax; n++)
          for (let np = tri ? n : 0; np < nMax; np++) out.push(`${a}-${b} l=${l} n=${n} n'=${np}`);
    };
    if (mode === 'off') species.forEach((a, i) => species.slice(i).forEach((b, j) => block(a, b, j === 0)));
    else if (mode === 'crossover') species.forEach((a) => block(a, a, true));
    else if (mode === 'mu2') block('*', '*', true);
    else species.forEach((a) => block(a, '*', false));
    return out;
  }

  it('one species: length = featureCount, DScribe order (for l: for n: for n >= n)', () => {
    const soap = new Soap({ species: ['H'], ...PAPER });
    const labels = soap.featureLabels();
    expect(labels.length).toBe(soap.featureCount);
    expect(labels.length).toBe(308);
    expect(labels.slice(0, 9).map((l) => [l.l, l.n, l.nPrime])).toEqual([
      [0, 0, 0],
      [0, 0, 1],
      [0, 0, 2],
      [0, 0, 3],
      [0, 0, 4],
      [0, 0, 5],
      [0, 0, 6],
      [0, 1, 1],
      [0, 1, 2],
    ]);
    expect(labels[28]).toMatchObject({ l: 1, n: 0, nPrime: 0, species: ['H', 'H'] });
    expect(labels[307]).toMatchObject({ l: 10, n: 6, nPrime: 6 });
    expect(labels.map((l) => l.name)).toEqual(expectedLabels(['H'], 7, 10, 'off'));
  });

  it.each(['off', 'crossover', 'mu2', 'mu1nu1'] as const)(
    'three species, compression %s: ascending Z, full order',
    (mode) => {
      // given in a scrambled order and mixed forms; sorted by atomic number inside (H=1 < C=6 < O=8)
      const soap = new Soap({ species: ['O', 1, 'C'], rCut: 5, nMax: 3, lMax: 2, compression: mode });
      const labels = soap.featureLabels();
      expect(labels.length).toBe(soap.featureCount);
      expect(labels.map((l) => l.name)).toEqual(expectedLabels(['H', 'C', 'O'], 3, 2, mode));
      const m = soap.createSync({
        positions: [
          [0, 0, 0],
          [1, 0, 0],
          [0, 1.2, 0.3],
        ],
        species: ['H', 'C', 'O'],
      });
      expect(m.cols).toBe(labels.length);
    },
  );

  it('cross-species block of the H/C/O cluster: n belongs to the lower Z (H-C vs C-H symmetry broken)', () => {
    // p^{HC}_{n n' l} != p^{HC}_{n' n l} in general; check the label order matches the data by
    // recomputing with H and C swapped (relabelled) and comparing the transposed block.
    const { positions, species, options } = clusterCloud;
    const soap = new Soap(options);
    const labels = soap.featureLabels();
    const base = soap.createSync({ positions, species });
    const swapped = soap.createSync({
      positions,
      species: species!.map((s) => (s === 'H' ? 'C' : s === 'C' ? 'H' : s)),
    });
    const idx = (a: string, b: string, l: number, n: number, np: number): number =>
      labels.findIndex((x) => x.name === `${a}-${b} l=${l} n=${n} n'=${np}`);
    let worst = 0,
      maxv = 0,
      asym = 0;
    for (let r = 0; r < base.rows; r++)
      for (let l = 0; l <= 3; l++)
        for (let n = 0; n < 4; n++)
          for (let np = 0; np < 4; np++) {
            const a = base.data[r * base.cols + idx('H', 'C', l, n, np)]!;
            const b = swapped.data[r * base.cols + idx('H', 'C', l, np, n)]!;
            worst = Math.max(worst, Math.abs(a - b));
            maxv = Math.max(maxv, Math.abs(a));
            asym = Math.max(asym, Math.abs(a - base.data[r * base.cols + idx('H', 'C', l, np, n)]!));
          }
    expect(maxv).toBeGreaterThan(0);
    expect(asym / maxv).toBeGreaterThan(1e-6);
    expect(worst / maxv).toBeLessThanOrEqual(1e-12);
  });
});
