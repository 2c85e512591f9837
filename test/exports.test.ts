/**
 * The public surface of the package's two entry points, `soapix` (lib/index.ts) and `soapix/ml`
 * (lib/ml/index.ts), pinned name by name, so that every change to it is deliberate: a name added
 * to or dropped from an entry point fails here until the lists below (and the README) say so.
 *
 * Runtime names (values, classes, functions) are read from the modules themselves, both from the
 * sources and from the built CommonJS files in dist/ that users load. Type-only names are read with
 * the TypeScript compiler: every name the entry module exports, minus the runtime ones. The README
 * documents each list in one section ("Library API", "ML API"); every exported name must appear
 * there, and every name a table row of those sections starts with must be exported.
 *
 * To publish a new name: export it by name from the entry point, add it to the list here, and add
 * it to the README section (docs/ML-LAYOUT.md, "Adding a public name").
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

import { buildIfStale, root } from './helpers/cli';

const SOAPIX_RUNTIME = [
  'FileOutputError',
  'INTERPOLATIONS',
  'InMemoryDataset',
  'NpyWriter',
  'RGB_SPECIES',
  'ROTATED_60',
  'ROTATED_MIRRORED',
  'ROTATED_SHIFTED',
  'Rng',
  'RobustScaler',
  'Soap',
  'atomicNumber',
  'augmentFactors',
  'augmentImages',
  'chemicalSymbol',
  'defaultThreshold',
  'dspritesImages',
  'encodeNpy',
  'fashionMnistDataset',
  'featurize',
  'featurizeStream',
  'idxDataset',
  'imageFolderDataset',
  'imageToPoints',
  'mirrorImage',
  'mnistDataset',
  'parseNpy',
  'planSamples',
  'pointsForImage',
  'readNpy',
  'readNpyChunks',
  'readNpyHeader',
  'readNpySync',
  'resolveSoapOptions',
  'rotateImage',
  'sampleCenters',
  'simdPath',
  'trainValSplit',
  'transformFloatImage',
  'writeNpy',
  'xyrcsImages',
];

const SOAPIX_TYPES = [
  'AugmentOptions',
  'AugmentedImages',
  'BasisInput',
  'CenterSelector',
  'CentersInput',
  'CompressionOptions',
  'CreateManyOptions',
  'CreateOptions',
  'DType',
  'Dataset',
  'Displacement',
  'DspritesOptions',
  'FactorImages',
  'FeatureLabel',
  'FeatureMatrix',
  'FeaturizeOptions',
  'FeaturizeProgress',
  'FeaturizedImage',
  'GrayImage',
  'GrayPixels',
  'IdxDatasetOptions',
  'ImageBatch',
  'ImageFolderDataset',
  'ImageFolderOptions',
  'ImageMode',
  'ImagePoints',
  'ImageRecord',
  'ImageSource',
  'ImageToPointsOptions',
  'ImageTransform',
  'InMemoryDatasetInit',
  'IndexedImage',
  'Interpolation',
  'MnistDatasetOptions',
  'MnistSplit',
  'MultiChannelImage',
  'NpyArray',
  'NpyChunk',
  'NpyDType',
  'NpyHeader',
  'NpyTypedArray',
  'NpyWriteResult',
  'NpyWriterOptions',
  'PositionsInput',
  'ResizeFit',
  'ResolvedSoapOptions',
  'RngState',
  'RobustScalerJSON',
  'RobustScalerOptions',
  'SamplePlan',
  'SamplePlanOptions',
  'ScalerArray',
  'SimdPath',
  'SoapOptions',
  'SpeciesLike',
  'StructureInput',
  'TrainValSplit',
  'WeightingOptions',
  'WriteNpyOptions',
  'XyrcsOptions',
  'ZRounding',
];

const ML_RUNTIME = [
  'Autoencoder',
  'BACKEND_ORDER',
  'BackendUnavailableError',
  'CheckpointError',
  'CnnClassifier',
  'Codae',
  'ConvAutoencoder',
  'DISENTANGLEMENT_METRICS',
  'Dae',
  'EquivariantAutoencoder',
  'GROUP_NAMES',
  'MODEL_JSON',
  'MlpClassifier',
  'POOLING_NAMES',
  'PROBE_KINDS',
  'Pca',
  'RVAE_MODELS',
  'Rvae',
  'SOAPIX_JSON',
  'WEIGHTS_BIN',
  'accuracy',
  'adjustedRandIndex',
  'angleAgreement',
  'angleLeakage',
  'angleRecovery',
  'applyStandardizer',
  'circularLinearCorrelation',
  'classificationMetrics',
  'codeMetrics',
  'confusionMatrix',
  'currentBackend',
  'disentanglementScores',
  'evaluateRvaeCodes',
  'fileCheckpoint',
  'fitStandardizer',
  'gramPool',
  'imageMoments',
  'invarianceRatio',
  'kmeansScores',
  'knnCrossValidation',
  'knnPredict',
  'matchedAccuracy',
  'meanPool',
  'meanSquaredError',
  'normalizeRows',
  'normalizedMutualInformation',
  'orientationSpread',
  'perClassMetrics',
  'probeAccuracy',
  'selectBackend',
  'standardize',
];

const ML_TYPES = [
  'AngleAgreement',
  'AngleMetrics',
  'AngleRecovery',
  'AutoencoderConfig',
  'AutoencoderEpochLog',
  'AutoencoderHistory',
  'AutoencoderKind',
  'AutoencoderTrainOptions',
  'BackendFallback',
  'BackendName',
  'BackendSelection',
  'ClassLabels',
  'ClassificationMetrics',
  'ClusteringScores',
  'CnnConfig',
  'CodaeEncoding',
  'CodaeEpochLog',
  'CodaeFitOptions',
  'CodaeHistory',
  'CodaeMatrix',
  'CodaeOptions',
  'CodaePose',
  'CodaeReconstruction',
  'CodeMatrix',
  'CodeMetrics',
  'CodeMetricsInput',
  'ConvAutoencoderOptions',
  'DaeFitOptions',
  'DaeOptions',
  'DisentanglementOptions',
  'DisentanglementScores',
  'EarlyStoppingOptions',
  'EncodeOptions',
  'EpochLog',
  'EquivariantAutoencoderOptions',
  'EquivariantCodes',
  'FeatureRows',
  'FileCheckpointOptions',
  'FitCheckpoint',
  'FitState',
  'Float32Matrix',
  'GramPoolingOptions',
  'GroupName',
  'ImageFitHistory',
  'ImageFitOptions',
  'ImageMoments',
  'ImageMomentsOptions',
  'InvarianceRatio',
  'KMeansOptions',
  'KlAnnealing',
  'KnnOptions',
  'KnnResult',
  'LabeledData',
  'LabelledAngleImages',
  'MlpConfig',
  'ModelFileChecksums',
  'MomentImage',
  'OrientationSpread',
  'PcaArray',
  'PcaJSON',
  'PerClassMetrics',
  'PointMatrix',
  'PoolingName',
  'ProbeKind',
  'ProbeOptions',
  'ProbeResult',
  'ResolvedAutoencoderConfig',
  'ResolvedCnnConfig',
  'ResolvedMlpConfig',
  'RvaeCodeEvaluation',
  'RvaeCodeEvaluationOptions',
  'RvaeDecodeOptions',
  'RvaeEncodeOptions',
  'RvaeEncoding',
  'RvaeEpochLog',
  'RvaeEvaluation',
  'RvaeFitOptions',
  'RvaeHistory',
  'RvaeImages',
  'RvaeModelName',
  'RvaeOptions',
  'SaveMeta',
  'ScoreMatrix',
  'SelectBackendOptions',
  'SoapixAutoencoderJSON',
  'SoapixCodaeJSON',
  'SoapixConvAutoencoderJSON',
  'SoapixDaeJSON',
  'SoapixEquivariantAutoencoderJSON',
  'SoapixModelHeader',
  'SoapixModelJSON',
  'SoapixModelKind',
  'SoapixRvaeJSON',
  'SoapixSavedModelFields',
  'Standardizer',
  'TrainHistory',
  'TrainOptions',
];

interface Entry {
  name: string;
  source: string;
  dist: string;
  readmeSection: string;
  runtime: string[];
  types: string[];
}

const ENTRIES: Entry[] = [
  {
    name: 'soapix',
    source: 'lib/index.ts',
    dist: 'dist/index.js',
    readmeSection: 'Library API',
    runtime: SOAPIX_RUNTIME,
    types: SOAPIX_TYPES,
  },
  {
    name: 'soapix/ml',
    source: 'lib/ml/index.ts',
    dist: 'dist/ml/index.js',
    readmeSection: 'ML API',
    runtime: ML_RUNTIME,
    types: ML_TYPES,
  },
];

const sorted = (names: Iterable<string>): string[] => [...names].sort();

/** Every name the module exports, types included, as the TypeScript compiler sees it. */
function allExportNames(program: ts.Program, file: string): string[] {
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`${file} is not part of the program`);
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`${file} has no module symbol`);
  return sorted(checker.getExportsOfModule(moduleSymbol).map((s) => s.getName()));
}

