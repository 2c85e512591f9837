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
