/**
 * Every measurement of the benchmark for a set of extractors on one data protocol: fit (once per
 * shared model), encode the training and test splits, standardise on the training split, then the
 * probes at every label budget and seed, k-means on the test vectors, the invariance errors, and
 * the encoding cost (docs/BENCHMARK.md, "Measurements").
 *
 * Encoding cost is measured on its own: a fresh copy of the first `timingImages` test images
 * encoded once, CPU seconds of this process (every thread) divided into the images, so that a
 * cache shared by two extractors of one model never makes one of them look free.
 */
import type { ImageBatch } from '../data/augment';
import type { CodeMatrix } from '../ml/layers/mean-pooling';
import { applyStandardizer, fitStandardizer } from '../ml/probes/standardize';
import type { BenchmarkData } from './data';
import { withCoreSeconds, type Extractor, type ExtractorContext, type ExtractorFamily } from './extractor';
import { measureInvariance, type InvarianceRecord } from './invariance';
import {
  clusteringRecord,
  probeRecords,
  summarizeProbes,
  type ClusteringRecord,
  type ProbeGrid,
  type ProbeRecord,
  type ProbeSummary,
} from './probes';

/** What is measured besides the probes. */
export interface MeasureSettings {
  /** Test images the k-means runs on (the first ones). */
  clusterImages: number;
  kmeansRestarts: number;
  /** Test images the invariance errors are measured on (the first ones). */
  invarianceImages: number;
  /** Random angles per image for the invariance error. */
  randomAngles: number;
  /** Test images the encoding cost is measured on (the first ones). */
  timingImages: number;
}

/** Everything measured of one extractor. */
export interface ExtractorRow {
  name: string;
  family: ExtractorFamily;
  description: string;
  labels: 'none' | 'train';
  exactD4Invariant: boolean;
  /** Width of the vector. */
  dims: number;
  trainingCoreSeconds: number;
  training: Record<string, unknown> | null;
  /** Images encoded per CPU-second (all threads) on the timing images. */
  encodeImagesPerCoreSecond: number;
  encodeTiming: { images: number; coreSeconds: number; threads: number };
  probes: ProbeRecord[];
  summary: ProbeSummary[];
  clustering: ClusteringRecord;
  invariance: InvarianceRecord;
}

/** A new batch object over copies of the first `n` images (no cache knows it). */
export function freshFirst(images: ImageBatch, n: number): ImageBatch {
  const k = Math.min(n, images.count);
  const px = images.height * images.width;
  return { data: images.data.slice(0, k * px), count: k, height: images.height, width: images.width };
}

function checkCodes(m: CodeMatrix, rows: number, name: string, what: string): void {
  if (m.rows !== rows || m.data.length !== m.rows * m.cols)
    throw new Error(`${name}: encoding the ${what} gave ${m.rows} x ${m.cols} values for ${rows} images`);
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i]!))
      throw new Error(`${name}: value ${i % m.cols} of the ${what} vector ${Math.floor(i / m.cols)} is ${m.data[i]}`);
  }
}

/** Fits the extractors (those sharing a model fit it once) and measures each. */
export async function evaluateExtractors(
  extractors: readonly Extractor[],
  data: BenchmarkData,
  grid: ProbeGrid,
  m: MeasureSettings,
  ctx: ExtractorContext,
): Promise<ExtractorRow[]> {
  for (const e of extractors) {
    if (e.fit) {
      ctx.log(`${e.name}: fitting`);
      await e.fit({ train: data.train, validation: data.validation }, ctx);
    }
  }
  const rows: ExtractorRow[] = [];
  for (const e of extractors) {
    ctx.log(`${e.name}: encoding ${data.train.count} training and ${data.test.count} test images`);
    const train = await e.encode(data.train, ctx);
    checkCodes(train, data.train.count, e.name, 'training');
    const test = await e.encode(data.test, ctx);
    checkCodes(test, data.test.count, e.name, 'test');
    const standardizer = fitStandardizer(train);
    const stdTrain = applyStandardizer(standardizer, train);
    const stdTest = applyStandardizer(standardizer, test);
    ctx.log(`${e.name}: probes`);
    const probes = await probeRecords(stdTrain, data.train.labels, stdTest, data.test.labels, {
      ...grid,
      signal: ctx.signal,
    });
    const clustering = clusteringRecord(stdTest, data.test.labels, {
      images: m.clusterImages,
      restarts: m.kmeansRestarts,
      seed: grid.seed,
    });
    ctx.log(`${e.name}: invariance`);
    const invariance = await measureInvariance(
      e,
      freshFirst(data.test, m.invarianceImages),
      { randomAngles: m.randomAngles, seed: grid.seed, standardizer },
      ctx,
    );
    const timing = freshFirst(data.test, m.timingImages);
    const t = await withCoreSeconds(() => e.encode(timing, ctx));
    const summary = summarizeProbes(probes);
    rows.push({
      name: e.name,
      family: e.family,
      description: e.description,
      labels: e.labels,
      exactD4Invariant: e.exactD4Invariant,
      dims: train.cols,
      trainingCoreSeconds: e.trainingCoreSeconds,
      training: e.trainingInfo ?? null,
      encodeImagesPerCoreSecond: timing.count / Math.max(t.coreSeconds, 1e-6),
      encodeTiming: { images: timing.count, coreSeconds: t.coreSeconds, threads: ctx.threads },
      probes,
      summary,
      clustering,
      invariance,
    });
    const head = summary.map((s) => `${s.probe}@${s.budget} ${s.mean.toFixed(3)}`).join(', ');
    ctx.log(
      `${e.name}: ${head}; NMI ${clustering.nmi.toFixed(3)}; invariance d4 ${invariance.d4.medianStandardized.toExponential(2)}, random ${invariance.random.bilinear.medianStandardized.toFixed(3)}`,
    );
  }
  return rows;
}
