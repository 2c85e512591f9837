/**
 * The plan of a featurize run, made before any SOAP work: the points of every image (counted
 * with the conversion's own keep rule, without converting), the sampling plan over the whole
 * data set (so that every shard draws the same samples), and from these the exact number of
 * rows this run or shard writes, the bytes it needs, and the batch size.
 *
 * Rows: sum over this shard's images of (samples of the image with a sampling plan, else its
 * points). Bytes: rows * (featureCount * itemsize + 4 + 8) + 3 * 128 (labels int32, centres
 * 2 x int32, three .npy headers).
 */
import type { Dataset } from '../data/dataset';
import { countKeptValues, pointRule, type ImageToPointsOptions } from '../data/image';
import { shardRange, type ShardSpec } from '../util/shard';
import { UsageError } from '../util/usage-error';
import { planSamples, type SamplePlan } from './sampling';

/**
 * Points per image for images 0..n-1, without converting them: the number of pixel values (all
 * channels) that the image-to-points conversion keeps under `image` (noise moves points, never
 * adds or removes one).
 * @throws TypeError / RangeError on invalid zScale, zRounding or threshold.
 */
export function countPoints(ds: Dataset, n: number, image: ImageToPointsOptions): Uint32Array {
  const rule = pointRule(image);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = countKeptValues(ds.get(i).pixels, rule);
  return out;
}

/** Images per native call in 'auto' mode: 64 images' worth of centres (64 to 1024 images). */
export function autoBatchSize(centres: number | undefined, points: number | undefined): number {
  if (centres === undefined || points === undefined || centres <= 0) return 64;
  // A batch of b images holds about b * centres / images rows; aim for 64 whole images' points.
  return Math.max(64, Math.min(1024, Math.round((64 * points) / centres)));
}

/** What {@link planRun} needs. */
export interface RunPlanOptions {
  /** Images of the data set used (after a limit). */
  length: number;
  shard?: ShardSpec;
  /** Points per image, from {@link countPoints}. */
  pointCounts: Uint32Array;
  /** Compute SOAP at `count` random (image, point) pairs drawn with `seed` (Algorithm 3). */
  sample?: { count: number; seed: number };
  featureCount: number;
  dtype: 'float32' | 'float64';
  /** Images per native call, or 'auto' (see {@link autoBatchSize}). */
  batchSize: number | 'auto';
}

/** The plan of one run or shard. */
export interface RunPlan {
  /** This run's images: start <= index < end. */
  start: number;
  end: number;
  /** The sampling plan over the whole data set, when sampling. */
  samples: SamplePlan | undefined;
  /** Rows this run writes. */
  expectedRows: number;
  /** Bytes of its three .npy files. */
  expectedBytes: number;
  batchSize: number;
}

/**
 * Plans one run or shard.
 * @throws UsageError when the sample cannot be drawn (e.g. no image has a point).
 */
export function planRun(o: RunPlanOptions): RunPlan {
  const { start, end } = shardRange(o.length, o.shard);
  let samples: SamplePlan | undefined;
  if (o.sample !== undefined) {
    try {
      samples = planSamples({
        datasetLength: o.length,
        count: o.sample.count,
        seed: o.sample.seed,
        pointCounts: o.pointCounts,
      });
    } catch (err) {
      throw new UsageError(`--sample ${o.sample.count}: ${(err as Error).message.replace(/^planSamples: /, '')}`);
    }
  }
  let expectedRows = 0;
  for (let i = start; i < end; i++) expectedRows += samples ? samples.counts[i]! : o.pointCounts[i]!;
  const expectedBytes = expectedRows * (o.featureCount * (o.dtype === 'float32' ? 4 : 8) + 4 + 8) + 3 * 128;
  let batchSize = o.batchSize === 'auto' ? 64 : o.batchSize;
  if (o.batchSize === 'auto' && samples) {
    let points = 0;
    for (let i = 0; i < o.length; i++) points += o.pointCounts[i]!;
    batchSize = autoBatchSize(o.sample!.count, points);
  }
  return { start, end, samples, expectedRows, expectedBytes, batchSize };
}
