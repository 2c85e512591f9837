#!/usr/bin/env node
/**
 * The rVAE experiment (`soapix experiment rvae`), after the run: where do the angle recovery and
 * the angle leakage come from? Loads every saved model of a run folder (DIR/models/<id>/), encodes
 * the run's rotated test images (rebuilt from DIR/settings.json exactly as the run built them) and
 * prints, per model and per digit:
 *
 *   |r|, slope  Pearson r and least-squares slope of the encoded angle on the true angle (models
 *               with an angle latent);
 *   resid       the std of the encoded angle around that line, degrees;
 *   far         the share of images whose encoded angle is more than 45 degrees off the line (a
 *               digit encoded in another orientation, e.g. a 6 read as a turned 9);
 *   |r|near     |r| of the other images (those within 45 degrees of the line);
 *   R, dir, off circular agreement (full turns, --angles 180; `angleAgreement` of soapix/ml): the
 *               mean resultant length of encoded - dir * true, maximised over the sense dir = +1 / -1,
 *               1 when the encoded angle equals the true one up to a constant offset, 0 when
 *               unrelated; off is that offset in degrees. Per digit, this separates "angle not
 *               learned" from "learned, but each digit with its own upright";
 *   R2          the same for twice the angles: 1 when the encoded angle equals the true one up to a
 *               constant and up to half turns (a digit and its upside-down copy given the same
 *               angle, the content latents telling them apart);
 *   leak        the largest |r| of a content latent with the true angle;
 *   n           test images of the digit.
 *
 * Then, per model, the digit accuracy of kNN (k = 10, 5 folds, as the experiment scores it) from
 * the content latents alone, and for models with an angle latent also from the content latents
 * with (cos, sin) of the encoded angle appended, and from that angle alone: how much class
 * information the model has moved out of its content latents into the angle. Last, for models
 * with an angle latent, the spread of the encoded angle of the same test digits left upright
 * (true angle 0), around each digit class's mean: the orientation the model reads from the
 * handwriting itself, a floor under the residual spread above; and its Pearson r, within the
 * classes, with the principal-axis angle of the upright digit (`imageMoments`; images whose axis
 * is defined).
 *
 *   node scripts/rvae_diagnostics.mjs --dir runs/rvae-60
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lib = require(path.join(root, 'dist/index.js'));
const ml = require(path.join(root, 'dist/ml/index.js'));

const { values: a } = parseArgs({ options: { dir: { type: 'string' } } });
if (!a.dir) throw new Error('--dir DIR (a soapix experiment rvae output folder) is required');
const settings = JSON.parse(readFileSync(path.join(a.dir, 'settings.json'), 'utf8')).settings;
await ml.selectBackend({ prefer: 'wasm', log: false });

const test = lib.augmentImages(lib.mnistDataset('test'), {
  ...lib.ROTATED_60,
  angles: [-settings.angles, settings.angles],
  seed: settings.dataSeed + 1,
  count: settings.testImages,
});
const upright = lib.augmentImages(lib.mnistDataset('test'), {
  ...lib.ROTATED_60,
  angles: [0, 0],
  seed: settings.dataSeed + 1,
  count: settings.testImages,
});
const deg = (r) => (r * 180) / Math.PI;

/** Values minus the mean of their class. */
function classCentred(values, labels) {
  const sum = new Float64Array(10);
  const n = new Float64Array(10);
  values.forEach((v, i) => ((sum[labels[i]] += v), (n[labels[i]] += 1)));
  return Float64Array.from(values, (v, i) => v - sum[labels[i]] / n[labels[i]]);
}

/** The upright digits: the within-class std of the encoded angle (degrees), and its within-class r with the principal axis. */
function uprightSlant(encodedAngles) {
  const P = upright.height * upright.width;
  const keep = [];
  const axis = [];
  for (let i = 0; i < upright.count; i++) {
    const m = ml.imageMoments({
      data: upright.data.subarray(i * P, (i + 1) * P),
      height: upright.height,
      width: upright.width,
    });
    if (!m.defined) continue;
    keep.push(i);
    axis.push(m.angle < 0 ? m.angle + Math.PI : m.angle); // (0, π]: upright digits' axes sit near π/2, away from the wrap
  }
  const all = classCentred(Array.from(encodedAngles), upright.labels);
  const labels = Int32Array.from(keep, (i) => upright.labels[i]);
  const e = classCentred(
    keep.map((i) => encodedAngles[i]),
    labels,
  );
  const a = classCentred(axis, labels);
  let ea = 0;
  let aa = 0;
  let ee = 0;
  e.forEach((v, i) => ((ea += v * a[i]), (aa += a[i] ** 2), (ee += v * v)));
  return { std: deg(Math.sqrt(all.reduce((t, v) => t + v * v, 0) / all.length)), r: ea / Math.sqrt(aa * ee) };
}

