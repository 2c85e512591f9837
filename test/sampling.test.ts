import { describe, expect, it } from 'vitest';
import { Rng } from '../lib/util/random';
import {
  deriveSeed,
  droppedDraws,
  planSamples,
  pointsForImage,
  sampleCenters,
  sampleOffsets,
  sampledImages,
  trainValSplit,
  type SamplePlan,
} from '../lib/features/sampling';

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** Pearson chi-square statistic of observed counts against equal expected counts. */
function chiSquareUniform(counts: ArrayLike<number>): number {
  const expected = sum(counts) / counts.length;
  let chi = 0;
  for (let i = 0; i < counts.length; i++) chi += (counts[i] - expected) ** 2 / expected;
  return chi;
}

/** Upper bound that a chi-square with `dof` degrees of freedom exceeds with negligible probability. */
function chiSquareLimit(dof: number): number {
  return dof + 6 * Math.sqrt(2 * dof);
}

/** Point counts like MNIST images: 80..200 points each. */
function fakePointCounts(n: number, seed: number): Uint32Array {
  const rng = new Rng(seed);
  return Uint32Array.from({ length: n }, () => 80 + rng.nextInt(121));
}

/** All samples of a plan as (image, point) pairs, processing images in the given order. */
function allSamples(plan: SamplePlan, points: ArrayLike<number>, order: ArrayLike<number>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    out.set(i, Array.from(pointsForImage(plan, i, points[i])));
  }
  return out;
}

describe('planSamples (Algorithm 3, image stage)', () => {
  it('paper size: 120,000 samples from 60,000 images, compact', () => {
    const plan = planSamples({ datasetLength: 60000, count: 120000, seed: 1 });
    expect(plan.counts).toBeInstanceOf(Uint32Array);
    expect(plan.counts.length).toBe(60000);
    expect(sum(plan.counts)).toBe(120000);
    // With 2 draws per image on average, about e^-2 = 13.5% of the images are not drawn.
    const drawn = sampledImages(plan);
    expect(drawn.length / 60000).toBeGreaterThan(1 - Math.exp(-2) - 0.01);
    expect(drawn.length / 60000).toBeLessThan(1 - Math.exp(-2) + 0.01);
    const offsets = sampleOffsets(plan);
    expect(offsets[0]).toBe(0);
    expect(offsets[60000]).toBe(120000);
    expect(offsets[drawn[0] + 1] - offsets[drawn[0]]).toBe(plan.counts[drawn[0]]);
  });

  it('is deterministic for a seed; different seeds differ', () => {
    const a = planSamples({ datasetLength: 1000, count: 5000, seed: 42 });
    const b = planSamples({ datasetLength: 1000, count: 5000, seed: 42 });
    expect(Array.from(a.counts)).toEqual(Array.from(b.counts));
    const points = fakePointCounts(1000, 3);
    for (let i = 0; i < 1000; i += 37) {
      expect(Array.from(pointsForImage(a, i, points[i]))).toEqual(Array.from(pointsForImage(b, i, points[i])));
    }
    for (const seed of [43, 0, -42, 2 ** 40]) {
      const c = planSamples({ datasetLength: 1000, count: 5000, seed });
      expect(Array.from(c.counts)).not.toEqual(Array.from(a.counts));
    }
    // Point draws of one image differ between seeds too.
    const busy = sampledImages(a).find((i) => a.counts[i] >= 5) as number;
    const other = planSamples({ datasetLength: 1000, count: 5000, seed: 7 });
    const pa = pointsForImage(a, busy, 1000);
    const po = pointsForImage({ ...other, counts: a.counts }, busy, 1000);
    expect(Array.from(pa)).not.toEqual(Array.from(po));
  });

  it('image draws are uniform (chi-square)', () => {
    const plan = planSamples({ datasetLength: 100, count: 200000, seed: 9 });
    expect(sum(plan.counts)).toBe(200000);
    expect(chiSquareUniform(plan.counts)).toBeLessThan(chiSquareLimit(99));
  });

  it('validates its options', () => {
    expect(() => planSamples({ datasetLength: -1, count: 1, seed: 0 })).toThrow(
      /datasetLength must be an integer >= 0/,
    );
    expect(() => planSamples({ datasetLength: 10, count: 1.5, seed: 0 })).toThrow(/count must be an integer/);
    expect(() => planSamples({ datasetLength: 10, count: 1, seed: 0.5 })).toThrow(/seed must be an integer/);
    expect(() => planSamples({ datasetLength: 0, count: 1, seed: 0 })).toThrow(/empty data set/);
    expect(planSamples({ datasetLength: 0, count: 0, seed: 0 }).counts.length).toBe(0);
    expect(() => planSamples({ datasetLength: 3, count: 1, seed: 0, pointCounts: [1, 2] })).toThrow(/3 entries/);
    expect(() => planSamples({ datasetLength: 2, count: 1, seed: 0, pointCounts: [1, -2] })).toThrow(
      /pointCounts\[1\]/,
    );
    expect(() => planSamples({ datasetLength: 2, count: 1, seed: 0, pointCounts: [0, 0] })).toThrow(
      /no image has any point/,
    );
  });
});

