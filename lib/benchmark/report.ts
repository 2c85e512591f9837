/**
 * The merge of the invariance benchmark (results.json), its figures, leaderboard.md (the tables
 * with the command and scale that produced them, for docs/BENCHMARK.md) and report.html.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import { renderFigure } from '../report/figures';
import { writeReport } from '../report/html';
import type { CnnRecord } from './cnn-reference';
import { testAugmentSeed } from './data';
import type { ExtractorRow } from './evaluate';
import type { BenchmarkUnitResult, InvarianceBenchmarkSpec } from './spec';
import { DEFAULT_MEMBERS } from './member-names';
import {
  budgetFigureSpec,
  costFigureSpec,
  headlineOf,
  invarianceFigureSpec,
  leaderboard,
  markdownTable,
  resultTables,
  summarizeCnn,
  type CnnSummary,
  type Headline,
} from './results';
import { recordedCommand } from '../experiments/command-line';
import { simdPath } from '../soap/simd-path';

/** results.json of a benchmark run. */
export interface InvarianceBenchmarkResults {
  benchmark: 'invariance';
  /** The command line that produced it (the last merging run's). */
  command: string;
  /** The native engine's SIMD kernel path that computed the SOAP features (docs/DETERMINISM.md). */
  simdPath: string;
  dataset: string;
  scale: string;
  settings: InvarianceBenchmarkSpec;
  augmentationSeeds: { train: number; test: number };
  /** The probe and budget the leaderboard is sorted by. */
  headline: Headline;
  /** Every extractor's measurements, best headline accuracy first. */
  leaderboard: ExtractorRow[];
  reference: { summary: CnnSummary[]; records: CnnRecord[] };
  /** What the benchmark does not cover in this run, in words. */
  gaps: string[];
  members: { member: string; coreSeconds: number; seconds: number; backend: string }[];
  /** CPU seconds of all members together. */
  totalCoreSeconds: number;
  figures: string[];
  finishedAt: string;
}

/** The gaps of a run: the default members it left out. */
export function benchmarkGaps(s: InvarianceBenchmarkSpec): string[] {
  const gaps: string[] = [];
  const left = DEFAULT_MEMBERS.filter((m) => !s.members.includes(m));
  if (left.length) gaps.push(`not run in this folder: ${left.join(', ')}.`);
  return gaps;
}

/** Merges the members' results, renders the figures into `out` and returns results.json's content. */
export async function mergeBenchmark(
  units: readonly BenchmarkUnitResult[],
  s: InvarianceBenchmarkSpec,
  out: string,
): Promise<InvarianceBenchmarkResults> {
  const headline = headlineOf(s.probes, s.budgets);
  const rows = leaderboard(
    units.flatMap((u) => u.rows),
    headline,
  );
  const records = units.flatMap((u) => u.cnn);
  const cnn = summarizeCnn(records);
  const name = s.dataset === 'mnist' ? 'MNIST' : 'Fashion-MNIST';
  const title = `${name}, rotated and mirrored (${s.interpolation})`;
  const figures: string[] = [];
  if (rows.length) {
    await renderFigure(
      budgetFigureSpec(rows, cnn, s.probes, `${title}: test accuracy against labels (mean over ${s.seeds} seeds)`),
      path.join(out, 'accuracy_vs_labels'),
    );
    await renderFigure(
      invarianceFigureSpec(rows, headline, `${title}: accuracy against invariance error`),
      path.join(out, 'accuracy_vs_invariance'),
    );
    await renderFigure(
      costFigureSpec(rows, headline, `${title}: accuracy against encoding cost`),
      path.join(out, 'accuracy_vs_cost'),
    );
    figures.push('accuracy_vs_labels.png', 'accuracy_vs_invariance.png', 'accuracy_vs_cost.png');
  }
  return {
    benchmark: 'invariance',
    command: recordedCommand(),
    simdPath: simdPath(),
    dataset: s.dataset,
    scale: s.scale,
    settings: s,
    augmentationSeeds: { train: s.seed, test: testAugmentSeed(s.seed) },
    headline,
    leaderboard: rows,
    reference: { summary: cnn, records },
    gaps: benchmarkGaps(s),
    members: units.map((u) => ({
      member: u.member,
      coreSeconds: u.coreSeconds,
      seconds: u.seconds,
      backend: u.backend,
    })),
    totalCoreSeconds: units.reduce((a, u) => a + u.coreSeconds, 0),
    figures,
    finishedAt: new Date().toISOString(),
  };
}

