import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpySync, writeNpy } from '../lib/io/npy';
import { Rng } from '../lib/util/random';
import { RobustScaler, type RobustScalerJSON, type ScalerArray } from '../lib/features/scaler';

const dir = mkdtempSync(path.join(tmpdir(), 'soapix-scaler-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs python3 with numpy; a missing python3 or numpy fails the test with a clear message. */
function python(script: string, ...args: string[]): string {
  try {
    return execFileSync('python3', ['-c', script, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') {
      throw new Error(
        'the scaler reference tests need python3 with numpy (python3 was not found on PATH); install python3 and numpy',
      );
    }
    throw new Error(`python3 failed (the scaler reference tests need python3 with numpy): ${e.stderr ?? e.message}`);
  }
}

beforeAll(() => {
  expect(python('import numpy; print(numpy.__version__)').trim()).toMatch(/^\d+\.\d+/);
});

/**
 * scikit-learn's RobustScaler (defaults) written out with numpy, following
 * sklearn/preprocessing/_data.py: center_ = np.nanmedian(X, axis=0); per column
 * np.nanpercentile(X[:, j], (25, 75)); scale_ = q75 - q25; _handle_zeros_in_scale
 * (scale < 10 * eps -> 1); transform: X -= center_; X /= scale_.
 * For each input file writes <file>-center.npy, -scale.npy, -t.npy and prints the
 * sha256 of the transformed bytes.
 */
const SKLEARN_REFERENCE = `
import sys, hashlib, warnings, numpy as np
warnings.simplefilter('ignore')
for p in sys.argv[1:]:
    X = np.load(p)
    center = np.nanmedian(X, axis=0)
    q = np.transpose([np.nanpercentile(X[:, j], (25.0, 75.0)) for j in range(X.shape[1])])
    scale = q[1] - q[0]
    scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
    Xt = X.copy()
    Xt -= center
    Xt /= scale
    base = p[:-4]
    np.save(base + '-center.npy', center)
    np.save(base + '-scale.npy', scale)
    np.save(base + '-t.npy', Xt)
    print(center.dtype.str, scale.dtype.str, Xt.dtype.str, hashlib.sha256(Xt.tobytes()).hexdigest())
`;

/** Asserts equal values (NaN equals NaN); `relTol` 0 means bit-for-bit up to the sign of zero. */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, relTol = 0): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
    if (relTol > 0 && Math.abs(a - b) <= relTol * Math.max(Math.abs(a), Math.abs(b))) continue;
    throw new Error(`${what}: element ${i} differs: got ${a}, numpy ${b}`);
  }
}

function sha256(a: ScalerArray): string {
  return createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
}

const COLS = 11;

/** Test data with the awkward cases: ties, constant columns, tiny spreads, NaNs, heavy tails. */
function makeData(rows: number, seed: number, float32: boolean): ScalerArray {
  const rng = new Rng(seed);
  const out = float32 ? new Float32Array(rows * COLS) : new Float64Array(rows * COLS);
  for (let i = 0; i < rows; i++) {
    const r = out.subarray(i * COLS, (i + 1) * COLS);
    r[0] = rng.normal(2, 3);
    r[1] = rng.nextInt(5); // many ties
    r[2] = 3.25; // constant: IQR 0 -> scale 1
    r[3] = rng.nextFloat() < 0.9 ? 1 : rng.normal(0, 100); // IQR 0 despite outliers
    r[4] = 1e-300 * rng.normal(); // IQR far below 10 eps -> scale 1
    r[5] = rng.nextFloat() < 0.3 ? Number.NaN : rng.normal(-5, 0.5); // NaNs ignored
    r[6] = Math.exp(3 * rng.normal()); // heavy tail
    r[7] = -1e6 + rng.normal(0, 1e-3); // large offset, small spread
    r[8] = Number.NaN; // all NaN: center and scale NaN
    r[9] = rng.nextFloat() * 1e-12; // small but valid spread
    r[10] = (rng.nextInt(2001) - 1000) / 7;
  }
  return out;
}