describe('pointsForImage (point stage)', () => {
  const n = 500;
  const points = fakePointCounts(n, 11);
  const plan = planSamples({ datasetLength: n, count: 3000, seed: 5 });

  it('gives counts[i] indices in range, for every image', () => {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const p = pointsForImage(plan, i, points[i]);
      expect(p).toBeInstanceOf(Uint32Array);
      expect(p.length).toBe(plan.counts[i]);
      for (const v of p) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(points[i]);
      }
      total += p.length;
    }
    expect(total).toBe(3000);
  });

  it('does not depend on processing order, batching or a fresh plan object (shards)', () => {
    const ascending = Uint32Array.from({ length: n }, (_, i) => i);
    const reference = allSamples(plan, points, ascending);
    const shuffled = new Rng(99).shuffle(ascending.slice());
    expect(allSamples(plan, points, shuffled)).toEqual(reference);
    // Shard 3 of 4 on another machine: its own plan from the same options.
    const shardPlan = planSamples({ datasetLength: n, count: 3000, seed: 5 });
    const shard = ascending.filter((i) => i % 4 === 3);
    const got = allSamples(shardPlan, points, shard);
    for (const i of shard) expect(got.get(i)).toEqual(reference.get(i));
    // Repeated calls give the same result (no hidden state).
    expect(Array.from(pointsForImage(plan, 7, points[7]))).toEqual(reference.get(7));
  });

  it('point draws are uniform with replacement (chi-square)', () => {
    const one = planSamples({ datasetLength: 1, count: 100000, seed: 3 });
    const p = pointsForImage(one, 0, 50);
    expect(p.length).toBe(100000);
    const hist = new Uint32Array(50);
    for (const v of p) hist[v]++;
    expect(chiSquareUniform(hist)).toBeLessThan(chiSquareLimit(49));
    // With replacement: 3 draws from an image with 1 point are all 0.
    const few = planSamples({ datasetLength: 1, count: 3, seed: 3 });
    expect(Array.from(pointsForImage(few, 0, 1))).toEqual([0, 0, 0]);
  });

  it('overall, every (image, point) pair of equal-sized images is equally likely', () => {
    const imgs = 20;
    const pts = 10;
    const plan2 = planSamples({ datasetLength: imgs, count: 100000, seed: 17 });
    const hist = new Uint32Array(imgs * pts);
    for (let i = 0; i < imgs; i++) for (const v of pointsForImage(plan2, i, pts)) hist[i * pts + v]++;
    expect(sum(hist)).toBe(100000);
    expect(chiSquareUniform(hist)).toBeLessThan(chiSquareLimit(imgs * pts - 1));
  });

  it('sampleCenters is a featurize centre selector over pointsForImage', () => {
    const select = sampleCenters(plan);
    for (const i of [0, 5, 499])
      expect(Array.from(select(i, points[i]))).toEqual(Array.from(pointsForImage(plan, i, points[i])));
  });

  it('validates its arguments', () => {
    expect(() => pointsForImage(plan, n, 10)).toThrow(/imageIndex 500 is out of range 0..499/);
    expect(() => pointsForImage(plan, -1, 10)).toThrow(/out of range/);
    expect(() => pointsForImage(plan, 0, -1)).toThrow(/numPoints must be an integer >= 0/);
  });
});

