/**
 * Results of the equivariant-autoencoder experiment (equivariant.ts; Kuzminykh, Polykovskiy &
 * Zhebrak, ACML 2018, docs/EQUIVARIANT-AE.md): the spec and record types, the paper's Tables 1
 * and 2, Table 1 of a run (probe accuracy per row, mean and sample standard deviation over seeds)
 * and the paper's four claims checked comparison by comparison.
 *
 * Rows and trainings: the seven rows of the paper's tables come from five trainings per seed. One
 * equivariant autoencoder per group, trained without attention, gives both its mean-pooled and its
 * Gram-pooled codes (pooling is computed after training, brief "Decisions"); the attention models
 * train with their pooling; the plain autoencoder is its own row.
 */
import type { Interpolation } from '../data/transform';
import type { BackendName } from '../ml/backend';
import type { ExplainedVariance } from '../ml/explained-variance';
import { meanAndStd, type ClaimCheck } from './common';
import type { CodeEvaluation } from './code-evaluation';

export type EquivariantDataset = 'mnist' | 'fashion-mnist';

/** A row of Table 1. */
export type TableRowName = 'ae' | 'mean-d4' | 'mean-d12' | 'attention-d4' | 'attention-d12' | 'gram-d4' | 'gram-d12';
/** The rows in the paper's order. */
export const TABLE_ROWS: readonly TableRowName[] = Object.freeze([
  'ae',
  'mean-d4',
  'mean-d12',
  'attention-d4',
  'attention-d12',
  'gram-d4',
  'gram-d12',
]);

/** One training of a seed (a unit of the runner). */
export type TrainingName = 'ae' | 'eq-d4' | 'eq-d12' | 'att-d4' | 'att-d12';
export const TRAININGS: readonly TrainingName[] = Object.freeze(['ae', 'eq-d4', 'eq-d12', 'att-d4', 'att-d12']);

/** Trainings share their scale (images, epochs, widths) by group. */
export type ScaleGroup = 'ae' | 'd4' | 'd12';
export const SCALE_GROUPS: readonly ScaleGroup[] = Object.freeze(['ae', 'd4', 'd12']);

/** A value per scale group. */
export type PerScale<T> = Record<ScaleGroup, T>;

/** The training behind a row. */
export function trainingOfRow(row: TableRowName): TrainingName {
  if (row === 'ae') return 'ae';
  const group = row.endsWith('d12') ? 'd12' : 'd4';
  return row.startsWith('attention') ? `att-${group}` : `eq-${group}`;
}

/** The rows a training gives (an eq-* training gives both its mean and its Gram row). */
export function rowsOfTraining(t: TrainingName): TableRowName[] {
  if (t === 'ae') return ['ae'];
  const group = t.endsWith('d12') ? 'd12' : 'd4';
  return t.startsWith('att') ? [`attention-${group}`] : [`mean-${group}`, `gram-${group}`];
}

export function scaleGroupOf(t: TrainingName): ScaleGroup {
  return t === 'ae' ? 'ae' : t.endsWith('d12') ? 'd12' : 'd4';
}

/** Everything a run depends on (JSON: it travels to the workers). */
export interface EquivariantSpec {
  dataset: EquivariantDataset;
  /** Folder of the Fashion-MNIST IDX files (default Debian's). */
  fashionDir?: string;
  /** Resampling of the augmentation's turns (default bilinear; 'nearest' keeps grey levels). */
  interpolation: Interpolation;
  /** The Table-1 rows wanted (the grid: they choose the trainings). */
  models: readonly TableRowName[];
  /** Seeds of weights, shuffles and probes, one set of trainings each (the grid). */
  seeds: readonly number[];
  /** Seed of the augmentation (angles and mirrors): one augmented data set for every seed. */
  dataSeed: number;
  /** Training + validation images of each training (the first of the augmented training set). */
  trainImages: PerScale<number>;
  /** Maximum epochs of each training (early stopping on the validation MSE). */
  epochs: PerScale<number>;
  /** Fraction of a training's images held out for validation. */
  validation: number;
  patience: number;
  batchSize: number;
  /** Channels of the encoder blocks: the plain AE's convolutions, the p4 G-channels of D4 and D12. */
  widths: PerScale<number[]>;
  /** Columns m of the equivariant code V. */
  latentChannels: number;
  /** Width of the plain AE's code and of the attention code. */
  codeSize: number;
  /** Weight λ of the attention entropy in the loss. */
  entropyWeight: number;
  /** Augmented training images encoded for the probes (the first ones). */
  probeImages: number;
  /** Augmented test images (probe test set). */
  testImages: number;
  probeEpochs: number;
  probePatience: number;
  probeHidden: number;
  /** Test images for the invariance errors. */
  invarianceImages: number;
  backend: 'auto' | BackendName;
  /** Worker processes; recorded only. */
  workers: number;
  /**
   * Save each training's state at most this often (minutes) in `<out>/checkpoints/`; a rerun
   * continues an interrupted training from it with the same result. 0: none. Default 5. Not a
   * setting of the results: it changes no number.
   */
  checkpointMinutes?: number;
}

