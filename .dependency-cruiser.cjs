/**
 * The import rules of soapix, checked by `npm run check:deps` (dependency-cruiser; also a step of
 * .ci/run). docs/ARCHITECTURE.md explains the layers.
 *
 * lib/ is layered; a file imports only from its own layer or the layers before it in this list:
 *   util < io < soap < data < features < ml < report < experiments < commands, cli (and lib/cli.ts)
 * lib/index.ts (the `soapix` entry) and lib/ml/index.ts (the `soapix/ml` entry) re-export their
 * layers for users; nothing inside lib/ imports lib/index.ts, and nothing inside lib/ml/ imports
 * lib/ml/index.ts (layers above ml may use it as ml's public surface). There are no import cycles (type-only
 * imports count: a cycle of types still ties two files together), lib/ never imports the tests,
 * benchmarks or scripts, nothing reads the old `../shared` folder, and the library never imports a
 * devDependency (it would be missing where the package is installed).
 */

/** The layers in order; each may import only itself and the layers before it. */
const LAYERS = ['util', 'io', 'soap', 'data', 'features', 'ml', 'report', 'experiments', 'benchmark', 'commands|cli'];

/** `lib/<one of the layer's folders>/` (commands and cli share a layer; lib/cli.ts belongs to it). */
function layerPath(layer) {
  return layer === 'commands|cli' ? '^lib/(commands|cli)/|^lib/cli\\.ts$' : `^lib/${layer}/`;
}

const upward = LAYERS.slice(0, -1).map((layer, i) => {
  const higher = LAYERS.slice(i + 1);
  return {
    name: `layer-${layer.replace('|', '-')}-no-upward-import`,
    comment:
      `lib/${layer}/ sits below ${higher.map((l) => `lib/${l.replace('|', ', lib/')}`).join(', ')} ` +
      '(docs/ARCHITECTURE.md): move the shared code down to the lowest layer that needs it instead of importing upward.',
    severity: 'error',
    from: { path: layerPath(layer) },
    to: { path: higher.map(layerPath).join('|') },
  };
});

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-cycles',
      comment: 'Two files that import each other (directly or through others): move what both need into a third file.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'entry-soapix-only-library-layers',
      comment: 'lib/index.ts (the `soapix` entry) re-exports the library, never the experiments or the CLI.',
      severity: 'error',
      from: { path: '^lib/index\\.ts$' },
      to: { path: '^lib/(experiments|commands|cli)/|^lib/cli\\.ts$' },
    },
    {
      name: 'no-import-of-the-soapix-entry-inside-lib',
      comment: 'lib/index.ts is for users of the package; inside lib/ import the module that defines the name.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lib/index\\.ts$' },
    },
    {
      name: 'ml-not-to-its-own-entry',
      comment:
        'Files of lib/ml/ import each other directly, never through lib/ml/index.ts (the `soapix/ml` entry re-exports them).',
      severity: 'error',
      from: { path: '^lib/ml/' },
      to: { path: '^lib/ml/index\\.ts$' },
    },
    {
      name: 'lib-not-to-test-bench-scripts',
      comment: 'The library must not depend on tests, benchmarks or scripts (they are not in the package).',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'no-shared-folder',
      comment:
        'Nothing reads the old ../shared folder: its documents live in docs/, the reference data in test/fixtures/.',
      severity: 'error',
      from: {},
      to: { path: '(^|/)\\.\\./shared/|^shared/' },
    },
    {
      name: 'lib-not-to-dev-dependency',
      comment: 'lib/ ships in the package; a devDependency is missing where the package is installed.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'An import that resolves to no file (a typo, or a file that was moved). @tensorflow/tfjs-node is an ' +
        'optionalDependency that often fails to install; lib/ml/backend.ts loads it inside try/catch.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^@tensorflow/tfjs-node$' },
    },
    {
      name: 'no-non-package-json',
      comment: 'A package imported without being listed in package.json.',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|build|build-cmake)/' },
    // Type-only imports are dependencies too (they tie the files together and can form cycles).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
    },
    reporterOptions: {
      dot: {
        collapsePattern: '^(lib/[^/]+/|lib/[^/]+\\.ts$|test/|bench/|scripts/)',
      },
    },
  },
};
