/**
 * Side-by-side comparison of finished invariance-benchmark runs (their results.json): one
 * accuracy per extractor and run, for one probe at one label budget, as a table (compare.md), a
 * figure (compare.png / .svg) and compare.json. The runs are what a user wants to hold against each
 * other: the two resamplings of docs/BENCHMARK.md's protocol ("bilinear mixes grey levels, nearest
 * keeps them"), MNIST against Fashion-MNIST, or two scales of one data set.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';

import { renderFigure, type VegaLiteSpec } from '../report/figures';
import { writeFileAtomic } from '../util/atomic-file';
import { readResultsJson } from '../util/results-file';
import { UsageError } from '../util/usage-error';
import type { BenchmarkProbe } from './probes';
import type { InvarianceBenchmarkResults } from './report';
import { formatPercent, markdownTable, REF_LABEL } from './results';

/** One run of a comparison and the label its column carries. */
export interface ComparedRun {
  label: string;
  results: InvarianceBenchmarkResults;
}

/** Options of {@link compareBenchmarks}. */
export interface CompareOptions {
  /** Probe to compare (default: the first run's headline probe, the MLP when it ran). */
  probe?: BenchmarkProbe;
  /** Label budget to compare (default: the largest budget every run has). */
  budget?: number;
}

/** Mean ± std over the label seeds of one extractor in one run. */
export interface ComparedValue {
  mean: number;
  std: number;
  seeds: number;
}

/** The comparison: one row per extractor (or CNN reference), one value per run (null: not in that run). */
export interface BenchmarkComparison {
  probe: BenchmarkProbe;
  budget: number;
  runs: { label: string; dataset: string; interpolation: string; scale: string; command: string }[];
  rows: { name: string; family: string; values: (ComparedValue | null)[] }[];
}

/** Reads and checks one run's results.json (`dir` or the file itself). */
export async function readBenchmarkResults(dirOrFile: string): Promise<InvarianceBenchmarkResults> {
  const { file, json } = await readResultsJson(dirOrFile, 'soapix benchmark invariance');
  const r = json as Partial<InvarianceBenchmarkResults>;
  if (r.benchmark !== 'invariance' || !Array.isArray(r.leaderboard) || !r.settings || !r.reference) {
    throw new UsageError(`${file} is not the results.json of 'soapix benchmark invariance'`);
  }
  return r as InvarianceBenchmarkResults;
}

/** The default column label of a run: "<dataset>, <resampling>". */
export function runLabel(r: InvarianceBenchmarkResults): string {
  return `${r.dataset}, ${r.settings.interpolation}`;
}

function budgetsOf(r: InvarianceBenchmarkResults, probe: BenchmarkProbe): number[] {
  const b = new Set<number>();
  for (const row of r.leaderboard) for (const s of row.summary) if (s.probe === probe) b.add(s.budget);
  return [...b].sort((x, y) => x - y);
}

/** Compares the runs at one probe and budget; rows sorted by the first run's accuracy, best first. */
export function compareBenchmarks(runs: readonly ComparedRun[], options: CompareOptions = {}): BenchmarkComparison {
  if (runs.length < 2) throw new UsageError(`a comparison needs at least 2 runs, got ${runs.length}`);
  const probe = options.probe ?? runs[0]!.results.headline.probe;
  const perRun = runs.map((r) => budgetsOf(r.results, probe));
  perRun.forEach((b, i) => {
    if (b.length === 0) throw new UsageError(`run '${runs[i]!.label}' has no results for the ${probe} probe`);
  });
  const common = perRun[0]!.filter((b) => perRun.every((bs) => bs.includes(b)));
  const budget = options.budget ?? common[common.length - 1];
  if (budget === undefined || !common.includes(budget)) {
    throw new UsageError(
      `label budget ${options.budget ?? '(none)'} is not in every run; the budgets all runs have for ${probe}: ${common.join(', ') || 'none'}`,
    );
  }
  const names: { name: string; family: string }[] = [];
  for (const r of runs)
    for (const row of r.results.leaderboard)
      if (!names.some((n) => n.name === row.name)) names.push({ name: row.name, family: row.family });
  const rows = names.map(({ name, family }) => ({
    name,
    family,
    values: runs.map((r): ComparedValue | null => {
      const s = r.results.leaderboard
        .find((x) => x.name === name)
        ?.summary.find((x) => x.probe === probe && x.budget === budget);
      return s ? { mean: s.mean, std: s.std, seeds: s.seeds } : null;
    }),
  }));
  // The supervised reference is trained end to end on the same labels: one value per run, any probe.
  for (const condition of ['augmented', 'upright'] as const) {
    const values = runs.map((r): ComparedValue | null => {
      const c = r.results.reference.summary.find((x) => x.condition === condition && x.budget === budget);
      return c ? { mean: c.mean, std: c.std, seeds: c.seeds } : null;
    });
    if (values.some((v) => v !== null)) rows.push({ name: REF_LABEL[condition], family: 'reference', values });
  }
  const first = (r: { values: (ComparedValue | null)[] }): number => r.values[0]?.mean ?? -1;
  rows.sort((a, b) => first(b) - first(a) || a.name.localeCompare(b.name));
  return {
    probe,
    budget,
    runs: runs.map((r) => ({
      label: r.label,
      dataset: r.results.dataset,
      interpolation: r.results.settings.interpolation,
      scale: r.results.scale,
      command: r.results.command,
    })),
    rows,
  };
}