/** One unit: a training and its seed. */
export interface EquivariantUnit {
  training: TrainingName;
  seed: number;
}

/** One row's evaluation in one training. */
export interface RowRecord extends CodeEvaluation {
  row: TableRowName;
}

/** A few test images and their reconstructions (bytes 0..255), for the figure. */
export interface ReconstructionSample {
  indices: number[];
  originals: number[][];
  reconstructed: number[][];
}

/** The plain AE's test codes on their first three principal components (the paper's Fig. 1). */
export interface CodePcaSample {
  pc: [number[], number[], number[]];
  labels: number[];
  explained: number[];
}

/** One unit's result. */
export interface TrainingRecord {
  id: string;
  training: TrainingName;
  seed: number;
  group: 'D4' | 'D12' | null;
  parameters: number;
  forwardMacs: number;
  /** The model's resolved options (saved with it in models/<id>/). */
  modelOptions: Record<string, unknown>;
  trainImages: number;
  valImages: number;
  epochsRun: number;
  bestEpoch: number | null;
  stoppedEarly: boolean;
  epochs: { epoch: number; loss: number; valLoss: number | null; seconds: number }[];
  bestValMse: number | null;
  finalValMse: number | null;
  /** Reconstruction MSE on the first `reconstructionImages` test images. */
  testMse: number;
  testMseImages: number;
  trainSeconds: number;
  /** CPU time of the training (this process: core-seconds). */
  trainCpuSeconds: number;
  trainImagesPerCpuSecond: number;
  /** Attention models: mean H(w) over the test images, and its maximum log |G|. */
  attentionEntropy: number | null;
  attentionEntropyMax: number | null;
  rows: RowRecord[];
  reconstructions: ReconstructionSample;
  pca: CodePcaSample | null;
  modelDir: string;
  backend: string;
  /** Wall and CPU time of the whole unit. */
  seconds: number;
  cpuSeconds: number;
}

/** The paper's accuracies (%): Table 1 (augmented MNIST) and Table 2 (Plankton). */
export const PAPER_TABLES: Readonly<
  Record<'mnist' | 'plankton', Readonly<Record<TableRowName, { lr: number; nn: number }>>>
> = Object.freeze({
  mnist: {
    ae: { lr: 47.8, nn: 58.3 },
    'mean-d4': { lr: 58.2, nn: 60.8 },
    'mean-d12': { lr: 80.7, nn: 82.5 },
    'attention-d4': { lr: 81.6, nn: 83.8 },
    'attention-d12': { lr: 72.6, nn: 76.5 },
    'gram-d4': { lr: 65.2, nn: 67.5 },
    'gram-d12': { lr: 87.9, nn: 88.8 },
  },
  plankton: {
    ae: { lr: 44.3, nn: 53.3 },
    'mean-d4': { lr: 48.0, nn: 56.1 },
    'mean-d12': { lr: 53.9, nn: 58.3 },
    'attention-d4': { lr: 49.1, nn: 58.0 },
    'attention-d12': { lr: 49.5, nn: 57.8 },
    'gram-d4': { lr: 55.2, nn: 57.8 },
    'gram-d12': { lr: 55.7, nn: 62.2 },
  },
});

/** The paper's table a data set is compared with (Fashion-MNIST stands in for Plankton). */
export function paperTableOf(dataset: EquivariantDataset): 'mnist' | 'plankton' {
  return dataset === 'mnist' ? 'mnist' : 'plankton';
}

/** How a data set is named in tables and figures. */
export function datasetLabel(dataset: EquivariantDataset): string {
  return dataset === 'mnist' ? 'augmented MNIST' : 'augmented Fashion-MNIST (stand-in for Plankton)';
}

export const ROW_LABELS: Readonly<Record<TableRowName, string>> = Object.freeze({
  ae: 'Autoencoder',
  'mean-d4': 'Avg pooling D4',
  'mean-d12': 'Avg pooling D12',
  'attention-d4': 'Eq. attention D4',
  'attention-d12': 'Eq. attention D12',
  'gram-d4': 'Gram pooling D4',
  'gram-d12': 'Gram pooling D12',
});

