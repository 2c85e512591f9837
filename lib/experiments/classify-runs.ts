/**
 * Experiment 1b repeated over seeds (`soapix experiment classify --runs N`): run k (k = 0..N-1)
 * is classify.ts with seed `seed + k` (its own spectra draw, split, weights and dropout masks);
 * results.json gives every run's test metrics and their mean ± sample standard deviation, so a
 * single accuracy can be read against its seed-to-seed spread.
 *
 * On the runner (runner.ts, docs/RUNNER.md): one unit per run, file units/seed-<seed>.json; each
 * run's full classify results (training history, confusion matrix) are in runs/seed-<seed>/
 * results.json (no model, figures or report per run). The merge writes results.json and
 * report.html.
 */
import * as path from 'node:path';
import { writeReport } from '../report/html';
import { runClassify, type ClassifyTraining } from './classify';
import { makeSoap, meanAndStd, SETTING_FLAGS, type SoapParams } from './common';
import { defineExperiment } from './definition';
import { runToSummary, type ExperimentRunOptions } from './runner';

/** Everything a repeated classify run depends on (JSON: it travels to the workers). */
export interface ClassifyRunsSpec extends SoapParams, ClassifyTraining {
  /** Runs (seeds seed, seed + 1, ..., seed + runs - 1). */
  runs: number;
}

/** Options of {@link runClassifyRuns}: the spec, and how this run goes. */
export interface ClassifyRunsOptions extends ClassifyRunsSpec, ExperimentRunOptions {}

/** One run's test metrics (the result of unit seed-<seed>). */
export interface ClassifyRunRecord {
  run: number;
  seed: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  bestValAccuracy: number | null;
  epochsRun: number;
  bestEpoch: number | null;
  stoppedEarly: boolean;
  backend: string;
  seconds: number;
}

/** The metrics summarised over runs. */
export const RUN_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'bestValAccuracy'] as const;
export type RunMetric = (typeof RUN_METRICS)[number];

/** results.json of `classify --runs N`. */
export interface ClassifyRunsResults {
  experiment: 'classify';
  runs: number;
  seeds: number[];
  soap: SoapParams & { featureCount: number; rbf: 'gto' };
  data: { trainSamples: number; testSamples: number };
  mlp: { hidden: number[] };
  training: { maxEpochs: number; patience: number };
  perRun: ClassifyRunRecord[];
  /** Mean and sample standard deviation over runs (runs without a validation accuracy left out of bestValAccuracy). */
  mean: Record<RunMetric, number>;
  std: Record<RunMetric, number>;
  seconds: number;
  finishedAt: string;
}

