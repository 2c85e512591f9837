/**
 * Figures of the equivariant-autoencoder experiment (equivariant.ts), as Vega-Lite specs rendered
 * to PNG and SVG (lib/report/figures.ts):
 *
 * - probe_accuracy: LR and NN test accuracy per Table-1 row, mean ± standard deviation over seeds,
 *   with the paper's numbers as diamonds (Table 1, or Table 2 for the Plankton stand-in);
 * - reconstructions: a few test images and each training's reconstructions (first seed);
 * - ae_pca: the plain autoencoder's test codes on their first three principal components, as three
 *   2-D projections coloured by class (the paper's Fig. 1: the 1s form a ring);
 * - explained_variance: explained-variance ratio of the leading principal components of every
 *   invariant code (the paper's Fig. 8), per component and cumulative, of the raw and of the
 *   standardised codes.
 */
import * as path from 'node:path';

import { FASHION_MNIST_CLASS_NAMES, MNIST_CLASS_NAMES } from '../data/datasets';
import { CLASS_COLORS, renderFigure, type VegaLiteSpec } from '../report/figures';
import {
  datasetLabel,
  ROW_LABELS,
  TABLE_ROWS,
  type EquivariantDataset,
  type EquivariantSpec,
  type TableEntry,
  type TrainingRecord,
} from './equivariant-results';

const ROW_COLORS: readonly string[] = Object.freeze([
  '#7f7f7f',
  '#9ecae9',
  '#4c78a8',
  '#ffbf79',
  '#f58518',
  '#88d27a',
  '#54a24b',
]);

function rowScale(rows: readonly string[]): { domain: string[]; range: string[] } {
  const present = TABLE_ROWS.filter((r) => rows.includes(r));
  return { domain: present.map((r) => ROW_LABELS[r]), range: present.map((r) => ROW_COLORS[TABLE_ROWS.indexOf(r)]!) };
}

/** Probe accuracy per row (bars: mean over seeds, whiskers: ± std; diamonds: the paper). */
export function probeAccuracySpec(table: readonly TableEntry[], dataset: EquivariantDataset): VegaLiteSpec {
  const paperName = dataset === 'mnist' ? 'paper (Table 1, MNIST)' : 'paper (Table 2, Plankton)';
  const values = table.flatMap((t) =>
    (['lr', 'nn'] as const).map((p) => ({
      row: t.label,
      probe: p === 'lr' ? 'LR' : 'NN',
      mean: 100 * t[p].mean,
      lo: 100 * (t[p].mean - t[p].std),
      hi: 100 * (t[p].mean + t[p].std),
      paper: t.paper[p],
      seeds: t.seeds,
    })),
  );
  const x = {
    field: 'row',
    type: 'nominal',
    title: null,
    sort: table.map((t) => t.label),
    axis: { labelAngle: -30, labelLimit: 200 },
  };
  const xOffset = { field: 'probe', type: 'nominal', sort: ['LR', 'NN'] };
  const y = { type: 'quantitative', title: 'test accuracy (%)', scale: { domain: [0, 100] } };
  return {
    title: `Linear (LR) and MLP (NN) probes on frozen codes, ${datasetLabel(dataset)}: mean ± std over seeds; diamonds: ${paperName}`,
    width: 560,
    height: 300,
    data: { values },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x,
          xOffset,
          y: { ...y, field: 'mean' },
          color: {
            field: 'probe',
            type: 'nominal',
            title: 'probe',
            scale: { domain: ['LR', 'NN'], range: ['#4c78a8', '#f58518'] },
          },
          tooltip: [
            { field: 'row' },
            { field: 'probe' },
            { field: 'mean', format: '.1f' },
            { field: 'paper' },
            { field: 'seeds' },
          ],
        },
      },
      {
        mark: { type: 'rule', color: '#222222' },
        encoding: { x, xOffset, y: { ...y, field: 'lo' }, y2: { field: 'hi' } },
      },
      {
        mark: { type: 'point', shape: 'diamond', filled: true, color: '#111111', size: 60 },
        encoding: { x, xOffset, y: { ...y, field: 'paper' } },
      },
    ],
  };
}

/** Originals and reconstructions (first seed of every training), pixels as grey levels. */
export function reconstructionSpec(records: readonly TrainingRecord[]): VegaLiteSpec {
  const first = new Map<string, TrainingRecord>();
  for (const r of records) if (!first.has(r.training) || r.seed < first.get(r.training)!.seed) first.set(r.training, r);
  const shown = [...first.values()];
  const panels: { name: string; images: number[][] }[] = [];
  if (shown.length) panels.push({ name: 'input (augmented test image)', images: shown[0]!.reconstructions.originals });
  for (const r of shown)
    panels.push({ name: `${r.training} (seed ${r.seed})`, images: r.reconstructions.reconstructed });
  const side = 28;
  const values: { model: string; image: number; r: number; c: number; v: number }[] = [];
  for (const p of panels) {
    p.images.forEach((img, k) => {
      for (let i = 0; i < img.length; i++)
        if (img[i]! >= 8) values.push({ model: p.name, image: k, r: Math.floor(i / side), c: i % side, v: img[i]! });
    });
  }
  const idx = Array.from({ length: side }, (_, i) => i);
  return {
    title: 'Test images and their reconstructions',
    data: { values },
    facet: {
      row: {
        field: 'model',
        type: 'nominal',
        title: null,
        sort: panels.map((p) => p.name),
        header: { labelAngle: 0, labelAlign: 'left', labelLimit: 260 },
      },
      column: { field: 'image', type: 'ordinal', title: null, header: null },
    },
    spacing: 4,
    spec: {
      width: 2.5 * side,
      height: 2.5 * side,
      view: { fill: 'black', stroke: null },
      mark: 'rect',
      encoding: {
        x: { field: 'c', type: 'ordinal', scale: { domain: idx }, axis: null },
        y: { field: 'r', type: 'ordinal', scale: { domain: idx }, axis: null },
        color: {
          field: 'v',
          type: 'quantitative',
          scale: { domain: [0, 255], range: ['black', 'white'] },
          legend: null,
        },
      },
    },
  };
}

