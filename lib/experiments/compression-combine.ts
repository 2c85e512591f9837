/**
 * Several finished Experiment-2 runs as one: `soapix experiment compression-combine A B C --out D`.
 *
 * Why: at the paper's size each autoencoder depth is its own run (h_m is part of a run's settings,
 * docs/RUNNER.md), and PCA with the linear AE another, so no single results.json holds every method
 * of the paper's Figure (docs/RESULTS.md, Experiment 2). The runs compare only when they measured the
 * same thing, so the combination refuses runs whose SOAP parameters, data sizes, seed or protocol
 * (tiny or full) differ, and a (method, h_e) point given by two runs. Each point keeps its own run's
 * relative accuracy; the paper's claims (checkCompressionClaims) are checked again on the union.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readResultsJson } from '../util/results-file';
import { UsageError } from '../util/usage-error';
import {
  checkCompressionClaims,
  type CompressionPoint,
  type CompressionResults,
  type CompressionSource,
} from './compression-report';

/** A combined results.json: the usual fields plus the runs it was made of. */
export type CombinedCompressionResults = CompressionResults & { sources: CompressionSource[] };

/** Reads the results.json of a finished `soapix experiment compression` run (a folder or the file). */
export async function readCompressionResults(dirOrFile: string): Promise<CompressionResults> {
  const { file, json } = await readResultsJson(dirOrFile, 'soapix experiment compression');
  const r = json as Partial<CompressionResults>;
  if (r.experiment !== 'compression' || !Array.isArray(r.points) || !r.soap || !r.baseline || !r.settings) {
    throw new UsageError(`${file} is not the results.json of 'soapix experiment compression'`);
  }
  for (const p of r.points) {
    if (typeof p.method !== 'string' || !Number.isFinite(p.he) || !Number.isFinite(p.valMse)) {
      throw new UsageError(`${file}: a point lacks its method, h_e or validation MSE (corrupt file?)`);
    }
  }
  return r as CompressionResults;
}

/** Order of the methods in tables and legends: PCA, the linear AE, then the deep AEs by depth. */
function methodRank(m: string): number {
  if (m === 'pca') return 0;
  if (m === 'linear-ae') return 1;
  const hm = /^deep-ae-hm(\d+)$/.exec(m);
  return hm ? 2 + Number(hm[1]) : 1e6;
}

/** The settings every source agrees on (JSON-equal values); the others are listed per source. */
function commonSettings(all: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all[0]!)) {
    if (all.every((s) => JSON.stringify(s[k]) === JSON.stringify(v))) out[k] = v;
  }
  return out;
}

/**
 * Combines finished runs into one results object.
 *
 * @param runs - the runs with the path each was read from (for messages and `sources`).
 * @param command - the command to record (the combine command as a user types it).
 * @param log - receives warnings (different baseline accuracies).
 * @throws UsageError when fewer than 2 runs are given, when they measured different things, or when
 *   a (method, h_e) point is in two runs.
 */
export function combineCompressionResults(
  runs: readonly { path: string; results: CompressionResults }[],
  command: string,
  log: (line: string) => void = () => undefined,
): CombinedCompressionResults {
  if (runs.length < 2) throw new UsageError(`combining needs at least 2 runs, got ${runs.length}`);
  const first = runs[0]!;
  const same: [string, (r: CompressionResults) => unknown][] = [
    ['SOAP parameters', (r) => r.soap],
    ['feature count', (r) => r.features],
    ['train / validation / test spectra', (r) => [r.trainRows, r.valRows, r.testRows]],
    ['seed', (r) => r.seed],
    ['protocol (--tiny or full)', (r) => Boolean(r.settings['tiny'])],
  ];
  for (const run of runs.slice(1)) {
    for (const [what, get] of same) {
      const a = JSON.stringify(get(first.results));
      const b = JSON.stringify(get(run.results));
      if (a !== b) {
        throw new UsageError(
          `${run.path} and ${first.path} measured different things (${what}: ${b} against ${a}); only runs with the same SOAP parameters, data sizes, seed and protocol combine`,
        );
      }
    }
  }
  const owner = new Map<string, string>();
  const points: CompressionPoint[] = [];
  for (const run of runs) {
    for (const p of run.results.points) {
      const key = `${p.method} h_e ${p.he}`;
      const before = owner.get(key);
      if (before !== undefined) {
        throw new UsageError(`${key} is in both ${before} and ${run.path}; give each (method, h_e) point once`);
      }
      owner.set(key, run.path);
      points.push(p);
    }
  }
  points.sort((a, b) => methodRank(a.method) - methodRank(b.method) || a.method.localeCompare(b.method) || a.he - b.he);
  const baselines = runs.map((r) => r.results.baseline.accuracy);
  if (new Set(baselines).size > 1) {
    log(
      `compression-combine: warning: the runs' baseline accuracies differ (${runs.map((r) => `${r.path}: ${r.results.baseline.accuracy}`).join(', ')}); each point keeps its own run's relative accuracy`,
    );
  }
  const pcaRun = runs.find((r) => r.results.pcaCumulativeVariance.length > 0);
  const distinct = (f: (r: CompressionResults) => string): string =>
    [...new Set(runs.map((r) => f(r.results)))].join(' / ');
  return {
    ...first.results,
    command,
    simdPath: distinct((r) => r.simdPath),
    backend: distinct((r) => r.backend),
    settings: { ...commonSettings(runs.map((r) => r.results.settings)), combined: runs.length },
    pcaCumulativeVariance: pcaRun ? pcaRun.results.pcaCumulativeVariance : [],
    points,
    claims: checkCompressionClaims(points),
    seconds: runs.reduce((s, r) => s + r.results.seconds, 0),
    figures: [],
    finishedAt: new Date().toISOString(),
    sources: runs.map((r) => ({
      path: r.path,
      command: r.results.command,
      methods: [...new Set(r.results.points.map((p) => p.method))],
      he: [...new Set(r.results.points.map((p) => p.he))].sort((a, b) => a - b),
      baselineAccuracy: r.results.baseline.accuracy,
      seconds: r.results.seconds,
      finishedAt: r.results.finishedAt,
    })),
  };
}

/**
 * The correlation matrix a source run left in its folder (correlation.json, the same for every
 * source since they share the data); null when none has it (e.g. folders copied without it).
 */
export async function readSourceCorrelation(
  dirs: readonly string[],
): Promise<{ values: Float64Array; features: number } | null> {
  for (const d of dirs) {
    const file = path.join(d.endsWith('.json') ? path.dirname(d) : d, 'correlation.json');
    if (!existsSync(file)) continue;
    try {
      const j = JSON.parse(await readFile(file, 'utf8')) as { features: number; values: (number | null)[] };
      if (!Number.isInteger(j.features) || j.values.length !== j.features * j.features) continue;
      return { features: j.features, values: Float64Array.from(j.values, (v) => (v === null ? Number.NaN : v)) };
    } catch {
      continue; // an unreadable copy only costs the correlation figure
    }
  }
  return null;
}
