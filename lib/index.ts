/** soapix: SOAP features for images and point clouds. */
export {
  Soap,
  resolveSoapOptions,
  toPositionArray,
  type SoapOptions,
  type ResolvedSoapOptions,
  type StructureInput,
  type CentersInput,
  type CreateOptions,
  type CreateManyOptions,
  type FeatureMatrix,
  type FeatureLabel,
  type WeightingOptions,
  type CompressionOptions,
  type BasisInput,
  type DType,
  type PositionsInput,
  type SpeciesLike,
} from './soap/soap';
export { atomicNumber, chemicalSymbol, ELEMENT_SYMBOLS } from './soap/species';
export * from './data/image';
export * from './io/idx';
export { Rng, createRng } from './util/random';
export * from './data/datasets';
export * from './data/rgb';
export type { Dataset, ImageRecord, IndexedImage } from './data/dataset';
export * from './io/npy';
export * from './features/scaler';
export * from './features/sampling';
export * from './features/featurize';
export {
  writeFileAtomic,
  commitFile,
  fsyncDirectory,
  partialPathFor,
  fileOutputError,
  FileOutputError,
  PARTIAL_SUFFIX,
  type WriteFileAtomicOptions,
} from './util/atomic-file';