/** The scale of a run in one sentence. */
export function scaleSentence(r: InvarianceBenchmarkResults): string {
  const s = r.settings;
  const trained = Object.entries(s.training)
    .filter(([m]) => s.members.includes(m as never))
    .map(
      ([m, t]) =>
        `${m} ${t!.epochs} epochs max on ${Math.min(t!.images, s.trainImages).toLocaleString('en-US')} images`,
    )
    .join('; ');
  return (
    `Scale "${r.scale}": ${s.dataset}, ${s.interpolation} resampling; training split ${s.trainImages.toLocaleString('en-US')} images, validation ${s.validationImages.toLocaleString('en-US')}, ` +
    `test ${s.testImages.toLocaleString('en-US')} (augmentation seeds ${r.augmentationSeeds.train} / ${r.augmentationSeeds.test}); label budgets ${s.budgets.join(', ')} × ${s.seeds} seeds; ` +
    `k-means on ${s.clusterImages} test images (${s.kmeansRestarts} restarts); invariance on ${s.invarianceImages} test images (${s.randomAngles} random angles each); ` +
    `encoding cost on ${s.timingImages} test images. Learned extractors: ${trained || 'none'}. Total ${Math.round(r.totalCoreSeconds).toLocaleString('en-US')} CPU-seconds.`
  );
}

/** leaderboard.md: the command, the scale and the three tables. */
export function leaderboardMarkdown(r: InvarianceBenchmarkResults): string {
  const t = resultTables(r.leaderboard, r.reference.summary, r.settings.probes, r.settings.budgets);
  return [
    `Command: \`${r.command}\``,
    '',
    scaleSentence(r),
    '',
    `Accuracy in % (mean ± std over ${r.settings.seeds} label subsets), sorted by ${r.headline.probe} at ${r.headline.budget} labels:`,
    '',
    markdownTable(t.accuracy),
    '',
    'Invariance error (median ‖f(gx) − f(x)‖ / ‖f(x)‖ on standardised vectors) and cost:',
    '',
    markdownTable(t.invariance),
    '',
    'Supervised reference (accuracy in %):',
    '',
    markdownTable(t.reference),
    '',
    ...r.gaps.map((g) => `Gap: ${g}`),
    '',
  ].join('\n');
}

/** Writes leaderboard.md and report.html into `out`. */
export async function writeBenchmarkReport(out: string, r: InvarianceBenchmarkResults): Promise<void> {
  await writeFile(path.join(out, 'leaderboard.md'), leaderboardMarkdown(r));
  const t = resultTables(r.leaderboard, r.reference.summary, r.settings.probes, r.settings.budgets);
  await writeReport(out, {
    title: `Invariant extractors benchmark: ${r.dataset}`,
    sections: [
      {
        heading: 'Protocol and scale',
        text:
          `${scaleSentence(r)}\n\nCommand: ${r.command}\n\n` +
          'Every extractor gives one vector per image; vectors are standardised on the training split. Probes (logistic regression, one hidden layer of 256, kNN with k = 10) train on the labelled images of each budget and seed and are scored on the test split; k-means (k = 10) is scored by NMI and ARI. ' +
          'Invariance error: median of ‖f(gx) − f(x)‖ / ‖f(x)‖ (standardised vectors) over test images and transforms g: the seven 90° turns and mirrors, the eight 30° turns that are not quarter turns, and random angles, each under bilinear and nearest resampling. ' +
          `Cost: CPU-seconds of training, and images encoded per CPU-second. Backend: ${r.members[0]?.backend ?? '?'}.`,
      },
      { heading: `Accuracy (%; sorted by ${r.headline.probe} at ${r.headline.budget} labels)`, table: t.accuracy },
      { heading: 'Invariance error and cost', table: t.invariance },
      { heading: 'Supervised reference: the CNN trained end to end', table: t.reference },
      { heading: 'Figures', figures: r.figures },
      {
        heading: 'Extractors',
        table: { columns: ['extractor', 'what it is'], rows: r.leaderboard.map((x) => [x.name, x.description]) },
      },
      { heading: 'Gaps', text: r.gaps.length ? r.gaps.join('\n\n') : 'None: every default member ran.' },
    ],
  });
}
