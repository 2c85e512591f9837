/**
 * The saved-model folder shared by soapix's TensorFlow.js models ({@link MlpClassifier},
 * {@link Autoencoder}): `model.json` + `weights.bin` in TensorFlow.js's layers-model format,
 * written through our own IOHandler (no tfjs-node file handler), and `soapix.json` with the model
 * kind, its architecture, the caller's metadata and the size and SHA-256 of the other two files.
 * Models built from plain ops rather than Layers (the image autoencoders) store named tensors
 * instead: `model.json` then holds only TensorFlow.js's weights manifest ({@link saveTensorFolder}).
 * Every file is written atomically; `soapix.json` is removed first and written last, so a folder
 * with a `soapix.json` always holds a complete model.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../util/atomic-file';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const SOAPIX_JSON = 'soapix.json';

/** The kinds of model a soapix model folder can hold (`kind` in `soapix.json`). */
export type SoapixModelKind =
  'mlp-classifier' | 'autoencoder' | 'equivariant-autoencoder' | 'conv-autoencoder' | 'rvae' | 'codae' | 'dae';

/** What the caller stores next to the weights in `soapix.json`. */
export interface SaveMeta<Soap = unknown, Scaler = unknown> {
  soap?: Soap;
  scaler?: Scaler;
  extra?: Record<string, unknown>;
}

/** Size and SHA-256 of `model.json` and `weights.bin`, recorded in `soapix.json`. */
export type ModelFileChecksums = Record<'model.json' | 'weights.bin', { bytes: number; sha256: string }>;

/** The fields every `soapix.json` has. */
export interface SoapixModelHeader {
  format: 'soapix-model';
  version: 1;
  kind: SoapixModelKind;
  files: ModelFileChecksums;
}

/**
 * The fields the `soapix.json` of every saved model has besides its kind and its configuration
 * (`mlp` or `autoencoder`).
 */
export interface SoapixSavedModelFields<Soap = unknown, Scaler = unknown> {
  format: 'soapix-model';
  version: 1;
  /** SOAP parameters the features were computed with (given by the caller). */
  soap: Soap | null;
  /** Fitted scaler applied to the features (given by the caller). */
  scaler: Scaler | null;
  /** Anything else the caller recorded (training history, backend, data sizes). */
  extra: Record<string, unknown> | null;
  /** Size and SHA-256 of the model files, checked on load. */
  files: ModelFileChecksums;
  tfjsVersion: string;
  savedAt: string;
}

/**
 * A `soapix.json` being written now: the model's own fields (`kind` and its configuration) after
 * the format tag, then the caller's `meta`, the checksums and the provenance.
 */
export function savedModelFields<Own extends object, Soap, Scaler>(
  own: Own,
  meta: SaveMeta<Soap, Scaler>,
  files: ModelFileChecksums,
): SoapixSavedModelFields<Soap, Scaler> & Own {
  return {
    format: 'soapix-model',
    version: 1,
    ...own,
    soap: meta.soap ?? null,
    scaler: meta.scaler ?? null,
    extra: meta.extra ?? null,
    files,
    tfjsVersion: tf.version_core,
    savedAt: new Date().toISOString(),
  };
}

const KIND_WORDS: Record<SoapixModelKind, { what: string; loader: string }> = {
  'mlp-classifier': { what: 'an MLP classifier', loader: 'MlpClassifier.load' },
  autoencoder: { what: 'an autoencoder', loader: 'Autoencoder.load' },
  'equivariant-autoencoder': { what: 'an equivariant autoencoder', loader: 'EquivariantAutoencoder.load' },
  'conv-autoencoder': { what: 'a convolutional autoencoder', loader: 'ConvAutoencoder.load' },
  rvae: { what: 'a VAE-family model (VAE, cVAE, rVAE, crVAE)', loader: 'Rvae.load' },
  codae: { what: 'a CODAE model', loader: 'Codae.load' },
  dae: { what: 'a disentangling autoencoder (DAE)', loader: 'Dae.load' },
};

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes `weights.bin`, then `model.json`, then `soapix.json` = `makeInfo(checksums)` into `dir`
 * (created if needed), each atomically, after removing any old `soapix.json`.
 */
