/**
 * Evaluation of one trained model of the CODAE experiment on its test set (docs/CODAE.md,
 * "Experiment"): the eight disentanglement scores with and without x, y, θ (the paper's Fig. 3),
 * the pose estimates against the true pose, the invariant latents (kNN class accuracy, |r| with
 * brightness, leakage of the pose into them, invariance over one object in 8 poses), and how alike
 * the aligned reconstructions of one object in 8 poses are.
 *
 * Models without an explicit pose (β-VAE, DAE) have their x, y and θ latents identified after
 * training, as the paper does: greedily, the (factor, latent) pair with the most mutual information
 * first. Their aligned reconstructions hold those latents at their median over the test set; the
 * explicit models draw at the centre with angle 0.
 */
import type { ImageBatch } from '../data/augment';
import {
  disentanglementScores,
  DISENTANGLEMENT_METRICS,
  type DisentanglementScores,
} from '../ml/metrics/disentanglement';
import { asBins, asClasses, columnsOf } from '../ml/metrics/disentanglement-data';
import { informationMatrix } from '../ml/metrics/disentanglement-info';
import { invarianceRatio, pearson } from '../ml/metrics/latent-angle';
import { knnCrossValidation } from '../ml/probes/knn';
import { SERIES_POSES, type CodaeData } from './codae-data';
import type { CodeMatrix, ExperimentModel } from './codae-models';

/** Orientation errors in degrees (images of classes with a defined orientation). */
export interface AngleErrors {
  /** Median of |θ̂ - θ| modulo π. */
  median: number;
  /** The same after removing each class's mean offset (modulo π): the model's canonical orientation may differ per class. */
  medianAfterOffset: number;
  /** Each class's offset (degrees, modulo 180), null for classes left out. */
  offsets: (number | null)[];
  /** Images counted. */
  images: number;
}

/** What one unit reports. */
export interface CodaeEvaluation {
  testMse: number;
  /** testMse divided by the MSE of a blank (all-zero) reconstruction: 1 = no better than drawing nothing. */
  relativeMse: number;
  scoresWithPose: DisentanglementScores;
  totalWithPose: number;
  scoresWithoutPose: DisentanglementScores;
  totalWithoutPose: number;
  /** Code columns of x, y, θ; `identified` when chosen after training (no explicit pose). */
  poseColumns: { x: number; y: number; angle: number; identified: boolean };
  contentColumns: number[];
  /** |r| of the x and y (and θ) codes with the truth. */
  pose: { absRx: number; absRy: number; absRangle: number; angleErrors: AngleErrors | null };
  content: { knnAccuracy: number; absRbrightness: number | null; leakage: { x: number; y: number; angle: number } };
  /** Invariance ratio of the content latents over the 8-pose probe sets (0 = invariant). */
  invarianceRatio: number;
  /** Mean pairwise MSE of the aligned reconstructions within each 8-pose set, of the inputs, and their ratio (per object, then overall). */
  alignment: { aligned: number[]; inputs: number[]; ratio: number[]; meanRatio: number };
  /** A sample of true and estimated pose values (first 400 test images) for the scatter figures. */
  samples: { trueX: number[]; estX: number[]; trueAngle: number[]; estAngle: number[]; cls: number[] };
}

function columnOf(m: CodeMatrix, j: number): Float32Array {
  return Float32Array.from({ length: m.rows }, (_, i) => m.data[i * m.cols + j]!);
}

function pick(m: CodeMatrix, cols: number[]): CodeMatrix {
  const data = new Float32Array(m.rows * cols.length);
  for (let i = 0; i < m.rows; i++) cols.forEach((j, k) => (data[i * cols.length + k] = m.data[i * m.cols + j]!));
  return { data, rows: m.rows, cols: cols.length };
}

function median(values: ArrayLike<number>): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** θ wrapped into [lo, hi). */
export function wrapAngle(theta: number, [lo, hi]: [number, number]): number {
  const p = hi - lo;
  return lo + ((((theta - lo) % p) + p) % p);
}

