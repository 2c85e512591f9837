/**
 * Robust scaling (median / interquartile range), as scikit-learn's
 * `sklearn.preprocessing.RobustScaler` with its defaults (`with_centering=True`,
 * `with_scaling=True`, `quantile_range=(25.0, 75.0)`, `unit_variance=False`):
 *
 *   center_j = nanmedian(X[:, j])
 *   scale_j  = nanpercentile(X[:, j], 75) - nanpercentile(X[:, j], 25)   (numpy's 'linear' method)
 *   scale_j  = 1 where scale_j < 10 * float64 eps   (sklearn's _handle_zeros_in_scale)
 *   X'       = (X - center) / scale
 *
 * NaNs are ignored when fitting and kept when transforming (as sklearn); infinite values
 * are rejected (sklearn raises "Input contains infinity").
 *
 * Numerics follow numpy exactly: percentiles of float32 data are computed in float64
 * (numpy >= 2 returns float64 for them), with numpy's `_lerp`; the median of float32
 * data is a float32 value; float32 data are transformed as sklearn does
 * (`X -= center` in float32, then `X /= scale` in float64 rounded to float32), so
 * results equal sklearn's bit for bit (NEP 50 promotion rules, numpy >= 2).
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-file';

/** Data a scaler fits or transforms: row-major, `rows` x `cols`. */
export type ScalerArray = Float32Array | Float64Array;

/** Options of {@link RobustScaler}; the defaults are scikit-learn's. */
export interface RobustScalerOptions {
  /** Subtract the median. Default true. */
  withCentering?: boolean;
  /** Divide by the quantile range. Default true. */
  withScaling?: boolean;
  /** Percentiles (0 < low < high < 100) whose difference is the scale. Default [25, 75]. */
  quantileRange?: readonly [number, number];
}

/** The JSON form of a fitted scaler ({@link RobustScaler.toJSON}); NaN is stored as null. */
export interface RobustScalerJSON {
  type: 'RobustScaler';
  version: 1;
  withCentering: boolean;
  withScaling: boolean;
  quantileRange: [number, number];
  /** dtype of the data it was fitted on. */
  dtype: 'float32' | 'float64';
  nFeatures: number;
  /** Rows it was fitted on. */
  nSamples: number;
  /** Per-feature median, or null when withCentering is false. */
  center: (number | null)[] | null;
  /** Per-feature scale, or null when withScaling is false. */
  scale: (number | null)[] | null;
}

const FLOAT64_EPS = 2.220446049250313e-16;

/**
 * Rearranges `a[lo..hi]` so that `a[k]` holds the value that sorted order would
 * put there, with smaller-or-equal values before it and larger-or-equal after.
 * Quickselect with median-of-three pivots and a three-way split (fast with many
 * ties, as in SOAP columns full of zeros), falling back to sorting the remaining
 * range after too many rounds (O(n log n) worst case). k = lo or hi is one scan.
 */
function selectInPlace(a: Float64Array, k: number, lo: number, hi: number): void {
  let rounds = 0;
  const maxRounds = 2 * Math.ceil(Math.log2(hi - lo + 2)) + 8;
  while (hi > lo) {
    if (k === lo || k === hi) {
      let m = lo;
      if (k === lo) {
        for (let i = lo + 1; i <= hi; i++) if (a[i] < a[m]) m = i;
      } else {
        for (let i = lo + 1; i <= hi; i++) if (a[i] > a[m]) m = i;
      }
      const t = a[k];
      a[k] = a[m];
      a[m] = t;
      return;
    }
    if (hi - lo < 16 || ++rounds > maxRounds) {
      a.subarray(lo, hi + 1).sort();
      return;
    }
    // Median of three as pivot.
    let x = a[lo];
    let y = a[lo + ((hi - lo) >> 1)];
    const z = a[hi];
    if (x > y) {
      const t = x;
      x = y;
      y = t;
    }
    if (y > z) y = z;
    if (x > y) y = x;
    const pivot = y;
    // Three-way split: [lo, lt) < pivot, [lt, gt] == pivot, (gt, hi] > pivot.
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = a[i];
      if (v < pivot) {
        a[i] = a[lt];
        a[lt] = v;
        lt++;
        i++;
      } else if (v > pivot) {
        a[i] = a[gt];
        a[gt] = v;
        gt--;
      } else {
        i++;
      }
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return;
  }
}

