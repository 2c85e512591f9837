/**
 * The merged results of the invariance benchmark: the leaderboard (one row per extractor, sorted by
 * the headline accuracy, the MLP probe at 1,000 labels), the CNN reference, the tables as Markdown
 * (leaderboard.md, pasted into docs/BENCHMARK.md) and for report.html, and the three figures
 * (accuracy against label budget, against invariance error, against encoding cost).
 */
import type { CnnCondition, CnnRecord } from './cnn-reference';
import type { ExtractorRow } from './evaluate';
import type { BenchmarkProbe } from './probes';
import { meanAndStd } from '../experiments/common';
import type { VegaLiteSpec } from '../report/figures';

/** Mean ± std of the CNN at one (condition, budget). */
export interface CnnSummary {
  condition: CnnCondition;
  budget: number;
  mean: number;
  std: number;
  seeds: number;
  meanEpochs: number;
  coreSeconds: number;
}

/** The headline of the leaderboard: which probe at which budget sorts it. */
export interface Headline {
  probe: BenchmarkProbe;
  budget: number;
}

/** The budget and probe the leaderboard is sorted by: the MLP at 1,000 labels, or the closest run. */
export function headlineOf(probes: readonly BenchmarkProbe[], budgets: readonly number[]): Headline {
  const probe: BenchmarkProbe = probes.includes('mlp') ? 'mlp' : probes[0]!;
  const sorted = [...budgets].sort((a, b) => Math.abs(Math.log(a / 1000)) - Math.abs(Math.log(b / 1000)) || a - b);
  return { probe, budget: sorted[0]! };
}

/** The mean accuracy of `row` for `probe` at `budget` (NaN when not run). */
export function accuracyOf(row: ExtractorRow, probe: BenchmarkProbe, budget: number): number {
  return row.summary.find((s) => s.probe === probe && s.budget === budget)?.mean ?? Number.NaN;
}

/** The extractor rows sorted by the headline accuracy, best first (ties: name). */
export function leaderboard(rows: readonly ExtractorRow[], h: Headline): ExtractorRow[] {
  return [...rows].sort(
    (a, b) => accuracyOf(b, h.probe, h.budget) - accuracyOf(a, h.probe, h.budget) || a.name.localeCompare(b.name),
  );
}

/** Mean ± std over seeds of the CNN records, by condition and budget. */
export function summarizeCnn(records: readonly CnnRecord[]): CnnSummary[] {
  const out: CnnSummary[] = [];
  const keys = [...new Set(records.map((r) => `${r.condition}|${r.budget}`))];
  for (const k of keys) {
    const rs = records.filter((r) => `${r.condition}|${r.budget}` === k);
    const { mean, std } = meanAndStd(rs.map((r) => r.accuracy));
    out.push({
      condition: rs[0]!.condition,
      budget: rs[0]!.budget,
      mean,
      std,
      seeds: rs.length,
      meanEpochs: rs.reduce((s, r) => s + r.epochs, 0) / rs.length,
      coreSeconds: rs.reduce((s, r) => s + r.coreSeconds, 0),
    });
  }
  return out.sort((a, b) => a.condition.localeCompare(b.condition) || a.budget - b.budget);
}

/** An accuracy fraction as a percentage for a table: `66.2 ± 1.0`, `66.2` without a std, '–' for NaN. */
export const formatPercent = (m: number, s?: number): string =>
  Number.isNaN(m) ? '–' : s === undefined ? (100 * m).toFixed(1) : `${(100 * m).toFixed(1)} ± ${(100 * s).toFixed(1)}`;

/** An invariance error for a table: 2 significant digits, exponent form below 1e-3. */
export function formatError(e: number): string {
  if (!Number.isFinite(e)) return '–';
  if (e === 0) return '0';
  return e < 1e-3 ? e.toExponential(1) : e.toPrecision(2);
}

/** A rate or a time with 3 significant digits and thousands separators. */
export function formatAmount(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const r = Number(v.toPrecision(3));
  return r >= 1000 ? Math.round(r).toLocaleString('en-US') : String(r);
}

