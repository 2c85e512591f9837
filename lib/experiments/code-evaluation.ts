/**
 * How good are the frozen codes of an image feature extractor? The encode-and-probe step of the
 * equivariant-autoencoder experiment (equivariant.ts), written for any extractor that maps an
 * {@link ImageBatch} to a code matrix (an autoencoder, a pooled equivariant code, a later model):
 *
 * - encoding rate: images per second of wall and of CPU time;
 * - probes (lib/ml/probes): softmax regression and a 256-unit MLP on the standardised codes of the
 *   probe-training images, early stopping on a seeded 10 % split, accuracy on the test images;
 * - invariance error per image, ||f(g x) - f(x)|| / ||f(x)||, under the exact symmetries of the
 *   pixel grid (the 7 non-identity elements of D4: quarter turns and mirrors, which move pixels
 *   exactly), under bilinear turns by 30° and 60°, and under a random turn and mirror (the
 *   augmentation's distribution); also ||f(g x) - f(x)|| relative to the spread of the codes,
 *   sqrt(mean ||f(x) - mean f||^2), which a constant offset in every code does not shrink (1: the
 *   transform moves a code as far as a typical code lies from the mean code);
 * - explained variance of the leading principal components (lib/ml/explained-variance.ts), of the
 *   raw and of the standardised test codes (the paper's Fig. 8).
 */
import type { ImageBatch } from '../data/augment';
import { transformFloatImage, type ImageTransform } from '../data/transform';
import { explainedVariance, type ExplainedVariance } from '../ml/explained-variance';
import type { CodeMatrix } from '../ml/layers/mean-pooling';
import { probeAccuracy, PROBE_KINDS, type ProbeKind } from '../ml/probes/probe-accuracy';
import { Rng } from '../util/random';

/** Anything that gives codes of images (rows = images). */
export interface CodeExtractor {
  encode(images: ImageBatch): Promise<CodeMatrix>;
}

/** Images with their class labels. */
export interface LabeledImages extends ImageBatch {
  labels: Int32Array;
}

/** One probe's result, as plain JSON. */
export interface ProbeSummary {
  kind: ProbeKind;
  accuracy: number;
  valAccuracy: number | null;
  trainRows: number;
  valRows: number;
  testRows: number;
  epochs: number;
  bestEpoch: number | null;
  seconds: number;
}

/** Options of {@link probeCodes}. */
export interface CodeProbeOptions {
  seed: number;
  /** Default both: logistic and mlp. */
  kinds?: readonly ProbeKind[];
  /** Maximum epochs of each probe. Default 200. */
  epochs?: number;
  /** Early-stopping patience on the validation loss. Default 10. */
  patience?: number;
  /** Hidden units of the mlp. Default 256. */
  hidden?: number;
}

/** Trains each probe kind on (train codes, labels) and scores it on the test codes. */
export async function probeCodes(
  train: CodeMatrix,
  trainLabels: ArrayLike<number>,
  test: CodeMatrix,
  testLabels: ArrayLike<number>,
  o: CodeProbeOptions,
): Promise<Partial<Record<ProbeKind, ProbeSummary>>> {
  const out: Partial<Record<ProbeKind, ProbeSummary>> = {};
  for (const kind of o.kinds ?? PROBE_KINDS) {
    const r = await probeAccuracy(train, trainLabels, test, testLabels, {
      kind,
      seed: o.seed,
      epochs: o.epochs,
      patience: o.patience,
      hidden: o.hidden,
    });
    out[kind] = {
      kind,
      accuracy: r.accuracy,
      valAccuracy: r.valAccuracy,
      trainRows: r.trainRows,
      valRows: r.valRows,
      testRows: r.testRows,
      epochs: r.epochs,
      bestEpoch: r.bestEpoch,
      seconds: r.seconds,
    };
  }
  return out;
}

/** Codes of `images` and how fast they came. */
export interface TimedCodes {
  codes: CodeMatrix;
  seconds: number;
  cpuSeconds: number;
  imagesPerSecond: number;
  imagesPerCpuSecond: number;
}

