#!/usr/bin/env node
/**
 * Experiment 3 (positional noise), alternative readings of the paper's protocol.
 *
 * Evaluates a saved Experiment-1 model folder (soapix.json + weights) on one spectrum per test
 * image (Algorithm 3 plan, the same images and point indices at every noise level) for several
 * sigma_d and several ways of applying the noise, and prints accuracy relative to sigma_d = 0.
 *
 *   node scripts/noise_variants.mjs --model /tmp/repro/exp1/model --images 10000 \
 *     --sigmas 0.1,0.5,1,2,3.9 --variants xyz,zpre,xy,zonly,trunc,refit --threads 1
 *   node scripts/noise_variants.mjs --images 10000 --per-image 2 --epochs 30 --seed 1 \
 *     --sigmas 0.1,0.5,1,2,3.9 --variants retrain --threads 1      # ~12 min on one core
 *
 * One spectrum per image is the default (--per-image applies to 'retrain' only). Noise streams are
 * seeded per image (not the same streams as `soapix experiment noise`). Relative accuracy: to the
 * saved model at sigma_d = 0, except 'retrain' (to its own retrained model at sigma_d = 0).
 *
 * Variants (base point of pixel (i, j), intensity I: x = j, y = i, z = floor(I / 10); e, e' ~ N(0, s^2)):
 *   xyz       x + e, y + e, z + e                  (soapix's displacement, Algorithm 1 as written)
 *   zpre      x + e, y + e, floor(I / 10 + e)      (z noise added before flooring)
 *   xy        x + e, y + e, z                      (noise on the pixel coordinates only)
 *   requant   round(x + e), round(y + e), z + e    (pixel moved, then re-quantised onto the grid)
 *   requantz  round(x + e), round(y + e), floor(I/10 + e) (all three re-quantised)
 *   z255      x + e, y + e, z + e / 10             (z noise in 0-255 intensity units)
 *   var       x + e2, y + e2, z + e2, e2 ~ N(0, s^4) (sigma_d read as a variance given as the std:
 *             np.random.normal(0, sigma**2))
 *   sqrt      x + e3, ..., e3 ~ N(0, s)            (sigma_d read as the variance, std = sqrt(s))
 *   refit     as xyz, but the RobustScaler refitted on the noisy spectra themselves
 *   fixedctr  as xyz for the neighbours, but each SOAP centre at its un-noised position
 *   resample  as xyz, but a different point sample at each noise level
 *   zonly     x, y, z + e                          (noise on the height only)
 *   xyrefit   as xy, with the scaler refitted as in refit
 *   trunc     x + trunc(e), y + trunc(e), z + trunc(e) (positions kept in an integer array: the
 *             noisy value is cast back to an integer, truncating toward zero)
 *   truncxy   x + trunc(e), y + trunc(e), z + e
 *   retrain   as xyz, but a fresh MLP trained on the noisy spectra of 80 % of the images and scored
 *             on the other 20 % ("validation accuracy"), relative to the same procedure at sigma_d = 0
 *             (splitImages + retrainAndScore of lib/experiments/noise-retrain.ts; `soapix experiment noise
 *             --protocol retrain` runs it with soapix's own noise streams)
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lib = require(path.join(root, 'dist/index.js'));
const ml = require(path.join(root, 'dist/ml/index.js'));
const noise = require(path.join(root, 'dist/experiments/noise.js'));

function args() {
  const a = {
    model: '/tmp/repro/exp1/model',
    images: 2000,
    sigmas: [0.5, 1, 2, 3.9],
    variants: ['xyz', 'zpre', 'xy', 'requant', 'z255', 'var', 'refit', 'fixedctr'],
    threads: 1,
    seed: 0,
    perImage: 1,
    epochs: 30,
  };
  const v = process.argv.slice(2);
  for (let k = 0; k < v.length; k += 2) {
    const key = v[k].replace(/^--/, '');
    const val = v[k + 1];
    if (key === 'model') a.model = val;
    else if (key === 'images') a.images = Number(val);
    else if (key === 'sigmas') a.sigmas = val.split(',').map(Number);
    else if (key === 'variants') a.variants = val.split(',');
    else if (key === 'threads') a.threads = Number(val);
    else if (key === 'seed') a.seed = Number(val);
    else if (key === 'per-image') a.perImage = Number(val);
    else if (key === 'epochs') a.epochs = Number(val);
    else throw new Error(`unknown option --${key}`);
  }
  return a;
}

const VARIANTS = new Set([
  'xyz',
  'zpre',
  'xy',
  'requant',
  'requantz',
  'z255',
  'var',
  'sqrt',
  'refit',
  'fixedctr',
  'resample',
  'zonly',
  'xyrefit',
  'retrain',
  'trunc',
  'truncxy',
]);

/**
 * Noisy copy of the base points of one image under `variant`. `I` holds each point's intensity.
 * Returns { positions, centres } (centres: explicit centre positions, or null = the noisy points).
 */
