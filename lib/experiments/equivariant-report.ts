/**
 * report.html of the equivariant-autoencoder experiment (equivariant.ts): the setup and scale,
 * Table 1 beside the paper's, the four claims, the trainings (epochs, reconstruction error, time,
 * encoding rate, attention entropy), the invariance errors of every code and the figures.
 */
import { writeReport } from '../report/html';
import { datasetLabel, type EquivariantResults } from './equivariant-results';

const pct = (v: number): string => (Number.isFinite(v) ? (100 * v).toFixed(1) : '-');
const pm = (s: { mean: number; std: number }): string => `${pct(s.mean)} ± ${pct(s.std)}`;

/** A one-paragraph description of the scale of a run (also used by the CLI). */
export function describeScale(r: Pick<EquivariantResults, 'settings'>): string {
  const s = r.settings;
  const scale = (g: 'ae' | 'd4' | 'd12'): string =>
    `${s.trainImages[g]} images (${Math.round(100 * s.validation)} % validation), at most ${s.epochs[g]} epochs, widths ${s.widths[g].join('/')}`;
  return (
    `Plain AE: ${scale('ae')}, code ${s.codeSize}. D4 models: ${scale('d4')}. D12 models: ${scale('d12')}. ` +
    `Equivariant code m = ${s.latentChannels}; attention code ${s.codeSize}, entropy weight ${s.entropyWeight}. ` +
    `Adam 1e-3, batch ${s.batchSize}, early stopping on the validation MSE (patience ${s.patience}). ` +
    `Probes on the codes of the first ${s.probeImages} augmented training images (10 % of them for early stopping, patience ${s.probePatience}, at most ${s.probeEpochs} epochs; MLP ${s.probeHidden} hidden units), tested on ${s.testImages} augmented test images. ` +
    `Seeds ${s.seeds.join(', ')}; augmentation seed ${s.dataSeed} (${s.interpolation}).`
  );
}

/** Writes report.html. */
export async function writeEquivariantReport(out: string, r: EquivariantResults): Promise<string> {
  const paper =
    r.dataset === 'mnist' ? 'paper, Table 1 (MNIST)' : 'paper, Table 2 (Plankton; Fashion-MNIST stands in for it here)';
  const yesNo = (h: boolean | null): string => (h === null ? 'not tested' : h ? 'holds' : 'does not hold');
  const hours = (s: number): string => `${(s / 3600).toFixed(2)} h`;
  return writeReport(out, {
    title: `Equivariant autoencoder: invariant features on ${datasetLabel(r.dataset)}`,
    sections: [
      {
        heading: 'Setup',
        text:
          `Kuzminykh, Polykovskiy & Zhebrak (ACML 2018). Data: ${datasetLabel(r.dataset)}, one copy of every image turned by an angle uniform in [0°, 360°) and mirrored with probability 0.5 (${r.settings.interpolation} resampling about the centre, zero fill). ` +
          (r.dataset === 'mnist'
            ? ''
            : "Plankton (the paper's Table 2) is not available on these machines; Fashion-MNIST with the same augmentation stands in for it, and the paper's Plankton numbers are shown only for orientation. ") +
          `\n\n${describeScale(r)}\n\nUnits took ${hours(r.unitSeconds)} of wall time and ${hours(r.unitCpuSeconds)} of CPU time in total (${r.records[0]?.backend ?? '?'} backend).`,
      },
      {
        heading: 'Table 1: probe accuracy (%) on frozen codes, mean ± std over seeds',
        table: {
          columns: ['model', 'code length', 'seeds', 'LR', 'NN', `LR (${paper})`, `NN (${paper})`],
          rows: r.table.map((t) => [t.label, t.codeLength, t.seeds, pm(t.lr), pm(t.nn), t.paper.lr, t.paper.nn]),
        },
      },
      {
        heading: "The paper's claims",
        table: {
          columns: ['claim', 'this run', 'differences in points (LR, NN)'],
          rows: r.claims.map((c) => [c.claim, yesNo(c.holds), c.detail]),
        },
      },
      {
        heading: 'Trainings (mean over seeds)',
        table: {
          columns: [
            'training',
            'seeds',
            'parameters',
            'train images',
            'epochs',
            'best val MSE',
            'test MSE',
            'training core-s',
            'train images / core-s',
            'encode images / core-s',
            'attention entropy (max)',
          ],
          rows: r.trainings.map((t) => [
            t.training,
            t.seeds,
            t.parameters,
            t.trainImages,
            t.meanEpochs,
            t.bestValMse.mean,
            t.testMse.mean,
            Math.round(t.meanTrainCpuSeconds),
            Math.round(t.trainImagesPerCpuSecond),
            Math.round(t.encodeImagesPerCpuSecond),
            t.attentionEntropy ? `${t.attentionEntropy.mean.toFixed(3)} (${t.attentionEntropyMax?.toFixed(3)})` : '-',
          ]),
        },
      },
      {
        heading:
          'Invariance error ||f(gx) - f(x)|| / ||f(x)|| of the codes (mean over test images and seeds; D4: largest too); in brackets relative to the spread of the codes',
        table: {
          columns: ['code', 'D4 elements (mean)', 'D4 elements (max)', '30° and 60° turns', 'random turn and mirror'],
          rows: r.table.map((t) => {
            const sp = (v: number | null): string => (v === null ? '' : ` (${v.toFixed(3)})`);
            return [
              t.label,
              t.invariance.d4.mean.toExponential(2) + sp(t.invariance.d4.relativeToSpread),
              t.invariance.d4.max.toExponential(2),
              t.invariance.turn30.mean.toFixed(4) + sp(t.invariance.turn30.relativeToSpread),
              t.invariance.random.mean.toFixed(4) + sp(t.invariance.random.relativeToSpread),
            ];
          }),
        },
      },
      { heading: 'Figures', figures: r.figures },
    ],
  });
}
