/**
 * `soapix`: SOAP features for images and point clouds.
 *
 * The public surface, named exports only (test/exports.test.ts pins the list; the README's
 * "Library API" tables document every name): the SOAP calculator and its option and result
 * types; species helpers; data sets (MNIST, Fashion-MNIST, IDX pairs, image folders, your own
 * arrays); image -> points; featurize; Algorithm 3 sampling; the robust scaler; `.npy` files; the
 * seeded generator. Plumbing (atomic-file helpers, IDX parsing, seed derivation, header
 * encoding) stays internal; tests import it from its module path. Machine learning is the
 * separate entry `soapix/ml` (lib/ml/index.ts).
 */
export {
  Soap,
  resolveSoapOptions,
  type BasisInput,
  type CentersInput,
  type CompressionOptions,
  type CreateManyOptions,
  type CreateOptions,
  type DType,
  type FeatureLabel,
  type FeatureMatrix,
  type PositionsInput,
  type ResolvedSoapOptions,
  type SoapOptions,
  type SpeciesLike,
  type StructureInput,
  type WeightingOptions,
} from './soap/soap';
export { atomicNumber, chemicalSymbol } from './soap/species';
export { simdPath, type SimdPath } from './soap/simd-path';

export type { Dataset, ImageRecord, IndexedImage } from './data/dataset';
export {
  InMemoryDataset,
  fashionMnistDataset,
  idxDataset,
  mnistDataset,
  type IdxDatasetOptions,
  type InMemoryDatasetInit,
  type MnistDatasetOptions,
  type MnistSplit,
} from './data/datasets';
export {
  imageFolderDataset,
  type ImageFolderDataset,
  type ImageFolderOptions,
  type ImageMode,
  type ResizeFit,
} from './data/image-folder';
export {
  defaultThreshold,
  imageToPoints,
  RGB_SPECIES,
  type Displacement,
  type GrayImage,
  type ImagePoints,
  type ImageToPointsOptions,
  type MultiChannelImage,
  type ZRounding,
} from './data/image';

export {
  INTERPOLATIONS,
  mirrorImage,
  rotateImage,
  transformFloatImage,
  type GrayPixels,
  type ImageTransform,
  type Interpolation,
} from './data/transform';
export {
  augmentFactors,
  augmentImages,
  ROTATED_60,
  ROTATED_MIRRORED,
  ROTATED_SHIFTED,
  type AugmentedImages,
  type AugmentOptions,
  type ImageBatch,
} from './data/augment';
export type { FactorImages } from './data/factor-images';
export { xyrcsImages, type XyrcsOptions } from './data/xyrcs';
export { dspritesImages, type DspritesOptions } from './data/dsprites';

export {
  featurize,
  featurizeStream,
  type CenterSelector,
  type FeaturizedImage,
  type FeaturizeOptions,
  type FeaturizeProgress,
  type ImageSource,
} from './features/featurize';
export {
  planSamples,
  pointsForImage,
  sampleCenters,
  trainValSplit,
  type SamplePlan,
  type SamplePlanOptions,
  type TrainValSplit,
} from './features/sampling';
export { RobustScaler, type RobustScalerJSON, type RobustScalerOptions, type ScalerArray } from './features/scaler';

export {
  NpyWriter,
  encodeNpy,
  parseNpy,
  readNpy,
  readNpyChunks,
  readNpyHeader,
  readNpySync,
  writeNpy,
  type NpyArray,
  type NpyChunk,
  type NpyDType,
  type NpyHeader,
  type NpyTypedArray,
  type NpyWriteResult,
  type NpyWriterOptions,
  type WriteNpyOptions,
} from './io/npy';
export { FileOutputError } from './util/atomic-file';
export { Rng, type RngState } from './util/random';
