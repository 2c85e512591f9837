/**
 * How much class information frozen vectors hold (docs/BENCHMARK.md, "Measurements"):
 *
 * - probes at each label budget b and probe seed s: the b labelled training images of
 *   (s, b) (data.ts `budgetIndices`), their vectors and labels, scored by accuracy on the test
 *   split: logistic regression and one hidden layer of 256 (lib/ml/probes/probe-accuracy.ts: Adam
 *   1e-3, batch 128, early stopping on a seeded 10 % of the b images), and kNN (k = 10, exact,
 *   lib/ml/probes/knn.ts; k is capped at b);
 * - k-means with k = 10 on the test vectors (ml-kmeans, k-means++ starts, the best of `restarts`
 *   by inertia), scored by NMI and ARI against the classes (lib/ml/metrics/clustering.ts).
 *
 * Vectors are standardised first (every column to mean 0 and std 1 on the whole unlabelled
 * training split, lib/ml/probes/standardize.ts); the logistic and MLP probes standardise again on
 * their b images, as probeAccuracy always does.
 */
import type { CodeMatrix } from '../ml/layers/mean-pooling';
import { kmeansScores } from '../ml/metrics/clustering';
import { knnPredict } from '../ml/probes/knn';
import { probeAccuracy } from '../ml/probes/probe-accuracy';
import { deriveSeed } from '../features/sampling';
import { meanAndStd } from '../experiments/common';
import { budgetIndices } from './data';

export type BenchmarkProbe = 'logistic' | 'mlp' | 'knn';
export const BENCHMARK_PROBES: readonly BenchmarkProbe[] = Object.freeze(['logistic', 'mlp', 'knn']);

/** One probe's accuracy at one budget and seed. */
export interface ProbeRecord {
  probe: BenchmarkProbe;
  budget: number;
  /** Probe seed index, 0-based (the label subset and the probe's initialisation). */
  seed: number;
  accuracy: number;
  /** Epochs the logistic or MLP probe trained (null for kNN). */
  epochs: number | null;
}

/** Mean and sample standard deviation of one probe at one budget over the seeds. */
export interface ProbeSummary {
  probe: BenchmarkProbe;
  budget: number;
  mean: number;
  std: number;
  seeds: number;
}

/** Options of {@link probeRecords}. */
export interface ProbeGrid {
  probes: readonly BenchmarkProbe[];
  budgets: readonly number[];
  /** Number of probe seeds (label subsets). */
  seeds: number;
  /** The run's seed (label subsets and probe initialisations derive from it). */
  seed: number;
  /** Maximum epochs of the logistic and MLP probes (default 200). */
  probeEpochs?: number;
  /** Early-stopping patience of the logistic and MLP probes (default 10). */
  probePatience?: number;
  /** kNN neighbours (default 10). */
  k?: number;
  signal?: AbortSignal;
}

const DOMAIN_PROBE = 0x50524f42; // "PROB"

/** The rows `idx` of a matrix. */
export function takeRows(m: CodeMatrix, idx: ArrayLike<number>): CodeMatrix {
  const out = new Float32Array(idx.length * m.cols);
  for (let i = 0; i < idx.length; i++) out.set(m.data.subarray(idx[i]! * m.cols, (idx[i]! + 1) * m.cols), i * m.cols);
  return { data: out, rows: idx.length, cols: m.cols };
}

/** Every (probe, budget, seed) accuracy of standardised training and test vectors. */
export async function probeRecords(
  train: CodeMatrix,
  trainLabels: Int32Array,
  test: CodeMatrix,
  testLabels: Int32Array,
  g: ProbeGrid,
): Promise<ProbeRecord[]> {
  const out: ProbeRecord[] = [];
  for (let s = 0; s < g.seeds; s++) {
    for (const budget of g.budgets) {
      const idx = budgetIndices(g.seed, s, train.rows, budget);
      const x = takeRows(train, idx);
      const y = Int32Array.from(idx, (i) => trainLabels[i]!);
      for (const probe of g.probes) {
        g.signal?.throwIfAborted();
        if (probe === 'knn') {
          const predicted = knnPredict(x, y, test, Math.min(g.k ?? 10, budget));
          let right = 0;
          for (let i = 0; i < predicted.length; i++) if (predicted[i] === testLabels[i]) right++;
          out.push({ probe, budget, seed: s, accuracy: right / test.rows, epochs: null });
          continue;
        }
        const r = await probeAccuracy(x, y, test, testLabels, {
          kind: probe,
          seed: deriveSeed(g.seed, DOMAIN_PROBE, s, budget) % 2 ** 31,
          classes: 10,
          epochs: g.probeEpochs ?? 200,
          patience: g.probePatience ?? 10,
        });
        out.push({ probe, budget, seed: s, accuracy: r.accuracy, epochs: r.epochs });
      }
    }
  }
  return out;
}

/** Mean ± sample std over seeds of every (probe, budget), in probe then budget order. */
export function summarizeProbes(records: readonly ProbeRecord[]): ProbeSummary[] {
  const out: ProbeSummary[] = [];
  const probes = BENCHMARK_PROBES.filter((p) => records.some((r) => r.probe === p));
  const budgets = [...new Set(records.map((r) => r.budget))].sort((a, b) => a - b);
  for (const probe of probes) {
    for (const budget of budgets) {
      const acc = records.filter((r) => r.probe === probe && r.budget === budget).map((r) => r.accuracy);
      if (acc.length === 0) continue;
      const { mean, std } = meanAndStd(acc);
      out.push({ probe, budget, mean, std, seeds: acc.length });
    }
  }
  return out;
}

/** k-means clustering scores of (standardised) vectors. */
export interface ClusteringRecord {
  nmi: number;
  ari: number;
  /** Accuracy under the best one-to-one matching of clusters to classes. */
  accuracy: number;
  images: number;
  restarts: number;
}

/** k-means (k = 10) on the first `images` test vectors, scored against their classes. */
export function clusteringRecord(
  test: CodeMatrix,
  labels: Int32Array,
  o: { images: number; restarts: number; seed: number },
): ClusteringRecord {
  const n = Math.min(o.images, test.rows);
  const pts: CodeMatrix = { data: test.data.subarray(0, n * test.cols), rows: n, cols: test.cols };
  const r = kmeansScores(pts, labels.subarray(0, n), { k: 10, seed: o.seed, restarts: o.restarts });
  return { nmi: r.nmi, ari: r.ari, accuracy: r.accuracy, images: n, restarts: o.restarts };
}
