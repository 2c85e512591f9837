/**
 * `soapix/ml`: machine learning on SOAP features with TensorFlow.js. A separate entry point so
 * that plain `soapix` never loads TensorFlow.js.
 *
 * The public surface, named exports only (test/exports.test.ts pins the list; README "ML API"
 * documents it): backend selection, the models (pixel MLP, patch CNN, autoencoders) with the
 * training options and histories they take and return, classification metrics, PCA, and the
 * saved-model folder's file names and `soapix.json` types. The training loop, the wasm kernel
 * fixes and the folder helpers are internal (lib/ml/train/, lib/ml/kernels/, model-folder.ts);
 * the folder layout is described in docs/ML-LAYOUT.md.
 */
export {
  BACKEND_ORDER,
  BackendUnavailableError,
  currentBackend,
  selectBackend,
  type BackendFallback,
  type BackendName,
  type BackendSelection,
  type SelectBackendOptions,
} from './backend';
export type { EarlyStoppingOptions, EpochLog, LabeledData, TrainHistory, TrainOptions } from './train/types';
export { MlpClassifier, type MlpConfig, type ResolvedMlpConfig, type SoapixModelJSON } from './models/mlp';
export { CnnClassifier, type CnnConfig, type ResolvedCnnConfig } from './models/cnn';
export {
  Autoencoder,
  type AutoencoderConfig,
  type AutoencoderEpochLog,
  type AutoencoderHistory,
  type AutoencoderKind,
  type AutoencoderTrainOptions,
  type FeatureRows,
  type ResolvedAutoencoderConfig,
  type SoapixAutoencoderJSON,
} from './models/autoencoder';
// Training checkpoints: an interrupted Autoencoder.train continues to the same result.
export {
  CheckpointError,
  fileCheckpoint,
  type FileCheckpointOptions,
  type FitCheckpoint,
  type FitState,
} from './train/checkpoint';
export {
  MODEL_JSON,
  SOAPIX_JSON,
  WEIGHTS_BIN,
  type ModelFileChecksums,
  type SaveMeta,
  type SoapixModelHeader,
  type SoapixModelKind,
  type SoapixSavedModelFields,
} from './model-folder';
export {
  accuracy,
  classificationMetrics,
  confusionMatrix,
  normalizeRows,
  perClassMetrics,
  type ClassLabels,
  type ClassificationMetrics,
  type PerClassMetrics,
} from './metrics/classification';
export { Pca, meanSquaredError, type PcaArray, type PcaJSON } from './pca';
// Learned invariant extractors: the equivariant autoencoder (docs/EQUIVARIANT-AE.md) and its baseline.
export {
  EquivariantAutoencoder,
  POOLING_NAMES,
  type EncodeOptions,
  type EquivariantAutoencoderOptions,
  type PoolingName,
  type SoapixEquivariantAutoencoderJSON,
} from './models/equivariant-autoencoder';
export {
  ConvAutoencoder,
  type ConvAutoencoderOptions,
  type SoapixConvAutoencoderJSON,
} from './models/conv-autoencoder';
export type { ImageFitHistory, ImageFitOptions } from './models/image-autoencoder';
export { meanPool, type CodeMatrix, type EquivariantCodes } from './layers/mean-pooling';
export { gramPool, type GramPoolingOptions } from './layers/gram-pooling';
export { GROUP_NAMES, type GroupName } from './groups/dihedral';
// Probes: classifiers on frozen, standardised codes (shared by the models and the benchmark).
export {
  probeAccuracy,
  PROBE_KINDS,
  type ProbeKind,
  type ProbeOptions,
  type ProbeResult,
} from './probes/probe-accuracy';
export { applyStandardizer, fitStandardizer, standardize, type Standardizer } from './probes/standardize';
// The rotationally invariant VAE family (docs/RVAE.md).
export {
  Rvae,
  type RvaeDecodeOptions,
  type RvaeEncodeOptions,
  type RvaeEncoding,
  type RvaeEpochLog,
  type RvaeEvaluation,
  type RvaeFitOptions,
  type RvaeHistory,
  type SoapixRvaeJSON,
} from './models/rvae';
export {
  RVAE_MODELS,
  type Float32Matrix,
  type RvaeImages,
  type RvaeModelName,
  type RvaeOptions,
} from './models/rvae-config';
export type { KlAnnealing } from './models/vae-loss';
// Metrics of learned codes: clustering against labels, angle recovery and leakage, kNN.
export {
  adjustedRandIndex,
  kmeansScores,
  matchedAccuracy,
  normalizedMutualInformation,
  type ClusteringScores,
  type KMeansOptions,
  type PointMatrix,
} from './metrics/clustering';
export {
  angleLeakage,
  angleRecovery,
  invarianceRatio,
  type AngleRecovery,
  type InvarianceRatio,
} from './metrics/latent-angle';
export { knnCrossValidation, knnPredict, type KnnOptions, type KnnResult } from './probes/knn';
export { angleAgreement, circularLinearCorrelation, type AngleAgreement } from './metrics/circular';
export { orientationSpread, type OrientationSpread } from './metrics/orientation';
export { codeMetrics, type AngleMetrics, type CodeMetrics, type CodeMetricsInput } from './metrics/code-metrics';
export {
  evaluateRvaeCodes,
  type LabelledAngleImages,
  type RvaeCodeEvaluation,
  type RvaeCodeEvaluationOptions,
} from './models/rvae-codes';
// CODAE (docs/CODAE.md): the centroid- and orientation-aware disentangling autoencoder, its DAE
// baseline, image moments and the eight supervised disentanglement metrics.
export {
  Codae,
  type CodaeEncoding,
  type CodaeEpochLog,
  type CodaeFitOptions,
  type CodaeHistory,
  type CodaeMatrix,
  type CodaePose,
  type CodaeReconstruction,
  type SoapixCodaeJSON,
} from './models/codae';
export type { CodaeOptions } from './models/codae-config';
export { Dae, type DaeFitOptions, type DaeOptions, type SoapixDaeJSON } from './models/dae';
export { imageMoments, type ImageMoments, type ImageMomentsOptions, type MomentImage } from '../data/moments';
export {
  disentanglementScores,
  DISENTANGLEMENT_METRICS,
  type DisentanglementOptions,
  type DisentanglementScores,
  type ScoreMatrix,
} from './metrics/disentanglement';