/** Mean, sample standard deviation and the values over seeds (fractions, not %). */
export interface SeedStats {
  mean: number;
  std: number;
  values: number[];
}

function stats(values: number[]): SeedStats {
  return { ...meanAndStd(values), values };
}

/** One row of a run's Table 1. */
export interface TableEntry {
  row: TableRowName;
  label: string;
  seeds: number;
  codeLength: number;
  lr: SeedStats;
  nn: SeedStats;
  paper: { lr: number; nn: number };
  /** Mean invariance errors over seeds, by family (relativeToSpread: null in records written without it). */
  invariance: Record<'d4' | 'turn30' | 'random', { mean: number; max: number; relativeToSpread: number | null }>;
  /** Explained-variance ratios of the leading components, averaged over seeds. */
  explainedVariance: { raw: number[]; standardized: number[] };
}

function meanCurve(curves: ExplainedVariance[]): number[] {
  const len = Math.min(...curves.map((c) => c.ratios.length));
  return Array.from({ length: len }, (_, i) => curves.reduce((s, c) => s + c.ratios[i]!, 0) / curves.length);
}

/** Table 1 of a run: every wanted row that has records, in the paper's order. */
export function tableOf(
  records: readonly TrainingRecord[],
  models: readonly TableRowName[],
  dataset: EquivariantDataset,
): TableEntry[] {
  const paper = PAPER_TABLES[paperTableOf(dataset)];
  const out: TableEntry[] = [];
  for (const row of TABLE_ROWS) {
    if (!models.includes(row)) continue;
    const rs = records.flatMap((r) => r.rows.filter((x) => x.row === row));
    if (rs.length === 0) continue;
    const acc = (kind: 'logistic' | 'mlp'): SeedStats => stats(rs.map((x) => x.probes[kind]?.accuracy ?? Number.NaN));
    const inv = (
      family: 'd4' | 'turn30' | 'random',
    ): { mean: number; max: number; relativeToSpread: number | null } => {
      const es = rs.map((x) => x.invariance.find((e) => e.family === family)!);
      const spread = es.every((e) => typeof e.relativeToSpread === 'number')
        ? es.reduce((s, e) => s + e.relativeToSpread, 0) / es.length
        : null;
      return {
        mean: es.reduce((s, e) => s + e.mean, 0) / es.length,
        max: Math.max(...es.map((e) => e.max)),
        relativeToSpread: spread,
      };
    };
    out.push({
      row,
      label: ROW_LABELS[row],
      seeds: rs.length,
      codeLength: rs[0]!.codeLength,
      lr: acc('logistic'),
      nn: acc('mlp'),
      paper: paper[row],
      invariance: { d4: inv('d4'), turn30: inv('turn30'), random: inv('random') },
      explainedVariance: {
        raw: meanCurve(rs.map((x) => x.explainedVariance.raw)),
        standardized: meanCurve(rs.map((x) => x.explainedVariance.standardized)),
      },
    });
  }
  return out;
}

/** A comparison "a beats b" on both probes. */
interface Pair {
  a: TableRowName;
  b: TableRowName;
}

const pct = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;

/**
 * Checks the pairs: holds when a's mean accuracy exceeds b's on both probes for every pair run
 * (null when none was run); the detail gives every difference in points beside the paper's.
 */
function checkPairs(
  claim: string,
  table: readonly TableEntry[],
  pairs: readonly Pair[],
  exceptions: readonly Pair[],
  paperName: string,
): ClaimCheck {
  const by = new Map(table.map((t) => [t.row, t]));
  const describe = (p: Pair): string | null => {
    const a = by.get(p.a);
    const b = by.get(p.b);
    if (!a || !b) return null;
    return (
      `${p.a} - ${p.b}: LR ${pct(100 * (a.lr.mean - b.lr.mean))}, NN ${pct(100 * (a.nn.mean - b.nn.mean))} ` +
      `(${paperName}: ${pct(a.paper.lr - b.paper.lr)}, ${pct(a.paper.nn - b.paper.nn)})`
    );
  };
  const run = pairs.filter((p) => by.has(p.a) && by.has(p.b));
  const holds =
    run.length === 0
      ? null
      : run.every((p) => by.get(p.a)!.lr.mean > by.get(p.b)!.lr.mean && by.get(p.a)!.nn.mean > by.get(p.b)!.nn.mean);
  const main = run.map(describe).filter((d): d is string => d !== null);
  const exc = exceptions.map(describe).filter((d): d is string => d !== null);
  const detail =
    (main.length ? main.join('; ') : 'rows not run') + (exc.length ? `. The paper's exception: ${exc.join('; ')}` : '');
  return { claim, holds, detail };
}