/**
 * Puts the order statistics of `ranks` (sorted, distinct, all within lo..hi) in place:
 * the middle rank first, then the ranks on each side within the part that holds them.
 */
function multiSelect(
  a: Float64Array,
  ranks: readonly number[],
  from: number,
  to: number,
  lo: number,
  hi: number,
): void {
  if (from >= to || lo > hi) return;
  const m = (from + to) >> 1;
  const k = ranks[m];
  selectInPlace(a, k, lo, hi);
  multiSelect(a, ranks, from, m, lo, k - 1);
  multiSelect(a, ranks, m + 1, to, k + 1, hi);
}

/** Order statistics of `a[0..n-1]` at the given ranks (any order); `a` is rearranged. */
function orderStatistics(a: Float64Array, n: number, ranks: number[]): Map<number, number> {
  const sorted = [...new Set(ranks)].sort((p, q) => p - q);
  multiSelect(a, sorted, 0, sorted.length, 0, n - 1);
  const out = new Map<number, number>();
  for (const k of sorted) out.set(k, a[k]);
  return out;
}

/**
 * numpy's `_lerp(a, b, t)`: a + (b-a) t, computed from b's side when t >= 0.5. For float32
 * data numpy computes `b - a` in float32 (a and b are float32 elements), the rest in float64.
 */
function lerp(a: number, b: number, t: number, is32: boolean): number {
  const d = is32 ? Math.fround(b - a) : b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/** Virtual index and neighbours of numpy's 'linear' percentile for n values and q in [0, 100]. */
function percentileRanks(n: number, q: number): { lo: number; hi: number; gamma: number } {
  const virtual = (n - 1) * (q / 100);
  const prev = Math.floor(virtual);
  const gamma = virtual - prev;
  const lo = Math.min(Math.max(prev, 0), n - 1);
  const hi = Math.min(Math.max(prev + 1, 0), n - 1);
  return { lo, hi, gamma };
}

function checkShape(data: unknown, rows: number, cols: number, where: string): asserts data is ScalerArray {
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) {
    throw new TypeError(`${where}: data must be a Float32Array or Float64Array`);
  }
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(cols) || cols < 1) {
    throw new RangeError(`${where}: rows must be an integer >= 0 and cols an integer >= 1, got ${rows} x ${cols}`);
  }
  if (data.length !== rows * cols) {
    throw new RangeError(
      `${where}: data has ${data.length} values, not rows x cols = ${rows} x ${cols} = ${rows * cols}`,
    );
  }
}

function nullableToNumber(v: number | null): number {
  return v === null ? Number.NaN : v;
}

/**
 * Median / interquartile-range scaler, equal to scikit-learn's RobustScaler.
 *
 * @example
 * const s = new RobustScaler().fit(train, nTrain, 308);
 * const trainScaled = s.transform(train, nTrain, 308);
 * await s.save('scaler.json');
 * const again = await RobustScaler.load('scaler.json');
 * again.transformInPlace(test, nTest, 308);
 */
export class RobustScaler {
  readonly withCentering: boolean;
  readonly withScaling: boolean;
  readonly quantileRange: [number, number];
  private centerValues: Float64Array | undefined;
  private scaleValues: Float64Array | undefined;
  private fitted = false;
  private fitDType: 'float32' | 'float64' = 'float64';
  private nFeatures = 0;
  private nSamples = 0;