async function writeFolder<Info>(
  dir: string,
  modelJSON: object,
  weights: Uint8Array,
  makeInfo: (files: ModelFileChecksums) => Info,
): Promise<Info> {
  const modelBytes = Buffer.from(JSON.stringify(modelJSON), 'utf8');
  await mkdir(dir, { recursive: true });
  await rm(path.join(dir, SOAPIX_JSON), { force: true });
  await writeFileAtomic(path.join(dir, WEIGHTS_BIN), weights);
  await writeFileAtomic(path.join(dir, MODEL_JSON), modelBytes);
  const info = makeInfo({
    'model.json': { bytes: modelBytes.byteLength, sha256: sha256(modelBytes) },
    'weights.bin': { bytes: weights.byteLength, sha256: sha256(weights) },
  });
  await writeFileAtomic(path.join(dir, SOAPIX_JSON), JSON.stringify(info, null, 2) + '\n');
  return info;
}

/**
 * Writes `model` to the folder `dir` (created if needed) as `model.json` + `weights.bin`, then
 * `soapix.json` = `makeInfo(checksums)`. Returns what was written to `soapix.json`.
 */
export async function saveModelFolder<Info extends SoapixModelHeader>(
  dir: string,
  model: tf.LayersModel,
  makeInfo: (files: ModelFileChecksums) => Info,
): Promise<Info> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
  if (!artifacts || !artifacts.weightSpecs || artifacts.weightData === undefined) {
    throw new Error('save: TensorFlow.js produced no weights');
  }
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
  const modelJSON: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as object,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
  };
  return writeFolder(dir, modelJSON, weights, makeInfo);
}

/**
 * Reads a folder written by {@link saveModelFolder} holding a model of `kind`: checks that the
 * folder exists, that `soapix.json` parses and names `kind`, that the sizes and checksums of
 * `model.json` and `weights.bin` match it, then builds the Layers model with `tf.io.fromMemory`.
 * `prepare(info)` checks the architecture in `soapix.json` before the weights are read (its
 * errors are reported as errors of `soapix.json`).
 *
 * @throws Error whose message starts with `load:` and says which file is wrong and how.
 */
export async function loadModelFolder<Info extends SoapixModelHeader, Prepared>(
  dir: string,
  kind: SoapixModelKind,
  prepare: (info: Info) => Prepared,
): Promise<{ info: Info; prepared: Prepared; model: tf.LayersModel }> {
  const { info, prepared, modelJSON, weightData } = await readModelFolder(dir, kind, prepare);
  let model: tf.LayersModel;
  try {
    const artifacts = await tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => [
      tf.io.getWeightSpecs(manifest),
      weightData,
    ]);
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new Error(
      `load: ${path.join(dir, MODEL_JSON)} and ${WEIGHTS_BIN} do not form a TensorFlow.js layers model: ${(err as Error).message}`,
    );
  }
  return { info, prepared, model };
}

/**
 * The checks of {@link loadModelFolder} (folder, `soapix.json`, kind, version, `prepare`, sizes
 * and checksums), returning the parsed `model.json` and the bytes of `weights.bin`.
 */
