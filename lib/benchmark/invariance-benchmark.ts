/**
 * `soapix benchmark invariance`: every invariant extractor under one protocol, on the experiment
 * runner (lib/experiments/runner.ts, docs/RUNNER.md): one unit per member (members.ts: a set of
 * extractors sharing one fit, or one condition of the CNN reference), so --workers, --shard, resume
 * and Slurm arrays work as for the experiments. Each process builds the data splits once
 * (data.ts); each unit fits its extractors, measures them (evaluate.ts) and returns their rows;
 * trained models are kept in DIR/models/<member>/ so that a rerun does not train again. The merge
 * writes results.json, the figures, leaderboard.md and report.html (report.ts).
 */
import * as path from 'node:path';

import type { AugmentedImages } from '../data/augment';
import { selectBackend } from '../ml/backend';
import { defineExperiment } from '../experiments/definition';
import { runToSummary, type ExperimentRunOptions } from '../experiments/runner';
import { cnnReference, type CnnRecord } from './cnn-reference';
import { benchmarkData, checkBenchmarkData, uprightTrainImages, type BenchmarkData } from './data';
import { evaluateExtractors, type ExtractorRow } from './evaluate';
import { isLearned, member, type MemberName } from './members';
import { BENCHMARK_PROBES } from './probes';
import { mergeBenchmark, writeBenchmarkReport, type InvarianceBenchmarkResults } from './report';
import type { BenchmarkUnit, BenchmarkUnitResult, InvarianceBenchmarkSpec } from './spec';

export type { BenchmarkUnit, BenchmarkUnitResult, InvarianceBenchmarkSpec } from './spec';

/** Per-process state: the splits (and, for the upright CNN, the upright training images). */
interface State {
  data: BenchmarkData;
  upright: AugmentedImages | null;
  backend: string;
}

/** Relative cost of a member, for ordering (most costly first) and balancing workers. */
const COST: Partial<Record<MemberName, number>> = {
  'eqae-d12': 100,
  'eqae-d4': 60,
  'eqae-attention-d4': 60,
  rvae: 40,
  crvae: 40,
  codae: 40,
  convae: 30,
  'cnn-augmented': 40,
  'cnn-upright': 30,
  'soap-paper': 20,
};

/** Cheap checks of a spec (before anything is written). */
export function validateBenchmarkSpec(s: InvarianceBenchmarkSpec): void {
  checkBenchmarkData(s);
  if (!Array.isArray(s.members) || s.members.length === 0) throw new RangeError('no members to run');
  if (new Set(s.members).size !== s.members.length)
    throw new RangeError(`members named twice: ${s.members.join(', ')}`);
  for (const m of s.members) {
    const def = member(m);
    if (def.kind === 'extractors' && isLearned(m)) {
      const t = s.training[m];
      if (!t || !Number.isInteger(t.epochs) || t.epochs < 1 || !Number.isInteger(t.images) || t.images < 1) {
        throw new RangeError(
          `member ${m} needs training settings { epochs >= 1, images >= 1 }, got ${JSON.stringify(t)}`,
        );
      }
    }
  }
  if (!Array.isArray(s.budgets) || s.budgets.length === 0) throw new RangeError('no label budgets');
  for (const b of s.budgets) {
    if (!Number.isInteger(b) || b < 10 || b > s.trainImages)
      throw new RangeError(`label budget ${b} must be an integer in 10..${s.trainImages} (the training split)`);
  }
  if (!Number.isInteger(s.seeds) || s.seeds < 1)
    throw new RangeError(`seeds must be a positive integer, got ${String(s.seeds)}`);
  if (s.probes.length === 0 || !s.probes.every((p) => BENCHMARK_PROBES.includes(p)))
    throw new RangeError(`probes must be a non-empty subset of ${BENCHMARK_PROBES.join(', ')}`);
  for (const [k, v] of [
    ['clusterImages', s.clusterImages],
    ['invarianceImages', s.invarianceImages],
    ['timingImages', s.timingImages],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > s.testImages)
      throw new RangeError(`${k} must be an integer in 1..${s.testImages} (the test split), got ${String(v)}`);
  }
  if (s.clusterImages < 10)
    throw new RangeError(`clusterImages must be at least 10 (k-means with 10 clusters), got ${s.clusterImages}`);
}