  constructor(options: RobustScalerOptions = {}) {
    this.withCentering = options.withCentering ?? true;
    this.withScaling = options.withScaling ?? true;
    const qr = options.quantileRange ?? [25, 75];
    if (
      !Array.isArray(qr) ||
      qr.length !== 2 ||
      !qr.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
      !(0 <= qr[0] && qr[0] <= qr[1] && qr[1] <= 100)
    ) {
      throw new RangeError(`RobustScaler: invalid quantileRange ${JSON.stringify(qr)}; need 0 <= low <= high <= 100`);
    }
    this.quantileRange = [qr[0], qr[1]];
  }

  /** True once fitted (or loaded). */
  get isFitted(): boolean {
    return this.fitted;
  }

  /** Number of features (columns) it was fitted on. */
  get featureCount(): number {
    return this.nFeatures;
  }

  /** Per-feature medians (a copy), or undefined when withCentering is false. sklearn's `center_`. */
  get center(): Float64Array | undefined {
    this.assertFitted('center');
    return this.centerValues?.slice();
  }

  /** Per-feature scales (a copy), or undefined when withScaling is false. sklearn's `scale_`. */
  get scale(): Float64Array | undefined {
    this.assertFitted('scale');
    return this.scaleValues?.slice();
  }

  private assertFitted(what: string): void {
    if (!this.fitted) throw new Error(`RobustScaler.${what}: the scaler is not fitted; call fit() or load() first`);
  }

  /**
   * Computes the per-column median and quantile range of `data` (`rows` x `cols`, row-major).
   * NaNs are ignored; a column with no finite value gets NaN center and scale (as sklearn).
   *
   * @returns this.
   * @throws TypeError / RangeError for a wrong type or shape, no rows, or an infinite value.
   */
  fit(data: ScalerArray, rows: number, cols: number): this {
    checkShape(data, rows, cols, 'RobustScaler.fit');
    if (rows < 1) throw new RangeError('RobustScaler.fit: need at least one row');
    const is32 = data instanceof Float32Array;
    const center = this.withCentering ? new Float64Array(cols) : undefined;
    const scale = this.withScaling ? new Float64Array(cols) : undefined;
    // Columns are copied out in blocks (one pass over the rows per block), which reads the
    // row-major data sequentially instead of one cache line per value.
    const block = Math.max(1, Math.min(cols, 32, Math.floor(4194304 / rows)));
    const buffers = Array.from({ length: block }, () => new Float64Array(rows));
    const filled = new Int32Array(block);
    for (let j0 = 0; j0 < cols; j0 += block) {
      const nb = Math.min(block, cols - j0);
      filled.fill(0);
      for (let i = 0, rowStart = j0; i < rows; i++, rowStart += cols) {
        for (let b = 0; b < nb; b++) {
          const v = data[rowStart + b];
          if (v !== v) continue; // NaN: ignored, as np.nanmedian / np.nanpercentile
          if (v === Infinity || v === -Infinity) {
            throw new RangeError(
              `RobustScaler.fit: row ${i}, column ${j0 + b} is ${v}; the data must be finite (NaN is allowed)`,
            );
          }
          buffers[b][filled[b]++] = v;
        }
      }
      for (let b = 0; b < nb; b++) this.fitColumn(buffers[b], filled[b], j0 + b, is32, center, scale);
    }
    this.centerValues = center;
    this.scaleValues = scale;
    this.fitDType = is32 ? 'float32' : 'float64';
    this.nFeatures = cols;
    this.nSamples = rows;
    this.fitted = true;
    return this;
  }

