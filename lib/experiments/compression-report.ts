/**
 * Results of Experiment 2 (compression.ts): the results.json types, the paper's claims checked
 * against the measured points (docs/PAPER-FACTS.md §5), the figures (MSE vs h_e, accuracy vs h_e, the
 * correlation matrix of the SOAP components) and report.html.
 */
import * as path from 'node:path';
import { renderFigure } from '../report/figures';
import { writeReport } from '../report/html';
import type { ClaimCheck, SoapParams } from './common';

/** One (method, h_e) point. */
export interface CompressionPoint {
  method: string;
  he: number;
  /** Reconstruction MSE on the validation split, scaled units. */
  valMse: number;
  /** Test accuracy of the classifier retrained on the codes. */
  accuracy: number;
  /** accuracy / baseline accuracy. */
  relativeAccuracy: number;
  aeEpochs?: number;
  aeBestEpoch?: number | null;
  aeStoppedEarly?: boolean;
  /** The learning rate the plateau schedule had reached (only when it ran). */
  aeFinalLearningRate?: number;
  classifierEpochs: number;
  classifierBestEpoch: number | null;
  seconds: number;
}

/** Where a combined point came from. */
export interface CompressionSource {
  /** The folder (or results.json) as given. */
  path: string;
  command: string;
  methods: string[];
  he: number[];
  baselineAccuracy: number;
  /** Wall seconds of that run. */
  seconds: number;
  finishedAt: string;
}

export interface CompressionResults {
  experiment: 'compression';
  command: string;
  /** The native engine's SIMD kernel path that computed the SOAP features (docs/DETERMINISM.md). */
  simdPath: string;
  soap: SoapParams;
  features: number;
  trainRows: number;
  valRows: number;
  testRows: number;
  seed: number;
  backend: string;
  settings: Record<string, unknown>;
  baseline: { accuracy: number; classifierEpochs: number; classifierBestEpoch: number | null; seconds: number };
  pcaCumulativeVariance: { he: number; cumulative: number }[];
  points: CompressionPoint[];
  claims: ClaimCheck[];
  seconds: number;
  figures: string[];
  finishedAt: string;
  /** Only in a combination of several runs (compression-combine.ts): the runs it was made of. */
  sources?: CompressionSource[];
}

/** Checks the paper's Experiment-2 claims (docs/PAPER-FACTS.md §5) against measured points. */
export function checkCompressionClaims(points: CompressionPoint[]): ClaimCheck[] {
  const by = (m: string, he: number) => points.find((p) => p.method === m && p.he === he);
  const hes = [...new Set(points.map((p) => p.he))].sort((a, b) => a - b);
  const fmt = (v: number) => v.toPrecision(4);
  const claims: ClaimCheck[] = [];
  // 1. PCA = linear AE below 200 (within 5 % of each other), PCA better at 200 and above.
  {
    const below = hes.filter((h) => h < 200 && by('pca', h) && by('linear-ae', h));
    const above = hes.filter((h) => h >= 200 && by('pca', h) && by('linear-ae', h));
    const d1 = below.map(
      (h) => `h_e ${h}: PCA ${fmt(by('pca', h)!.valMse)} vs linear AE ${fmt(by('linear-ae', h)!.valMse)}`,
    );
    const eq = below.every(
      (h) => Math.abs(by('linear-ae', h)!.valMse - by('pca', h)!.valMse) <= 0.05 * by('pca', h)!.valMse,
    );
    claims.push({
      claim: 'PCA and the linear AE reach the same reconstruction MSE for h_e < 200 (within 5 %)',
      holds: below.length ? eq : null,
      detail: below.length ? d1.join('; ') : 'no h_e < 200 with both methods',
    });
    const better = above.every((h) => by('pca', h)!.valMse < by('linear-ae', h)!.valMse);
    claims.push({
      claim: 'PCA reconstructs better than the linear AE for h_e >= 200',
      holds: above.length ? better : null,
      detail: above.length
        ? above
            .map((h) => `h_e ${h}: PCA ${fmt(by('pca', h)!.valMse)} vs linear AE ${fmt(by('linear-ae', h)!.valMse)}`)
            .join('; ')
        : 'no h_e >= 200 in the grid',
    });
  }
  // 2. Deep AE better than PCA for h_e < 50.
  {
    const deepMethods = [...new Set(points.filter((p) => p.method.startsWith('deep-ae')).map((p) => p.method))];
    const small = hes.filter((h) => h < 50 && by('pca', h));
    const rows: string[] = [];
    let ok = true;
    let tested = false;
    for (const h of small) {
      const bestDeep = deepMethods
        .map((m) => by(m, h))
        .filter((p): p is CompressionPoint => !!p)
        .sort((a, b) => a.valMse - b.valMse)[0];
      if (!bestDeep) continue;
      tested = true;
      rows.push(
        `h_e ${h}: best deep AE (${bestDeep.method}) ${fmt(bestDeep.valMse)} vs PCA ${fmt(by('pca', h)!.valMse)}`,
      );
      if (!(bestDeep.valMse < by('pca', h)!.valMse)) ok = false;
    }
    claims.push({
      claim: 'A deep AE reconstructs better than PCA for h_e < 50',
      holds: tested ? ok : null,
      detail: tested ? rows.join('; ') : 'no h_e < 50 with PCA and a deep AE',
    });
  }
  // 3. Every method > 95 % of baseline accuracy for h_e > 50.
  {
    const big = points.filter((p) => p.he > 50);
    claims.push({
      claim: 'Every method keeps > 95 % of the baseline accuracy for h_e > 50',
      holds: big.length ? big.every((p) => p.relativeAccuracy > 0.95) : null,
      detail: big.length
        ? big.map((p) => `${p.method} h_e ${p.he}: ${(100 * p.relativeAccuracy).toFixed(1)} %`).join('; ')
        : 'no h_e > 50 in the grid',
    });
  }
  // 4. h_e = 100 keeps about 98 % (we accept 96-100+ %).
  {
    const at = points.filter((p) => p.he === 100);
    claims.push({
      claim: 'h_e = 100 keeps about 98 % of the baseline accuracy (accepted: >= 96 %)',
      holds: at.length ? at.every((p) => p.relativeAccuracy >= 0.96) : null,
      detail: at.length
        ? at.map((p) => `${p.method}: ${(100 * p.relativeAccuracy).toFixed(1)} %`).join('; ')
        : 'h_e = 100 not in the grid',
    });
  }
  return claims;
}