/** Encodes `images`, timing wall and CPU (this process). */
export async function encodeTimed(extractor: CodeExtractor, images: ImageBatch): Promise<TimedCodes> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const codes = await extractor.encode(images);
  const seconds = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const cpuSeconds = (cu.user + cu.system) / 1e6;
  return {
    codes,
    seconds,
    cpuSeconds,
    imagesPerSecond: images.count / Math.max(seconds, 1e-9),
    imagesPerCpuSecond: images.count / Math.max(cpuSeconds, 1e-9),
  };
}

/** A family of transforms and the mean (and largest) invariance error over its members and the images. */
export interface InvarianceError {
  family: 'd4' | 'turn30' | 'random';
  description: string;
  /** Mean over images and transforms of ||f(g x) - f(x)|| / ||f(x)||. */
  mean: number;
  /** Largest such error. */
  max: number;
  /** Mean ||f(g x) - f(x)|| over the spread sqrt(mean ||f(x) - mean f||^2) of the images' codes. */
  relativeToSpread: number;
  images: number;
  transforms: number;
}

/** The transforms of each family (the random family draws one angle and mirror per image). */
const D4_TRANSFORMS: readonly ImageTransform[] = Object.freeze([
  { degrees: 90 },
  { degrees: 180 },
  { degrees: 270 },
  { mirror: true },
  { mirror: true, degrees: 90 },
  { mirror: true, degrees: 180 },
  { mirror: true, degrees: 270 },
]);
const TURN30_TRANSFORMS: readonly ImageTransform[] = Object.freeze([{ degrees: 30 }, { degrees: 60 }]);

function transformAll(images: ImageBatch, each: (i: number) => ImageTransform): ImageBatch {
  const { count, height, width } = images;
  const px = height * width;
  const data = new Float32Array(count * px);
  for (let i = 0; i < count; i++) {
    transformFloatImage(
      images.data.subarray(i * px, (i + 1) * px),
      height,
      width,
      each(i),
      data.subarray(i * px, (i + 1) * px),
    );
    // Bilinear sums can round a hair above 1.
    for (let k = i * px; k < (i + 1) * px; k++) if (data[k]! > 1) data[k] = 1;
  }
  return { data, count, height, width };
}

/** Per image: ||b - a|| and ||b - a|| / ||a||. */
function codeDistances(a: CodeMatrix, b: CodeMatrix): { absolute: number[]; relative: number[] } {
  const absolute: number[] = [];
  const relative: number[] = [];
  for (let r = 0; r < a.rows; r++) {
    let diff = 0;
    let norm = 0;
    for (let c = 0; c < a.cols; c++) {
      const x = a.data[r * a.cols + c]!;
      diff += (b.data[r * a.cols + c]! - x) ** 2;
      norm += x * x;
    }
    absolute.push(Math.sqrt(diff));
    relative.push(norm > 0 ? Math.sqrt(diff / norm) : diff > 0 ? Number.POSITIVE_INFINITY : 0);
  }
  return { absolute, relative };
}

/** sqrt(mean over rows of ||row - mean row||^2). */
function codeSpread(a: CodeMatrix): number {
  const mean = new Float64Array(a.cols);
  for (let r = 0; r < a.rows; r++) for (let c = 0; c < a.cols; c++) mean[c] += a.data[r * a.cols + c]! / a.rows;
  let sum = 0;
  for (let r = 0; r < a.rows; r++) for (let c = 0; c < a.cols; c++) sum += (a.data[r * a.cols + c]! - mean[c]!) ** 2;
  return Math.sqrt(sum / Math.max(1, a.rows));
}

/**
 * Invariance errors of `extractor` on `images` under the D4 elements (exact pixel moves), bilinear
 * turns by 30° and 60°, and a random angle with a random mirror (p = 0.5) per image.
 */
