/**
 * The types of the CODAE experiment shared by its definition (codae.ts) and its merge
 * (codae-report.ts): the resolved options of a run, a unit, and a unit's record.
 */
import type { BackendName } from '../ml/backend';
import type { CodaeDatasetName } from './codae-data';
import type { CodaeEvaluation } from './codae-eval';
import type { CodaeModelName, CodaeScale } from './codae-models';

/** The resolved options of a run. */
export interface CodaeSpec {
  dataset: CodaeDatasetName;
  models: CodaeModelName[];
  /** Weight seeds; one unit per (model, seed). */
  seeds: number[];
  trainImages: number;
  testImages: number;
  epochs: number;
  /** Seed of the data (the training set; the test set and the probes use dataSeed + 1 and + 2). */
  dataSeed: number;
  scale: CodaeScale;
  backend: 'auto' | BackendName;
  threads?: number;
  workers?: number;
  /** Save each training's state at most this often (minutes) in <out>/checkpoints/ (0: none; default 5); changes no number. */
  checkpointMinutes?: number;
}

/** One unit: a model and a seed. */
export interface CodaeUnit {
  model: CodaeModelName;
  seed: number;
}

/** What a unit returns. */
export interface CodaeRecord extends CodaeEvaluation {
  id: string;
  model: CodaeModelName;
  seed: number;
  description: string;
  parameters: number;
  epochs: { epoch: number; loss: number; seconds: number }[];
  trainSeconds: number;
  /** CPU time of the unit's process during training (user + system), seconds. */
  trainCpuSeconds: number;
  backend: string;
  seconds: number;
  files: { model: string; aligned: string; traversal: string; series: string };
}
