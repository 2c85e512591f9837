/**
 * Experiment 1a (PAPER-FACTS §4): Monte Carlo search over the SOAP hyperparameters.
 *
 * Full protocol (the paper): 168 trials, r_cut uniform in [2, 100], n_max and l_max integers
 * uniform in [2, 11], sigma uniform in [1, 10]; each trial samples 120,000 train/val spectra and
 * 10,000 test spectra, and trains the 512-256-128 MLP for up to 300 epochs (Adam 1e-3, batch
 * 128; early stopping on validation loss, recorded per trial):
 *
 *   soapix experiment hparam-search --trials 168 --epochs 300 --train-samples 120000 --test-samples 10000 --out search
 *
 * Trial k's parameters depend only on (seed, k), so `--shard i/n` (trials k with k mod n = i-1)
 * splits the search across machines, `--workers w` across processes of this machine (forks of
 * the CLI, one per core), and a rerun skips trials whose result file exists. The last step (any
 * run that finds every trial done) writes search.json, the scatter plots and report.html.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import { renderFigure, type VegaLiteSpec } from '../report/figures';
import { Rng } from '../util/random';
import { writeReport } from '../report/html';
import { deriveSeed } from '../features/sampling';
import type { BackendName } from '../ml/backend';
import { runClassify, type ClassifyResults } from './classify';
import { secondsSince, type SoapParams } from './common';
import { dealRoundRobin, runWorkers } from './workers';

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

/** Options of {@link runHparamSearch}. */
export interface HparamSearchOptions {
  out: string;
  trials: number;
  trainSamples: number;
  testSamples: number;
  epochs: number;
  patience: number;
  seed: number;
  hidden: number[];
  backend: 'auto' | BackendName;
  shard?: { index: number; count: number };
  /** Worker processes (forks of the CLI); 1 = run the trials in this process. */
  workers: number;
  /** Only these trial indices (used by the workers). */
  only?: number[];
  /** The CLI script to fork for workers (default: dist/cli.js next to this file). */
  cliPath?: string;
  /** Extra CLI arguments for workers (e.g. --tiny). */
  workerArgs?: string[];
  log?: (line: string) => void;
  signal?: AbortSignal;
}

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

const trialFile = (out: string, k: number): string => path.join(out, 'trials', `trial-${String(k).padStart(4, '0')}.json`);