describe('RobustScaler equals scikit-learn RobustScaler (numpy reference)', () => {
  const rowCounts = [2000, 1999, 301, 302, 2, 1];
  for (const float32 of [false, true]) {
    it(`${float32 ? 'float32' : 'float64'} data, ${rowCounts.join('/')} rows: center, scale and transform bit for bit`, async () => {
      const files: string[] = [];
      const datas: ScalerArray[] = [];
      for (const rows of rowCounts) {
        const data = makeData(rows, rows * 7 + (float32 ? 1 : 0), float32);
        const p = path.join(dir, `ref-${float32 ? 'f4' : 'f8'}-${rows}.npy`);
        await writeNpy(p, data, { shape: [rows, COLS] });
        files.push(p);
        datas.push(data);
      }
      const lines = python(SKLEARN_REFERENCE, ...files)
        .trim()
        .split('\n');
      expect(lines).toHaveLength(files.length);
      for (let k = 0; k < files.length; k++) {
        const rows = rowCounts[k];
        const data = datas[k];
        const [centerDescr, scaleDescr, tDescr, tSha] = lines[k].split(' ');
        expect(centerDescr).toBe(float32 ? '<f4' : '<f8');
        expect(scaleDescr).toBe('<f8');
        expect(tDescr).toBe(float32 ? '<f4' : '<f8');
        const base = files[k].slice(0, -4);
        const center = readNpySync(`${base}-center.npy`).data as ScalerArray;
        const scale = readNpySync(`${base}-scale.npy`).data as Float64Array;
        const transformed = readNpySync(`${base}-t.npy`).data as ScalerArray;

        const s = new RobustScaler().fit(data, rows, COLS);
        const what = `${float32 ? 'float32' : 'float64'} ${rows} rows`;
        expectSame(s.center as Float64Array, center, `${what} center`);
        expectSame(s.scale as Float64Array, scale, `${what} scale`);
        const before = data.slice();
        const t = s.transform(data, rows, COLS);
        expect(t).toBeInstanceOf(float32 ? Float32Array : Float64Array);
        expectSame(data, before, `${what}: transform must not modify its input`);
        expectSame(t, transformed, `${what} transform`);
        expect(sha256(t)).toBe(tSha);
      }
    });
  }

  it('paper size: 120,000 x 308 float32 (with all-zero columns) fits fast and equals numpy', async () => {
    const rows = 120000;
    const cols = 308;
    const data = new Float32Array(rows * cols);
    const rng = new Rng(2024);
    for (let i = 0, p = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++, p++) {
        if (j % 11 === 3) continue; // constant-zero columns, as SOAP blocks of absent species pairs
        const u = rng.nextUint32() / 4294967296;
        data[p] = (j % 4 === 0 ? u * u * u : u) * (j + 1) - (j % 3);
      }
    }
    const p = path.join(dir, 'paper.npy');
    await writeNpy(p, data, { shape: [rows, cols] });
    const t0 = performance.now();
    const s = new RobustScaler().fit(data, rows, cols);
    const fitMs = performance.now() - t0;
    const t1 = performance.now();
    const t = s.transform(data, rows, cols);
    const transformMs = performance.now() - t1;
    console.log(
      `RobustScaler 120000 x 308 float32: fit ${fitMs.toFixed(0)} ms, transform ${transformMs.toFixed(0)} ms`,
    );
    expect(fitMs).toBeLessThan(20000);

    const [, , , tSha] = python(SKLEARN_REFERENCE, p).trim().split(' ');
    expectSame(
      s.center as Float64Array,
      readNpySync(path.join(dir, 'paper-center.npy')).data as Float32Array,
      'center',
    );
    expectSame(s.scale as Float64Array, readNpySync(path.join(dir, 'paper-scale.npy')).data as Float64Array, 'scale');
    expect(sha256(t)).toBe(tSha);
    const scale = s.scale as Float64Array;
    const center = s.center as Float64Array;
    for (let j = 3; j < cols; j += 11) {
      expect(scale[j]).toBe(1);
      expect(center[j]).toBe(0);
    }
  });
});

