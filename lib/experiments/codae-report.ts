/**
 * The merge of the CODAE experiment (codae.ts): per model the mean ± std over seeds and the best
 * seed (the highest total of the eight scores with x, y, θ, the paper's rule) of every score, the
 * paper's claims and the issue's aims checked with numbers, the figures (the paper's Fig. 3 as bar
 * charts with and without x, y, θ; Fig. 4 as the aligned reconstructions of the same inputs for
 * every model; pose estimates against the truth) and report.html (with the traversals, Fig. 2).
 */
import * as path from 'node:path';

import { readNpy } from '../io/npy';
import { DISENTANGLEMENT_METRICS, type DisentanglementScores } from '../ml/metrics/disentanglement';
import { renderFigure, type VegaLiteSpec } from '../report/figures';
import { writeReport, type ReportSection } from '../report/html';
import { writeImageGrid } from '../report/image-grid';
import { meanAndStd, type ClaimCheck } from './common';
import type { CodaeRecord, CodaeSpec } from './codae-types';
import { codaeData } from './codae-data';
import { CODAE_MODELS, type CodaeModelName } from './codae-models';
import { recordedCommand } from './command-line';

/** Mean, standard deviation (n - 1) and the value of the best seed. */
export interface Stat {
  mean: number;
  std: number;
  best: number;
}

/** One model's summary over its seeds. */
export interface CodaeModelSummary {
  model: CodaeModelName;
  seeds: number[];
  bestSeed: number;
  description: string;
  parameters: number;
  withPose: Record<keyof DisentanglementScores | 'average', Stat>;
  withoutPose: Record<keyof DisentanglementScores | 'average', Stat>;
  absRx: Stat;
  absRy: Stat;
  absRangle: Stat;
  /** Median orientation error (degrees, modulo 180, defined orientations only); null without an explicit angle. */
  angleError: Stat | null;
  angleErrorAfterOffset: Stat | null;
  knnAccuracy: Stat;
  absRbrightness: Stat | null;
  invarianceRatio: Stat;
  alignmentRatio: Stat;
  testMse: Stat;
  relativeMse: Stat;
  trainSeconds: Stat;
  trainCpuSeconds: Stat;
}

/** results.json of the experiment. */
export interface CodaeResults {
  experiment: 'codae';
  command: string;
  dataset: string;
  data: string;
  settings: Omit<CodaeSpec, 'backend' | 'threads' | 'workers' | 'checkpointMinutes'>;
  models: CodaeModelSummary[];
  claims: ClaimCheck[];
  aims: ClaimCheck[];
  records: CodaeRecord[];
  figures: string[];
  finishedAt: string;
}

const DATA_NOTE: Record<string, string> = {
  xyrcs: 'XYRCS-like: our procedural generator (lib/data/xyrcs.ts), not the original XYRCS files',
  dsprites:
    'dSprites-like: our procedural generator on the dSprites factor grid (lib/data/dsprites.ts), not the original dSprites file',
  mnist:
    'MNIST-RT: MNIST digits turned by U[-60°, 60°] and shifted by whole pixels in [-3, 3] with our augmentation (lib/data/augment.ts)',
};

export const MODEL_LABEL: Record<CodaeModelName, string> = {
  codae: 'CODAE',
  'codae-nomoment': 'CODAE, no moment loss',
  'spatial-vae': 'spatial-VAE',
  'beta-vae': 'β-VAE',
  dae: 'DAE',
};
const MODEL_COLOR: Record<CodaeModelName, string> = {
  codae: '#4c78a8',
  'codae-nomoment': '#9ecae9',
  'spatial-vae': '#f58518',
  'beta-vae': '#54a24b',
  dae: '#e45756',
};
const METRIC_LABEL: Record<keyof DisentanglementScores, string> = {
  zDiff: 'z-diff',
  zMinVar: 'z-min-var',
  mig: 'MIG',
  sap: 'SAP',
  dci: 'DCI',
  irs: 'IRS',
  jemmig: 'JEMMIG',
  modularity: 'modularity',
};