/**
 * Renders the figures (MSE vs h_e, accuracy vs h_e and, when `corr` is given, the correlation
 * matrix); returns the PNG paths relative to `out`.
 */
export async function writeCompressionFigures(
  out: string,
  r: CompressionResults,
  corr: Float64Array | null,
  d: number,
): Promise<string[]> {
  const values = r.points.map((p) => ({
    method: p.method,
    he: p.he,
    mse: p.valMse,
    rel: p.relativeAccuracy,
    acc: p.accuracy,
  }));
  // Legend in the points' order (PCA, linear AE, deep AEs by depth), not alphabetical.
  const order = [...new Set(r.points.map((p) => p.method))];
  const mse = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Reconstruction MSE (validation, scaled units) vs h_e; ${r.trainRows + r.valRows} spectra`,
    width: 520,
    height: 340,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'he', type: 'quantitative', title: 'h_e (code width)' },
      y: { field: 'mse', type: 'quantitative', title: 'reconstruction MSE', scale: { type: 'log' } },
      color: { field: 'method', type: 'nominal', title: 'method', sort: order },
    },
  };
  const acc = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Classifier accuracy on codes / baseline (${(100 * r.baseline.accuracy).toFixed(1)} % on ${d} features)`,
    width: 520,
    height: 340,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'he', type: 'quantitative', title: 'h_e (code width)' },
          y: { field: 'rel', type: 'quantitative', title: 'accuracy relative to baseline', scale: { zero: false } },
          color: { field: 'method', type: 'nominal', title: 'method', sort: order },
        },
      },
      {
        data: { values: [{ y: 0.95 }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
    ],
  };
  const figures: [string, Record<string, unknown>][] = [
    ['mse_vs_he', mse],
    ['accuracy_vs_he', acc],
  ];
  if (corr) figures.push(['correlation_matrix', correlationSpec(corr, d)]);
  const files: string[] = [];
  for (const [name, spec] of figures) {
    await renderFigure(spec, path.join(out, name));
    files.push(`${name}.png`);
  }
  return files;
}