function stats(encoded, truth) {
  const rec = ml.angleRecovery(encoded, truth);
  let far = 0;
  let m = 0;
  const res = Array.from(truth, (t, i) => encoded[i] - (rec.intercept + rec.slope * t));
  for (const v of res) m += v / res.length;
  let ss = 0;
  const near = [];
  res.forEach((v, i) => {
    ss += (v - m) ** 2;
    if (Math.abs(v - m) > Math.PI / 4) far++;
    else near.push(i);
  });
  const nearR =
    near.length > 2
      ? ml.angleRecovery(
          Float64Array.from(near, (i) => encoded[i]),
          Float64Array.from(near, (i) => truth[i]),
        ).absR
      : NaN;
  return {
    absR: rec.absR,
    nearR,
    slope: rec.slope,
    resid: deg(Math.sqrt(ss / res.length)),
    far: far / res.length,
    ...circular(encoded, truth),
  };
}

/** Full-turn agreement (R, sense, offset) and half-turn agreement R2 (the same on doubled angles). */
function circular(encoded, truth) {
  const full = ml.angleAgreement(encoded, truth);
  const twice = (v) => Float64Array.from(v, (x) => 2 * x);
  const r2 = ml.angleAgreement(twice(encoded), twice(truth)).resultant;
  return { r: full.resultant, dir: full.direction, off: deg(full.offset), r2 };
}

const modelsDir = path.join(a.dir, 'models');
for (const id of readdirSync(modelsDir).sort()) {
  if (!existsSync(path.join(modelsDir, id, 'soapix.json'))) continue;
  const model = await ml.Rvae.load(path.join(modelsDir, id));
  const enc = await model.encode(test, { labels: test.labels });
  const rows = [];
  for (let d = -1; d < 10; d++) {
    const idx = [];
    for (let i = 0; i < test.count; i++) if (d < 0 || test.labels[i] === d) idx.push(i);
    const truth = Float64Array.from(idx, (i) => test.angles[i]);
    const z = {
      data: Float64Array.from(
        idx.flatMap((i) => Array.from(enc.z.data.subarray(i * enc.z.cols, (i + 1) * enc.z.cols))),
      ),
      rows: idx.length,
      cols: enc.z.cols,
    };
    const row = { digit: d < 0 ? 'all' : String(d), n: idx.length, leak: ml.angleLeakage(z, truth).max };
    if (model.options.rotation)
      Object.assign(
        row,
        stats(
          Float64Array.from(idx, (i) => enc.angle[i]),
          truth,
        ),
      );
    rows.push(row);
  }
  console.log(`\n${id}: ${model.describe()}`);
  const angle = model.options.rotation;
  console.log(
    ['digit', 'n', ...(angle ? ['|r|', 'slope', 'resid', 'far', '|r|near', 'R', 'dir', 'off', 'R2'] : []), 'leak']
      .map((h) => h.padStart(7))
      .join(' '),
  );
  for (const r of rows) {
    const cells = [
      r.digit,
      String(r.n),
      ...(angle
        ? [
            r.absR.toFixed(3),
            r.slope.toFixed(3),
            `${r.resid.toFixed(1)}°`,
            r.far.toFixed(3),
            r.nearR.toFixed(3),
            r.r.toFixed(3),
            r.dir > 0 ? '+1' : '-1',
            `${r.off.toFixed(0)}°`,
            r.r2.toFixed(3),
          ]
        : []),
      r.leak.toFixed(3),
    ];
    console.log(cells.map((c) => c.padStart(7)).join(' '));
  }
  if (angle) {
    const knn = (m) => ml.knnCrossValidation(m, test.labels, { seed: 1 }).accuracy;
    const zc = enc.z.cols;
    const angleCols = Float64Array.from({ length: 2 * test.count }, (_, k) =>
      (k % 2 ? Math.sin : Math.cos)(enc.angle[k >> 1]),
    );
    const both = new Float64Array(test.count * (zc + 2));
    for (let i = 0; i < test.count; i++) {
      both.set(enc.z.data.subarray(i * zc, (i + 1) * zc), i * (zc + 2));
      both.set(angleCols.subarray(2 * i, 2 * i + 2), i * (zc + 2) + zc);
    }
    const zOnly = knn({ data: enc.z.data, rows: test.count, cols: zc });
    const withAngle = knn({ data: both, rows: test.count, cols: zc + 2 });
    const angleOnly = knn({ data: angleCols, rows: test.count, cols: 2 });
    const up = await model.encode(upright, { labels: upright.labels });
    const slant = uprightSlant(up.angle);
    console.log(
      `encoded angle of the upright test digits: std ${slant.std.toFixed(1)}° around each class's mean; within-class r with their principal axis ${slant.r.toFixed(3)}`,
    );
    console.log(
      `kNN digit accuracy (k = 10, 5 folds): content ${zOnly.toFixed(3)}, content + (cos, sin) of the encoded angle ${withAngle.toFixed(3)}, encoded angle alone ${angleOnly.toFixed(3)}`,
    );
  }
  model.dispose();
}
