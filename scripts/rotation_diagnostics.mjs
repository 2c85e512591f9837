#!/usr/bin/env node
/**
 * Experiment 4 (SOAP vs CNN under rotation): where does the SOAP model trained on unrotated
 * patches lose accuracy on rotated test patches, if SOAP itself is rotation invariant?
 *
 * Trains the Experiment-4 SOAP model (SOAP 63/7/10/3 at the patch centre, robust scaler, MLP
 * 512-256-128, early stopping on validation loss) on patches of unrotated or rotated training
 * images, and tests it on patches of the same test images rotated in different ways:
 *
 *   none      not rotated
 *   quarter   the 'none' patches turned by a random multiple of 90 degrees (exact on the pixel
 *             grid: nothing is resampled, so only SOAP's invariance is at work)
 *   any       rotated by a uniform random angle (bilinear; the experiment's test set)
 *   any-nearest as 'any', resampled from the nearest pixel (grey levels kept, no smoothing)
 *   any-sharp as 'any', then every intensity rounded to 0 or 255 by the threshold 128 before
 *             rotating (isolates what bilinear smoothing of the grey levels does)
 *
 * with two neighbourhoods for SOAP: 'square' (every point of the size x size patch, the
 * experiment's) and 'disc' (only points within (size - 1) / 2 pixels of the centre: the same region
 * at any rotation, up to the pixel grid). The CNN is not involved.
 *
 *   node scripts/rotation_diagnostics.mjs --train 6000 --test 10000 --seed 1
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lib = require(path.join(root, 'dist/index.js'));
const ml = require(path.join(root, 'dist/ml/index.js'));
const common = require(path.join(root, 'dist/experiments/common.js'));
const transform = require(path.join(root, 'dist/data/transform.js'));
const patches = require(path.join(root, 'dist/experiments/patches.js'));
const { deriveSeed } = require(path.join(root, 'dist/features/sampling.js'));

const { values: a } = parseArgs({
  options: {
    train: { type: 'string', default: '6000' },
    test: { type: 'string', default: '10000' },
    size: { type: 'string', default: '13' },
    epochs: { type: 'string', default: '200' },
    patience: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
  },
});
const nTrain = Number(a.train);
const nTest = Number(a.test);
const size = patches.checkPatchSize(Number(a.size));
const seed = Number(a.seed);
const threads = Number(a.threads);

/** Patches of `ds[indices]`, each image optionally binarised, then turned by `angleOf(rng)` degrees. */
function makePatches(ds, indices, angleOf, sharp, s, interpolation = 'bilinear') {
  const threshold = lib.defaultThreshold(common.IMAGE_OPTIONS.zScale, common.IMAGE_OPTIONS.zRounding);
  const out = {
    size,
    count: 0,
    pixels: new Uint8Array(indices.length * size * size),
    labels: new Int32Array(indices.length),
  };
  for (const idx of indices) {
    const rec = ds.get(idx);
    // Separate streams for the angle and the centre, so that every test set draws the same angles.
    const rng = new lib.Rng(deriveSeed(s, idx, 1));
    let img = { pixels: rec.pixels, rows: rec.rows, cols: rec.cols };
    if (sharp) img = { ...img, pixels: img.pixels.map((v) => (v >= 128 ? 255 : 0)) };
    const angle = angleOf(new lib.Rng(deriveSeed(s, idx, 2)));
    if (angle !== 0) img = transform.rotateImage(img, angle, interpolation);
    const candidates = [];
    for (let p = 0; p < img.pixels.length; p++) if (img.pixels[p] >= threshold) candidates.push(p);
    if (candidates.length === 0) continue;
    const centre = candidates[rng.nextInt(candidates.length)];
    out.pixels.set(
      patches.extractPatch(img, Math.floor(centre / img.cols), centre % img.cols, size),
      out.count * size * size,
    );
    out.labels[out.count++] = rec.label;
  }
  return { ...out, pixels: out.pixels.subarray(0, out.count * size * size), labels: out.labels.subarray(0, out.count) };
}