/** Repeated classify runs on the runner: one unit per seed. */
export const classifyRunsExperiment = defineExperiment({
  name: 'classify-runs',
  module: __filename,
  unitNoun: 'runs',
  settingNames: SETTING_FLAGS,
  /** The seeds are the units' own; more runs can be added to a folder. */
  settings: (s: ClassifyRunsSpec) => ({
    rCut: s.rCut,
    nMax: s.nMax,
    lMax: s.lMax,
    sigma: s.sigma,
    trainSamples: s.trainSamples,
    testSamples: s.testSamples,
    epochs: s.epochs,
    patience: s.patience,
    hidden: s.hidden,
  }),
  units: (s: ClassifyRunsSpec) => Array.from({ length: s.runs }, (_, run) => ({ run, seed: s.seed + run })),
  unitId: (u: { run: number; seed: number }) => `seed-${u.seed}`,
  run: async (u: { run: number; seed: number }, env): Promise<ClassifyRunRecord> => {
    const s = env.spec;
    const r = await runClassify({
      rCut: s.rCut,
      nMax: s.nMax,
      lMax: s.lMax,
      sigma: s.sigma,
      out: path.join(env.out, 'runs', `seed-${u.seed}`),
      trainSamples: s.trainSamples,
      testSamples: s.testSamples,
      epochs: s.epochs,
      patience: s.patience,
      seed: u.seed,
      hidden: s.hidden,
      backend: s.backend,
      artifacts: false,
      threads: env.threads,
      signal: env.signal,
      log: (line) => env.log(`classify seed ${u.seed}: ${line}`),
    });
    const t = r.test;
    env.log(
      `classify seed ${u.seed}: test accuracy ${t.accuracy.toFixed(4)} (${r.training.epochsRun} epochs, best ${r.training.bestEpoch ?? '-'})`,
    );
    return {
      run: u.run,
      seed: u.seed,
      accuracy: t.accuracy,
      precision: t.precision,
      recall: t.recall,
      f1: t.f1,
      bestValAccuracy: r.training.bestValAccuracy,
      epochsRun: r.training.epochsRun,
      bestEpoch: r.training.bestEpoch,
      stoppedEarly: r.training.stoppedEarly,
      backend: r.backend.name,
      seconds: r.seconds.total,
    };
  },
  merge: async (units, s: ClassifyRunsSpec, ctx): Promise<ClassifyRunsResults> => {
    const perRun = units.map((u) => u.result as ClassifyRunRecord);
    const stats = RUN_METRICS.map(
      (m) => [m, meanAndStd(perRun.map((r) => r[m]).filter((v): v is number => v !== null))] as const,
    );
    return {
      experiment: 'classify',
      runs: s.runs,
      seeds: perRun.map((r) => r.seed),
      soap: {
        rCut: s.rCut,
        nMax: s.nMax,
        lMax: s.lMax,
        sigma: s.sigma,
        featureCount: makeSoap(s).featureCount,
        rbf: 'gto',
      },
      data: { trainSamples: s.trainSamples, testSamples: s.testSamples },
      mlp: { hidden: s.hidden },
      training: { maxEpochs: s.epochs, patience: s.patience },
      perRun,
      mean: Object.fromEntries(stats.map(([m, v]) => [m, v.mean])) as Record<RunMetric, number>,
      std: Object.fromEntries(stats.map(([m, v]) => [m, v.std])) as Record<RunMetric, number>,
      seconds: (performance.now() - ctx.startedAt) / 1000,
      finishedAt: new Date().toISOString(),
    };
  },
  report: async (r: ClassifyRunsResults, _s, ctx) => {
    const pm = (m: RunMetric): string => `${r.mean[m].toFixed(4)} ± ${r.std[m].toFixed(4)}`;
    await writeReport(ctx.out, {
      title: `soapix experiment classify: ${r.runs} runs`,
      sections: [
        {
          heading: 'Setup',
          text:
            `SOAP (gto) r_cut ${r.soap.rCut}, n_max ${r.soap.nMax}, l_max ${r.soap.lMax}, sigma ${r.soap.sigma}: ${r.soap.featureCount} features. ` +
            `Each run: ${r.data.trainSamples} train/val spectra (80:20), ${r.data.testSamples} test spectra, MLP ${r.mlp.hidden.join('-')}, at most ${r.training.maxEpochs} epochs, ` +
            `early stopping patience ${r.training.patience}; run k uses seed ${r.seeds[0]} + k for sampling, split, weights and dropout. Mean ± sample standard deviation over runs.`,
        },
        {
          heading: 'Test metrics',
          table: {
            columns: ['seed', 'accuracy', 'precision', 'recall', 'F1', 'best val accuracy', 'epochs'],
            rows: [
              ...r.perRun.map((p) => [
                p.seed,
                p.accuracy,
                p.precision,
                p.recall,
                p.f1,
                p.bestValAccuracy ?? NaN,
                p.epochsRun,
              ]),
              ['mean ± std', pm('accuracy'), pm('precision'), pm('recall'), pm('f1'), pm('bestValAccuracy'), '-'],
            ],
          },
        },
      ],
    });
  },
});

/** Runs (this shard of) the repeated classify runs; the results when every run is done, else null. */
export async function runClassifyRuns(o: ClassifyRunsOptions): Promise<ClassifyRunsResults | null> {
  if (!Number.isSafeInteger(o.runs) || o.runs < 1)
    throw new RangeError(`runs must be a positive integer, got ${String(o.runs)}`);
  const { rCut, nMax, lMax, sigma, runs, trainSamples, testSamples, epochs, patience, seed, hidden, backend } = o;
  return runToSummary(
    classifyRunsExperiment,
    { rCut, nMax, lMax, sigma, runs, trainSamples, testSamples, epochs, patience, seed, hidden, backend },
    o,
  );
}