function stat(values: number[], best: number): Stat {
  const { mean, std } = meanAndStd(values);
  return { mean, std, best };
}

function scoreStats(
  records: CodaeRecord[],
  best: CodaeRecord,
  key: 'scoresWithPose' | 'scoresWithoutPose',
): Record<keyof DisentanglementScores | 'average', Stat> {
  const out = {} as Record<keyof DisentanglementScores | 'average', Stat>;
  for (const m of DISENTANGLEMENT_METRICS)
    out[m] = stat(
      records.map((r) => r[key][m]),
      best[key][m],
    );
  const avg = (r: CodaeRecord): number =>
    DISENTANGLEMENT_METRICS.reduce((a, m) => a + r[key][m], 0) / DISENTANGLEMENT_METRICS.length;
  out.average = stat(records.map(avg), avg(best));
  return out;
}

const f3 = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : String(v));
const pm = (s: Stat, d = 3): string => `${s.mean.toFixed(d)} ± ${s.std.toFixed(d)} (best seed ${s.best.toFixed(d)})`;

/** The per-model summaries, claims and aims of finished records. */
export function summarizeCodae(records: CodaeRecord[], spec: CodaeSpec): CodaeResults {
  const models: CodaeModelSummary[] = [];
  for (const model of CODAE_MODELS) {
    const rs = records.filter((r) => r.model === model);
    if (rs.length === 0) continue;
    const best = rs.reduce((a, b) => (b.totalWithPose > a.totalWithPose ? b : a));
    const s = (f: (r: CodaeRecord) => number): Stat => stat(rs.map(f), f(best));
    const explicit = best.pose.angleErrors !== null;
    models.push({
      model,
      seeds: rs.map((r) => r.seed),
      bestSeed: best.seed,
      description: best.description,
      parameters: best.parameters,
      withPose: scoreStats(rs, best, 'scoresWithPose'),
      withoutPose: scoreStats(rs, best, 'scoresWithoutPose'),
      absRx: s((r) => r.pose.absRx),
      absRy: s((r) => r.pose.absRy),
      absRangle: s((r) => r.pose.absRangle),
      angleError: explicit ? s((r) => r.pose.angleErrors!.median) : null,
      angleErrorAfterOffset: explicit ? s((r) => r.pose.angleErrors!.medianAfterOffset) : null,
      knnAccuracy: s((r) => r.content.knnAccuracy),
      absRbrightness: best.content.absRbrightness === null ? null : s((r) => r.content.absRbrightness!),
      invarianceRatio: s((r) => r.invarianceRatio),
      alignmentRatio: s((r) => r.alignment.meanRatio),
      testMse: s((r) => r.testMse),
      relativeMse: s((r) => r.relativeMse),
      trainSeconds: s((r) => r.trainSeconds),
      trainCpuSeconds: s((r) => r.trainCpuSeconds),
    });
  }
  const { backend: _b, threads: _t, workers: _w, checkpointMinutes: _c, ...settings } = spec;
  return {
    experiment: 'codae',
    command: recordedCommand(),
    dataset: spec.dataset,
    data: DATA_NOTE[spec.dataset] ?? spec.dataset,
    settings,
    models,
    claims: codaeClaims(models, spec.dataset),
    aims: spec.dataset === 'xyrcs' ? xyrcsAims(models) : [],
    records,
    figures: [],
    finishedAt: new Date().toISOString(),
  };
}