/** The plain AE's codes on PC1-3, three 2-D projections coloured by class (the paper's Fig. 1). */
export function aePcaSpec(record: TrainingRecord, dataset: EquivariantDataset): VegaLiteSpec | null {
  const p = record.pca;
  if (!p) return null;
  const names = dataset === 'mnist' ? MNIST_CLASS_NAMES : FASHION_MNIST_CLASS_NAMES;
  const values = p.labels.map((l, i) => ({
    pc1: p.pc[0][i]!,
    pc2: p.pc[1][i]!,
    pc3: p.pc[2][i]!,
    cls: names[l] ?? String(l),
  }));
  const pctOf = (k: number): string => `${(100 * (p.explained[k] ?? 0)).toFixed(1)} %`;
  const panel = (a: 1 | 2 | 3, b: 1 | 2 | 3): VegaLiteSpec => ({
    width: 260,
    height: 260,
    mark: { type: 'circle', size: 9, opacity: 0.6 },
    encoding: {
      x: { field: `pc${a}`, type: 'quantitative', title: `PC${a} (${pctOf(a - 1)})`, scale: { zero: false } },
      y: { field: `pc${b}`, type: 'quantitative', title: `PC${b} (${pctOf(b - 1)})`, scale: { zero: false } },
      color: {
        field: 'cls',
        type: 'nominal',
        title: 'class',
        scale: { domain: [...names], range: CLASS_COLORS.slice(0, names.length) },
      },
    },
  });
  return {
    title: `Plain autoencoder codes of ${values.length} ${datasetLabel(dataset)} test images on their first three principal components (seed ${record.seed}; the paper's Fig. 1)`,
    data: { values },
    hconcat: [panel(1, 2), panel(1, 3), panel(2, 3)],
  };
}

/** Explained-variance ratio of the leading components of every row's codes (the paper's Fig. 8). */
export function explainedVarianceSpec(table: readonly TableEntry[], dataset: EquivariantDataset): VegaLiteSpec {
  const values = table.flatMap((t) =>
    (['raw', 'standardized'] as const).flatMap((kind) => {
      let cum = 0;
      return t.explainedVariance[kind].map((ratio, i) => ({
        row: t.label,
        kind,
        component: i + 1,
        ratio,
        cumulative: (cum += ratio),
      }));
    }),
  );
  const color = {
    field: 'row',
    type: 'nominal',
    title: 'code',
    scale: rowScale(table.map((t) => t.row)),
    legend: { labelLimit: 300 },
  };
  const panel = (kind: 'raw' | 'standardized', field: 'ratio' | 'cumulative'): VegaLiteSpec => ({
    title: `${kind === 'raw' ? 'raw codes' : 'standardised codes'}: ${field === 'ratio' ? 'per component' : 'cumulative'}`,
    width: 300,
    height: 220,
    transform: [
      { filter: { field: 'kind', equal: kind } },
      ...(field === 'ratio' ? [{ filter: 'datum.ratio > 0' }] : []),
    ],
    mark: { type: 'line', point: { size: 12 } },
    encoding: {
      x: { field: 'component', type: 'quantitative', title: 'principal component', scale: { domainMin: 1 } },
      y:
        field === 'ratio'
          ? { field, type: 'quantitative', title: 'explained variance ratio', scale: { type: 'log' } }
          : { field, type: 'quantitative', title: 'cumulative ratio', scale: { domain: [0, 1] } },
      color,
    },
  });
  return {
    title: `Explained variance of the leading principal components of the test codes, ${datasetLabel(dataset)} (mean over seeds; the paper's Fig. 8)`,
    data: { values },
    vconcat: [
      { hconcat: [panel('raw', 'ratio'), panel('raw', 'cumulative')] },
      { hconcat: [panel('standardized', 'ratio'), panel('standardized', 'cumulative')] },
    ],
    resolve: { scale: { color: 'shared' } },
  };
}

/** Renders every figure into `out`; returns the PNG names. */
export async function writeEquivariantFigures(
  out: string,
  records: readonly TrainingRecord[],
  table: readonly TableEntry[],
  o: EquivariantSpec,
): Promise<string[]> {
  const figures: string[] = [];
  const render = async (spec: VegaLiteSpec | null, name: string): Promise<void> => {
    if (!spec) return;
    await renderFigure(spec, path.join(out, name));
    figures.push(`${name}.png`);
  };
  if (table.length) await render(probeAccuracySpec(table, o.dataset), 'probe_accuracy');
  if (records.length) await render(reconstructionSpec(records), 'reconstructions');
  const ae = records.filter((r) => r.pca !== null).sort((a, b) => a.seed - b.seed)[0];
  if (ae) await render(aePcaSpec(ae, o.dataset), 'ae_pca');
  if (table.length) await render(explainedVarianceSpec(table, o.dataset), 'explained_variance');
  return figures;
}
