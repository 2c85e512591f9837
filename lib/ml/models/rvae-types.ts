/**
 * The public types of {@link Rvae} (lib/ml/models/rvae.ts): its encodings, options of encode,
 * decode and fit, training history, evaluation and saved-folder header (docs/RVAE.md).
 */
import type { FitEpochLog, FitHistory } from '../train/fit';
import type { SoapixSavedModelFields } from '../model-folder';
import type { Float32Matrix, ResolvedRvaeOptions, RvaeImages } from './rvae-config';
import type { FitCheckpoint } from '../train/checkpoint';

/** Posterior means of a batch of images ({@link Rvae.encode}). */
export interface RvaeEncoding {
  /** Angle per image, radians, counter-clockwise as displayed; zeros for a model without rotation. */
  angle: Float32Array;
  /** Shift per image [dx, dy] in pixels (x right, y down), count x 2; zeros without translation. */
  shift: Float32Array;
  /** Content latents, count x latentDim. */
  z: Float32Matrix;
  /** Posterior standard deviations of all latents, count x (pose latents + latentDim), laid out [angle, shift x, shift y, content...]. */
  std: Float32Matrix;
}

/** Options of {@link Rvae.encode}. */
export interface RvaeEncodeOptions {
  /** Class of each image (a model whose encoder is conditioned; default the images' own `labels`). Not read when `conditionEncoder` is false. */
  labels?: Int32Array;
}

/** Options of {@link Rvae.decode}. */
export interface RvaeDecodeOptions {
  /** Angle per image in radians (counter-clockwise as displayed). Default 0. Spatial decoder only. */
  angle?: Float32Array;
  /** Shift per image [dx, dy] in pixels of the output (x right, y down), count x 2. Default 0. Spatial decoder only. */
  shift?: Float32Array;
  /** Class of each image (required by a conditional model). */
  labels?: Int32Array;
  /** Output size. Default the model's; the spatial decoder draws at any size (the same field of view). */
  height?: number;
  width?: number;
}

/** What one epoch did: {@link FitEpochLog} (loss = the beta-weighted -ELBO per image) and its beta. */
export type RvaeEpochLog = FitEpochLog & { beta: number };

/** Options of {@link Rvae.fit}. */
export interface RvaeFitOptions {
  epochs: number;
  /** Default the model's batchSize (100). */
  batchSize?: number;
  /** A fraction in (0, 1) of the images held out after a seeded shuffle, or separate images. */
  validation?: number | RvaeImages;
  /** Class of each training image (conditional models; default `images.labels`). */
  labels?: Int32Array;
  /** Stop when the validation loss stops improving (needs validation). */
  earlyStopping?: { patience: number; minDelta?: number; restoreBestWeights?: boolean };
  /** Seed of shuffling, the validation split and the sampling noise. Default the model's seed. */
  seed?: number;
  /** Cancels training before the next batch (fit then rejects with the signal's reason). */
  signal?: AbortSignal;
  onEpoch?: (log: RvaeEpochLog) => void | Promise<void>;
  /**
   * Save the training's state (the loop's, and the model's own sampling generator, epoch count
   * and logs) now and then and at the end, and continue from a saved one: an interrupted fit
   * resumed this way ends with the same weights, bit for bit (lib/ml/train/checkpoint.ts).
   */
  checkpoint?: FitCheckpoint;
}

/** Result of {@link Rvae.fit}. */
export type RvaeHistory = Omit<FitHistory, 'epochs'> & { epochs: RvaeEpochLog[] };

/** Mean per image of the loss terms ({@link Rvae.evaluate}), in nats. */
export interface RvaeEvaluation {
  /** Bernoulli negative log-likelihood (BCE summed over pixels). */
  reconstruction: number;
  /** KL of the posterior to the prior, summed over the latents. */
  kl: number;
  /** reconstruction + kl: -ELBO. */
  negativeElbo: number;
  /** reconstruction + beta kl: the training objective at `beta`. */
  objective: number;
  beta: number;
  images: number;
}

/** The `soapix.json` of a saved rVAE-family folder. */
export interface SoapixRvaeJSON extends SoapixSavedModelFields {
  kind: 'rvae';
  rvae: ResolvedRvaeOptions;
  /** Epochs trained so far (KL annealing continues from here). */
  trainedEpochs: number;
}