/** The paper's claims that a run can test. */
export function codaeClaims(models: CodaeModelSummary[], dataset: string): ClaimCheck[] {
  const get = (m: CodaeModelName): CodaeModelSummary | undefined => models.find((x) => x.model === m);
  const claims: ClaimCheck[] = [];
  const codae = get('codae');
  for (const which of ['withPose', 'withoutPose'] as const) {
    const ranked = [...models]
      .filter((m) => m.model !== 'codae-nomoment')
      .sort((a, b) => b[which].average.mean - a[which].average.mean);
    const rankedBest = [...ranked].sort((a, b) => b[which].average.best - a[which].average.best);
    claims.push({
      claim: `CODAE has the best average of the eight scores ${which === 'withPose' ? 'with' : 'without'} x, y, θ (paper Fig. 3${which === 'withPose' ? 'a, b' : 'c, d'})`,
      holds: !codae || ranked.length < 2 ? null : ranked[0]!.model === 'codae',
      detail:
        ranked.length < 2
          ? 'fewer than two models run'
          : `mean over seeds: ${ranked.map((m) => `${MODEL_LABEL[m.model]} ${f3(m[which].average.mean)}`).join(', ')}; best seeds: ${rankedBest.map((m) => `${MODEL_LABEL[m.model]} ${f3(m[which].average.best)}`).join(', ')}`,
    });
  }
  const spatial = get('spatial-vae');
  if (dataset === 'xyrcs') {
    const d = codae && spatial ? spatial.withoutPose.average.mean - codae.withoutPose.average.mean : Number.NaN;
    claims.push({
      claim:
        'On XYRCS, spatial-VAE is about as good as CODAE on colour and shape (scores without x, y, θ; accepted: within 0.05 of the average score)',
      holds: codae && spatial ? Math.abs(d) <= 0.05 : null,
      detail:
        codae && spatial
          ? `average without x, y, θ: spatial-VAE ${f3(spatial.withoutPose.average.mean)}, CODAE ${f3(codae.withoutPose.average.mean)} (difference ${d >= 0 ? '+' : ''}${f3(d)}); target-VAE, the paper's other close model, is not among soapix's models`
          : 'CODAE or spatial-VAE not run',
    });
  }
  const ablation = get('codae-nomoment');
  claims.push({
    claim:
      'The moment loss is needed for B_equi to learn x, y and θ (Supp. Table 4; accepted: without it, the mean |r| of x or y drops by >= 0.05 or the median orientation error grows by >= 5°)',
    holds:
      codae && ablation
        ? codae.absRx.mean - ablation.absRx.mean >= 0.05 ||
          codae.absRy.mean - ablation.absRy.mean >= 0.05 ||
          (ablation.angleError?.mean ?? 0) - (codae.angleError?.mean ?? 0) >= 5
        : null,
    detail:
      codae && ablation
        ? `with / without the moment loss: |r| x ${f3(codae.absRx.mean)} / ${f3(ablation.absRx.mean)}, |r| y ${f3(codae.absRy.mean)} / ${f3(ablation.absRy.mean)}, median orientation error ${codae.angleError?.mean.toFixed(1)}° / ${ablation.angleError?.mean.toFixed(1)}° (after removing each shape's offset: ${codae.angleErrorAfterOffset?.mean.toFixed(1)}° / ${ablation.angleErrorAfterOffset?.mean.toFixed(1)}°)`
        : 'CODAE or its ablation not run',
  });
  return claims;
}

/** The issue's aims on XYRCS-like, for CODAE (mean over seeds and best seed). */
export function xyrcsAims(models: CodaeModelSummary[]): ClaimCheck[] {
  const c = models.find((m) => m.model === 'codae');
  if (!c) return [];
  const both = (s: Stat, ok: (v: number) => boolean, d = 3): { holds: boolean; detail: string } => ({
    holds: ok(s.mean),
    detail: `${pm(s, d)}; best seed ${ok(s.best) ? 'meets' : 'misses'} it`,
  });
  const aims: ClaimCheck[] = [];
  const rx = both(c.absRx, (v) => v >= 0.95);
  const ry = both(c.absRy, (v) => v >= 0.95);
  aims.push({ claim: '|r| of x with the truth >= 0.95', ...rx });
  aims.push({ claim: '|r| of y with the truth >= 0.95', ...ry });
  if (c.angleError)
    aims.push({
      claim: 'median orientation error <= 10° (modulo 180°, triangles and rectangles)',
      ...both(c.angleError, (v) => v <= 10, 1),
    });
  aims.push({ claim: 'invariant latents: kNN (k = 5) shape accuracy >= 0.9', ...both(c.knnAccuracy, (v) => v >= 0.9) });
  if (c.absRbrightness)
    aims.push({
      claim: 'invariant latents: largest |r| with brightness >= 0.9',
      ...both(c.absRbrightness, (v) => v >= 0.9),
    });
  // Identical but blank reconstructions would pass the ratio alone: the reconstructions must also
  // be good (test MSE below half that of drawing nothing).
  const aligned = both(c.alignmentRatio, (v) => v < 0.25);
  aims.push({
    claim:
      'aligned reconstructions of one object in 8 poses nearly identical (accepted: their mean pairwise MSE < 0.25 x that of the inputs, with a test MSE < 0.5 x that of a blank image)',
    holds: aligned.holds && c.relativeMse.mean < 0.5,
    detail: `${aligned.detail}; test MSE / blank MSE ${pm(c.relativeMse)}`,
  });
  return aims;
}