/** The greedy identification of x, y, θ latents by mutual information (see the file comment). */
export function identifyPose(
  codes: CodeMatrix,
  factors: CodeMatrix,
  pose: CodaeData['pose'],
  bins = 10,
): { x: number; y: number; angle: number } {
  const z = columnsOf(codes, 'codes').map((c) => asBins(c, bins));
  const f = columnsOf(factors, 'factors');
  const wanted = [pose.x, pose.y, pose.angle];
  const { mi } = informationMatrix(
    z,
    wanted.map((k) => asBins(f[k]!, bins)),
  );
  const taken = new Set<number>();
  const out = [-1, -1, -1];
  for (let round = 0; round < 3; round++) {
    let best = { v: -1, j: -1, k: -1 };
    mi.forEach((row, j) => {
      if (taken.has(j)) return;
      row.forEach((v, k) => {
        if (out[k] === -1 && v > best.v) best = { v, j, k };
      });
    });
    if (best.j < 0) throw new Error(`only ${codes.cols} latents: too few to identify x, y and θ`);
    out[best.k] = best.j;
    taken.add(best.j);
  }
  return { x: out[0]!, y: out[1]!, angle: out[2]! };
}

/** Orientation errors modulo π, left out: classes in `isotropic`. */
export function angleErrors(
  est: Float32Array,
  truth: Float32Array,
  cls: Int32Array,
  classes: number,
  isotropic: number[],
): AngleErrors {
  const deg = 180 / Math.PI;
  const diff = (i: number): number => est[i]! - truth[i]!;
  const offsets: (number | null)[] = [];
  for (let c = 0; c < classes; c++) {
    if (isotropic.includes(c)) {
      offsets.push(null);
      continue;
    }
    let s = 0;
    let co = 0;
    for (let i = 0; i < est.length; i++) {
      if (cls[i] !== c) continue;
      s += Math.sin(2 * diff(i));
      co += Math.cos(2 * diff(i));
    }
    offsets.push(s === 0 && co === 0 ? null : 0.5 * Math.atan2(s, co));
  }
  const raw: number[] = [];
  const corrected: number[] = [];
  const modPi = (a: number): number => {
    const d = ((a % Math.PI) + Math.PI) % Math.PI;
    return Math.min(d, Math.PI - d) * deg;
  };
  for (let i = 0; i < est.length; i++) {
    const off = offsets[cls[i]!];
    if (isotropic.includes(cls[i]!) || off === undefined || off === null) continue;
    raw.push(modPi(diff(i)));
    corrected.push(modPi(diff(i) - off));
  }
  return {
    median: median(raw),
    medianAfterOffset: median(corrected),
    offsets: offsets.map((o) => (o === null ? null : (((o * deg) % 180) + 180) % 180)),
    images: raw.length,
  };
}

/** Codes with the pose columns replaced: the explicit pose by the identity, identified latents by their medians over `reference`. */
export function canonicalCodes(
  codes: CodeMatrix,
  pose: { x: number; y: number; angle: number; identified: boolean },
  centre: number,
  reference: CodeMatrix,
): CodeMatrix {
  const out = { data: codes.data.slice(), rows: codes.rows, cols: codes.cols };
  const values = pose.identified
    ? [pose.x, pose.y, pose.angle].map((j) => median(columnOf(reference, j)))
    : [centre, centre, 0];
  for (let i = 0; i < codes.rows; i++)
    [pose.x, pose.y, pose.angle].forEach((j, k) => (out.data[i * codes.cols + j] = values[k]!));
  return out;
}

/** Mean pairwise squared difference (per pixel) within consecutive groups of `group` images: one value per group. */
export function pairwiseMse(images: ImageBatch, group: number): number[] {
  const P = images.height * images.width;
  const out: number[] = [];
  for (let g = 0; g * group < images.count; g++) {
    let s = 0;
    let pairs = 0;
    for (let a = 0; a < group; a++) {
      for (let b = a + 1; b < group; b++) {
        const ia = (g * group + a) * P;
        const ib = (g * group + b) * P;
        let d = 0;
        for (let p = 0; p < P; p++) d += (images.data[ia + p]! - images.data[ib + p]!) ** 2;
        s += d / P;
        pairs++;
      }
    }
    out.push(s / pairs);
  }
  return out;
}