function perturb(variant, base, I, count, sigma, rng) {
  const p = Float64Array.from(base);
  if (sigma === 0) return { positions: p, centres: null };
  const n = (sd) => rng.normal(0, sd);
  for (let q = 0; q < count; q++) {
    const x = 3 * q;
    const zi = Math.floor(I[q] / 10);
    switch (variant) {
      case 'xyz':
      case 'refit':
      case 'fixedctr':
      case 'resample':
      case 'retrain':
        p[x] += n(sigma);
        p[x + 1] += n(sigma);
        p[x + 2] += n(sigma);
        break;
      case 'zpre':
        p[x] += n(sigma);
        p[x + 1] += n(sigma);
        p[x + 2] = Math.floor(I[q] / 10 + n(sigma));
        break;
      case 'xy':
      case 'xyrefit':
        p[x] += n(sigma);
        p[x + 1] += n(sigma);
        break;
      case 'trunc':
        p[x] += Math.trunc(n(sigma));
        p[x + 1] += Math.trunc(n(sigma));
        p[x + 2] += Math.trunc(n(sigma));
        break;
      case 'truncxy':
        p[x] += Math.trunc(n(sigma));
        p[x + 1] += Math.trunc(n(sigma));
        p[x + 2] += n(sigma);
        break;
      case 'zonly':
        p[x + 2] += n(sigma);
        break;
      case 'requant':
        p[x] = Math.round(p[x] + n(sigma));
        p[x + 1] = Math.round(p[x + 1] + n(sigma));
        p[x + 2] += n(sigma);
        break;
      case 'requantz':
        p[x] = Math.round(p[x] + n(sigma));
        p[x + 1] = Math.round(p[x + 1] + n(sigma));
        p[x + 2] = Math.floor(zi + n(sigma));
        break;
      case 'z255':
        p[x] += n(sigma);
        p[x + 1] += n(sigma);
        p[x + 2] += n(sigma) / 10;
        break;
      case 'var': {
        const sd = sigma * sigma;
        p[x] += n(sd);
        p[x + 1] += n(sd);
        p[x + 2] += n(sd);
        break;
      }
      case 'sqrt': {
        const sd = Math.sqrt(sigma);
        p[x] += n(sd);
        p[x + 1] += n(sd);
        p[x + 2] += n(sd);
        break;
      }
      default:
        throw new Error(`unknown variant ${variant}`);
    }
  }
  return { positions: p, centres: variant === 'fixedctr' ? base : null };
}