/**
 * The paper's four claims (§5; brief §3), each as comparisons that must hold on both probes, with
 * the paper's own exceptions reported beside them but not required.
 */
export function checkEquivariantClaims(table: readonly TableEntry[], dataset: EquivariantDataset): ClaimCheck[] {
  const paperName = dataset === 'mnist' ? 'paper, MNIST' : 'paper, Plankton';
  const invariant = TABLE_ROWS.filter((r) => r !== 'ae').map((a) => ({ a, b: 'ae' as TableRowName }));
  return [
    checkPairs(
      '(i) Invariant features beat the plain autoencoder (every invariant row above the AE, LR and NN)',
      table,
      invariant,
      [],
      paperName,
    ),
    checkPairs(
      '(ii) The larger group helps: D12 beats D4 for mean and Gram pooling (the paper\'s exception: attention, "not able to adapt to D12")',
      table,
      [
        { a: 'mean-d12', b: 'mean-d4' },
        { a: 'gram-d12', b: 'gram-d4' },
      ],
      [{ a: 'attention-d12', b: 'attention-d4' }],
      paperName,
    ),
    checkPairs(
      "(iii) Gram pooling and attention beat mean pooling within a group (the paper's exception: attention D12 below mean D12)",
      table,
      [
        { a: 'gram-d4', b: 'mean-d4' },
        { a: 'gram-d12', b: 'mean-d12' },
        { a: 'attention-d4', b: 'mean-d4' },
      ],
      [{ a: 'attention-d12', b: 'mean-d12' }],
      paperName,
    ),
    checkPairs(
      "(iv) Gram pooling generally beats attention: D12 (the paper's exception: D4 on MNIST, and the NN on Plankton)",
      table,
      [{ a: 'gram-d12', b: 'attention-d12' }],
      [{ a: 'gram-d4', b: 'attention-d4' }],
      paperName,
    ),
  ];
}

/** Totals over the trainings of a training kind: mean over seeds. */
export interface TrainingSummary {
  training: TrainingName;
  seeds: number;
  trainImages: number;
  meanEpochs: number;
  meanTrainCpuSeconds: number;
  meanTrainSeconds: number;
  trainImagesPerCpuSecond: number;
  bestValMse: SeedStats;
  testMse: SeedStats;
  encodeImagesPerCpuSecond: number;
  attentionEntropy: SeedStats | null;
  attentionEntropyMax: number | null;
  parameters: number;
}

export function trainingSummaries(records: readonly TrainingRecord[]): TrainingSummary[] {
  const out: TrainingSummary[] = [];
  for (const t of TRAININGS) {
    const rs = records.filter((r) => r.training === t);
    if (rs.length === 0) continue;
    const mean = (f: (r: TrainingRecord) => number): number => rs.reduce((s, r) => s + f(r), 0) / rs.length;
    out.push({
      training: t,
      seeds: rs.length,
      trainImages: rs[0]!.trainImages,
      meanEpochs: mean((r) => r.epochsRun),
      meanTrainCpuSeconds: mean((r) => r.trainCpuSeconds),
      meanTrainSeconds: mean((r) => r.trainSeconds),
      trainImagesPerCpuSecond: mean((r) => r.trainImagesPerCpuSecond),
      bestValMse: stats(rs.map((r) => r.bestValMse ?? Number.NaN)),
      testMse: stats(rs.map((r) => r.testMse)),
      encodeImagesPerCpuSecond: mean((r) => r.rows[0]!.encoding.imagesPerCpuSecond),
      attentionEntropy:
        rs[0]!.attentionEntropy === null ? null : stats(rs.map((r) => r.attentionEntropy ?? Number.NaN)),
      attentionEntropyMax: rs[0]!.attentionEntropyMax,
      parameters: rs[0]!.parameters,
    });
  }
  return out;
}

/** results.json of a run. */
export interface EquivariantResults {
  experiment: 'equivariant';
  command: string;
  dataset: EquivariantDataset;
  datasetLabel: string;
  settings: EquivariantSpec;
  table: TableEntry[];
  claims: ClaimCheck[];
  trainings: TrainingSummary[];
  /** Sums over the units: wall seconds of the units, and their CPU (core) seconds. */
  unitSeconds: number;
  unitCpuSeconds: number;
  /** Every unit's record, without the figure samples. */
  records: Omit<TrainingRecord, 'reconstructions' | 'pca'>[];
  figures: string[];
  finishedAt: string;
}