/** Grouped bars of the eight scores (mean over seeds, error bar ± std), one colour per model. */
export function scoresSpec(
  models: CodaeModelSummary[],
  which: 'withPose' | 'withoutPose',
  title: string,
): VegaLiteSpec {
  const values = models.flatMap((m) =>
    [...DISENTANGLEMENT_METRICS, 'average' as const].map((k) => {
      const s = m[which][k];
      return {
        metric: k === 'average' ? 'average' : METRIC_LABEL[k],
        model: MODEL_LABEL[m.model],
        mean: s.mean,
        lo: Math.max(0, s.mean - s.std),
        hi: Math.min(1, s.mean + s.std),
      };
    }),
  );
  const present = models.map((m) => m.model);
  const color = {
    field: 'model',
    type: 'nominal',
    legend: { labelLimit: 300 },
    scale: { domain: present.map((m) => MODEL_LABEL[m]), range: present.map((m) => MODEL_COLOR[m]) },
    title: 'model',
  };
  const x = {
    field: 'metric',
    type: 'nominal',
    sort: [...DISENTANGLEMENT_METRICS.map((k) => METRIC_LABEL[k]), 'average'],
    title: null,
    axis: { labelAngle: 0 },
  };
  return {
    title,
    width: 640,
    height: 260,
    data: { values },
    encoding: { x, xOffset: { field: 'model', type: 'nominal', sort: present.map((m) => MODEL_LABEL[m]) } },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'mean', type: 'quantitative', title: 'score (mean over seeds)', scale: { domain: [0, 1] } },
          color,
        },
      },
      {
        mark: { type: 'rule', color: 'black' },
        encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
      },
    ],
  };
}

/** Estimated against true x and orientation for the models with an explicit pose (best seeds). */
export function poseSpec(records: CodaeRecord[], shapes: string[]): VegaLiteSpec {
  const values = records.flatMap((r) =>
    r.samples.trueX.map((t, i) => ({
      model: MODEL_LABEL[r.model],
      trueX: t,
      estX: r.samples.estX[i],
      trueAngle: (r.samples.trueAngle[i]! * 180) / Math.PI,
      estAngle: (r.samples.estAngle[i]! * 180) / Math.PI,
      shape: shapes[r.samples.cls[i]!] ?? String(r.samples.cls[i]),
    })),
  );
  const point = (xf: string, yf: string, xt: string, yt: string): VegaLiteSpec => ({
    width: 200,
    height: 200,
    mark: { type: 'point', size: 8, filled: true, opacity: 0.6 },
    encoding: {
      x: { field: xf, type: 'quantitative', title: xt, scale: { zero: false } },
      y: { field: yf, type: 'quantitative', title: yt, scale: { zero: false } },
      color: { field: 'shape', type: 'nominal' },
    },
  });
  return {
    data: { values },
    vconcat: [
      {
        facet: { column: { field: 'model', type: 'nominal', title: null } },
        spec: point('trueX', 'estX', 'true x (pixels)', 'estimated x (pixels)'),
      },
      {
        facet: { column: { field: 'model', type: 'nominal', title: null } },
        spec: point(
          'trueAngle',
          'estAngle',
          'true orientation (°)',
          'estimated orientation (°, wrapped to the true range)',
        ),
      },
    ],
  };
}

