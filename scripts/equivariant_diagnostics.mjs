#!/usr/bin/env node
/**
 * The equivariant-autoencoder experiment (soapix experiment equivariant): why does a Table-1 number
 * miss the paper's? Loads trained models from an experiment folder (DIR/models/<training>-s<seed>/),
 * rebuilds the same augmented images from DIR/settings.json, encodes the probe-training and test
 * images once per model and measures, per row:
 *
 *   as-run     the experiment's probes again (LR and a 256-unit MLP, patience 10, at most 200
 *              epochs): reproduces the unit file's numbers
 *   patient    the same probes with patience 40 and at most 1,000 epochs (are they undertrained?)
 *   wide       an MLP with 1,024 hidden units (is 256 too small for the code?)
 *   spread     invariance errors relative to the spread of the codes (D4 elements, 30°/60° turns,
 *              random turn and mirror; lib/experiments/code-evaluation.ts)
 *
 * and the reconstruction MSE of the test images. Prints one JSON line per (unit, row) and writes
 * them all to --out.
 *
 *   node scripts/equivariant_diagnostics.mjs --dir runs/eq-mnist --units eq-d12-s1,att-d4-s1 --out runs/eq-mnist-diagnostics.json
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ml = require(path.join(root, 'dist/ml/index.js'));
const eq = require(path.join(root, 'dist/experiments/equivariant.js'));
const ev = require(path.join(root, 'dist/experiments/code-evaluation.js'));
const { meanPool } = require(path.join(root, 'dist/ml/layers/mean-pooling.js'));
const { gramPool } = require(path.join(root, 'dist/ml/layers/gram-pooling.js'));
const { deriveSeed } = require(path.join(root, 'dist/features/sampling.js'));

const { values: a } = parseArgs({
  options: {
    dir: { type: 'string' },
    units: { type: 'string' },
    out: { type: 'string' },
    checks: { type: 'string', default: 'as-run,patient,wide,spread' },
    'invariance-images': { type: 'string', default: '300' },
  },
});
if (!a.dir || !a.units) {
  console.error(
    'usage: node scripts/equivariant_diagnostics.mjs --dir DIR --units ID[,ID...] [--checks as-run,patient,wide,spread] [--out FILE]',
  );
  process.exit(2);
}
const checks = new Set(a.checks.split(','));
const settings = JSON.parse(readFileSync(path.join(a.dir, 'settings.json'), 'utf8')).settings;
const spec = {
  ...settings,
  fashionDir: settings.fashionDir ?? undefined,
  models: [...eq.TABLE_ROWS],
  seeds: [1],
  backend: 'wasm',
  workers: 1,
};

await ml.selectBackend({ prefer: 'wasm', strict: true, log: false });
const data = eq.equivariantData(spec);
const train = ev.firstImages(data.train, spec.probeImages);
const test = data.test;
const out = [];

for (const id of a.units.split(',')) {
  const m = /^(ae|eq-d4|eq-d12|att-d4|att-d12)-s(\d+)$/.exec(id);
  if (!m) throw new Error(`unit id ${id}: expected <training>-s<seed>`);
  const [training, seed] = [m[1], Number(m[2])];
  const dir = path.join(a.dir, 'models', id);
  const model = training === 'ae' ? await ml.ConvAutoencoder.load(dir) : await ml.EquivariantAutoencoder.load(dir);
  const testMse = model.reconstructionMse(test);
  const rows = eq.rowsOfTraining(training);
  // The codes of each row, computed once (V once for both poolings).
  let vTrain = null;
  let vTest = null;
  const codesOf = async (row) => {
    if (training === 'ae' || row.startsWith('attention')) return [await model.encode(train), await model.encode(test)];
    vTrain ??= await model.encodeEquivariant(train);
    vTest ??= await model.encodeEquivariant(test);
    const pool = (v) =>
      row.startsWith('mean') ? meanPool(v) : gramPool(v, model.group, { permutations: model.options.gramPermutations });
    return [pool(vTrain), pool(vTest)];
  };
  const extractorOf = (row) => ({
    encode: async (im) => {
      if (training === 'ae' || row.startsWith('attention')) return model.encode(im);
      const v = await model.encodeEquivariant(im);
      return row.startsWith('mean')
        ? meanPool(v)
        : gramPool(v, model.group, { permutations: model.options.gramPermutations });
    },
  });
  const probeSeed = deriveSeed(seed, 0x50524f42) % 2 ** 31; // the experiment's probe seed ("PROB")
  for (const row of rows) {
    const [tr, te] = await codesOf(row);
    const res = { unit: id, row, codeLength: tr.cols, testMse };
    const probe = async (kind, o) => {
      const r = await ml.probeAccuracy(tr, train.labels, te, test.labels, { kind, seed: probeSeed, ...o });
      return { accuracy: r.accuracy, epochs: r.epochs, bestEpoch: r.bestEpoch, seconds: Math.round(r.seconds) };
    };
    if (checks.has('as-run'))
      res.asRun = {
        lr: await probe('logistic', { epochs: spec.probeEpochs, patience: spec.probePatience }),
        nn: await probe('mlp', { epochs: spec.probeEpochs, patience: spec.probePatience, hidden: spec.probeHidden }),
      };
    if (checks.has('patient'))
      res.patient = {
        lr: await probe('logistic', { epochs: 1000, patience: 40 }),
        nn: await probe('mlp', { epochs: 1000, patience: 40, hidden: spec.probeHidden }),
      };
    if (checks.has('wide'))
      res.wide = {
        nn1024: await probe('mlp', { epochs: spec.probeEpochs, patience: spec.probePatience, hidden: 1024 }),
      };
    if (checks.has('spread'))
      res.invariance = await ev.invarianceErrors(
        extractorOf(row),
        ev.firstImages(test, Number(a['invariance-images'])),
        { seed: probeSeed },
      );
    console.log(JSON.stringify(res));
    out.push(res);
    if (a.out) writeFileSync(a.out, JSON.stringify(out, null, 2) + '\n');
  }
  model.dispose();
}
