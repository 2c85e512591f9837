/**
 * The eight supervised disentanglement metrics of Carbonneau et al. 2020 ("Measuring
 * disentanglement: a review of metrics") on codes and the factors that made the data, as one
 * function (docs/CODAE.md, "Metrics", gives the definitions and the choices made here):
 *
 *     z-diff, z-min-var            (disentanglement-sampled.ts: batches with one factor fixed)
 *     MIG, JEMMIG, modularity      (disentanglement-info.ts: mutual information of binned codes)
 *     SAP, DCI disentanglement, IRS  (disentanglement-predictors.ts: predictors of factors)
 *
 * Every score is in [0, 1], higher is better. The scores do not depend on the order of the code
 * columns (every random draw depends on the factors only, and the forest examines every code at
 * every split), and a code equal to the factors scores near 1 (test/disentanglement.test.ts).
 */
import { asBins, asClasses, columnsOf, type Discrete, type ScoreMatrix } from './disentanglement-data';
import { informationMatrix, jemmig, mig, modularity } from './disentanglement-info';
import { dciFromImportance, importanceMatrix, irs, sap, type FactorColumn } from './disentanglement-predictors';
import { zDiff, zMinVar } from './disentanglement-sampled';

export type { ScoreMatrix } from './disentanglement-data';

/** Options of {@link disentanglementScores}. */
export interface DisentanglementOptions {
  /**
   * Per factor column: true for a categorical factor (its values are classes), false for an
   * ordered or continuous one (binned). Default: every factor continuous.
   */
  discrete?: readonly boolean[];
  /** Bins of the codes and of the continuous factors. Default 10 (the review's). */
  bins?: number;
  /** Seed of the sampled metrics, the SAP split and the forest. Default 0. */
  seed?: number;
  /** Pairs (z-diff) or rows (z-min-var) per point. Default 64. */
  batch?: number;
  /** Training and evaluation points of z-diff and z-min-var. Default 500 and 300. */
  trainPoints?: number;
  evalPoints?: number;
  /** Trees of the DCI forest and their depth. Default 10 and 8. */
  trees?: number;
  maxDepth?: number;
}

/** The eight scores, each in [0, 1], higher is better. */
export interface DisentanglementScores {
  zDiff: number;
  zMinVar: number;
  mig: number;
  sap: number;
  dci: number;
  irs: number;
  jemmig: number;
  modularity: number;
}

/** The metric names in the order of the paper's Fig. 3 legend (and of reports). */
export const DISENTANGLEMENT_METRICS: readonly (keyof DisentanglementScores)[] = Object.freeze([
  'zDiff',
  'zMinVar',
  'mig',
  'sap',
  'dci',
  'irs',
  'jemmig',
  'modularity',
]);

function count(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`disentanglementScores: ${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return v;
}

/**
 * The eight disentanglement scores of `codes` (rows = samples, one column per latent) against
 * `factors` (the same rows, one column per generative factor).
 *
 * @throws RangeError/TypeError for mismatched or non-finite matrices, too few rows (at least 10),
 *   a `discrete` list of the wrong length, or bad sizes.
 */
export function disentanglementScores(
  codes: ScoreMatrix,
  factors: ScoreMatrix,
  options: DisentanglementOptions = {},
): DisentanglementScores {
  const z = columnsOf(codes, 'codes');
  const v = columnsOf(factors, 'factors');
  if (codes.rows !== factors.rows)
    throw new RangeError(
      `disentanglementScores: codes have ${codes.rows} rows, factors ${factors.rows}; they must describe the same samples`,
    );
  if (codes.rows < 10) throw new RangeError(`disentanglementScores: at least 10 rows are needed, got ${codes.rows}`);
  const discrete = options.discrete ?? v.map(() => false);
  if (!Array.isArray(discrete) || discrete.length !== v.length || !discrete.every((d) => typeof d === 'boolean')) {
    throw new RangeError(
      `disentanglementScores: discrete must list one boolean per factor column (${v.length}), got ${JSON.stringify(options.discrete)}`,
    );
  }
  const bins = count(options.bins ?? 10, 'bins', 2, 1000);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed))
    throw new RangeError(`disentanglementScores: seed must be a safe integer, got ${String(seed)}`);
  const sampled = {
    batch: count(options.batch ?? 64, 'batch', 2, 100000),
    train: count(options.trainPoints ?? 500, 'trainPoints', 1, 1000000),
    evaluate: count(options.evalPoints ?? 300, 'evalPoints', 1, 1000000),
    seed,
  };
  const forest = {
    trees: count(options.trees ?? 10, 'trees', 1, 1000),
    maxDepth: count(options.maxDepth ?? 8, 'maxDepth', 1, 64),
    seed,
  };
  const factorClasses: Discrete[] = v.map((col, k) => (discrete[k] ? asClasses(col) : asBins(col, bins)));
  const codeBins = z.map((col) => asBins(col, bins));
  const columns: FactorColumn[] = v.map((values, k) => ({
    values,
    classes: factorClasses[k]!,
    discrete: discrete[k]!,
  }));
  const info = informationMatrix(codeBins, factorClasses);
  return {
    zDiff: zDiff(z, factorClasses, { ...sampled, seed: seed + 1 }),
    zMinVar: zMinVar(z, factorClasses, { ...sampled, seed: seed + 2 }),
    mig: mig(info.mi, factorClasses),
    sap: sap(z, columns, bins, seed + 3),
    dci: dciFromImportance(importanceMatrix(z, columns, forest)),
    irs: irs(z, columns),
    jemmig: jemmig(info.mi, info.joint, factorClasses, bins),
    modularity: modularity(info.mi),
  };
}