/** Renders the figures of a finished run into `out`; returns their file names. */
export async function writeCodaeFigures(r: CodaeResults, out: string): Promise<string[]> {
  const files: string[] = [];
  const set = r.data.split(':')[0];
  await renderFigure(
    scoresSpec(r.models, 'withPose', `Eight disentanglement scores with x, y, θ (${set})`),
    path.join(out, 'scores_with_pose'),
  );
  await renderFigure(
    scoresSpec(r.models, 'withoutPose', `Eight disentanglement scores without x, y, θ (${set})`),
    path.join(out, 'scores_without_pose'),
  );
  files.push('scores_with_pose.png', 'scores_without_pose.png');
  const best = r.models.map((m) => r.records.find((x) => x.model === m.model && x.seed === m.bestSeed)!);
  const explicit = best.filter((x) => x.pose.angleErrors !== null);
  if (explicit.length) {
    const shapes =
      r.dataset === 'xyrcs'
        ? ['circle', 'triangle', 'rectangle']
        : r.dataset === 'dsprites'
          ? ['square', 'ellipse', 'heart']
          : [...'0123456789'];
    await renderFigure(poseSpec(explicit, shapes), path.join(out, 'pose_estimates'));
    files.push('pose_estimates.png');
  }
  // Fig. 4: the showcase inputs, then each model's aligned reconstructions of them (best seeds).
  const arrays = await Promise.all(best.map((x) => readNpy(path.join(out, x.files.aligned))));
  const inputs = showcaseInputs(r, arrays[0]!.shape);
  if (inputs) {
    const [n, h, w] = arrays[0]!.shape as [number, number, number];
    const grid = new Float32Array((best.length + 1) * n * h * w);
    grid.set(inputs, 0);
    arrays.forEach((a, i) => grid.set(a.data as Float32Array, (i + 1) * n * h * w));
    await writeImageGrid(
      path.join(out, 'aligned.png'),
      { data: grid, count: (best.length + 1) * n, height: h, width: w },
      { columns: n },
    );
    files.push('aligned.png');
  }
  return files;
}

/** The showcase inputs, regenerated from the settings (the data are procedural); null if they cannot be. */
function showcaseInputs(r: CodaeResults, shape: number[]): Float32Array | null {
  const s = r.settings;
  const data = codaeData(s.dataset, { trainImages: 1, testImages: s.testImages, dataSeed: s.dataSeed });
  const P = data.size * data.size;
  if (shape[0] !== data.showcase.length || shape[1] !== data.size) return null;
  const out = new Float32Array(data.showcase.length * P);
  data.showcase.forEach((idx, i) => out.set(data.test.data.subarray(idx * P, (idx + 1) * P), i * P));
  return out;
}

