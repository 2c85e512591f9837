/**
 * Machine learning on SOAP features (TensorFlow.js): backend selection, the pixel classifier,
 * metrics. A separate entry point (`soapix/ml`) so that plain `soapix` never loads TensorFlow.js.
 */
export * from './backend';
export * from './models/mlp';
export { loadModelFolder, saveModelFolder, type ModelFileChecksums, type SoapixModelHeader, type SoapixModelKind, type SoapixSavedModelFields } from './model-folder';
export * from './metrics/classification';
export * from './models/autoencoder';
export * from './pca';
export * from './models/cnn';
export {
  fitModel,
  fitSoftmaxModel,
  evaluateSoftmaxModel,
  predictSoftmaxModel,
  argmaxRows,
  type FitRows,
  type FitEpochLog,
  type FitHistory,
  type FitOptions,
  type TrainableModel,
  type SoftmaxModel,
  type FitHooks,
} from './train/fit';
// Equivariant autoencoder (issue 11): models, pooling, groups, probes.
export {
  EquivariantAutoencoder,
  resolveEquivariantOptions,
  POOLING_NAMES,
  type EquivariantAutoencoderOptions,
  type ResolvedEquivariantAutoencoderOptions,
  type PoolingName,
  type EncodeOptions,
  type SoapixEquivariantAutoencoderJSON,
} from './models/equivariant-autoencoder';
export { ConvAutoencoder, resolveConvAutoencoderOptions, type ConvAutoencoderOptions, type ResolvedConvAutoencoderOptions, type SoapixConvAutoencoderJSON } from './models/conv-autoencoder';
export { checkImageBatch, type ImageFitOptions, type ImageFitHistory } from './models/image-autoencoder';
export { meanPool, type CodeMatrix, type EquivariantCodes } from './layers/mean-pooling';
export { gramPool, gramLayout, type GramPoolingOptions, type GramLayout } from './layers/gram-pooling';
export { finiteGroup, GROUP_NAMES, elementName, type GroupName, type FiniteGroup } from './groups/dihedral';
export { leftRegular, rightRegular, permuteRows } from './groups/permutations';
export { equivarianceErrors, relativeError, type EquivarianceCheck, type EquivarianceError } from './groups/equivariance';
export { probeAccuracy, PROBE_KINDS, type ProbeKind, type ProbeOptions, type ProbeResult } from './probes/probe-accuracy';
export { standardize, fitStandardizer, applyStandardizer, type Standardizer } from './probes/standardize';
export { saveTensorFolder, loadTensorFolder } from './model-folder';
