// Child process of test/determinism.test.ts: computes, with the built package (dist/), every
// seeded output that docs/DETERMINISM.md promises, under whatever SOAPIX_SIMD the parent set (the
// SIMD path is chosen once, when the addon loads, so each path needs its own process).
//
//   node test/helpers/determinism-child.mjs soap.bin threads
//
// soap.bin: SOAP features of a few MNIST training images (every point as centre), float64 and
// float32 (converted exactly to float64), then averaged ones, concatenated; `threads` is the
// OpenMP thread count used.
// Prints one JSON line: { simdPath, lengths (of each SOAP matrix), hashes } where hashes holds a
// SHA-256 of each output that does not touch SOAP: the sampling plan and its centres, a train /
// validation split, an augmented image set with its factors, the Rng streams, displaced points,
// an MLP's seeded initial weights, and the same MLP's weights and loss history after a few steps
// of training on the wasm backend (inputs made by Rng, not by SOAP).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => require(path.join(root, 'dist', p));
const s = dist('index.js');
const { native } = dist('soap/native.js');
const { countPoints } = dist('features/plan.js');
const { IMAGE_OPTIONS } = dist('experiments/common.js');

const [soapFile, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg);

/** SHA-256 of the bytes of typed arrays (and of the JSON of anything else), in order. */
function sha(...parts) {
  const h = createHash('sha256');
  for (const p of parts) {
    if (ArrayBuffer.isView(p)) h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    else h.update(JSON.stringify(p));
  }
  return h.digest('hex');
}

const ds = s.mnistDataset('train');
const hashes = {};

// Sampling (Algorithm 3 as soapix experiment classify runs it, docs/PAPER-FACTS.md): the plan over
// the first 300 images and the centres drawn in every image.
const counts = countPoints(ds, 300, IMAGE_OPTIONS);
const plan = s.planSamples({ datasetLength: 300, count: 1000, seed: 11, pointCounts: counts });
const centres = s.sampleCenters(plan);
hashes.sampling = sha(plan.counts, ...Array.from(counts, (n, i) => centres(i, n)));

const split = s.trainValSplit(5000, 0.8, 3);
hashes.split = sha(split.train, split.val);

// Augmentation uses Math.sin / Math.cos (V8's own fdlibm port, not the C library) and bilinear
// resampling in float arithmetic.
const aug = s.augmentImages(ds, { ...s.ROTATED_MIRRORED, shift: 2, integerShifts: false, seed: 5, count: 40 });
hashes.augment = sha(aug.data, aug.angles, aug.mirrored, aug.shifts, aug.source);

const rng = new s.Rng(9);
const stream = new Float64Array(3000);
for (let i = 0; i < 1000; i++) {
  stream[3 * i] = rng.nextFloat();
  stream[3 * i + 1] = rng.normal();
  stream[3 * i + 2] = rng.nextInt(1000);
}
hashes.rng = sha(stream);

// Positional noise (Experiment 3): seeded Gaussian displacement of x, y, z.
const displaced = [0, 1, 2].map(
  (i) => s.imageToPoints(ds.get(i), { ...IMAGE_OPTIONS, displacement: { sigma: 1.5, seed: 100 + i } }).positions,
);
hashes.displacement = sha(...displaced);

// SOAP: 3 images at --tiny's parameters, 1 at the paper's optimum (docs/PAPER-FACTS.md), then the
// 3 images averaged (inner, outer: one row per image, summed over centres in per-thread parts).
const parts = [];
for (const [p, images, dtypes] of [
  [{ rCut: 20, nMax: 4, lMax: 4, sigma: 2 }, [0, 1, 2], ['float64', 'float32']],
  [{ rCut: 63, nMax: 7, lMax: 10, sigma: 3 }, [3], ['float64', 'float32']],
  [{ rCut: 20, nMax: 4, lMax: 4, sigma: 2, average: 'inner' }, [0, 1, 2], ['float64']],
  [{ rCut: 20, nMax: 4, lMax: 4, sigma: 2, average: 'outer' }, [0, 1, 2], ['float64']],
]) {
  const soap = new s.Soap({ species: ['H'], rbf: 'gto', ...p });
  const structures = images.map((i) => ({ positions: s.imageToPoints(ds.get(i), IMAGE_OPTIONS).positions }));
  for (const dtype of dtypes) {
    for (const m of await soap.createMany(structures, { dtype, threads })) parts.push(Float64Array.from(m.data));
  }
}
const total = parts.reduce((n, p) => n + p.length, 0);
const all = new Float64Array(total);
let o = 0;
for (const p of parts) {
  all.set(p, o);
  o += p.length;
}
writeFileSync(soapFile, Buffer.from(all.buffer));

// Training on wasm (single thread): seeded Glorot initialisation, then 3 epochs of Adam with
// seeded shuffling and dropout masks on inputs that do not come from SOAP.
const ml = dist('ml/index.js');
const backend = await ml.selectBackend({ prefer: 'wasm', strict: true, log: false });
const rows = 256;
const cols = 12;
const data = { x: new Float32Array(rows * cols), y: new Int32Array(rows), rows, cols };
const gen = new s.Rng(21);
for (let r = 0; r < rows; r++) {
  let sum = 0;
  for (let c = 0; c < cols; c++) sum += data.x[r * cols + c] = gen.normal();
  data.y[r] = (sum > 0 ? 1 : 0) + (data.x[r * cols] > 0 ? 2 : 0);
}
const clf = ml.MlpClassifier.create({ inputDim: cols, hidden: [16, 8], classes: 4, seed: 3 });
hashes.initialWeights = sha(...clf.getWeights());
const history = await clf.train(data, { epochs: 3, batchSize: 32, seed: 4 });
hashes.trainedWeights = sha(...clf.getWeights());
hashes.trainingLosses = sha(history.epochs.map((e) => [e.loss, e.accuracy]));

process.stdout.write(
  `${JSON.stringify({ simdPath: native().simdPath, backend: backend.name, threads: backend.threads, lengths: parts.map((p) => p.length), hashes })}\n`,
);