/** The heat map of the d x d correlation matrix (row-major; NaN for constant components). */
function correlationSpec(corr: Float64Array, d: number): Record<string, unknown> {
  const cells: { i: number; j: number; r: number | null }[] = [];
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      const v = corr[i * d + j];
      cells.push({ i, j, r: Number.isFinite(v) ? Math.round(v * 1000) / 1000 : null });
    }
  const side = Math.max(300, Math.min(640, 2 * d));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Correlation matrix of the ${d} SOAP components (scaled training spectra)`,
    width: side,
    height: side,
    data: { values: cells },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'i', type: 'ordinal', title: 'SOAP component', axis: { labels: false, ticks: false } },
      y: { field: 'j', type: 'ordinal', title: 'SOAP component', axis: { labels: false, ticks: false } },
      color: {
        field: 'r',
        type: 'quantitative',
        title: 'Pearson r',
        scale: { domain: [-1, 1], scheme: 'redblue', reverse: true },
      },
    },
    config: { view: { stroke: null } },
  };
}

/** Writes report.html. */
export async function writeCompressionReport(out: string, r: CompressionResults): Promise<string> {
  const yesNo = (h: boolean | null) => (h === null ? 'not tested' : h ? 'holds' : 'does not hold');
  const unconverged = r.points.filter(
    (p) => p.aeEpochs !== undefined && !p.aeStoppedEarly && p.aeBestEpoch === p.aeEpochs,
  );
  const budget = unconverged.length
    ? `\n\nTraining budget: ${unconverged.length} of ${r.points.filter((p) => p.aeEpochs !== undefined).length} autoencoders were still improving when the epoch cap was reached ` +
      `(${unconverged.map((p) => `${p.method} h_e ${p.he}`).join(', ')}); their MSE is an upper bound of what the architecture reaches, so comparisons with PCA at this budget favour PCA.`
    : '';
  return writeReport(out, {
    title: 'Experiment 2: compression of SOAP spectra',
    sections: [
      {
        heading: 'Setup',
        text:
          `SOAP r_cut ${r.soap.rCut}, n_max ${r.soap.nMax}, l_max ${r.soap.lMax}, sigma ${r.soap.sigma} (${r.features} features). ` +
          `${r.trainRows + r.valRows} spectra sampled from the MNIST training images (Algorithm 3), split 80:20 (${r.trainRows} train, ${r.valRows} validation), ` +
          `RobustScaler fitted on the training part; ${r.testRows} test spectra from the MNIST test images. Backend: ${r.backend}.\n\n` +
          `Autoencoders: Adam lr ${String(r.settings['learningRate'])}` +
          (r.settings['lrPatience'] !== undefined
            ? ` (multiplied by ${String(r.settings['lrFactor'])} after ${String(r.settings['lrPatience'])} epochs without a lower validation MSE, down to ${String(r.settings['minLearningRate'])})`
            : '') +
          `, batch ${String(r.settings['batchSize'])}, at most ${String(r.settings['epochs'])} epochs with early stopping on the validation MSE (patience ${String(r.settings['patience'])}); the paper ran 10,000 epochs. ` +
          `Classifier: the Experiment-1 MLP (512-256-128) retrained on the codes, at most ${String(r.settings['classifierEpochs'])} epochs, early stopping on validation loss. ` +
          `Baseline test accuracy on the full features: ${r.baseline.accuracy.toFixed(4)}. ` +
          (r.sources
            ? `Combined from ${r.sources.length} runs (below), ${r.seconds.toFixed(0)} s of wall time together; settings that differ between them are in their commands.`
            : `Wall time ${r.seconds.toFixed(0)} s.`) +
          budget,
      },
      {
        heading: 'Results',
        figures: r.figures,
        table: {
          columns: [
            'method',
            'h_e',
            'val MSE',
            'test accuracy',
            'relative accuracy',
            'AE epochs',
            'AE final learning rate',
            'classifier epochs',
          ],
          rows: r.points.map((p) => [
            p.method,
            p.he,
            p.valMse,
            p.accuracy,
            p.relativeAccuracy,
            p.aeEpochs ?? '-',
            p.aeFinalLearningRate ?? '-',
            p.classifierEpochs,
          ]),
        },
      },
      ...(r.sources
        ? [
            {
              heading: 'Runs combined',
              text: `Made with: ${r.command}`,
              table: {
                columns: ['run', 'command', 'methods', 'h_e', 'baseline accuracy', 'wall seconds'],
                rows: r.sources.map((s) => [
                  s.path,
                  s.command,
                  s.methods.join(', '),
                  s.he.join(', '),
                  s.baselineAccuracy,
                  Math.round(s.seconds),
                ]),
              },
            },
          ]
        : []),
      {
        heading: 'Comparison with the paper (docs/PAPER-FACTS.md §5)',
        text: "Each claim of the paper, checked on this run (at this run's data size and training budget, which may be far below the paper's 120,000 spectra and 10,000 epochs).",
        table: {
          columns: ['claim', 'this run', 'numbers'],
          rows: r.claims.map((c) => [c.claim, yesNo(c.holds), c.detail]),
        },
      },
    ],
  });
}
