/**
 * The data of the CODAE experiment (docs/CODAE.md, "Experiment"): a training set, a test set with
 * every factor per image, the probe sets of one object in 8 poses, and the fixed inputs shown for
 * every model. All are our procedural generators or our augmentation of MNIST, not the paper's
 * files:
 *
 * - 'xyrcs': the XYRCS-like set (lib/data/xyrcs.ts), 32 x 32; factors x, y, angle, brightness, shape.
 * - 'dsprites': the dSprites-like set (lib/data/dsprites.ts), 64 x 64 binary; factors shape, scale,
 *   angle, x, y.
 * - 'mnist': MNIST-RT, MNIST digits turned by uniform angles in [-60°, 60°] and shifted by whole
 *   pixels in [-3, 3] (lib/data/augment.ts); factors x, y (the image centre plus the shift), angle,
 *   digit. The training images come from the MNIST training split, the test images from the test split.
 *
 * Training and test images are drawn with different seeds from the same generator (image i depends
 * only on its seed and index).
 */
import type { AugmentOptions, ImageBatch } from '../data/augment';
import { augmentImages } from '../data/augment';
import { mnistDataset } from '../data/datasets';
import { dspritesImages, dspritesShape, dspritesValue } from '../data/dsprites';
import { imageRng, type FactorImages } from '../data/factor-images';
import { drawShape } from '../data/shapes';
import { transformFloatImage } from '../data/transform';
import { drawXyrcs, xyrcsImages } from '../data/xyrcs';

/** The data sets of the experiment. */
export type CodaeDatasetName = 'xyrcs' | 'dsprites' | 'mnist';
export const CODAE_DATASETS: readonly CodaeDatasetName[] = Object.freeze(['xyrcs', 'dsprites', 'mnist']);

/** The rotated-and-shifted MNIST (MNIST-RT): angles uniform in [-60°, 60°], whole-pixel shifts in [-3, 3], bilinear. */
export const MNIST_RT: Readonly<Omit<AugmentOptions, 'seed'>> = Object.freeze({
  angles: [-60, 60] as const,
  shift: 3,
  interpolation: 'bilinear' as const,
});

/** Poses per probe object (the "one object in 8 poses" check). */
export const SERIES_POSES = 8;

/** Everything a unit needs about its data. */
export interface CodaeData {
  name: CodaeDatasetName;
  /** Side of the square images. */
  size: number;
  train: ImageBatch;
  test: FactorImages;
  /** Columns of the centroid and orientation factors in `test.factors`. */
  pose: { x: number; y: number; angle: number };
  /** The factor columns that remain "without x, y, θ" (the paper's Fig. 3c, d). */
  content: number[];
  /** Range [lo, lo + period) of the true orientation: encoded angles are wrapped into it for the metrics. */
  angleRange: [number, number];
  /** Classes whose orientation is undefined (isotropic moments): left out of orientation errors. */
  isotropic: number[];
  /** The factor whose classes the kNN probe predicts and the brightness-like factor checked by |r| (or -1). */
  classFactor: number;
  brightnessFactor: number;
  /** Objects in 8 poses each: rows i * 8 .. i * 8 + 7 show object i. */
  series: ImageBatch;
  seriesObjects: string[];
  /** Indices into the test set of the inputs shown for every model (Fig. 4). */
  showcase: number[];
  /** Standard deviation of the true centroid offsets (pixels) and angles (radians): the spatial-VAE's priors. */
  shiftStd: number;
  angleStd: number;
}

/** Sizes of the sets. */
export interface CodaeDataSizes {
  trainImages: number;
  testImages: number;
  dataSeed: number;
}

/** A few test images per class (the first ones), for the figures. */
function showcaseOf(labels: Int32Array, classes: number, perClass: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < classes; c++) {
    let found = 0;
    for (let i = 0; i < labels.length && found < perClass; i++) {
      if (labels[i] === c) {
        out.push(i);
        found++;
      }
    }
  }
  return out;
}

function xyrcsData(s: CodaeDataSizes): CodaeData {
  const size = 32;
  const train = xyrcsImages({ count: s.trainImages, seed: s.dataSeed });
  const test = xyrcsImages({ count: s.testImages, seed: s.dataSeed + 1 });
  const P = size * size;
  const series = new Float32Array(3 * SERIES_POSES * P);
  for (let shape = 0; shape < 3; shape++) {
    for (let k = 0; k < SERIES_POSES; k++) {
      const rng = imageRng(s.dataSeed + 2, shape * SERIES_POSES + k);
      const c = (size - 1) / 2;
      const pose = {
        x: c + 6 * (2 * rng.nextFloat() - 1),
        y: c + 6 * (2 * rng.nextFloat() - 1),
        angle: Math.PI * (rng.nextFloat() - 0.5),
      };
      series.set(drawXyrcs(shape, 0.85, pose, size), (shape * SERIES_POSES + k) * P);
    }
  }
  return {
    name: 'xyrcs',
    size,
    train: { data: train.data, count: train.count, height: size, width: size },
    test,
    pose: { x: 0, y: 1, angle: 2 },
    content: [3, 4],
    angleRange: [-Math.PI / 2, Math.PI / 2],
    isotropic: [0],
    classFactor: 4,
    brightnessFactor: 3,
    series: { data: series, count: 3 * SERIES_POSES, height: size, width: size },
    seriesObjects: ['circle (brightness 0.85)', 'triangle (brightness 0.85)', 'rectangle (brightness 0.85)'],
    showcase: showcaseOf(test.labels, 3, 4),
    shiftStd: 6 / Math.sqrt(3),
    angleStd: Math.PI / Math.sqrt(12),
  };
}