const pct = (v: ComparedValue | null): string => (v === null ? '–' : formatPercent(v.mean, v.std));

/** The comparison as Markdown: accuracy in % per run; with two runs also their difference in points. */
export function comparisonMarkdown(c: BenchmarkComparison): string {
  const two = c.runs.length === 2;
  const columns = ['extractor', 'family', ...c.runs.map((r) => r.label), ...(two ? ['difference (points)'] : [])];
  const rows = c.rows.map((r) => {
    const [a, b] = r.values;
    const d = two && a && b ? 100 * (b.mean - a.mean) : null;
    const diff = d === null ? '–' : `${d > 0 ? '+' : ''}${d.toFixed(1)}`;
    return [r.name, r.family, ...r.values.map(pct), ...(two ? [diff] : [])];
  });
  const head =
    `Test accuracy in % (mean ± std over the label seeds), ${c.probe} probe at ${c.budget.toLocaleString('en-US')} labels` +
    (two ? `; difference = ${c.runs[1]!.label} − ${c.runs[0]!.label}` : '') +
    '.';
  const runs = c.runs.map((r) => `- ${r.label} (scale "${r.scale}"): \`${r.command}\``).join('\n');
  return `${head}\n\n${markdownTable({ columns, rows })}\n\nRuns:\n${runs}\n`;
}

/** One dot per extractor and run with a ± std bar, extractors sorted as the table. */
export function comparisonFigureSpec(c: BenchmarkComparison, title: string): VegaLiteSpec {
  const values = c.rows.flatMap((r) =>
    r.values.flatMap((v, i) =>
      v ? [{ name: r.name, run: c.runs[i]!.label, mean: v.mean, lo: v.mean - v.std, hi: v.mean + v.std }] : [],
    ),
  );
  const y = { field: 'name', type: 'nominal', title: null, sort: c.rows.map((r) => r.name), axis: { labelLimit: 320 } };
  const color = {
    field: 'run',
    type: 'nominal',
    title: 'run',
    sort: c.runs.map((r) => r.label),
    legend: { labelLimit: 400 },
  };
  return {
    title,
    width: 520,
    height: { step: 16 },
    data: { values },
    layer: [
      {
        mark: { type: 'rule' },
        encoding: { y, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' }, color },
      },
      {
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          y,
          x: {
            field: 'mean',
            type: 'quantitative',
            title: `test accuracy (${c.probe}, ${c.budget} labels)`,
            scale: { zero: false },
          },
          color,
        },
      },
    ],
  };
}

/** Writes compare.json, compare.md and the figure (compare.png, compare.svg) into `out`. */
export async function writeComparison(out: string, c: BenchmarkComparison, title: string): Promise<string[]> {
  const files = ['compare.json', 'compare.md', 'compare.png', 'compare.svg'].map((f) => path.join(out, f));
  await mkdir(out, { recursive: true });
  await writeFileAtomic(files[0]!, `${JSON.stringify(c, null, 2)}\n`);
  await writeFileAtomic(files[1]!, comparisonMarkdown(c));
  await renderFigure(comparisonFigureSpec(c, title), path.join(out, 'compare'));
  return files;
}
