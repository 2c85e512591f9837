/**
 * Experiment 1a (docs/PAPER-FACTS.md §4): Monte Carlo search over the SOAP hyperparameters.
 *
 * Full protocol (the paper): 168 trials, r_cut uniform in [2, 100], n_max and l_max integers
 * uniform in [2, 11], sigma uniform in [1, 10]; each trial samples 120,000 train/val spectra and
 * 10,000 test spectra, and trains the 512-256-128 MLP for up to 300 epochs (Adam 1e-3, batch
 * 128; early stopping on validation loss, recorded per trial):
 *
 *   soapix experiment hparam-search --trials 168 --epochs 300 --train-samples 120000 --test-samples 10000 --out search
 *
 * Trial k's parameters depend only on (seed, k). On the runner (runner.ts, docs/RUNNER.md) each
 * trial is a unit, file units/trial-NNNN.json (the trial's full classify results in
 * trials/trial-NNNN/results.json): `--shard i/n` (trials k with k mod n = i-1) splits the search
 * across machines, `--workers w` across processes, and a rerun skips finished trials. The run that
 * finds every trial done writes search.json, the scatter plots and report.html.
 */
import * as path from 'node:path';

import { renderFigure, type VegaLiteSpec } from '../report/figures';
import { Rng } from '../util/random';
import { writeReport } from '../report/html';
import { deriveSeed } from '../features/sampling';
import { runClassify, type ClassifyTraining } from './classify';
import { secondsSince, SETTING_FLAGS, type SoapParams } from './common';
import { defineExperiment } from './definition';
import { runToSummary, type ExperimentRunOptions } from './runner';

/** The paper's search ranges. */
export const SEARCH_RANGES = Object.freeze({ rCut: [2, 100], nMax: [2, 11], lMax: [2, 11], sigma: [1, 10] } as const);

/** Trial k's SOAP parameters (depends only on seed and k). */
export function trialParams(seed: number, k: number): SoapParams {
  const rng = new Rng(deriveSeed(seed, 0x48505331, k));
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * rng.nextFloat();
  const integer = (lo: number, hi: number): number => lo + rng.nextInt(hi - lo + 1);
  return {
    rCut: Math.round(uniform(SEARCH_RANGES.rCut[0], SEARCH_RANGES.rCut[1]) * 100) / 100,
    nMax: integer(SEARCH_RANGES.nMax[0], SEARCH_RANGES.nMax[1]),
    lMax: integer(SEARCH_RANGES.lMax[0], SEARCH_RANGES.lMax[1]),
    sigma: Math.round(uniform(SEARCH_RANGES.sigma[0], SEARCH_RANGES.sigma[1]) * 100) / 100,
  };
}

/** Everything a search depends on (JSON: it travels to the workers). */
export interface HparamSearchSpec extends ClassifyTraining {
  trials: number;
}

/** Options of {@link runHparamSearch}: the spec, and how this run goes (`summary` false: no search.json). */
export interface HparamSearchOptions extends HparamSearchSpec, ExperimentRunOptions {}

/** One trial's record (trials/trial-NNNN.json). */
export interface TrialRecord extends SoapParams {
  trial: number;
  featureCount: number;
  valAccuracy: number | null;
  testAccuracy: number;
  precision: number;
  recall: number;
  f1: number;
  epochsRun: number;
  bestEpoch: number | null;
  stoppedEarly: boolean;
  backend: string;
  seconds: number;
}

/** search.json. */
export interface SearchSummary {
  experiment: 'hparam-search';
  ranges: typeof SEARCH_RANGES;
  trials: number;
  done: number;
  settings: Omit<HparamSearchSpec, 'trials' | 'backend'>;
  /** The trial with the best validation accuracy. */
  best: TrialRecord | null;
  records: TrialRecord[];
}

const trialName = (k: number): string => `trial-${String(k).padStart(4, '0')}`;

