/**
 * Streaming featurization: images in, SOAP feature matrices out, computed in native batches with
 * backpressure. At most two batches live at once (the one being consumed and the one being
 * computed), so memory stays bounded whatever the size of the data set.
 */
import { Readable } from 'node:stream';

import type { Dataset, ImageRecord, IndexedImage } from '../data/dataset';
import { imageToPoints, type ImageToPointsOptions } from '../data/image';
import { Soap, type DType, type FeatureMatrix, type SoapOptions, type StructureInput } from '../soap/soap';

/**
 * Chooses the centres of one image: the point indices to compute SOAP at, or 'all'. Returning an
 * empty array skips the image (nothing is yielded for it).
 */
export type CenterSelector = (imageIndex: number, numPoints: number) => ArrayLike<number> | 'all';

export interface FeaturizeProgress {
  /** Images finished so far. */
  done: number;
  /** Images this run will process, when known. */
  total: number | undefined;
  /** Feature rows produced so far. */
  rows: number;
  elapsedSeconds: number;
  imagesPerSecond: number;
}

export interface FeaturizeOptions {
  /** Where SOAP is computed: every point (default) or a selector such as a sampling plan's. */
  centers?: 'all' | CenterSelector;
  /** Images per native call. Default 64. */
  batchSize?: number;
  /** Image-to-points conversion (Algorithm 1). A displacement seed is mixed with each image's index. */
  image?: ImageToPointsOptions;
  /** Output precision. Default 'float64'. */
  dtype?: DType;
  /** OpenMP threads per native call. Default 0: all cores. */
  threads?: number;
  /** Only images with start <= index < end (a shard). Default: all. */
  start?: number;
  end?: number;
  /** Stops the run; the iterator throws the signal's reason. */
  signal?: AbortSignal;
  /** Called after every batch. */
  onProgress?: (p: FeaturizeProgress) => void;
}

/** The features of one image. */
export interface FeaturizedImage {
  index: number;
  label: number;
  /** One row per centre. */
  features: FeatureMatrix;
  /** For each row, the pixel (row * cols + col) its centre sits on. */
  pixelIndex: Int32Array;
  /** Points the image produced (centres are a subset of them). */
  numPoints: number;
}

/** Anything featurize can read images from. */
export type ImageSource = Dataset | Iterable<ImageRecord> | AsyncIterable<ImageRecord>;

function isDataset(s: ImageSource): s is Dataset {
  return typeof (s as Dataset).get === 'function' && typeof (s as Dataset).length === 'number';
}