/** The text of the README section under the heading `### title` (to the next heading). */
function readmeSection(readme: string, title: string): string {
  const start = readme.indexOf(`\n### ${title}`);
  if (start < 0) throw new Error(`README.md has no "### ${title}" section`);
  const rest = readme.slice(start + 1);
  const next = rest.slice(4).search(/\n#{2,3} /);
  return next < 0 ? rest : rest.slice(0, next + 4);
}

/** Identifiers that start the backticked spans of the first cell of every table row. */
function tableRowNames(section: string): string[] {
  const names: string[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    const firstCell = line.split(/(?<!\\)\|/)[1] ?? '';
    for (const m of firstCell.matchAll(/`([A-Za-z_$][\w$]*)/g)) names.push(m[1]!);
  }
  return names;
}

describe('public surface', () => {
  let program: ts.Program;
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

  beforeAll(() => {
    const config = ts.getParsedCommandLineOfConfigFile(
      path.join(root, 'tsconfig.build.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
        },
      },
    );
    if (!config) throw new Error('tsconfig.build.json could not be read');
    program = ts.createProgram(
      ENTRIES.map((e) => path.join(root, e.source)),
      config.options,
    );
    buildIfStale();
  }, 240_000);

  for (const entry of ENTRIES) {
    describe(entry.name, () => {
      it('the lists here are sorted and disjoint (so a diff shows one name per change)', () => {
        expect(entry.runtime).toEqual(sorted(entry.runtime));
        expect(entry.types).toEqual(sorted(entry.types));
        expect(entry.runtime.filter((n) => entry.types.includes(n))).toEqual([]);
      });

      it('exports exactly the pinned runtime names, from the source and from the built file', async () => {
        const mod = (await import(path.join(root, entry.source))) as Record<string, unknown>;
        expect(sorted(Object.keys(mod).filter((k) => k !== 'default'))).toEqual(entry.runtime);
        const built = createRequire(path.join(root, 'package.json'))(path.join(root, entry.dist)) as Record<
          string,
          unknown
        >;
        expect(sorted(Object.keys(built))).toEqual(entry.runtime);
        for (const name of entry.runtime) expect(mod[name], name).toBeDefined();
      });

      it('exports exactly the pinned type-only names', () => {
        const all = allExportNames(program, path.join(root, entry.source));
        expect(all.filter((n) => !entry.runtime.includes(n))).toEqual(entry.types);
        expect(entry.runtime.filter((n) => !all.includes(n))).toEqual([]);
      });

      it(`README "${entry.readmeSection}" names every export, and its tables name only exports`, () => {
        const section = readmeSection(readme, entry.readmeSection);
        // Backticked spans of the prose and tables (code examples do not count).
        const prose = section.replace(/```[\s\S]*?```/g, '');
        const spans = [...prose.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
        const missing = [...entry.runtime, ...entry.types].filter(
          (n) => !spans.some((span) => new RegExp(`(^|[^\\w$])${n}($|[^\\w$])`).test(span)),
        );
        expect(missing, 'exported but not in the README section').toEqual([]);
        const rows = tableRowNames(section);
        expect(rows.length).toBeGreaterThan(0);
        expect(
          rows.filter((n) => !entry.runtime.includes(n) && !entry.types.includes(n)),
          'in a README table but not exported',
        ).toEqual([]);
      });
    });
  }

  it('the package.json exports map points at these two entry points', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, { default?: string }>;
    };
    expect(pkg.exports['.']?.default).toBe('./dist/index.js');
    expect(pkg.exports['./ml']?.default).toBe('./dist/ml/index.js');
  });
});
