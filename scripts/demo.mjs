#!/usr/bin/env node
/**
 * `npm run demo`: the main demo, on the built dist/. Featurizes a slice of MNIST at the paper's
 * optimum (r_cut 63, n_max 7, l_max 10, sigma 3: 20,000 train/val spectra, 2,000 test spectra),
 * trains the 512-256-128 classifier briefly, prints test accuracy, precision, recall, F1 and the
 * backend, and writes demo-output/report.html with the confusion matrix and prediction maps.
 *
 *   npm run demo                 # or: node scripts/demo.mjs [OUT_DIR] [EPOCHS]
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
let classify;
try {
  classify = require('../dist/experiments/classify.js');
} catch (err) {
  console.error(`demo: dist/ is missing or stale (${err.message}); run \`npm run build:ts\` first`);
  process.exit(1);
}
const out = path.resolve(process.argv[2] ?? 'demo-output');
const epochs = Number(process.argv[3] ?? 15);
const t0 = Date.now();
const r = await classify.runClassify({
  out,
  rCut: 63,
  nMax: 7,
  lMax: 10,
  sigma: 3,
  trainSamples: 20000,
  testSamples: 2000,
  epochs,
  patience: 5,
  seed: 1,
  hidden: [512, 256, 128],
  backend: 'auto',
  log: (line) => console.error(line),
});
const f = (x) => x.toFixed(4);
console.log(`\nsoapix demo: MNIST pixel classification at the paper's optimum (${r.soap.featureCount} SOAP features)`);
console.log(
  `  train/val spectra ${r.data.trainRows}/${r.data.valRows}, test spectra ${r.data.testRows}, ${r.training.epochsRun} epochs (best ${r.training.bestEpoch})`,
);
console.log(
  `  test accuracy ${f(r.test.accuracy)}  precision ${f(r.test.precision)}  recall ${f(r.test.recall)}  F1 ${f(r.test.f1)}`,
);
console.log(
  `  (paper, 120,000 spectra and up to 300 epochs: accuracy 0.6863, precision 0.6821, recall 0.6863, F1 0.6832)`,
);
console.log(`  backend: ${r.backend.summary}`);
console.log(
  `  featurize ${r.seconds.featurize.toFixed(1)} s, train ${r.seconds.train.toFixed(1)} s, total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);
console.log(`  report: ${path.join(out, 'report.html')}`);
