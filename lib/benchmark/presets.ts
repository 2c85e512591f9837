/**
 * The scales of the invariance benchmark: 'standard' (the scale of the published results,
 * docs/BENCHMARK.md) and 'tiny' (CI: every member end to end on a few hundred images in well under
 * a minute of CPU; checks the plumbing, not the numbers). The learned extractors' trainings at
 * 'standard' are sized from the rates of docs/EQUIVARIANT-AE.md and docs/RVAE.md (images per
 * CPU-second: conv AE ~300, D4 ~117, D12 ~49, rVAE at 256 pixels per step ~380; CODAE at the
 * sizes of `soapix experiment codae` on MNIST ~338, docs/CODAE.md).
 */
import type { CnnReferenceSettings } from './cnn-reference';
import type { BenchmarkDataSpec } from './data';
import type { MeasureSettings } from './evaluate';
import type { LearnedTraining } from './extractors/learned';
import { DEFAULT_MEMBERS, LEARNED_MEMBERS, type MemberName } from './member-names';
import type { MemberSettings } from './members';
import { BENCHMARK_PROBES, type BenchmarkProbe } from './probes';

/** Everything a scale fixes (the data set, seed and backend come from the command). */
export interface BenchmarkScale
  extends
    Omit<BenchmarkDataSpec, 'dataset' | 'fashionDir' | 'interpolation' | 'seed'>,
    MeasureSettings,
    Omit<MemberSettings, 'seed'> {
  name: string;
  members: readonly MemberName[];
  training: Readonly<Partial<Record<MemberName, LearnedTraining>>>;
  budgets: readonly number[];
  seeds: number;
  probes: readonly BenchmarkProbe[];
  probeEpochs: number;
  probePatience: number;
  cnn: CnnReferenceSettings;
}

const all = (t: (m: MemberName) => LearnedTraining): Partial<Record<MemberName, LearnedTraining>> => {
  const out: Partial<Record<MemberName, LearnedTraining>> = {};
  for (const m of LEARNED_MEMBERS) out[m] = t(m);
  return out;
};

/**
 * The published scale, sized for a shared 2-core machine (about 4,000 CPU-seconds per data set):
 * learned extractors train for roughly 2-4 CPU-minutes each (convae 3 epochs, D4 and D4 attention
 * 2, D12 1, rVAE, crVAE and CODAE 5, all on 10,000 images), well short of their papers' trainings.
 */
export const STANDARD_SCALE: Readonly<BenchmarkScale> = Object.freeze({
  name: 'standard',
  trainImages: 12000,
  validationImages: 1000,
  testImages: 1000,
  budgets: [100, 1000, 10000],
  seeds: 3,
  probes: BENCHMARK_PROBES,
  probeEpochs: 100,
  probePatience: 10,
  clusterImages: 1000,
  kmeansRestarts: 3,
  invarianceImages: 50,
  randomAngles: 4,
  timingImages: 200,
  pcaComponents: 50,
  rvaeLatentDim: 2,
  codaeLatentDim: 4,
  members: DEFAULT_MEMBERS,
  training: all((m) => ({
    epochs:
      { convae: 3, 'eqae-d4': 2, 'eqae-attention-d4': 2, 'eqae-d12': 1, rvae: 5, crvae: 5, codae: 5 }[m as string] ?? 2,
    images: 10000,
  })),
  cnn: { epochs: 20, patience: 3, learningRate: 1e-3, batchSize: 128 },
});

/** CI: the plumbing, not the numbers. */
export const TINY_SCALE: Readonly<BenchmarkScale> = Object.freeze({
  name: 'tiny',
  trainImages: 200,
  validationImages: 40,
  testImages: 100,
  budgets: [40],
  seeds: 2,
  probes: BENCHMARK_PROBES,
  probeEpochs: 3,
  probePatience: 2,
  clusterImages: 100,
  kmeansRestarts: 1,
  invarianceImages: 2,
  randomAngles: 1,
  timingImages: 10,
  pcaComponents: 8,
  rvaeLatentDim: 2,
  codaeLatentDim: 4,
  members: DEFAULT_MEMBERS.filter((m) => m !== 'soap-paper'),
  training: all(() => ({ epochs: 1, images: 48 })),
  cnn: { epochs: 2, patience: 1, learningRate: 1e-3, batchSize: 32 },
});

export const BENCHMARK_SCALES: Readonly<Record<string, Readonly<BenchmarkScale>>> = Object.freeze({
  standard: STANDARD_SCALE,
  tiny: TINY_SCALE,
});