describe('images with no points', () => {
  const n = 300;
  const points = fakePointCounts(n, 21);
  for (let i = 0; i < n; i += 7) points[i] = 0; // 43 empty images

  it('with pointCounts: empty images are never drawn and the total stays T', () => {
    const plan = planSamples({ datasetLength: n, count: 10000, seed: 8, pointCounts: points });
    expect(sum(plan.counts)).toBe(10000);
    for (let i = 0; i < n; i += 7) {
      expect(plan.counts[i]).toBe(0);
      expect(pointsForImage(plan, i, 0).length).toBe(0);
    }
    let total = 0;
    for (let i = 0; i < n; i++) total += pointsForImage(plan, i, points[i]).length;
    expect(total).toBe(10000);
    expect(droppedDraws(plan, points)).toBe(0);
    // Uniform over the non-empty images.
    const nonEmpty = Array.from(plan.counts).filter((_, i) => points[i] > 0);
    expect(nonEmpty.length).toBe(n - 43);
    const big = planSamples({ datasetLength: n, count: 257000, seed: 8, pointCounts: points });
    expect(chiSquareUniform(Array.from(big.counts).filter((_, i) => points[i] > 0))).toBeLessThan(
      chiSquareLimit(n - 44),
    );
    // A point count that differs from the plan's is an error (changed image-to-points options).
    expect(() => pointsForImage(plan, 1, points[1] + 1)).toThrow(/has \d+ points but the plan was made with \d+/);
  });

  it('without pointCounts: draws on empty images are dropped and counted', () => {
    const plan = planSamples({ datasetLength: n, count: 10000, seed: 8 });
    let total = 0;
    let lost = 0;
    for (let i = 0; i < n; i++) {
      const p = pointsForImage(plan, i, points[i]);
      if (points[i] === 0) {
        expect(p.length).toBe(0);
        lost += plan.counts[i];
      }
      total += p.length;
    }
    expect(lost).toBeGreaterThan(0);
    expect(droppedDraws(plan, points)).toBe(lost);
    expect(total).toBe(10000 - lost);
  });

  it('when no image is empty, pointCounts does not change the plan', () => {
    const full = fakePointCounts(n, 22);
    const a = planSamples({ datasetLength: n, count: 5000, seed: 12, pointCounts: full });
    const b = planSamples({ datasetLength: n, count: 5000, seed: 12 });
    expect(Array.from(a.counts)).toEqual(Array.from(b.counts));
    for (let i = 0; i < n; i += 13) {
      expect(Array.from(pointsForImage(a, i, full[i]))).toEqual(Array.from(pointsForImage(b, i, full[i])));
    }
  });
});

describe('trainValSplit', () => {
  it('paper split: 120,000 -> 96,000 / 24,000, a partition of 0..n-1', () => {
    const { train, val } = trainValSplit(120000, 0.8, 1);
    expect(train.length).toBe(96000);
    expect(val.length).toBe(24000);
    const seen = new Uint8Array(120000);
    for (const i of train) seen[i]++;
    for (const i of val) seen[i]++;
    expect(seen.every((v) => v === 1)).toBe(true);
    // Shuffled, not a prefix.
    expect(Array.from(train.subarray(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let inFirstHalf = 0;
    for (const i of val) if (i < 60000) inFirstHalf++;
    expect(Math.abs(inFirstHalf / 24000 - 0.5)).toBeLessThan(0.02);
  });

  it('is deterministic; seeds differ; sizes round; edge fractions', () => {
    const a = trainValSplit(1000, 0.8, 5);
    const b = trainValSplit(1000, 0.8, 5);
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    expect(Array.from(a.val)).toEqual(Array.from(b.val));
    expect(Array.from(trainValSplit(1000, 0.8, 6).train)).not.toEqual(Array.from(a.train));
    expect(trainValSplit(10).train.length).toBe(8);
    expect(trainValSplit(7, 0.5, 0).train.length).toBe(4); // round(3.5) = 4
    expect(trainValSplit(5, 0, 0).train.length).toBe(0);
    expect(trainValSplit(5, 1, 0).val.length).toBe(0);
    expect(trainValSplit(0).train.length).toBe(0);
    expect(() => trainValSplit(10, 1.5)).toThrow(/fraction must be a number in \[0, 1\]/);
    expect(() => trainValSplit(-1)).toThrow(/n must be an integer >= 0/);
  });
});

describe('deriveSeed', () => {
  it('is a deterministic safe integer, sensitive to every input', () => {
    const s = deriveSeed(1, 2, 3);
    expect(Number.isSafeInteger(s)).toBe(true);
    expect(s).toBeGreaterThanOrEqual(0);
    expect(deriveSeed(1, 2, 3)).toBe(s);
    const others = [
      deriveSeed(1, 2, 4),
      deriveSeed(1, 3, 3),
      deriveSeed(2, 2, 3),
      deriveSeed(1, 2),
      deriveSeed(1, 2, 3, 0),
      deriveSeed(-1, 2, 3),
    ];
    expect(new Set([s, ...others]).size).toBe(others.length + 1);
  });
});