/** report.html of a finished run. */
export async function writeCodaeReport(out: string, r: CodaeResults): Promise<string> {
  const metricRow = (m: CodaeModelSummary, which: 'withPose' | 'withoutPose'): (string | number)[] => [
    MODEL_LABEL[m.model],
    ...[...DISENTANGLEMENT_METRICS, 'average' as const].map(
      (k) => `${m[which][k].mean.toFixed(3)} ± ${m[which][k].std.toFixed(3)} (${m[which][k].best.toFixed(3)})`,
    ),
  ];
  const columns = ['model', ...DISENTANGLEMENT_METRICS.map((k) => METRIC_LABEL[k]), 'average'];
  const s = r.settings;
  const sections: ReportSection[] = [
    {
      heading: 'Data and scale',
      text:
        `${r.data}. ${s.trainImages} training and ${s.testImages} test images (data seed ${s.dataSeed}); ${s.epochs} epochs per model, batch ${s.scale.batchSize}; ` +
        `seeds ${s.seeds.join(', ')} per model (the paper trains 20 and reports the best total). Network sizes: ${JSON.stringify(s.scale)}.\n\n` +
        r.models
          .map(
            (m) =>
              `${MODEL_LABEL[m.model]}: ${m.description}; ${m.parameters} parameters; training ${m.trainSeconds.mean.toFixed(0)} s wall, ${m.trainCpuSeconds.mean.toFixed(0)} CPU-s per seed.`,
          )
          .join('\n'),
    },
    {
      heading: 'Scores with x, y, θ (mean ± std over seeds; best seed in brackets)',
      table: { columns, rows: r.models.map((m) => metricRow(m, 'withPose')) },
      figures: ['scores_with_pose.png'],
    },
    {
      heading: 'Scores without x, y, θ (content latents against the content factors)',
      table: { columns, rows: r.models.map((m) => metricRow(m, 'withoutPose')) },
      figures: ['scores_without_pose.png'],
    },
    {
      heading: 'Pose and invariant latents',
      text: 'x, y, θ of the β-VAE and the DAE are latents identified after training (the most mutual information with each factor); their angles are not in radians, so no orientation error is given.',
      table: {
        columns: [
          'model',
          '|r| x',
          '|r| y',
          '|r| θ',
          'median θ error (°)',
          'after per-shape offset (°)',
          'kNN class accuracy',
          'max |r| brightness',
          'invariance ratio',
          'aligned 8-pose MSE ratio',
          'test MSE',
          'test MSE / blank',
        ],
        rows: r.models.map((m) => [
          MODEL_LABEL[m.model],
          pm(m.absRx),
          pm(m.absRy),
          pm(m.absRangle),
          m.angleError ? pm(m.angleError, 1) : '-',
          m.angleErrorAfterOffset ? pm(m.angleErrorAfterOffset, 1) : '-',
          pm(m.knnAccuracy),
          m.absRbrightness ? pm(m.absRbrightness) : '-',
          pm(m.invarianceRatio),
          pm(m.alignmentRatio),
          pm(m.testMse, 4),
          pm(m.relativeMse),
        ]),
      },
      figures: r.figures.includes('pose_estimates.png') ? ['pose_estimates.png'] : [],
    },
    {
      heading: "The paper's claims",
      table: {
        columns: ['claim', 'holds', 'numbers'],
        rows: r.claims.map((c) => [c.claim, c.holds === null ? 'not tested' : c.holds ? 'yes' : 'no', c.detail]),
      },
    },
  ];
  if (r.aims.length)
    sections.push({
      heading: 'Aims on XYRCS-like (CODAE)',
      table: {
        columns: ['aim', 'met (mean over seeds)', 'numbers'],
        rows: r.aims.map((c) => [c.claim, c.holds ? 'yes' : 'no', c.detail]),
      },
    });
  if (r.figures.includes('aligned.png')) {
    sections.push({
      heading: 'Aligned reconstructions of the same inputs (paper Fig. 4)',
      text: `Top row: the inputs; then one row per model (best seed): ${r.models.map((m) => MODEL_LABEL[m.model]).join(', ')}.`,
      figures: ['aligned.png'],
    });
  }
  const best = r.models.map((m) => r.records.find((x) => x.model === m.model && x.seed === m.bestSeed)!);
  sections.push({
    heading: 'One object in 8 poses and its aligned reconstructions (best seeds)',
    text:
      'Per object: a row of inputs, then a row of aligned reconstructions. ' +
      best
        .map((x) => `${MODEL_LABEL[x.model]}: ratio ${x.alignment.ratio.map((v) => v.toFixed(2)).join(', ')}`)
        .join('; '),
    figures: best.map((x) => x.files.series),
  });
  sections.push({
    heading: 'Latent traversals (paper Fig. 2; best seeds)',
    text: "One row per code column (explicit models: x, y, θ, then the invariant latents), from its 5th to its 95th percentile over the test set, the others held at the first shown input's code.",
    figures: best.map((x) => x.files.traversal),
  });
  return writeReport(out, { title: `CODAE experiment: ${r.data}`, sections });
}