/** Runs (this shard of) the search; returns the records of every finished trial. */
export async function runHparamSearch(o: HparamSearchOptions): Promise<TrialRecord[]> {
  const t0 = process.hrtime.bigint();
  const log = o.log ?? (() => undefined);
  const out = path.resolve(o.out);
  await mkdir(path.join(out, 'trials'), { recursive: true });
  let mine = Array.from({ length: o.trials }, (_, k) => k);
  if (o.shard) mine = mine.filter((k) => k % o.shard!.count === o.shard!.index - 1);
  if (o.only) mine = mine.filter((k) => o.only!.includes(k));
  const todo = mine.filter((k) => !existsSync(trialFile(out, k)));
  log(`hparam-search: ${o.trials} trials, ${mine.length} in this run, ${todo.length} to do, ${o.workers} worker(s)`);

  if (o.workers > 1 && todo.length > 1) {
    const cli = o.cliPath ?? path.join(__dirname, '..', 'cli.js');
    const groups = dealRoundRobin(todo, o.workers);
    const args = (g: number[]): string[] => [
      'experiment', 'hparam-search', '--out', out, '--trials', String(o.trials), '--train-samples', String(o.trainSamples),
      '--test-samples', String(o.testSamples), '--epochs', String(o.epochs), '--patience', String(o.patience),
      '--seed', String(o.seed), '--hidden', o.hidden.join(','), '--backend', o.backend, '--workers', '1', '--only', g.join(','),
      '--threads', '1', '--no-summary', ...(o.workerArgs ?? []),
    ];
    await runWorkers({ cli, groups, args, describe: (g) => `trials ${g.join(',')}`, log, signal: o.signal });
  } else {
    for (const k of todo) {
      const p = trialParams(o.seed, k);
      const tt = process.hrtime.bigint();
      log(`trial ${k}: rCut ${p.rCut} nMax ${p.nMax} lMax ${p.lMax} sigma ${p.sigma}`);
      const r: ClassifyResults = await runClassify({
        ...p,
        out: path.join(out, 'trials', `trial-${String(k).padStart(4, '0')}`),
        trainSamples: o.trainSamples,
        testSamples: o.testSamples,
        epochs: o.epochs,
        patience: o.patience,
        seed: deriveSeed(o.seed, k) % 2 ** 31,
        hidden: o.hidden,
        backend: o.backend,
        artifacts: false,
        threads: threadsOverride,
        signal: o.signal,
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
      await writeFile(trialFile(out, k), JSON.stringify(rec, null, 2) + '\n');
      log(`trial ${k}: val accuracy ${rec.valAccuracy?.toFixed(4)} test accuracy ${rec.testAccuracy.toFixed(4)} (${rec.seconds.toFixed(1)} s)`);
    }
  }

  // Collect every finished trial (of all shards).
  const records: TrialRecord[] = [];
  for (let k = 0; k < o.trials; k++) {
    if (existsSync(trialFile(out, k))) records.push(JSON.parse(await readFile(trialFile(out, k), 'utf8')) as TrialRecord);
  }
  log(`hparam-search: ${records.length}/${o.trials} trials done (${secondsSince(t0).toFixed(1)} s)`);
  return records;
}

/** Threads of featurization in this process (workers pass --threads 1). */
let threadsOverride = 0;
export function setSearchThreads(n: number): void {
  threadsOverride = n;
}

/** Scatter plots of accuracy against each hyperparameter, points coloured by accuracy. */
export function searchScatterSpec(records: readonly TrialRecord[], metric: 'valAccuracy' | 'testAccuracy'): VegaLiteSpec {
  const values = records.map((r) => ({ ...r, accuracy: r[metric] }));
  const panel = (field: keyof SoapParams, title: string): VegaLiteSpec => ({
    width: 220,
    height: 180,
    mark: { type: 'circle', size: 60, opacity: 0.85 },
    encoding: {
      x: { field, type: 'quantitative', title, scale: { zero: false } },
      y: { field: 'accuracy', type: 'quantitative', title: metric === 'valAccuracy' ? 'validation accuracy' : 'test accuracy', scale: { zero: false } },
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

/** Writes search.json, scatter.{svg,png} and report.html from the finished trials. */
export async function writeSearchSummary(out: string, records: TrialRecord[], o: HparamSearchOptions): Promise<TrialRecord | undefined> {
  const sorted = [...records].sort((a, b) => (b.valAccuracy ?? -1) - (a.valAccuracy ?? -1));
  const best = sorted[0];
  await writeFile(
    path.join(out, 'search.json'),
    JSON.stringify(
      {
        experiment: 'hparam-search',
        ranges: SEARCH_RANGES,
        trials: o.trials,
        done: records.length,
        settings: { trainSamples: o.trainSamples, testSamples: o.testSamples, epochs: o.epochs, patience: o.patience, seed: o.seed, hidden: o.hidden },
        best: best ?? null,
        records,
      },
      null,
      2,
    ) + '\n',
  );
  if (records.length === 0) return best;
  await renderFigure(searchScatterSpec(records, 'valAccuracy'), path.join(out, 'scatter'));
  await writeReport(out, {
    title: 'soapix experiment hparam-search',
    sections: [
      {
        heading: 'Setup',
        text:
          `${records.length} of ${o.trials} Monte Carlo trials done: r_cut uniform in [2, 100], n_max and l_max integers in [2, 11], sigma uniform in [1, 10] (seed ${o.seed}).\n` +
          `Each trial: ${o.trainSamples} train/val spectra (80:20), ${o.testSamples} test spectra, MLP ${o.hidden.join('-')}, at most ${o.epochs} epochs, early stopping patience ${o.patience}.\n` +
          'Paper (PAPER-FACTS §4): best validation accuracy 0.6844; r_cut matters most, sigma best in 2-5, n_max and l_max matter little above ~6.',
      },
      { heading: 'Accuracy against each hyperparameter', figures: ['scatter.png'] },
      {
        heading: 'Trials, best validation accuracy first',
        table: {
          columns: ['trial', 'r_cut', 'n_max', 'l_max', 'sigma', 'features', 'val acc', 'test acc', 'F1', 'epochs', 'seconds'],
          rows: sorted.map((r) => [r.trial, r.rCut, r.nMax, r.lMax, r.sigma, r.featureCount, r.valAccuracy ?? NaN, r.testAccuracy, r.f1, r.epochsRun, r.seconds]),
        },
      },
    ],
  });
  return best;
}