/** The search on the runner: one unit per trial. */
export const hparamSearchExperiment = defineExperiment({
  name: 'hparam-search',
  module: __filename,
  unitNoun: 'trials',
  resultsFile: 'search.json',
  settingNames: SETTING_FLAGS,
  settings: (o: HparamSearchSpec) => ({
    trainSamples: o.trainSamples,
    testSamples: o.testSamples,
    epochs: o.epochs,
    patience: o.patience,
    seed: o.seed,
    hidden: o.hidden,
  }),
  units: (o: HparamSearchSpec) => Array.from({ length: o.trials }, (_, trial) => ({ trial })),
  unitId: (u: { trial: number }) => trialName(u.trial),
  run: async (u: { trial: number }, env): Promise<TrialRecord> => {
    const k = u.trial;
    const o = env.spec;
    const p = trialParams(o.seed, k);
    const tt = process.hrtime.bigint();
    env.log(`trial ${k}: rCut ${p.rCut} nMax ${p.nMax} lMax ${p.lMax} sigma ${p.sigma}`);
    const r = await runClassify({
      ...p,
      out: path.join(env.out, 'trials', trialName(k)),
      trainSamples: o.trainSamples,
      testSamples: o.testSamples,
      epochs: o.epochs,
      patience: o.patience,
      seed: deriveSeed(o.seed, k) % 2 ** 31,
      hidden: o.hidden,
      backend: o.backend,
      artifacts: false,
      threads: env.threads,
      signal: env.signal,
    });
    const rec: TrialRecord = {
      trial: k,
      ...p,
      featureCount: r.soap.featureCount,
      valAccuracy: r.training.bestValAccuracy,
      testAccuracy: r.test.accuracy,
      precision: r.test.precision,
      recall: r.test.recall,
      f1: r.test.f1,
      epochsRun: r.training.epochsRun,
      bestEpoch: r.training.bestEpoch,
      stoppedEarly: r.training.stoppedEarly,
      backend: r.backend.name,
      seconds: secondsSince(tt),
    };
    env.log(
      `trial ${k}: val accuracy ${rec.valAccuracy?.toFixed(4)} test accuracy ${rec.testAccuracy.toFixed(4)} (${rec.seconds.toFixed(1)} s)`,
    );
    return rec;
  },
  merge: async (units, o: HparamSearchSpec): Promise<SearchSummary> => {
    const records = units.map((u) => u.result as TrialRecord);
    const best = [...records].sort((a, b) => (b.valAccuracy ?? -1) - (a.valAccuracy ?? -1))[0];
    const { trials: _t, backend: _b, ...settings } = o;
    return {
      experiment: 'hparam-search',
      ranges: SEARCH_RANGES,
      trials: o.trials,
      done: records.length,
      settings,
      best: best ?? null,
      records,
    };
  },
  report: (s: SearchSummary, _o, ctx) => writeSearchReport(ctx.out, s),
});

/** Runs (this shard of) the search; resolves with search.json's content when every trial is done, else null. */
export async function runHparamSearch(o: HparamSearchOptions): Promise<SearchSummary | null> {
  const spec: HparamSearchSpec = {
    trials: o.trials,
    trainSamples: o.trainSamples,
    testSamples: o.testSamples,
    epochs: o.epochs,
    patience: o.patience,
    seed: o.seed,
    hidden: o.hidden,
    backend: o.backend,
  };
  return runToSummary(hparamSearchExperiment, spec, o);
}

/** Scatter plots of accuracy against each hyperparameter, points coloured by accuracy. */
export function searchScatterSpec(
  records: readonly TrialRecord[],
  metric: 'valAccuracy' | 'testAccuracy',
): VegaLiteSpec {
  const values = records.map((r) => ({ ...r, accuracy: r[metric] }));
  const panel = (field: keyof SoapParams, title: string): VegaLiteSpec => ({
    width: 220,
    height: 180,
    mark: { type: 'circle', size: 60, opacity: 0.85 },
    encoding: {
      x: { field, type: 'quantitative', title, scale: { zero: false } },
      y: {
        field: 'accuracy',
        type: 'quantitative',
        title: metric === 'valAccuracy' ? 'validation accuracy' : 'test accuracy',
        scale: { zero: false },
      },
      color: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { scheme: 'viridis' } },
      tooltip: [{ field: 'trial' }],
    },
  });
  return {
    title: `Monte Carlo hyperparameter search: ${records.length} trials`,
    data: { values },
    concat: [panel('rCut', 'r_cut'), panel('nMax', 'n_max'), panel('lMax', 'l_max'), panel('sigma', 'sigma')],
    columns: 2,
  };
}

/** Writes scatter.{svg,png} and report.html of a finished search. */
export async function writeSearchReport(out: string, s: SearchSummary): Promise<void> {
  const { records, settings: o } = s;
  const sorted = [...records].sort((a, b) => (b.valAccuracy ?? -1) - (a.valAccuracy ?? -1));
  await renderFigure(searchScatterSpec(records, 'valAccuracy'), path.join(out, 'scatter'));
  await writeReport(out, {
    title: 'soapix experiment hparam-search',
    sections: [
      {
        heading: 'Setup',
        text:
          `${records.length} of ${s.trials} Monte Carlo trials done: r_cut uniform in [2, 100], n_max and l_max integers in [2, 11], sigma uniform in [1, 10] (seed ${o.seed}).\n` +
          `Each trial: ${o.trainSamples} train/val spectra (80:20), ${o.testSamples} test spectra, MLP ${o.hidden.join('-')}, at most ${o.epochs} epochs, early stopping patience ${o.patience}.\n` +
          'Paper (docs/PAPER-FACTS.md §4): best validation accuracy 0.6844; r_cut matters most, sigma best in 2-5, n_max and l_max matter little above ~6.',
      },
      { heading: 'Accuracy against each hyperparameter', figures: ['scatter.png'] },
      {
        heading: 'Trials, best validation accuracy first',
        table: {
          columns: [
            'trial',
            'r_cut',
            'n_max',
            'l_max',
            'sigma',
            'features',
            'val acc',
            'test acc',
            'F1',
            'epochs',
            'seconds',
          ],
          rows: sorted.map((r) => [
            r.trial,
            r.rCut,
            r.nMax,
            r.lMax,
            r.sigma,
            r.featureCount,
            r.valAccuracy ?? NaN,
            r.testAccuracy,
            r.f1,
            r.epochsRun,
            r.seconds,
          ]),
        },
      },
    ],
  });
}