function dspritesData(s: CodaeDataSizes): CodaeData {
  const size = 64;
  const train = dspritesImages({ count: s.trainImages, seed: s.dataSeed });
  const test = dspritesImages({ count: s.testImages, seed: s.dataSeed + 1 });
  const P = size * size;
  const series = new Float32Array(3 * SERIES_POSES * P);
  for (let shape = 0; shape < 3; shape++) {
    const g = dspritesShape(shape, size);
    for (let k = 0; k < SERIES_POSES; k++) {
      const rng = imageRng(s.dataSeed + 2, shape * SERIES_POSES + k);
      const pose = {
        x: dspritesValue('position', rng.nextInt(32), size),
        y: dspritesValue('position', rng.nextInt(32), size),
        angle: dspritesValue('angle', rng.nextInt(40)),
        scale: 1,
      };
      drawShape(
        series.subarray((shape * SERIES_POSES + k) * P, (shape * SERIES_POSES + k + 1) * P),
        size,
        size,
        g,
        pose,
        { binary: true },
      );
    }
  }
  const positions = Array.from({ length: 32 }, (_, j) => dspritesValue('position', j, size));
  const mean = positions.reduce((a, b) => a + b, 0) / 32;
  return {
    name: 'dsprites',
    size,
    train: { data: train.data, count: train.count, height: size, width: size },
    test,
    pose: { x: 3, y: 4, angle: 2 },
    content: [0, 1],
    angleRange: [0, 2 * Math.PI],
    isotropic: [0],
    classFactor: 0,
    brightnessFactor: -1,
    series: { data: series, count: 3 * SERIES_POSES, height: size, width: size },
    seriesObjects: ['square (scale 1)', 'ellipse (scale 1)', 'heart (scale 1)'],
    showcase: showcaseOf(test.labels, 3, 4),
    shiftStd: Math.sqrt(positions.reduce((a, p) => a + (p - mean) ** 2, 0) / 32),
    angleStd: (2 * Math.PI) / Math.sqrt(12),
  };
}

/** MNIST-RT images of `split` with factors x, y, angle, digit. */
function mnistSet(split: 'train' | 'test', count: number, seed: number): FactorImages {
  const ds = mnistDataset(split);
  if (count > ds.length)
    throw new RangeError(`the MNIST ${split} split has ${ds.length} images, ${count} were asked for`);
  const a = augmentImages(ds, { ...MNIST_RT, seed, count });
  const c = (a.width - 1) / 2;
  const factors = new Float32Array(a.count * 4);
  for (let i = 0; i < a.count; i++)
    factors.set([c + a.shifts[2 * i], c + a.shifts[2 * i + 1], a.angles[i], a.labels[i]], 4 * i);
  return {
    data: a.data,
    count: a.count,
    height: a.height,
    width: a.width,
    factorNames: ['x', 'y', 'angle', 'digit'],
    factors,
    discrete: [false, false, false, true],
    labels: a.labels,
    shapes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}

function mnistData(s: CodaeDataSizes): CodaeData {
  const train = mnistSet('train', s.trainImages, s.dataSeed);
  const test = mnistSet('test', s.testImages, s.dataSeed + 1);
  const size = train.height;
  const P = size * size;
  const ds = mnistDataset('test');
  const digits = [1, 4, 7];
  const series = new Float32Array(digits.length * SERIES_POSES * P);
  const source = new Float32Array(P);
  digits.forEach((digit, d) => {
    let idx = 0;
    while (ds.get(idx).label !== digit) idx++;
    const rec = ds.get(idx);
    for (let p = 0; p < P; p++) source[p] = rec.pixels[p]! / 255;
    for (let k = 0; k < SERIES_POSES; k++) {
      const rng = imageRng(s.dataSeed + 2, d * SERIES_POSES + k);
      const degrees = -60 + 120 * rng.nextFloat();
      const shift: [number, number] = [rng.nextInt(7) - 3, rng.nextInt(7) - 3];
      transformFloatImage(
        source,
        size,
        size,
        { degrees, shift },
        series.subarray((d * SERIES_POSES + k) * P, (d * SERIES_POSES + k + 1) * P),
      );
    }
  });
  return {
    name: 'mnist',
    size,
    train: { data: train.data, count: train.count, height: size, width: size },
    test,
    pose: { x: 0, y: 1, angle: 2 },
    content: [3],
    angleRange: [-Math.PI, Math.PI],
    isotropic: [],
    classFactor: 3,
    brightnessFactor: -1,
    series: { data: series, count: digits.length * SERIES_POSES, height: size, width: size },
    seriesObjects: digits.map((d) => `digit ${d}`),
    showcase: showcaseOf(test.labels, 10, 1),
    shiftStd: 2,
    angleStd: (120 * Math.PI) / 180 / Math.sqrt(12),
  };
}

/** The data of one data set at the given sizes. */
export function codaeData(name: CodaeDatasetName, sizes: CodaeDataSizes): CodaeData {
  if (name === 'xyrcs') return xyrcsData(sizes);
  if (name === 'dsprites') return dspritesData(sizes);
  if (name === 'mnist') return mnistData(sizes);
  throw new RangeError(`unknown data set '${String(name)}'; known: ${CODAE_DATASETS.join(', ')}`);
}