/** Evaluates a trained model; see the file comment. Returns the record and the codes of the test set. */
export async function evaluateModel(
  model: ExperimentModel,
  data: CodaeData,
  seed: number,
): Promise<{ evaluation: CodaeEvaluation; codes: CodeMatrix }> {
  const test = data.test;
  const F = test.factorNames.length;
  const factors: CodeMatrix = { data: test.factors, rows: test.count, cols: F };
  const codes = await model.encode(test);
  const identified = model.pose === null;
  const poseCols = model.pose ?? identifyPose(codes, factors, data.pose);
  const poseColumns = { ...poseCols, identified };
  const contentColumns = identified
    ? model.content.filter((j) => ![poseCols.x, poseCols.y, poseCols.angle].includes(j))
    : [...model.content];
  // Explicit angles wrapped into the range of the true orientation for the metrics.
  const metricCodes = { data: codes.data.slice(), rows: codes.rows, cols: codes.cols };
  if (!identified)
    for (let i = 0; i < codes.rows; i++)
      metricCodes.data[i * codes.cols + poseCols.angle] = wrapAngle(
        codes.data[i * codes.cols + poseCols.angle]!,
        data.angleRange,
      );
  const content = pick(codes, contentColumns);
  const contentFactors = pick(factors, data.content);
  const scoresWithPose = disentanglementScores(metricCodes, factors, { discrete: test.discrete, seed });
  const scoresWithoutPose = disentanglementScores(content, contentFactors, {
    discrete: data.content.map((k) => test.discrete[k]!),
    seed,
  });
  const total = (s: DisentanglementScores): number => DISENTANGLEMENT_METRICS.reduce((a, k) => a + s[k], 0);

  const truth = (k: number): Float32Array => columnOf(factors, k);
  const est = (j: number): Float32Array => columnOf(codes, j);
  const classes = test.shapes.length;
  const pose = {
    absRx: Math.abs(pearson(est(poseCols.x), truth(data.pose.x))),
    absRy: Math.abs(pearson(est(poseCols.y), truth(data.pose.y))),
    absRangle: Math.abs(pearson(columnOf(metricCodes, poseCols.angle), truth(data.pose.angle))),
    angleErrors: identified
      ? null
      : angleErrors(est(poseCols.angle), truth(data.pose.angle), test.labels, classes, data.isotropic),
  };

  // The content latents, standardised, for the kNN probe.
  const std = { data: new Float32Array(content.data.length), rows: content.rows, cols: content.cols };
  for (let j = 0; j < content.cols; j++) {
    const c = columnOf(content, j);
    const m = c.reduce((a, b) => a + b, 0) / c.length;
    const s = Math.sqrt(c.reduce((a, b) => a + (b - m) ** 2, 0) / c.length) || 1;
    for (let i = 0; i < content.rows; i++) std.data[i * content.cols + j] = (c[i]! - m) / s;
  }
  const labels = Int32Array.from(asClasses(Float64Array.from(truth(data.classFactor))).classes);
  const knn = knnCrossValidation(std, labels, { k: 5, folds: 5, seed });
  const maxAbsR = (k: number): number => Math.max(...contentColumns.map((j) => Math.abs(pearson(est(j), truth(k)))));
  const contentReport = {
    knnAccuracy: knn.accuracy,
    absRbrightness: data.brightnessFactor >= 0 ? maxAbsR(data.brightnessFactor) : null,
    leakage: { x: maxAbsR(data.pose.x), y: maxAbsR(data.pose.y), angle: maxAbsR(data.pose.angle) },
  };

  const seriesCodes = await model.encode(data.series);
  const inv = invarianceRatio(pick(seriesCodes, contentColumns), SERIES_POSES, content);
  const centre = (data.size - 1) / 2;
  const aligned = await model.decode(canonicalCodes(seriesCodes, poseColumns, centre, codes));
  const a = pairwiseMse(aligned, SERIES_POSES);
  const b = pairwiseMse(data.series, SERIES_POSES);
  const ratio = a.map((v, i) => v / b[i]!);

  const n = Math.min(400, test.count);
  const testMse = await model.reconstructionMse(test);
  let blank = 0;
  for (const v of test.data) blank += v * v;
  blank /= test.data.length;
  const evaluation: CodaeEvaluation = {
    testMse,
    relativeMse: testMse / blank,
    scoresWithPose,
    totalWithPose: total(scoresWithPose),
    scoresWithoutPose,
    totalWithoutPose: total(scoresWithoutPose),
    poseColumns,
    contentColumns,
    pose,
    content: contentReport,
    invarianceRatio: inv.ratio,
    alignment: { aligned: a, inputs: b, ratio, meanRatio: ratio.reduce((s, v) => s + v, 0) / ratio.length },
    samples: {
      trueX: Array.from(truth(data.pose.x).subarray(0, n)),
      estX: Array.from(est(poseCols.x).subarray(0, n)),
      trueAngle: Array.from(truth(data.pose.angle).subarray(0, n)),
      estAngle: Array.from(columnOf(metricCodes, poseCols.angle).subarray(0, n)),
      cls: Array.from(test.labels.subarray(0, n)),
    },
  };
  return { evaluation, codes };
}
