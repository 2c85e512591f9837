/**
 * The evaluation of a learned code against known factors (docs/RVAE.md "Evaluation"; the rVAE
 * experiment and the invariance benchmark): given the content codes of images whose true angle and
 * class are known (and optionally a model's encoded angle, and codes of digits each turned through
 * several angles),
 *
 * - angle recovery: Pearson r and slope of encoded on true angle, the spread of the encoded angle
 *   around that line (degrees), and the wrap-proof angle agreement (circular.ts);
 * - angle leakage: the largest |Pearson r| between one content latent and the true angle, and the
 *   largest circular-linear correlation (which stays meaningful for full turns);
 * - polar-angle correlation (2-D codes): how well the position around the codes' mean gives the angle;
 * - invariance ratio over the rotation series (latent-angle.ts), against the spread of the codes;
 * - class information: kNN (k = 10, 5 seeded folds) and k-means (k = classes, Hungarian-matched
 *   accuracy, NMI, ARI) of the content codes.
 */
import { knnCrossValidation } from '../probes/knn';
import { angleAgreement, circularLinearCorrelation, polarAngles, type AngleAgreement } from './circular';
import { kmeansScores, type ClusteringScores, type PointMatrix } from './clustering';
import { angleLeakage, angleRecovery, invarianceRatio, type AngleRecovery, type InvarianceRatio } from './latent-angle';

/** What {@link codeMetrics} scores. */
export interface CodeMetricsInput {
  /** Content codes, one row per image. */
  codes: PointMatrix;
  /** Class of every image. */
  labels: Int32Array;
  /** True angle of every image, radians. */
  angles: ArrayLike<number>;
  /** A model's encoded angle per image (radians), when it has one. */
  encodedAngles?: ArrayLike<number> | null;
  /** Codes of images in groups of `groupSize` consecutive rows (one digit at several angles), for the invariance ratio. */
  series?: { codes: PointMatrix; groupSize: number } | null;
  /** Seed of the kNN folds and the k-means starts. */
  seed: number;
  /** kNN neighbours (default 10) and folds (default 5). */
  k?: number;
  folds?: number;
  /** k-means restarts (default 10). */
  kmeansRestarts?: number;
}

/** Angle recovery of a model with an angle latent. */
export interface AngleMetrics extends AngleRecovery {
  /** Standard deviation of encoded - (intercept + slope * true), degrees. */
  residualStdDegrees: number;
  /** Wrap-proof agreement (circular.ts). */
  agreement: AngleAgreement;
}

/** Result of {@link codeMetrics} (plain JSON). */
export interface CodeMetrics {
  images: number;
  latents: number;
  /** Null for a model without an angle latent. */
  angle: AngleMetrics | null;
  /** Largest |Pearson r| of a content latent with the true angle, and each latent's. */
  leakage: { max: number; perLatent: number[] };
  /** Largest circular-linear correlation of a content latent with the true angle, and each latent's. */
  circularLeakage: { max: number; perLatent: number[] };
  /** Circular-linear correlation of the true angle with the polar angle of the (2-D) codes; null for other widths. */
  polarAngleCorrelation: number | null;
  /** Angle agreement (circular.ts) of the polar angle of the (2-D) codes with the true angle (for full turns); null for other widths. */
  polarAngleAgreement: number | null;
  invariance: InvarianceRatio | null;
  knn: { accuracy: number; foldAccuracies: number[]; k: number; folds: number };
  kmeans: ClusteringScores & { k: number };
}

function column(m: PointMatrix, j: number): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) out[i] = m.data[i * m.cols + j];
  return out;
}

/** Scores `input.codes` (see the file comment). */
export function codeMetrics(input: CodeMetricsInput): CodeMetrics {
  const { codes, labels, angles } = input;
  if (codes === null || typeof codes !== 'object' || !Number.isInteger(codes.rows) || codes.rows < 3) {
    throw new RangeError('codeMetrics: need a code matrix with at least 3 rows');
  }
  if (angles.length !== codes.rows)
    throw new RangeError(`codeMetrics: ${angles.length} true angles for ${codes.rows} codes`);
  if (!(labels instanceof Int32Array) || labels.length !== codes.rows)
    throw new RangeError(`codeMetrics: need one Int32Array label per code (${codes.rows})`);
  let angle: AngleMetrics | null = null;
  if (input.encodedAngles) {
    const enc = input.encodedAngles;
    const rec = angleRecovery(enc, angles);
    let ss = 0;
    let mean = 0;
    const res = new Float64Array(angles.length);
    for (let i = 0; i < angles.length; i++) {
      res[i] = enc[i] - (rec.intercept + rec.slope * angles[i]);
      mean += res[i];
    }
    mean /= res.length;
    for (const v of res) ss += (v - mean) ** 2;
    angle = {
      ...rec,
      residualStdDegrees: (Math.sqrt(ss / res.length) * 180) / Math.PI,
      agreement: angleAgreement(enc, angles),
    };
  }
  const circular: number[] = [];
  for (let j = 0; j < codes.cols; j++) circular.push(circularLinearCorrelation(column(codes, j), angles));
  const k = input.k ?? 10;
  const folds = input.folds ?? 5;
  const knn = knnCrossValidation(codes, labels, { k, folds, seed: input.seed });
  const km = kmeansScores(codes, labels, { seed: input.seed, restarts: input.kmeansRestarts ?? 10 });
  const polar = codes.cols === 2 ? polarAngles(codes) : null;
  const invariance = input.series ? invarianceRatio(input.series.codes, input.series.groupSize, codes) : null;
  return {
    images: codes.rows,
    latents: codes.cols,
    angle,
    leakage: angleLeakage(codes, angles),
    circularLeakage: { max: Math.max(...circular), perLatent: circular },
    polarAngleCorrelation: polar ? circularLinearCorrelation(angles, polar) : null,
    polarAngleAgreement: polar ? angleAgreement(polar, angles).resultant : null,
    invariance,
    knn: { accuracy: knn.accuracy, foldAccuracies: knn.foldAccuracies, k: knn.k, folds: knn.folds },
    kmeans: { accuracy: km.accuracy, nmi: km.nmi, ari: km.ari, k: new Set(labels).size },
  };
}