  /** Median and quantile range of one column's values `col[0..n-1]` (rearranged). */
  private fitColumn(
    col: Float64Array,
    n: number,
    j: number,
    is32: boolean,
    center: Float64Array | undefined,
    scale: Float64Array | undefined,
  ): void {
    if (n === 0) {
      if (center) center[j] = Number.NaN;
      if (scale) scale[j] = Number.NaN;
      return;
    }
    const ranks: number[] = [];
    const half = (n - 1) >> 1;
    if (center) ranks.push(half, n % 2 === 0 ? half + 1 : half);
    const qs = scale ? this.quantileRange.map((q) => percentileRanks(n, q)) : [];
    for (const r of qs) ranks.push(r.lo, r.hi);
    const stats = orderStatistics(col, n, ranks);
    const at = (k: number): number => stats.get(k) as number;
    if (center) {
      // np.median: the middle value, or the mean of the two middle values (in the data's precision).
      const m = n % 2 === 1 ? at(half) : (at(half) + at(half + 1)) / 2;
      // + 0 turns -0 into +0, as numpy's summing median does (and as JSON keeps it).
      center[j] = (is32 ? Math.fround(m) : m) + 0;
    }
    if (scale) {
      // Percentiles in float64 (numpy >= 2 returns float64 percentiles for float32 input).
      const [lowQ, highQ] = qs.map((r) => lerp(at(r.lo), at(r.hi), r.gamma, is32));
      const s = highQ - lowQ;
      scale[j] = s < 10 * FLOAT64_EPS ? 1 : s;
    }
  }

