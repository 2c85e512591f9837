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
} from './soap';
export { atomicNumber, chemicalSymbol, ELEMENT_SYMBOLS } from './species';
export * from './image';
export * from './idx';
export { Rng, createRng } from './random';
export * from './datasets';
export * from './rgb';
export type { Dataset, ImageRecord, IndexedImage } from './dataset';
export * from './npy';
export * from './scaler';
export * from './sampling';
export * from './featurize';
export {
  writeFileAtomic,
  commitFile,
  fsyncDirectory,
  partialPathFor,
  fileOutputError,
  FileOutputError,
  PARTIAL_SUFFIX,
  type WriteFileAtomicOptions,
} from './atomic-file';