export async function invarianceErrors(
  extractor: CodeExtractor,
  images: ImageBatch,
  o: { seed: number },
): Promise<InvarianceError[]> {
  const base = await extractor.encode(images);
  const rng = new Rng(o.seed);
  const random = Array.from({ length: images.count }, (): ImageTransform => ({
    degrees: 360 * rng.nextFloat(),
    mirror: rng.nextFloat() < 0.5,
  }));
  const families: {
    family: InvarianceError['family'];
    description: string;
    transforms: ((i: number) => ImageTransform)[];
  }[] = [
    {
      family: 'd4',
      description: 'quarter turns and mirrors (the 7 non-identity elements of D4; exact pixel moves)',
      transforms: D4_TRANSFORMS.map((t) => () => t),
    },
    {
      family: 'turn30',
      description: 'bilinear turns by 30° and 60°',
      transforms: TURN30_TRANSFORMS.map((t) => () => t),
    },
    {
      family: 'random',
      description: 'a random angle in [0°, 360°) and a mirror with p = 0.5, bilinear',
      transforms: [(i) => random[i]!],
    },
  ];
  const spread = codeSpread(base);
  const out: InvarianceError[] = [];
  for (const f of families) {
    const errs: number[] = [];
    const dists: number[] = [];
    for (const t of f.transforms) {
      const d = codeDistances(base, await extractor.encode(transformAll(images, t)));
      errs.push(...d.relative);
      dists.push(...d.absolute);
    }
    const meanDist = dists.reduce((s, e) => s + e, 0) / Math.max(1, dists.length);
    out.push({
      family: f.family,
      description: f.description,
      mean: errs.reduce((s, e) => s + e, 0) / Math.max(1, errs.length),
      max: errs.reduce((m, e) => Math.max(m, e), 0),
      relativeToSpread: spread > 0 ? meanDist / spread : meanDist > 0 ? Number.POSITIVE_INFINITY : 0,
      images: images.count,
      transforms: f.transforms.length,
    });
  }
  return out;
}

/** The first `count` images (a view, no copy). */
export function firstImages<T extends ImageBatch>(images: T, count: number): ImageBatch & { labels?: Int32Array } {
  const n = Math.min(count, images.count);
  const px = images.height * images.width;
  const labels = (images as Partial<LabeledImages>).labels;
  return {
    data: images.data.subarray(0, n * px),
    count: n,
    height: images.height,
    width: images.width,
    ...(labels ? { labels: labels.subarray(0, n) } : {}),
  };
}

/** What {@link evaluateCodes} measured for one extractor. */
export interface CodeEvaluation {
  codeLength: number;
  /** Encoding of the probe-training and test images. */
  encoding: {
    images: number;
    seconds: number;
    cpuSeconds: number;
    imagesPerSecond: number;
    imagesPerCpuSecond: number;
  };
  probes: Partial<Record<ProbeKind, ProbeSummary>>;
  invariance: InvarianceError[];
  /** Of the test codes: raw and standardised. */
  explainedVariance: { raw: ExplainedVariance; standardized: ExplainedVariance };
}

/** Options of {@link evaluateCodes}. */
export interface EvaluateCodesOptions extends CodeProbeOptions {
  /** Test images used for the invariance errors (the first ones). Default 256. */
  invarianceImages?: number;
  /** Leading components of the explained-variance curves. Default 20. */
  components?: number;
}

/**
 * Encodes the probe-training and test images, probes the codes, and measures invariance errors and
 * explained variance: the whole evaluation of one extractor.
 */
export async function evaluateCodes(
  extractor: CodeExtractor,
  data: { train: LabeledImages; test: LabeledImages },
  o: EvaluateCodesOptions,
): Promise<CodeEvaluation> {
  const tr = await encodeTimed(extractor, data.train);
  const te = await encodeTimed(extractor, data.test);
  const probes = await probeCodes(tr.codes, data.train.labels, te.codes, data.test.labels, o);
  const invariance = await invarianceErrors(extractor, firstImages(data.test, o.invarianceImages ?? 256), {
    seed: o.seed,
  });
  const ev = { components: o.components ?? 20, seed: o.seed };
  const images = data.train.count + data.test.count;
  const seconds = tr.seconds + te.seconds;
  const cpuSeconds = tr.cpuSeconds + te.cpuSeconds;
  return {
    codeLength: tr.codes.cols,
    encoding: {
      images,
      seconds,
      cpuSeconds,
      imagesPerSecond: images / Math.max(seconds, 1e-9),
      imagesPerCpuSecond: images / Math.max(cpuSeconds, 1e-9),
    },
    probes,
    invariance,
    explainedVariance: {
      raw: explainedVariance(te.codes, ev),
      standardized: explainedVariance(te.codes, { ...ev, standardize: true }),
    },
  };
}
