/**
 * Results of Experiment 3 (noise.ts, noise-retrain.ts), shared by both protocols: the noise
 * levels, the results.json types, the paper's claims checked (docs/PAPER-FACTS.md §6), the
 * accuracy-vs-sigma figure and report.html.
 */
import * as path from 'node:path';
import { renderFigure } from '../report/figures';
import { writeReport } from '../report/html';
import type { ClaimCheck, SoapParams } from './common';

/** `n` log-spaced values from `lo` to `hi` (both included). */
export function logSpace(lo: number, hi: number, n: number): number[] {
  if (n === 1) return [lo];
  return Array.from({ length: n }, (_, k) => lo * Math.pow(hi / lo, k / (n - 1)));
}

/** The paper's grid: 20 log-spaced sigma_d in [0.1, 5.0]. */
export const PAPER_SIGMAS: readonly number[] = Object.freeze(logSpace(0.1, 5.0, 20));

/** How accuracy at a noise level is measured (see noise.ts). */
export const NOISE_PROTOCOLS = ['fixed-model', 'retrain'] as const;
export type NoiseProtocol = (typeof NOISE_PROTOCOLS)[number];

export interface NoisePoint {
  sigma: number;
  /** fixed-model: test accuracy of the model; retrain: the validation accuracy. */
  accuracy: number;
  relativeAccuracy: number;
  seconds: number;
  /** retrain only: the sigma_d = 0 accuracy this level is relative to, and the level's training. */
  baselineAccuracy?: number;
  valAccuracy?: number;
  trainRows?: number;
  valRows?: number;
  /** Epochs run (early stopping may end before the maximum) and the best (restored) one. */
  epochs?: number;
  bestEpoch?: number | null;
}

/** Settings of protocol 'retrain' in results.json. */
export interface NoiseRetrainSettings {
  perImage: number;
  hidden: number[];
  maxEpochs: number;
  patience: number;
  batchSize: number;
  learningRate: number;
  valFraction: number;
  trainImages: number;
  valImages: number;
}

export interface NoiseResults {
  experiment: 'noise';
  command: string;
  /** The native engine's SIMD kernel path that computed the SOAP features (docs/DETERMINISM.md). */
  simdPath: string;
  /** Absent in results written before protocols existed: 'fixed-model'. */
  protocol: NoiseProtocol;
  /** The classifier's folder (fixed-model); null with retrain. */
  model: string | null;
  modelTrainedHere: boolean;
  retrain?: NoiseRetrainSettings;
  soap: SoapParams;
  features: number;
  testImages: number;
  testRows: number;
  seed: number;
  backend: string;
  baselineAccuracy: number;
  points: NoisePoint[];
  claims: ClaimCheck[];
  seconds: number;
  figures: string[];
  finishedAt: string;
}

/** Relative accuracy at `sigma`, interpolated linearly in log sigma; null outside the measured range. */
export function interpolateRelative(points: NoisePoint[], sigma: number): number | null {
  const ps = points.filter((p) => p.sigma > 0).sort((a, b) => a.sigma - b.sigma);
  for (let i = 0; i < ps.length; i++) {
    if (Math.abs(ps[i].sigma - sigma) <= 1e-9 * sigma) return ps[i].relativeAccuracy;
    if (i + 1 < ps.length && ps[i].sigma < sigma && sigma < ps[i + 1].sigma) {
      const t = Math.log(sigma / ps[i].sigma) / Math.log(ps[i + 1].sigma / ps[i].sigma);
      return ps[i].relativeAccuracy + t * (ps[i + 1].relativeAccuracy - ps[i].relativeAccuracy);
    }
  }
  return null;
}