/** The benchmark on the runner. */
export const invarianceBenchmark = defineExperiment({
  name: 'benchmark-invariance',
  module: __filename,
  unitNoun: 'members',
  settingNames: {
    dataset: '--dataset',
    interpolation: '--interpolation',
    trainImages: '--train-images',
    validationImages: '--validation-images',
    testImages: '--test-images',
    budgets: '--budgets',
    seeds: '--seeds',
    probes: '--probes',
    seed: '--seed',
    pcaComponents: '--pca-components',
    rvaeLatentDim: '--rvae-latent-dim',
    codaeLatentDim: '--codae-latent-dim',
    invarianceImages: '--invariance-images',
    randomAngles: '--random-angles',
    clusterImages: '--cluster-images',
    timingImages: '--timing-images',
  },
  // The members and their training (and the CNN's) are the grid (a unit's job); threads, workers and the backend
  // choice do not change what is measured. The timing images do not either, but their rate is a
  // result: they stay a setting so that all rows of a folder are timed alike.
  settings: ({
    members: _m,
    training: _t,
    cnn: _c,
    threads: _th,
    workers: _w,
    backend: _b,
    scale: _s,
    ...rest
  }: InvarianceBenchmarkSpec) => rest,
  units: (s: InvarianceBenchmarkSpec): BenchmarkUnit[] =>
    s.members.map((m) => {
      const def = member(m);
      if (def.kind === 'reference') return { member: m, training: null, cnn: { ...s.cnn } };
      return { member: m, training: isLearned(m) ? (s.training[m] ?? null) : null };
    }),
  unitId: (u: BenchmarkUnit) => u.member,
  cost: (u: BenchmarkUnit) => COST[u.member] ?? 10,
  validate: validateBenchmarkSpec,
  setup: async (s: InvarianceBenchmarkSpec, ctx): Promise<State> => {
    const b = await selectBackend({
      prefer: s.backend === 'auto' ? undefined : s.backend,
      strict: s.backend !== 'auto',
      log: ctx.log,
    });
    return { data: benchmarkData(s), upright: null, backend: b.summary };
  },
  run: async (u: BenchmarkUnit, env): Promise<BenchmarkUnitResult> => {
    const s = env.spec;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const def = member(u.member);
    const log = (line: string): void => env.log(`benchmark ${s.dataset}: ${line}`);
    const ctx = { threads: env.threads, log, signal: env.signal };
    let rows: ExtractorRow[] = [];
    let cnn: CnnRecord[] = [];
    if (def.kind === 'extractors') {
      const key = JSON.stringify({
        member: u.member,
        training: u.training,
        data: [s.dataset, s.interpolation, s.trainImages, s.validationImages, s.seed],
        rvaeLatentDim: s.rvaeLatentDim,
        codaeLatentDim: s.codaeLatentDim,
      });
      const extractors = def.build(s, u.training, { dir: path.join(env.out, 'models', u.member), key });
      try {
        rows = await evaluateExtractors(
          extractors,
          env.state.data,
          {
            probes: s.probes,
            budgets: s.budgets,
            seeds: s.seeds,
            seed: s.seed,
            probeEpochs: s.probeEpochs,
            probePatience: s.probePatience,
          },
          s,
          ctx,
        );
      } finally {
        for (const e of extractors) e.dispose?.();
      }
    } else {
      const st = env.state;
      if (def.condition === 'upright') st.upright ??= uprightTrainImages(s);
      const train = def.condition === 'upright' ? st.upright! : st.data.train;
      cnn = await cnnReference(def.condition, train, st.data.test, {
        budgets: s.budgets,
        seeds: s.seeds,
        seed: s.seed,
        settings: u.cnn ?? s.cnn,
        log,
        signal: env.signal,
      });
    }
    const c = process.cpuUsage(c0);
    return {
      member: u.member,
      rows,
      cnn,
      coreSeconds: (c.user + c.system) / 1e6,
      seconds: (performance.now() - t0) / 1000,
      backend: env.state.backend,
    };
  },
  merge: async (units, s: InvarianceBenchmarkSpec, ctx) =>
    mergeBenchmark(
      units.map((u) => u.result as BenchmarkUnitResult),
      s,
      ctx.out,
    ),
  report: async (r: InvarianceBenchmarkResults, _s, ctx) => void (await writeBenchmarkReport(ctx.out, r)),
});

/** Options of {@link runInvarianceBenchmark}: the spec and the run's folder, shard and callbacks. */
export interface InvarianceBenchmarkOptions
  extends InvarianceBenchmarkSpec, Omit<ExperimentRunOptions, 'threads' | 'workers'> {}

/**
 * Runs (this shard of) the benchmark. Resolves with the results when every member is done (and
 * writes results.json, the figures, leaderboard.md and report.html unless `summary` is false), else null.
 */
export async function runInvarianceBenchmark(
  o: InvarianceBenchmarkOptions,
): Promise<InvarianceBenchmarkResults | null> {
  const { out: _o, shard: _s, summary: _m, log: _l, onProgress: _p, signal: _g, workerScript: _w, ...spec } = o;
  return runToSummary(invarianceBenchmark, spec, o);
}
