/**
 * The types of a run of the invariance benchmark (invariance-benchmark.ts): the spec (every option
 * resolved; plain JSON), a unit's job and a unit's result.
 */
import type { BackendName } from '../ml/backend';
import type { CnnRecord, CnnReferenceSettings } from './cnn-reference';
import type { BenchmarkDataSpec } from './data';
import type { ExtractorRow, MeasureSettings } from './evaluate';
import type { LearnedTraining } from './extractors/learned';
import type { MemberName, MemberSettings } from './members';
import type { BenchmarkProbe } from './probes';

/** Everything a run depends on (plain JSON: it travels to the worker processes). */
export interface InvarianceBenchmarkSpec extends BenchmarkDataSpec, MeasureSettings, MemberSettings {
  /** The members (units) of this run, in protocol order. */
  members: MemberName[];
  /** Training of each learned member (epochs, images); part of that member's unit job. */
  training: Partial<Record<MemberName, LearnedTraining>>;
  /** Label budgets of the probes and the CNN reference. */
  budgets: number[];
  /** Probe seeds (label subsets) per budget. */
  seeds: number;
  probes: BenchmarkProbe[];
  /** Maximum epochs and patience of the logistic and MLP probes. */
  probeEpochs: number;
  probePatience: number;
  /** Training of the CNN reference; part of its members' unit jobs. */
  cnn: CnnReferenceSettings;
  /** What the sizes are called in the results ('tiny', or a description of the scale). */
  scale: string;
  backend: 'auto' | BackendName;
  /** SOAP threads per process (0: all cores, divided among workers); recorded only. */
  threads: number;
  /** Worker processes; recorded only. */
  workers: number;
}

/** One unit: a member, with the training of a learned one or of the CNN reference. */
export interface BenchmarkUnit {
  member: MemberName;
  training: LearnedTraining | null;
  cnn?: CnnReferenceSettings;
}

/** What a unit returns. */
export interface BenchmarkUnitResult {
  member: MemberName;
  rows: ExtractorRow[];
  cnn: CnnRecord[];
  /** CPU seconds of the whole unit (this process, every thread) and its wall time. */
  coreSeconds: number;
  seconds: number;
  backend: string;
}