async function readModelFolder<Info extends SoapixModelHeader, Prepared>(
  dir: string,
  kind: SoapixModelKind,
  prepare: (info: Info) => Prepared,
): Promise<{ info: Info; prepared: Prepared; modelJSON: tf.io.ModelJSON; weightData: ArrayBuffer }> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new Error(`load: ${dir} is a file, not a saved soapix model folder`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`load: the folder ${dir} does not exist (not a saved soapix model folder)`);
    if (code !== undefined) throw new Error(`load: cannot open the folder ${dir}: ${(err as Error).message}`);
    throw err;
  }
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await readFile(path.join(dir, name));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(
        `load: cannot read ${path.join(dir, name)}${code === 'ENOENT' ? ' (not a saved soapix model folder, or an incomplete one)' : ''}: ${(err as Error).message}`,
      );
    }
  };
  const infoPath = path.join(dir, SOAPIX_JSON);
  let info: Info;
  try {
    info = JSON.parse((await read(SOAPIX_JSON)).toString('utf8')) as Info;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new Error(`load: ${infoPath} is not valid JSON (a corrupt or truncated file): ${err.message}`);
  }
  const want = KIND_WORDS[kind];
  if (info === null || typeof info !== 'object' || info.format !== 'soapix-model') {
    throw new Error(
      `load: ${infoPath} is not a soapix model description (format ${String((info as { format?: unknown } | null)?.format)}, expected 'soapix-model')`,
    );
  }
  if (info.kind !== kind) {
    const held = KIND_WORDS[info.kind as SoapixModelKind];
    throw new Error(
      held
        ? `load: ${dir} holds ${held.what} (kind '${info.kind}'), not ${want.what}; load it with ${held.loader}`
        : `load: ${dir} holds a model of unknown kind '${String(info.kind)}', not ${want.what}`,
    );
  }
  if (info.version !== 1)
    throw new Error(`load: soapix.json version ${String(info.version)} is not supported (this soapix reads version 1)`);
  let prepared: Prepared;
  try {
    prepared = prepare(info);
  } catch (err) {
    throw new Error(`load: ${infoPath} describes an invalid model: ${(err as Error).message}`);
  }
  const modelBytes = await read(MODEL_JSON);
  const weightBytes = await read(WEIGHTS_BIN);
  for (const [name, bytes] of [
    [MODEL_JSON, modelBytes],
    [WEIGHTS_BIN, weightBytes],
  ] as const) {
    const rec = info.files?.[name];
    if (!rec) throw new Error(`load: soapix.json records no checksum of ${name}`);
    if (bytes.byteLength !== rec.bytes) {
      throw new Error(
        `load: ${path.join(dir, name)} does not match soapix.json (${bytes.byteLength} bytes, expected ${rec.bytes}; the file was changed or is incomplete)`,
      );
    }
    const sum = sha256(bytes);
    if (sum !== rec.sha256) {
      throw new Error(
        `load: ${path.join(dir, name)} does not match soapix.json (checksum mismatch: SHA-256 ${sum}, expected ${rec.sha256}; the file was changed)`,
      );
    }
  }
  let modelJSON: tf.io.ModelJSON;
  try {
    modelJSON = JSON.parse(modelBytes.toString('utf8')) as tf.io.ModelJSON;
  } catch (err) {
    throw new Error(`load: ${path.join(dir, MODEL_JSON)} is not valid JSON: ${(err as Error).message}`);
  }
  const weightData = weightBytes.buffer.slice(
    weightBytes.byteOffset,
    weightBytes.byteOffset + weightBytes.byteLength,
  ) as ArrayBuffer;
  return { info, prepared, modelJSON, weightData };
}

/** Marks a `model.json` that holds named tensors, not a layers model. */
const TENSOR_FORMAT = 'soapix-tensors';

/**
 * Writes named tensors to the folder `dir` as `weights.bin` (TensorFlow.js's weight encoding) and
 * `model.json` (its weights manifest, format 'soapix-tensors'), then `soapix.json` =
 * `makeInfo(checksums)`, with the guarantees of {@link saveModelFolder}.
 */
export async function saveTensorFolder<Info extends SoapixModelHeader>(
  dir: string,
  tensors: tf.NamedTensorMap,
  makeInfo: (files: ModelFileChecksums) => Info,
): Promise<Info> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const weights = new Uint8Array(data);
  const modelJSON = {
    format: TENSOR_FORMAT,
    generatedBy: `soapix (TensorFlow.js ${tf.version_core})`,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: specs }],
  };
  return writeFolder(dir, modelJSON, weights, makeInfo);
}

/**
 * Reads a folder written by {@link saveTensorFolder} holding a model of `kind`, with the checks of
 * {@link loadModelFolder}; returns the named tensors (the caller disposes them).
 */
export async function loadTensorFolder<Info extends SoapixModelHeader, Prepared>(
  dir: string,
  kind: SoapixModelKind,
  prepare: (info: Info) => Prepared,
): Promise<{ info: Info; prepared: Prepared; tensors: tf.NamedTensorMap }> {
  const { info, prepared, modelJSON, weightData } = await readModelFolder(dir, kind, prepare);
  const where = path.join(dir, MODEL_JSON);
  if ((modelJSON as { format?: unknown }).format !== TENSOR_FORMAT || !Array.isArray(modelJSON.weightsManifest)) {
    throw new Error(
      `load: ${where} is not a soapix tensor manifest (format ${String((modelJSON as { format?: unknown }).format)}, expected '${TENSOR_FORMAT}')`,
    );
  }
  try {
    const specs = modelJSON.weightsManifest.flatMap((g) => g.weights);
    const expected = specs.reduce((p, w) => p + w.shape.reduce((a, d) => a * d, 1) * 4, 0);
    if (specs.some((w) => w.dtype !== 'float32') || expected !== weightData.byteLength) {
      throw new Error(
        `the manifest describes ${expected} bytes of float32 tensors, ${WEIGHTS_BIN} has ${weightData.byteLength}`,
      );
    }
    return { info, prepared, tensors: tf.io.decodeWeights(weightData, specs) };
  } catch (err) {
    throw new Error(`load: ${where} and ${WEIGHTS_BIN} do not hold the model's tensors: ${(err as Error).message}`);
  }
}