/** The tables of the results, as rows of strings. */
export interface ResultTables {
  accuracy: { columns: string[]; rows: string[][] };
  invariance: { columns: string[]; rows: string[][] };
  reference: { columns: string[]; rows: string[][] };
}

/** The leaderboard tables (accuracy in %, mean ± std over probe seeds). */
export function resultTables(
  rows: readonly ExtractorRow[],
  cnn: readonly CnnSummary[],
  probes: readonly BenchmarkProbe[],
  budgets: readonly number[],
): ResultTables {
  const probeLabel: Record<BenchmarkProbe, string> = { logistic: 'LR', mlp: 'MLP', knn: 'kNN' };
  const b = [...budgets].sort((x, y) => x - y);
  const accCols = probes.flatMap((p) => b.map((n) => `${probeLabel[p]} ${n.toLocaleString('en-US')}`));
  const accuracy = {
    columns: ['#', 'extractor', 'family', 'dims', 'labels in fit', ...accCols, 'NMI', 'ARI'],
    rows: rows.map((r, i) => [
      String(i + 1),
      r.name,
      r.family,
      String(r.dims),
      r.labels === 'train' ? 'all training labels' : 'none',
      ...probes.flatMap((p) =>
        b.map((n) => {
          const s = r.summary.find((x) => x.probe === p && x.budget === n);
          return s ? formatPercent(s.mean, s.std) : '–';
        }),
      ),
      r.clustering.nmi.toFixed(3),
      r.clustering.ari.toFixed(3),
    ]),
  };
  const invariance = {
    columns: [
      'extractor',
      'D4 (90° turns, mirrors)',
      '30° turns bilinear',
      '30° turns nearest',
      'random bilinear',
      'random nearest',
      'training core-s',
      'encoding images / core-s',
    ],
    rows: rows.map((r) => [
      r.name,
      formatError(r.invariance.d4.medianStandardized),
      formatError(r.invariance.turns30.bilinear.medianStandardized),
      formatError(r.invariance.turns30.nearest.medianStandardized),
      formatError(r.invariance.random.bilinear.medianStandardized),
      formatError(r.invariance.random.nearest.medianStandardized),
      formatAmount(r.trainingCoreSeconds),
      formatAmount(r.encodeImagesPerCoreSecond),
    ]),
  };
  const conditions = [...new Set(cnn.map((c) => c.condition))];
  const reference = {
    columns: [
      'CNN trained end to end',
      ...b.map((n) => `${n.toLocaleString('en-US')} labels`),
      'training core-s (all budgets and seeds)',
    ],
    rows: conditions.map((c) => [
      c === 'augmented' ? 'with rotation augmentation' : 'without (upright images)',
      ...b.map((n) => {
        const s = cnn.find((x) => x.condition === c && x.budget === n);
        return s ? formatPercent(s.mean, s.std) : '–';
      }),
      formatAmount(cnn.filter((x) => x.condition === c).reduce((s, x) => s + x.coreSeconds, 0)),
    ]),
  };
  return { accuracy, invariance, reference };
}