/** Each patch turned by a random multiple of 90 degrees: a permutation of its pixels, nothing resampled. */
function quarterTurns(set, s) {
  const pixels = new Uint8Array(set.pixels.length);
  const rng = new lib.Rng(s);
  for (let k = 0; k < set.count; k++) {
    const turns = rng.nextInt(4);
    const src = set.pixels.subarray(k * size * size, (k + 1) * size * size);
    for (let i = 0; i < size; i++)
      for (let j = 0; j < size; j++) {
        let [r, c] = [i, j];
        for (let t = 0; t < turns; t++) [r, c] = [c, size - 1 - r];
        pixels[k * size * size + r * size + c] = src[i * size + j];
      }
  }
  return { ...set, pixels };
}

/** A copy with the pixels farther than (size - 1) / 2 from the centre set to 0 (no points there). */
function disc(set) {
  const half = (size - 1) / 2;
  const pixels = set.pixels.slice();
  for (let k = 0; k < set.count; k++)
    for (let i = 0; i < size; i++)
      for (let j = 0; j < size; j++)
        if ((i - half) ** 2 + (j - half) ** 2 > half * half) pixels[k * size * size + i * size + j] = 0;
  return { ...set, pixels };
}

const started = performance.now();
const backend = await ml.selectBackend({});
const soap = common.makeSoap(common.PAPER_OPTIMUM);
const train = lib.mnistDataset('train');
const test = lib.mnistDataset('test');
const trainIdx = patches.imageOrder(train.length, seed).subarray(0, nTrain);
const testIdx = patches.imageOrder(test.length, seed + 1).subarray(0, nTest);
const uniform = (rng) => 360 * rng.nextFloat();
const unrotatedTest = makePatches(test, testIdx, () => 0, false, seed + 2);
const tests = {
  none: unrotatedTest,
  quarter: quarterTurns(unrotatedTest, seed + 4),
  any: makePatches(test, testIdx, uniform, false, seed + 2),
  'any-nearest': makePatches(test, testIdx, uniform, false, seed + 2, 'nearest'),
  'any-sharp': makePatches(test, testIdx, uniform, true, seed + 2),
};
const trains = {
  unrotated: makePatches(train, trainIdx, () => 0, false, seed + 3),
  rotated: makePatches(train, trainIdx, uniform, false, seed + 3),
};

const rows = [];
for (const window of ['square', 'disc']) {
  const view = (s) => (window === 'disc' ? disc(s) : s);
  const testF = {};
  for (const [name, s] of Object.entries(tests))
    testF[name] = await patches.patchSoapFeatures(soap, view(s), { threads });
  for (const [cond, s] of Object.entries(trains)) {
    const f = await patches.patchSoapFeatures(soap, view(s), { threads });
    const x = f.x.slice();
    const scaler = new lib.RobustScaler().fit(x, s.count, f.cols);
    scaler.transformInPlace(x, s.count, f.cols);
    const mlp = ml.MlpClassifier.create({ inputDim: f.cols, hidden: [512, 256, 128], seed });
    const h = await mlp.train(
      { x, y: s.labels, rows: s.count, cols: f.cols },
      {
        epochs: Number(a.epochs),
        batchSize: 128,
        validation: 0.2,
        earlyStopping: { patience: Number(a.patience) },
        seed,
      },
    );
    const row = { window, train: cond, bestEpoch: h.bestEpoch };
    for (const [name, tf] of Object.entries(testF)) {
      const tx = tf.x.slice();
      scaler.transformInPlace(tx, tests[name].count, tf.cols);
      const pred = mlp.predictClasses(tx);
      let ok = 0;
      for (let i = 0; i < pred.length; i++) if (pred[i] === tests[name].labels[i]) ok++;
      row[name] = ok / pred.length;
    }
    mlp.dispose();
    rows.push(row);
    process.stderr.write(`${window} ${cond}: ${JSON.stringify(row)}\n`);
  }
}
const names = Object.keys(tests);
console.log(
  `backend ${backend.summary}; ${nTrain} training and ${tests.none.count} test patches, ${size}x${size}, seed ${seed}; ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
console.log(`| SOAP neighbourhood | trained on | best epoch | ${names.map((n) => `test: ${n}`).join(' | ')} |`);
console.log(`| --- | --- | --- | ${names.map(() => '---').join(' | ')} |`);
for (const r of rows)
  console.log(
    `| ${r.window} | ${r.train} | ${r.bestEpoch} | ${names.map((n) => (100 * r[n]).toFixed(1) + ' %').join(' | ')} |`,
  );