/** Checks the paper's Experiment-3 claims (docs/PAPER-FACTS.md §6). */
export function checkNoiseClaims(points: NoisePoint[]): ClaimCheck[] {
  const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)} %`);
  const at1 = interpolateRelative(points, 1.0);
  const at05 = interpolateRelative(points, 0.5);
  const at39 = interpolateRelative(points, 3.9);
  const at01 = interpolateRelative(points, 0.1);
  return [
    {
      claim: 'At sigma_d = 1.0 accuracy is 92 % of the sigma_d = 0 baseline (accepted: 87-97 %)',
      holds: at1 === null ? null : at1 >= 0.87 && at1 <= 0.97,
      detail: `measured ${pct(at1)}`,
    },
    {
      claim:
        'Sharp decline beyond sigma_d = 0.5 (accepted: >= 95 % at 0.5, and the loss from 0.5 to 1.0 larger than from 0.1 to 0.5)',
      holds: at05 === null || at1 === null || at01 === null ? null : at05 >= 0.95 && at05 - at1 > at01 - at05,
      detail: `0.1: ${pct(at01)}, 0.5: ${pct(at05)}, 1.0: ${pct(at1)}`,
    },
    {
      claim: 'About 51 % of baseline at sigma_d = 3.9 (accepted: 41-61 %)',
      holds: at39 === null ? null : at39 >= 0.41 && at39 <= 0.61,
      detail: `measured ${pct(at39)}`,
    },
  ];
}
/** The noise levels sigma_d > 0 of a run, ascending (the paper's grid by default; tiny: 0.1, 1, 5). */
export function noiseSigmas(options: { sigmas?: number[]; tiny?: boolean }): number[] {
  const sigmas = [...new Set(options.sigmas ?? (options.tiny ? [0.1, 1, 5] : [...PAPER_SIGMAS]))]
    .filter((s) => s > 0)
    .sort((a, b) => a - b);
  for (const s of sigmas) if (!Number.isFinite(s)) throw new RangeError(`--sigmas: ${s} is not a finite number`);
  return sigmas;
}

/** One line on how the accuracies were measured, for the figure and the report. */
export function protocolSummary(r: NoiseResults): string {
  if ((r.protocol ?? 'fixed-model') === 'retrain') {
    return 'protocol retrain: a new scaler + MLP fitted at every sigma_d on 80 % of the noisy test images, validation accuracy on the other 20 %';
  }
  return 'protocol fixed-model: the Experiment-1 classifier, trained without noise, predicts the noisy test spectra';
}

/** The accuracy-vs-sigma figure (log x); returns PNG paths relative to `out`. */
export async function writeNoiseFigures(out: string, r: NoiseResults): Promise<string[]> {
  const values = r.points
    .filter((p) => p.sigma > 0)
    .map((p) => ({ sigma: p.sigma, rel: p.relativeAccuracy, acc: p.accuracy }));
  const sig = values.map((v) => v.sigma);
  const domain = sig.length ? [Math.min(...sig, 1) * 0.9, Math.max(...sig, 3.9) * 1.1] : [0.09, 5.5];
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: `Accuracy under positional noise, relative to sigma_d = 0 (${(100 * r.baselineAccuracy).toFixed(1)} %)`,
      subtitle: protocolSummary(r),
    },
    width: 520,
    height: 340,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: {
            field: 'sigma',
            type: 'quantitative',
            title: 'sigma_d (pixels)',
            scale: { type: 'log', domain, nice: false },
          },
          y: {
            field: 'rel',
            type: 'quantitative',
            title: 'accuracy / accuracy at sigma_d = 0',
            scale: { domain: [0, 1.05] },
          },
        },
      },
      {
        data: {
          values: [
            { sigma: 1.0, rel: 0.92, label: 'paper: 92 % at 1.0' },
            { sigma: 3.9, rel: 0.51, label: 'paper: 51 % at 3.9' },
          ],
        },
        mark: { type: 'point', shape: 'diamond', color: '#e15759', size: 90, filled: true },
        encoding: {
          x: { field: 'sigma', type: 'quantitative' },
          y: { field: 'rel', type: 'quantitative' },
          tooltip: { field: 'label' },
        },
      },
    ],
  };
  await renderFigure(spec, path.join(out, 'accuracy_vs_sigma'));
  return ['accuracy_vs_sigma.png'];
}

export async function writeNoiseReport(out: string, r: NoiseResults): Promise<string> {
  const yesNo = (h: boolean | null) => (h === null ? 'not tested' : h ? 'holds' : 'does not hold');
  return writeReport(out, {
    title: 'Experiment 3: positional noise',
    sections: [
      {
        heading: 'Setup',
        text:
          `Protocol: ${(r.protocol ?? 'fixed-model') === 'retrain' ? 'retrain' : 'fixed-model'} (${protocolSummary(r).replace(/^protocol [a-z-]+: /, '')}). ` +
          (r.retrain
            ? `At every noise level (and at 0) a RobustScaler and a fresh ${r.retrain.hidden.join('-')} MLP (Adam ${r.retrain.learningRate}, batch ${r.retrain.batchSize}, ` +
              `<= ${r.retrain.maxEpochs} epochs, early stopping after ${r.retrain.patience} without a better validation accuracy, best weights kept) are fitted on the spectra of ` +
              `${r.retrain.trainImages} images and scored on those of the other ${r.retrain.valImages} (the same split at every level); this is the paper's "validation accuracy" (§4.4). `
            : `Model: ${r.model}${r.modelTrainedHere ? ' (trained by this run)' : ''}. `) +
          `SOAP r_cut ${r.soap.rCut}, n_max ${r.soap.nMax}, l_max ${r.soap.lMax}, sigma ${r.soap.sigma} (${r.features} features). ` +
          `${r.testRows} spectra from the first ${r.testImages} MNIST test images (Algorithm 3; the same images and points at every noise level); x, y and z of every point perturbed by N(0, sigma_d^2). ` +
          `Accuracy at sigma_d = 0: ${r.baselineAccuracy.toFixed(4)}. Backend: ${r.backend}. Wall time ${r.seconds.toFixed(0)} s.\n\n` +
          "Red diamonds in the figure: the paper's reported points.",
      },
      {
        heading: 'Results',
        figures: r.figures,
        table: r.retrain
          ? {
              columns: [
                'sigma_d',
                'validation accuracy',
                'relative to sigma_d = 0',
                'train / validation spectra',
                'epochs (best)',
              ],
              rows: r.points.map((p) => [
                p.sigma,
                p.accuracy,
                p.relativeAccuracy,
                `${p.trainRows} / ${p.valRows}`,
                `${p.epochs} (${p.bestEpoch})`,
              ]),
            }
          : {
              columns: ['sigma_d', 'accuracy', 'relative to sigma_d = 0'],
              rows: r.points.map((p) => [p.sigma, p.accuracy, p.relativeAccuracy]),
            },
      },
      {
        heading: 'Comparison with the paper (docs/PAPER-FACTS.md §6)',
        table: {
          columns: ['claim', 'this run', 'numbers'],
          rows: r.claims.map((c) => [c.claim, yesNo(c.holds), c.detail]),
        },
      },
    ],
  });
}