/** A Markdown table. */
export function markdownTable(t: { columns: string[]; rows: string[][] }): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  // Numeric columns (every cell a number, a mean ± std or '–') are right-aligned.
  const numeric = t.columns.map(
    (_, c) => t.rows.length > 0 && t.rows.every((r) => /^([-+]?[\d.,]+(e[+-]?\d+)?( ± [\d.]+)?|–)$/.test(r[c] ?? '')),
  );
  const lines = [
    `| ${t.columns.map(esc).join(' | ')} |`,
    `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
  ];
  for (const r of t.rows) lines.push(`| ${r.map(esc).join(' | ')} |`);
  return lines.join('\n');
}

/** The name of the CNN reference's rows and lines, by condition. */
export const REF_LABEL: Readonly<Record<CnnCondition, string>> = {
  augmented: 'CNN (supervised, augmented)',
  upright: 'CNN (supervised, upright)',
};

/** Accuracy against label budget, one panel per probe; the CNN reference dashed in every panel. */
export function budgetFigureSpec(
  rows: readonly ExtractorRow[],
  cnn: readonly CnnSummary[],
  probes: readonly BenchmarkProbe[],
  title: string,
): VegaLiteSpec {
  const probeTitle: Record<BenchmarkProbe, string> = {
    logistic: 'logistic regression',
    mlp: 'one hidden layer (256)',
    knn: 'kNN (k = 10)',
  };
  const names = rows.map((r) => r.name);
  const values = rows.flatMap((r) =>
    r.summary.map((s) => ({
      name: r.name,
      probe: probeTitle[s.probe],
      budget: s.budget,
      mean: s.mean,
      lo: s.mean - s.std,
      hi: s.mean + s.std,
    })),
  );
  const refs = probes.flatMap((p) =>
    cnn.map((c) => ({ name: REF_LABEL[c.condition], probe: probeTitle[p], budget: c.budget, mean: c.mean })),
  );
  const x = { field: 'budget', type: 'quantitative', scale: { type: 'log' }, title: 'labelled training images' };
  const y = { field: 'mean', type: 'quantitative', title: 'test accuracy', scale: { domain: [0, 1] } };
  return {
    title,
    data: { values: [...values, ...refs.map((r) => ({ ...r, reference: true }))] },
    facet: { column: { field: 'probe', type: 'nominal', title: null, sort: probes.map((p) => probeTitle[p]) } },
    spec: {
      width: 260,
      height: 300,
      layer: [
        {
          transform: [{ filter: 'datum.reference !== true' }],
          mark: { type: 'line', point: true },
          encoding: {
            x,
            y,
            color: { field: 'name', type: 'nominal', title: 'extractor', sort: names, scale: { scheme: 'tableau20' } },
          },
        },
        {
          transform: [{ filter: 'datum.reference === true' }],
          mark: { type: 'line', point: { filled: false, color: '#333333' }, color: '#333333' },
          encoding: {
            x,
            y,
            strokeDash: {
              field: 'name',
              type: 'nominal',
              title: 'reference',
              sort: Object.values(REF_LABEL),
              scale: {
                domain: Object.values(REF_LABEL),
                range: [
                  [6, 3],
                  [2, 2],
                ],
              },
            },
          },
        },
      ],
    },
    resolve: { scale: { color: 'shared' } },
  };
}

function scatter(
  points: { name: string; family: string; x: number; y: number }[],
  xTitle: string,
  yTitle: string,
  title: string,
  logX: boolean,
): VegaLiteSpec {
  const x = { field: 'x', type: 'quantitative', title: xTitle, ...(logX ? { scale: { type: 'log' } } : {}) };
  const y = { field: 'y', type: 'quantitative', title: yTitle, scale: { zero: false } };
  return {
    title,
    width: 560,
    height: 380,
    data: { values: points },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 70 },
        encoding: { x, y, color: { field: 'family', type: 'nominal', title: 'family', legend: { labelLimit: 300 } } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 6, dy: -4, fontSize: 9 },
        encoding: { x, y, text: { field: 'name' } },
      },
    ],
  };
}

/** Headline accuracy against the invariance error at random angles (bilinear, standardised). */
export function invarianceFigureSpec(rows: readonly ExtractorRow[], h: Headline, title: string): VegaLiteSpec {
  const pts = rows.map((r) => ({
    name: r.name,
    family: r.family,
    x: r.invariance.random.bilinear.medianStandardized,
    y: accuracyOf(r, h.probe, h.budget),
  }));
  return scatter(
    pts,
    'invariance error at random angles (median ‖f(gx) − f(x)‖ / ‖f(x)‖, standardised, bilinear)',
    `test accuracy (${h.probe}, ${h.budget} labels)`,
    title,
    false,
  );
}

/** Headline accuracy against encoding cost (images per CPU-second, log scale). */
export function costFigureSpec(rows: readonly ExtractorRow[], h: Headline, title: string): VegaLiteSpec {
  const pts = rows.map((r) => ({
    name: r.name,
    family: r.family,
    x: r.encodeImagesPerCoreSecond,
    y: accuracyOf(r, h.probe, h.budget),
  }));
  return scatter(
    pts,
    'encoding speed (images per CPU-second, log scale)',
    `test accuracy (${h.probe}, ${h.budget} labels)`,
    title,
    true,
  );
}