async function main() {
  const a = args();
  for (const v of a.variants)
    if (!VARIANTS.has(v)) throw new Error(`unknown variant ${v}; known: ${[...VARIANTS].join(', ')}`);
  await ml.selectBackend({ prefer: 'wasm', strict: true, log: () => {} });
  const { classifier, info } = await ml.MlpClassifier.load(a.model);
  const scaler = lib.RobustScaler.fromJSON(info.scaler);
  const s = info.soap;
  const soap = new lib.Soap({ species: ['H'], rCut: s.rCut, nMax: s.nMax, lMax: s.lMax, sigma: s.sigma, rbf: 'gto' });
  const cols = soap.featureCount;
  const ds = lib.mnistDataset('test');
  const imgOpts = { zScale: 0.1, zRounding: 'floor' };

  // Base points of the first `images` test images.
  const bases = [];
  for (let i = 0; i < a.images; i++) {
    const rec = ds.get(i);
    const pts = lib.imageToPoints({ pixels: rec.pixels, rows: rec.rows, cols: rec.cols }, imgOpts);
    const I = new Uint8Array(pts.count);
    for (let q = 0; q < pts.count; q++) I[q] = rec.pixels[pts.pixelIndex[q]];
    bases.push({ positions: pts.positions, count: pts.count, I, label: rec.label });
  }
  const pointCounts = bases.map((b) => b.count);
  const makePlan = (seed, count = a.images) => lib.planSamples({ datasetLength: a.images, count, seed, pointCounts });
  const plan0 = makePlan(a.seed + 2);

  /** Noisy spectra of the sampled points (rows in image order) and their labels. */
  const spectra = (variant, sigma, plan, count) => {
    const x = new Float32Array(count * cols);
    const y = new Int32Array(count);
    let r = 0;
    for (let i = 0; i < a.images; i++) {
      const b = bases[i];
      const idx = lib.pointsForImage(plan, i, b.count);
      if (idx.length === 0) continue;
      const rng = new lib.Rng((a.seed * 1000003 + i * 7919 + 12345) >>> 0);
      const { positions, centres } = perturb(variant, b.positions, b.I, b.count, sigma, rng);
      let c;
      if (centres) {
        const cp = new Float64Array(3 * idx.length);
        for (let k = 0; k < idx.length; k++) cp.set(centres.subarray(3 * idx[k], 3 * idx[k] + 3), 3 * k);
        c = { positions: cp };
      } else c = { indices: idx };
      const f = soap.createSync({ positions }, { centers: c, dtype: 'float32', threads: a.threads });
      for (let k = 0; k < f.rows; k++) {
        x.set(f.data.subarray(k * cols, (k + 1) * cols), r * cols);
        y[r++] = b.label;
      }
    }
    return { x: x.subarray(0, r * cols), y: y.subarray(0, r), rows: r, cols };
  };

  /** 'retrain': a fresh MLP trained on the noisy spectra of 80 % of the images, accuracy on the other 20 %. */
  const retrain = async (sigma) => {
    const count = a.images * a.perImage;
    const plan = makePlan(a.seed + 7, count);
    const d = spectra('retrain', sigma, plan, count);
    // Split by image (the split of `soapix experiment noise --protocol retrain`), then the library's train-and-score step.
    const imgOfRow = [];
    for (let i = 0; i < a.images; i++) {
      const k = lib.pointsForImage(plan, i, bases[i].count).length;
      for (let j = 0; j < k; j++) imgOfRow.push(i);
    }
    const isVal = noise.splitImages(a.images, a.seed + 99);
    const s = await noise.retrainAndScore(d, imgOfRow, isVal, {
      hidden: info.mlp.hidden,
      dropout: info.mlp.dropout,
      epochs: a.epochs,
      patience: 5,
      seed: 1,
    });
    process.stderr.write(
      `retrain sigma_d ${sigma}: ${s.trainRows} train / ${s.valRows} val spectra, ${s.epochs} epochs (best ${s.bestEpoch})\n`,
    );
    return s.valAccuracy;
  };

  const evaluate = async (variant, sigma) => {
    if (variant === 'retrain') return retrain(sigma);
    const plan = variant === 'resample' && sigma > 0 ? makePlan(a.seed + 2 + Math.round(sigma * 1000)) : plan0;
    const d = spectra(variant, sigma, plan, a.images);
    const { x: xs, y, rows: r } = d;
    if ((variant === 'refit' || variant === 'xyrefit') && sigma > 0)
      new lib.RobustScaler().fit(xs, r, cols).transformInPlace(xs, r, cols);
    else scaler.transformInPlace(xs, r, cols);
    const pred = classifier.predictClasses(xs);
    let ok = 0;
    for (let k = 0; k < r; k++) if (pred[k] === y[k]) ok++;
    return ok / r;
  };

  const t0 = performance.now();
  const base = await evaluate('xyz', 0);
  const bases0 = new Map();
  process.stderr.write(
    `baseline (sigma_d = 0) accuracy ${base.toFixed(4)} on ${a.images} spectra (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
  );
  const rows = [];
  for (const v of a.variants) {
    const row = [];
    for (const sg of a.sigmas) {
      const t = performance.now();
      // 'retrain' is relative to its own sigma_d = 0 run (retrained too); the others to the saved model at sigma_d = 0.
      if (v === 'retrain' && !bases0.has(v)) bases0.set(v, await evaluate(v, 0));
      const b0 = bases0.get(v) ?? base;
      const acc = await evaluate(v, sg);
      row.push(acc / b0);
      process.stderr.write(
        `${v} sigma_d ${sg}: accuracy ${acc.toFixed(4)} (${((100 * acc) / b0).toFixed(1)} % of ${b0.toFixed(4)}) ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
      );
    }
    rows.push([v, row]);
  }
  console.log(`model ${a.model}; ${a.images} test images, one spectrum each; baseline accuracy ${base.toFixed(4)}`);
  console.log(`| variant | ${a.sigmas.map((s) => `sigma_d ${s}`).join(' | ')} |`);
  console.log(`| --- | ${a.sigmas.map(() => '---').join(' | ')} |`);
  for (const [v, row] of rows)
    console.log(
      `| ${v}${bases0.has(v) ? ` (own baseline ${bases0.get(v).toFixed(3)})` : ''} | ${row.map((rel) => `${(100 * rel).toFixed(1)} %`).join(' | ')} |`,
    );
  classifier.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