describe('RobustScaler behaviour', () => {
  it('selection equals a sort-based numpy percentile on awkward columns', () => {
    /** numpy 'linear' percentile and median from a full sort (float64 data). */
    const reference = (col: Float64Array): { median: number; iqr: number } => {
      const s = col.slice().sort();
      const n = s.length;
      const pct = (q: number): number => {
        const v = (n - 1) * (q / 100);
        const lo = Math.floor(v);
        const g = v - lo;
        const a = s[lo];
        const b = s[Math.min(lo + 1, n - 1)];
        return g >= 0.5 ? b - (b - a) * (1 - g) : a + (b - a) * g;
      };
      const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
      const iqr = pct(75) - pct(25);
      return { median: median + 0, iqr: iqr < 10 * 2.220446049250313e-16 ? 1 : iqr };
    };
    const rng = new Rng(77);
    const patterns: Record<string, (i: number, n: number) => number> = {
      sorted: (i) => i,
      reversed: (i, n) => n - i,
      organPipe: (i, n) => Math.min(i, n - i),
      sawtooth: (i) => i % 17,
      twoValues: (i) => (i % 3 === 0 ? 1 : 0),
      mostlyZero: () => (rng.nextFloat() < 0.95 ? 0 : rng.normal()),
      uniform: () => rng.nextFloat(),
      allEqual: () => 4,
    };
    for (const n of [1, 2, 3, 4, 5, 16, 17, 100, 1001, 40000]) {
      for (const [name, f] of Object.entries(patterns)) {
        const col = Float64Array.from({ length: n }, (_, i) => f(i, n));
        const s = new RobustScaler().fit(col, n, 1);
        const ref = reference(col);
        expect((s.center as Float64Array)[0], `${name} n=${n} median`).toBe(ref.median);
        expect((s.scale as Float64Array)[0], `${name} n=${n} scale`).toBe(ref.iqr);
      }
    }
  });

  it('zero-IQR column: scale 1, centred on the constant', () => {
    // Column 0 constant 5; column 1 = 0..9 (median 4.5, q25 2.25, q75 6.75 -> IQR 4.5).
    const rows = 10;
    const data = new Float64Array(rows * 2);
    for (let i = 0; i < rows; i++) {
      data[2 * i] = 5;
      data[2 * i + 1] = i;
    }
    const s = new RobustScaler().fit(data, rows, 2);
    expect(Array.from(s.center as Float64Array)).toEqual([5, 4.5]);
    expect(Array.from(s.scale as Float64Array)).toEqual([1, 4.5]);
    const t = s.transform(data, rows, 2);
    for (let i = 0; i < rows; i++) {
      expect(t[2 * i]).toBe(0);
      expect(t[2 * i + 1]).toBeCloseTo((i - 4.5) / 4.5, 15);
    }
  });

  it('transformInPlace, inverseTransform, fitTransform', () => {
    const data = makeData(500, 3, false);
    const s = new RobustScaler();
    const t = s.fitTransform(data, 500, COLS);
    const inPlace = data.slice();
    expect(s.transformInPlace(inPlace, 500, COLS)).toBe(inPlace);
    expectSame(inPlace, t, 'in place');
    const back = s.inverseTransform(t, 500, COLS);
    expectSame(back, data, 'inverse', 1e-9);
  });

  it('options: withCentering / withScaling / quantileRange', () => {
    const rows = 101;
    const data = Float64Array.from({ length: rows }, (_, i) => i * 2);
    const noCenter = new RobustScaler({ withCentering: false }).fit(data, rows, 1);
    expect(noCenter.center).toBeUndefined();
    expect(Array.from(noCenter.scale as Float64Array)).toEqual([100]);
    expect(noCenter.transform(data, rows, 1)[10]).toBe(0.2);
    const noScale = new RobustScaler({ withScaling: false }).fit(data, rows, 1);
    expect(noScale.scale).toBeUndefined();
    expect(noScale.transform(data, rows, 1)[0]).toBe(-100);
    const wide = new RobustScaler({ quantileRange: [10, 90] }).fit(data, rows, 1);
    expect(Array.from(wide.scale as Float64Array)).toEqual([160]);
    expect(() => new RobustScaler({ quantileRange: [80, 20] })).toThrow(/quantileRange/);
  });

  it('JSON round trip, save/load (atomic), NaN as null', async () => {
    const rows = 777;
    const data = makeData(rows, 11, true) as Float32Array;
    const s = new RobustScaler().fit(data, rows, COLS);
    const json = s.toJSON();
    expect(json).toMatchObject({ type: 'RobustScaler', version: 1, dtype: 'float32', nFeatures: COLS, nSamples: rows });
    expect(json.center?.[8]).toBeNull(); // the all-NaN column
    const text = JSON.stringify(json);
    const again = RobustScaler.fromJSON(JSON.parse(text) as RobustScalerJSON);
    const fromString = RobustScaler.fromJSON(text);
    expect(again.toJSON()).toEqual(json);
    expect(fromString.toJSON()).toEqual(json);
    expectSame(again.transform(data, rows, COLS), s.transform(data, rows, COLS), 'after JSON');

    const p = path.join(dir, 'scaler.json');
    await s.save(p);
    expect(existsSync(`${p}.partial`)).toBe(false);
    const loaded = await RobustScaler.load(p);
    expect(loaded.toJSON()).toEqual(json);
    expectSame(loaded.transform(data, rows, COLS), s.transform(data, rows, COLS), 'after load');
    // Numbers survive JSON exactly.
    expectSame(loaded.scale as Float64Array, s.scale as Float64Array, 'scale after load');

    const badPath = path.join(dir, 'bad.json');
    writeFileSync(badPath, '{"type": "StandardScaler"}');
    await expect(RobustScaler.load(badPath)).rejects.toThrow(/bad\.json: .*type is "StandardScaler"/);
    writeFileSync(badPath, '{not json');
    await expect(RobustScaler.load(badPath)).rejects.toThrow(/bad\.json is not valid JSON/);
    await expect(RobustScaler.load(path.join(dir, 'missing.json'))).rejects.toThrow(/cannot read .*missing\.json/);
    expect(() => RobustScaler.fromJSON({ ...json, scale: [1, 2] })).toThrow(/scale must be an array of 11 numbers/);
    await expect(s.save(path.join(dir, 'no-dir', 'x.json'))).rejects.toThrow(/cannot create .*no-dir\/x\.json/);
    expect(readFileSync(p, 'utf8').endsWith('\n')).toBe(true);
  });

  it('rejects bad input with clear errors', () => {
    const s = new RobustScaler();
    expect(() => s.transform(new Float64Array(4), 2, 2)).toThrow(/not fitted/);
    expect(() => s.fit(new Float64Array(5), 2, 2)).toThrow(/5 values, not rows x cols = 2 x 2 = 4/);
    expect(() => s.fit(new Float64Array(0), 0, 2)).toThrow(/at least one row/);
    expect(() => s.fit(Float64Array.of(1, Infinity), 2, 1)).toThrow(/row 1, column 0 is Infinity/);
    expect(() => s.fit([1, 2] as unknown as Float64Array, 2, 1)).toThrow(/Float32Array or Float64Array/);
    s.fit(new Float64Array(6), 2, 3);
    expect(() => s.transform(new Float64Array(4), 2, 2)).toThrow(/2 columns; the scaler was fitted on 3/);
  });
});
