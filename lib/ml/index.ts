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
export { Rvae, MAX_TRAIN_ACTIVATIONS, type RvaeEncoding, type RvaeEncodeOptions, type RvaeDecodeOptions, type RvaeFitOptions, type RvaeEpochLog, type RvaeHistory, type RvaeEvaluation, type SoapixRvaeJSON } from './models/rvae';
export { RVAE_MODELS, resolveRvaeOptions, latentLayout, describeRvae, type RvaeOptions, type ResolvedRvaeOptions, type RvaeImages, type RvaeModelName, type RvaeDecoderKind, type Float32Matrix } from './models/rvae-config';
export { bernoulliNll, gaussianKl, gaussianKlValue, pixelSubset, betaAt, type KlAnnealing, type KlKind } from './models/vae-loss';
export { coordinateGrid, pixelShiftToGrid, gridShiftToPixels, transformGrid, poseCoefficients, type Pose, type PoseCoefficients } from './layers/coordinates';
export { SpatialDecoder, homogeneousGrid, type SpatialDecoderOptions } from './layers/spatial-decoder';
export { Dense, denseStack, type DenseSpec, type DenseActivation } from './layers/dense';
export {
  kmeansClusters,
  kmeansScores,
  clusteringScores,
  contingencyTable,
  matchedAccuracy,
  normalizedMutualInformation,
  adjustedRandIndex,
  type KMeansOptions,
  type ClusteringScores,
  type PointMatrix,
} from './metrics/clustering';
export { pearson, angleRecovery, angleLeakage, invarianceRatio, type AngleRecovery, type InvarianceRatio } from './metrics/latent-angle';
export { knnPredict, knnCrossValidation, type KnnOptions, type KnnResult } from './probes/knn';