/** A different, reproducible displacement seed for every image. */
export function imageSeed(seed: number, index: number): number {
  // SplitMix-style mixing of the two integers into 32 bits (safe integer output).
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index | 0, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

async function* indexedImages(source: ImageSource, start: number, end: number): AsyncGenerator<IndexedImage> {
  if (isDataset(source)) {
    const stop = Math.min(end, source.length);
    for (let i = start; i < stop; i++) yield source.get(i);
    return;
  }
  let index = 0;
  for await (const img of source as AsyncIterable<ImageRecord>) {
    if (index >= end) return;
    if (index >= start) yield { ...img, index };
    index++;
  }
}

interface PreparedImage {
  image: IndexedImage;
  structure: StructureInput;
  pixelIndex: Int32Array;
  centers: Int32Array | undefined;
  numPoints: number;
}

function prepare(image: IndexedImage, opts: FeaturizeOptions, oneSpecies: boolean): PreparedImage | undefined {
  const imageOptions = opts.image?.displacement
    ? {
        ...opts.image,
        displacement: { ...opts.image.displacement, seed: imageSeed(opts.image.displacement.seed, image.index) },
      }
    : opts.image;
  // Each channel is its own species (gray: H; R, G, B: H, He, Li). A one-channel image on a Soap
  // of one species needs no per-point species: every point is that species, whichever it is.
  const pts = imageToPoints(image, imageOptions);
  const species = oneSpecies && pts.channelSpecies.length === 1 ? undefined : pts.species;
  const sel = opts.centers === undefined || opts.centers === 'all' ? 'all' : opts.centers(image.index, pts.count);
  if (sel === 'all') {
    return {
      image,
      structure: { positions: pts.positions, species },
      pixelIndex: pts.pixelIndex,
      centers: undefined,
      numPoints: pts.count,
    };
  }
  if (sel.length === 0) return undefined;
  const centers = Int32Array.from(sel);
  const pixelIndex = new Int32Array(centers.length);
  for (let i = 0; i < centers.length; i++) {
    const c = centers[i]!;
    if (c < 0 || c >= pts.count)
      throw new RangeError(`centre selector gave point ${c} for image ${image.index}, which has ${pts.count} points`);
    pixelIndex[i] = pts.pixelIndex[c]!;
  }
  return { image, structure: { positions: pts.positions, species }, pixelIndex, centers, numPoints: pts.count };
}

/**
 * Featurizes images lazily: an async iterable of per-image results in index order, computed in
 * native batches of `batchSize` images. The next batch is computed while the current one is being
 * consumed; a slow consumer therefore slows production and memory stays bounded.
 */
export async function* featurize(
  source: ImageSource,
  soapOptions: SoapOptions | Soap,
  opts: FeaturizeOptions = {},
): AsyncGenerator<FeaturizedImage, void, undefined> {
  const soap = soapOptions instanceof Soap ? soapOptions : new Soap(soapOptions);
  const batchSize = opts.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be an integer >= 1, got ${batchSize}`);
  const start = opts.start ?? 0;
  const end = opts.end ?? Number.POSITIVE_INFINITY;
  if (!Number.isInteger(start) || start < 0) throw new RangeError(`start must be an integer >= 0, got ${start}`);
  const total = isDataset(source) ? Math.max(0, Math.min(end, source.length) - start) : undefined;
  const { signal } = opts;
  const t0 = process.hrtime.bigint();
  let done = 0;
  let rowsOut = 0;
  const images = indexedImages(source, start, end);
  const oneSpecies = soap.options.atomicNumbers.length === 1;

  // Reads the next batch of images and starts its native computation.
  const launch = async (): Promise<
    { prepared: PreparedImage[]; result: Promise<FeatureMatrix[]>; read: number } | undefined
  > => {
    const prepared: PreparedImage[] = [];
    let read = 0;
    while (read < batchSize) {
      const next = await images.next();
      if (next.done) break;
      read++;
      const p = prepare(next.value, opts, oneSpecies);
      if (p) prepared.push(p);
    }
    if (read === 0) return undefined;
    const result = soap.createMany(
      prepared.map((p) => p.structure),
      {
        centers: prepared.map((p) => (p.centers ? { indices: p.centers } : undefined)),
        dtype: opts.dtype,
        threads: opts.threads,
        signal,
      },
    );
    // Avoid an unhandled rejection while the previous batch is still being consumed.
    result.catch(() => undefined);
    return { prepared, result, read };
  };

  let current = await launch();
  while (current) {
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    const matrices = await current.result;
    const next = launch(); // compute ahead while this batch is consumed
    next.catch(() => undefined);
    done += current.read;
    for (let i = 0; i < current.prepared.length; i++) {
      const p = current.prepared[i]!;
      rowsOut += matrices[i]!.rows;
      const result: FeaturizedImage = {
        index: p.image.index,
        label: p.image.label,
        features: matrices[i]!,
        pixelIndex: p.pixelIndex,
        numPoints: p.numPoints,
      };
      yield result;
    }
    if (opts.onProgress) {
      const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
      opts.onProgress({
        done,
        total,
        rows: rowsOut,
        elapsedSeconds: elapsed,
        imagesPerSecond: elapsed > 0 ? done / elapsed : 0,
      });
    }
    current = await next;
  }
}

/**
 * The same as `featurize`, as an object-mode Node Readable stream. It emits 'progress' events with
 * a FeaturizeProgress; backpressure follows the stream's highWaterMark (default 16 images).
 */
export function featurizeStream(
  source: ImageSource,
  soapOptions: SoapOptions | Soap,
  opts: FeaturizeOptions & { highWaterMark?: number } = {},
): Readable {
  let stream: Readable;
  const iterable = featurize(source, soapOptions, {
    ...opts,
    onProgress: (p) => {
      opts.onProgress?.(p);
      stream.emit('progress', p);
    },
  });
  stream = Readable.from(iterable, { objectMode: true, highWaterMark: opts.highWaterMark ?? 16 });
  return stream;
}