  /** Transforms `data` in place: x = (x - center) / scale, per column. @returns `data`. */
  transformInPlace<T extends ScalerArray>(data: T, rows: number, cols: number): T {
    this.assertFitted('transform');
    checkShape(data, rows, cols, 'RobustScaler.transform');
    if (cols !== this.nFeatures) {
      throw new RangeError(
        `RobustScaler.transform: data has ${cols} columns; the scaler was fitted on ${this.nFeatures}`,
      );
    }
    const c = this.centerValues;
    const s = this.scaleValues;
    if (data instanceof Float32Array) {
      // sklearn on float32: X -= center_ (float32), X /= scale_ (float64 op, stored as float32).
      const c32 = c ? Float32Array.from(c) : undefined;
      for (let i = 0, p = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++, p++) {
          let v = data[p];
          if (c32) v = Math.fround(v - c32[j]);
          if (s) v = v / s[j];
          data[p] = v;
        }
      }
    } else {
      for (let i = 0, p = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++, p++) {
          let v = data[p];
          if (c) v -= c[j];
          if (s) v /= s[j];
          data[p] = v;
        }
      }
    }
    return data;
  }

  /** Returns a scaled copy of `data` (same array type). */
  transform<T extends ScalerArray>(data: T, rows: number, cols: number): T {
    checkShape(data, rows, cols, 'RobustScaler.transform');
    return this.transformInPlace(data.slice() as T, rows, cols);
  }

  /** Fits on `data` and returns a scaled copy. */
  fitTransform<T extends ScalerArray>(data: T, rows: number, cols: number): T {
    return this.fit(data, rows, cols).transform(data, rows, cols);
  }

  /** Undoes {@link transformInPlace}: x = x * scale + center. @returns `data`. */
  inverseTransformInPlace<T extends ScalerArray>(data: T, rows: number, cols: number): T {
    this.assertFitted('inverseTransform');
    checkShape(data, rows, cols, 'RobustScaler.inverseTransform');
    if (cols !== this.nFeatures) {
      throw new RangeError(
        `RobustScaler.inverseTransform: data has ${cols} columns; the scaler was fitted on ${this.nFeatures}`,
      );
    }
    const c = this.centerValues;
    const s = this.scaleValues;
    for (let p = 0, j = 0; p < data.length; p++) {
      let v = data[p];
      if (s) v *= s[j];
      if (c) v += c[j];
      data[p] = v;
      if (++j === cols) j = 0;
    }
    return data;
  }

  /** Returns an unscaled copy of `data`. */
  inverseTransform<T extends ScalerArray>(data: T, rows: number, cols: number): T {
    checkShape(data, rows, cols, 'RobustScaler.inverseTransform');
    return this.inverseTransformInPlace(data.slice() as T, rows, cols);
  }

  /** The fitted parameters as plain JSON (NaN written as null). */
  toJSON(): RobustScalerJSON {
    this.assertFitted('toJSON');
    const list = (a: Float64Array | undefined): (number | null)[] | null =>
      a === undefined ? null : Array.from(a, (v) => (Number.isNaN(v) ? null : v));
    return {
      type: 'RobustScaler',
      version: 1,
      withCentering: this.withCentering,
      withScaling: this.withScaling,
      quantileRange: [this.quantileRange[0], this.quantileRange[1]],
      dtype: this.fitDType,
      nFeatures: this.nFeatures,
      nSamples: this.nSamples,
      center: list(this.centerValues),
      scale: list(this.scaleValues),
    };
  }

  /**
   * Rebuilds a fitted scaler from {@link toJSON}'s output (also parsed from a string).
   * @throws TypeError when the object is not a valid RobustScaler JSON.
   */
  static fromJSON(json: RobustScalerJSON | string): RobustScaler {
    const o = (typeof json === 'string' ? JSON.parse(json) : json) as Partial<RobustScalerJSON> | null;
    const bad = (why: string): never => {
      throw new TypeError(`RobustScaler.fromJSON: not a valid RobustScaler JSON: ${why}`);
    };
    if (typeof o !== 'object' || o === null) return bad('not an object');
    if (o.type !== 'RobustScaler') bad(`type is ${JSON.stringify(o.type)}`);
    if (o.version !== 1) bad(`unsupported version ${JSON.stringify(o.version)}`);
    if (typeof o.withCentering !== 'boolean' || typeof o.withScaling !== 'boolean')
      bad('withCentering/withScaling missing');
    if (!Number.isSafeInteger(o.nFeatures) || (o.nFeatures as number) < 1) bad('nFeatures missing');
    const nf = o.nFeatures as number;
    const arr = (v: unknown, name: string, wanted: boolean): Float64Array | undefined => {
      if (!wanted) {
        if (v !== null && v !== undefined) bad(`${name} given but disabled`);
        return undefined;
      }
      if (!Array.isArray(v) || v.length !== nf) return bad(`${name} must be an array of ${nf} numbers`);
      if (!v.every((x) => x === null || (typeof x === 'number' && Number.isFinite(x)))) bad(`${name} has a non-number`);
      return Float64Array.from(v as (number | null)[], nullableToNumber);
    };
    const s = new RobustScaler({
      withCentering: o.withCentering,
      withScaling: o.withScaling,
      quantileRange: (o.quantileRange ?? [25, 75]) as [number, number],
    });
    s.centerValues = arr(o.center, 'center', o.withCentering as boolean);
    s.scaleValues = arr(o.scale, 'scale', o.withScaling as boolean);
    s.fitDType = o.dtype === 'float32' ? 'float32' : 'float64';
    s.nFeatures = nf;
    s.nSamples = Number.isSafeInteger(o.nSamples) ? (o.nSamples as number) : 0;
    s.fitted = true;
    return s;
  }

  /** Writes {@link toJSON} to `path` atomically. */
  async save(filePath: string): Promise<void> {
    await writeFileAtomic(filePath, JSON.stringify(this.toJSON(), null, 2) + '\n');
  }

  /** Reads a scaler written by {@link save}. @throws Error naming the path when unreadable or invalid. */
  static async load(filePath: string): Promise<RobustScaler> {
    let text: string;
    try {
      text = await readFile(filePath, 'utf8');
    } catch (err) {
      throw new Error(`RobustScaler.load: cannot read ${filePath}: ${(err as Error).message}`, { cause: err });
    }
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      throw new Error(`RobustScaler.load: ${filePath} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    try {
      return RobustScaler.fromJSON(obj as RobustScalerJSON);
    } catch (err) {
      throw new Error(`RobustScaler.load: ${filePath}: ${(err as Error).message}`, { cause: err });
    }
  }
}
