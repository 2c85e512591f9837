#!/usr/bin/env node
/**
 * The CODAE experiment (`soapix experiment codae`), after the run: is the brightness in the
 * invariant latents, and where? The aim scores the largest |r| of one content latent with
 * the brightness factor; a model that keeps brightness along a direction between its latent axes
 * scores lower there although the information is present. This script loads every saved model of
 * a run folder (DIR/models/<model>-seed<s>/), rebuilds the run's test images from
 * DIR/settings.json exactly as the run built them (lib/experiments/codae-data.ts), encodes them
 * and prints, per model:
 *
 *   |r| per latent   Pearson r of each content latent with the brightness (the largest is the
 *                    experiment's `absRbrightness`, checked here against the unit file);
 *   R linear         the multiple correlation of a least-squares fit of the brightness on all
 *                    content latents: the largest |r| any direction of the latent space reaches
 *                    (invariant to a rotation of the latents, which the aim's score is not);
 *   R Euler          the same on (cos z, sin z) of every latent, the features CODAE's and the
 *                    DAE's decoders see (Euler encoding, docs/CODAE.md);
 *   R kNN            sqrt of the cross-validated R^2 of kNN regression (k = 10, 5 folds) on the
 *                    standardised content latents: any, also non-linear, encoding;
 *   within shape     the largest |r| of one latent with the brightness inside each shape class;
 *   R one + shape    the multiple correlation of the brightness with the single latent the aim
 *                    scores (the largest |r|) and the shape class (one-hot): near 1 when that
 *                    latent holds the brightness up to an offset per shape.
 *
 *   node scripts/codae_diagnostics.mjs --dir runs/codae-xyrcs-4x
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ml = require(path.join(root, 'dist/ml/index.js'));
const { codaeData } = require(path.join(root, 'dist/experiments/codae-data.js'));
const { pearson } = require(path.join(root, 'dist/ml/metrics/latent-angle.js'));

const { values: a } = parseArgs({ options: { dir: { type: 'string' } } });
if (!a.dir) throw new Error('--dir DIR (a soapix experiment codae output folder) is required');
const settings = JSON.parse(readFileSync(path.join(a.dir, 'settings.json'), 'utf8')).settings;
await ml.selectBackend({ prefer: 'wasm', log: false });
const data = codaeData(settings.dataset, {
  trainImages: 2,
  testImages: settings.testImages,
  dataSeed: settings.dataSeed,
});
if (data.brightnessFactor < 0) throw new Error(`data set '${settings.dataset}' has no brightness factor`);
const test = data.test;
const F = test.factorNames.length;
const brightness = Float64Array.from({ length: test.count }, (_, i) => test.factors[i * F + data.brightnessFactor]);

/** Multiple correlation of y with the columns (least squares with an intercept, normal equations in float64). */
function multipleR(columns, y) {
  const n = y.length;
  const X = [new Float64Array(n).fill(1), ...columns];
  const k = X.length;
  // A = X^T X | X^T y, solved by Gaussian elimination with partial pivoting (k <= 5 here).
  const A = Array.from({ length: k }, (_, i) => {
    const row = new Float64Array(k + 1);
    for (let j = 0; j < k; j++) for (let r = 0; r < n; r++) row[j] += X[i][r] * X[j][r];
    for (let r = 0; r < n; r++) row[k] += X[i][r] * y[r];
    return row;
  });
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
    [A[c], A[p]] = [A[p], A[c]];
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = A[r][c] / A[c][c];
      for (let j = c; j <= k; j++) A[r][j] -= f * A[c][j];
    }
  }
  const beta = A.map((row, i) => row[k] / row[i]);
  const fit = Float64Array.from({ length: n }, (_, r) => X.reduce((s, col, j) => s + beta[j] * col[r], 0));
  return pearson(fit, y);
}

/** sqrt of the 5-fold cross-validated R^2 of kNN regression (k = 10) on standardised columns. */
function knnR(columns, y, k = 10, folds = 5) {
  const n = y.length;
  const z = columns.map((c) => {
    const m = c.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(c.reduce((s, v) => s + (v - m) ** 2, 0) / n) || 1;
    return c.map((v) => (v - m) / sd);
  });
  const pred = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const best = [];
    for (let j = 0; j < n; j++) {
      if (j % folds === i % folds) continue;
      let d = 0;
      for (const c of z) d += (c[i] - c[j]) ** 2;
      if (best.length < k || d < best[best.length - 1][0]) {
        best.push([d, y[j]]);
        best.sort((p, q) => p[0] - q[0]);
        if (best.length > k) best.pop();
      }
    }
    pred[i] = best.reduce((s, p) => s + p[1], 0) / best.length;
  }
  const m = y.reduce((s, v) => s + v, 0) / n;
  let ss = 0;
  let st = 0;
  for (let i = 0; i < n; i++) ((ss += (y[i] - pred[i]) ** 2), (st += (y[i] - m) ** 2));
  return Math.sqrt(Math.max(0, 1 - ss / st));
}

/** The content latents of a saved model, one Float64Array per latent. */
async function contentLatents(dir) {
  const kind = JSON.parse(readFileSync(path.join(dir, 'soapix.json'), 'utf8')).kind;
  const model =
    kind === 'codae' ? await ml.Codae.load(dir) : kind === 'dae' ? await ml.Dae.load(dir) : await ml.Rvae.load(dir);
  try {
    const enc = await model.encode(test);
    const z = enc.z ?? enc;
    return Array.from({ length: z.cols }, (_, j) =>
      Float64Array.from({ length: z.rows }, (_, i) => z.data[i * z.cols + j]),
    );
  } finally {
    model.dispose();
  }
}

const f = (v) => v.toFixed(3);
const shapes = test.shapes;
for (const id of readdirSync(path.join(a.dir, 'models')).sort()) {
  const unit = path.join(a.dir, 'units', `${id}.json`);
  const z = await contentLatents(path.join(a.dir, 'models', id));
  const perLatent = z.map((c) => Math.abs(pearson(c, brightness)));
  const recorded = existsSync(unit) ? JSON.parse(readFileSync(unit, 'utf8')).result.content.absRbrightness : null;
  const euler = z.flatMap((c) => [c.map(Math.cos), c.map(Math.sin)]);
  const within = shapes.map((name, s) => {
    const rows = [];
    for (let i = 0; i < test.count; i++) if (test.labels[i] === s) rows.push(i);
    const yb = Float64Array.from(rows, (i) => brightness[i]);
    return `${name} ${f(
      Math.max(
        ...z.map((c) =>
          Math.abs(
            pearson(
              Float64Array.from(rows, (i) => c[i]),
              yb,
            ),
          ),
        ),
      ),
    )}`;
  });
  const best = z[perLatent.indexOf(Math.max(...perLatent))];
  const oneHot = shapes.slice(1).map((_, s) => Float64Array.from(test.labels, (l) => (l === s + 1 ? 1 : 0)));
  console.log(
    `${id}: |r| per latent ${perLatent.map(f).join(', ')} (max ${f(Math.max(...perLatent))}; unit file ${recorded === null ? '-' : f(recorded)}); ` +
      `R linear ${f(multipleR(z, brightness))}, R Euler ${f(multipleR(euler, brightness))}, R kNN ${f(knnR(z, brightness))}; ` +
      `within shape: ${within.join(', ')}; R one + shape ${f(multipleR([best, ...oneHot], brightness))}`,
  );
}
