#!/usr/bin/env node
/**
 * Measures what docs/DETERMINISM.md reports: how the seeded outputs and the SOAP features of one
 * machine compare across the engine's SIMD paths (SOAPIX_SIMD), OpenMP thread counts and glibc's
 * FMA variant of exp, and (with --classify) how far `soapix experiment classify` runs apart.
 *
 *   npm run build:ts && node scripts/determinism.mjs [--pipeline] [--classify]
 *
 * Each configuration is a child process (test/helpers/determinism-child.mjs: the SIMD path is
 * chosen once, when the addon loads). Printed per pair of configurations and per group of SOAP
 * matrices: the share of values that differ at all and the largest difference relative to the
 * group's largest value; and whether the outputs that do not touch SOAP (sampling, splits,
 * augmentation, Rng, noise, initial and wasm-trained weights) are equal. About 10 s. --pipeline
 * compares the classify pipeline's raw and scaled spectra under avx2 and avx512 (about 10 s);
 * --classify runs `soapix experiment classify` eight times (about a minute on one core).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Child mode of --pipeline: the classify pipeline's spectra (sampleSpectra, 80:20 split, robust
// scaler fitted on train), raw and scaled, as float32 files.
if (process.argv[2] === '--pipeline-child') {
  const [, , , out, rCut, nMax, lMax, sigma, samples] = process.argv;
  const { createRequire } = await import('node:module');
  const { writeFileSync } = await import('node:fs');
  const require = createRequire(import.meta.url);
  const c = require(path.join(root, 'dist', 'experiments', 'common.js'));
  const { mnistDataset } = require(path.join(root, 'dist', 'index.js'));
  const { trainValSplit } = require(path.join(root, 'dist', 'features', 'sampling.js'));
  const soap = c.makeSoap({ rCut: +rCut, nMax: +nMax, lMax: +lMax, sigma: +sigma });
  const all = await c.sampleSpectra(mnistDataset('train'), soap, +samples, 1, { threads: 1 });
  writeFileSync(`${out}-raw.bin`, all.x);
  const train = c.takeRows(all, trainValSplit(all.rows, 0.8, 1).train);
  c.fitScaler(train);
  writeFileSync(`${out}-scaled.bin`, train.x);
  process.exit(0);
}
const tmp = mkdtempSync(path.join(tmpdir(), 'soapix-determinism-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Groups of the child's SOAP matrices (in its order). */
const GROUPS = [
  ['20/4/4/2 float64', 0, 3],
  ['20/4/4/2 float32', 3, 6],
  ['63/7/10/3 float64', 6, 7],
  ['63/7/10/3 float32', 7, 8],
  ['averaged float64', 8, 14],
];

function child(name, simd, threads, extraEnv = {}) {
  const out = path.join(tmp, `${name}.bin`);
  const stdout = execFileSync(
    process.execPath,
    [path.join(root, 'test', 'helpers', 'determinism-child.mjs'), out, String(threads)],
    {
      cwd: root,
      env: { ...process.env, SOAPIX_SIMD: simd, ...extraEnv },
      encoding: 'utf8',
    },
  );
  const r = JSON.parse(stdout.trim().split('\n').pop());
  const buf = readFileSync(out);
  const all = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
  const mats = [];
  let o = 0;
  for (const n of r.lengths) mats.push(all.subarray(o, (o += n)));
  return { name, ...r, mats };
}

function compare(a, b) {
  const cells = GROUPS.map(([, from, to]) => {
    let n = 0;
    let differ = 0;
    let maxDiff = 0;
    let maxRef = 0;
    for (let m = from; m < to; m++) {
      const x = a.mats[m];
      const y = b.mats[m];
      for (let k = 0; k < x.length; k++) {
        n++;
        const d = Math.abs(x[k] - y[k]);
        if (!Object.is(x[k], y[k])) differ++;
        if (d > maxDiff) maxDiff = d;
        if (Math.abs(y[k]) > maxRef) maxRef = Math.abs(y[k]);
      }
    }
    const share = (100 * differ) / n;
    return differ === 0 ? '0' : `${share < 1 ? '< 1' : share.toFixed(0)} %, ${(maxDiff / maxRef).toExponential(1)}`;
  });
  const sameJs = JSON.stringify(a.hashes) === JSON.stringify(b.hashes);
  return `| ${a.name} vs ${b.name} | ${cells.join(' | ')} | ${sameJs ? 'equal' : 'DIFFER'} |`;
}

const runs = {
  'avx512 1t': child('avx512-1', 'avx512', 1),
  'avx512 2t': child('avx512-2', 'avx512', 2),
  'avx2 1t': child('avx2-1', 'avx2', 1),
  'avx2 3t': child('avx2-3', 'avx2', 3),
  'baseline 1t': child('baseline-1', 'baseline', 1),
  'baseline 1t, glibc exp without FMA': child('baseline-nofma', 'baseline', 1, {
    GLIBC_TUNABLES: 'glibc.cpu.hwcaps=-FMA',
  }),
};
for (const [k, r] of Object.entries(runs)) r.name = `${k} (${r.simdPath} ran)`;
console.log(`| configurations | ${GROUPS.map((g) => g[0]).join(' | ')} | seeded outputs without SOAP |`);
console.log(`| --- | ${GROUPS.map(() => '---').join(' | ')} | --- |`);
for (const [a, b] of [
  ['avx512 1t', 'avx512 2t'],
  ['avx2 1t', 'avx2 3t'],
  ['avx512 1t', 'avx2 1t'],
  ['avx512 1t', 'baseline 1t'],
  ['avx2 1t', 'baseline 1t'],
  ['baseline 1t', 'baseline 1t, glibc exp without FMA'],
]) {
  console.log(compare(runs[a], runs[b]));
}

if (process.argv.includes('--pipeline')) {
  for (const params of [
    ['20', '4', '4', '2', '2000'],
    ['63', '7', '10', '3', '5000'],
  ]) {
    const files = {};
    for (const simd of ['avx2', 'avx512']) {
      files[simd] = path.join(tmp, `pipeline-${simd}`);
      execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--pipeline-child', files[simd], ...params], {
        env: { ...process.env, SOAPIX_SIMD: simd },
      });
    }
    const line = ['raw', 'scaled'].map((kind) => {
      const read = (f) => {
        const b = readFileSync(`${f}-${kind}.bin`);
        return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      };
      const x = read(files.avx2);
      const y = read(files.avx512);
      let differ = 0;
      let maxDiff = 0;
      let maxRef = 0;
      for (let k = 0; k < x.length; k++) {
        if (x[k] !== y[k]) differ++;
        maxDiff = Math.max(maxDiff, Math.abs(x[k] - y[k]));
        maxRef = Math.max(maxRef, Math.abs(x[k]));
      }
      return `${kind}: ${((100 * differ) / x.length).toFixed(0)} % of ${x.length} float32 values differ, largest ${(maxDiff / maxRef).toExponential(1)} of the largest value`;
    });
    console.log(
      `\nclassify pipeline, SOAP ${params.slice(0, 4).join('/')}, ${params[4]} spectra, seed 1, avx2 vs avx512: ${line.join('; ')}`,
    );
  }
}

if (process.argv.includes('--classify')) {
  const cli = path.join(root, 'dist', 'cli.js');
  const cases = [
    ['--tiny', ['experiment', 'classify', '--tiny', '-q']],
    [
      '--tiny, 40 epochs',
      [
        'experiment',
        'classify',
        '--tiny',
        '--train-samples',
        '10000',
        '--test-samples',
        '2000',
        '--epochs',
        '40',
        '--patience',
        '40',
        '-q',
      ],
    ],
  ];
  for (const [label, args] of cases) {
    const results = {};
    for (const run of ['avx2', 'avx2 again', 'avx512', 'baseline']) {
      const out = path.join(tmp, `${label}-${run}`.replace(/[^a-z0-9]+/gi, '-'));
      execFileSync(process.execPath, [cli, ...args, '--out', out], {
        env: { ...process.env, SOAPIX_SIMD: run.split(' ')[0] },
        stdio: 'ignore',
      });
      const r = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
      const w = readFileSync(path.join(out, 'model', 'weights.bin'));
      results[run] = { r, w: new Float32Array(w.buffer, w.byteOffset, w.byteLength / 4) };
    }
    console.log(`\nsoapix ${args.join(' ')} --out DIR  (SOAPIX_SIMD as named)`);
    const ref = results.avx2;
    for (const [run, { r, w }] of Object.entries(results)) {
      let differ = 0;
      let maxDiff = 0;
      for (let k = 0; k < w.length; k++) {
        if (w[k] !== ref.w[k]) differ++;
        maxDiff = Math.max(maxDiff, Math.abs(w[k] - ref.w[k]));
      }
      const h = r.training.history;
      const pick = [1, 2, 5, 10, 40].filter((e) => e <= h.length).map((e) => `${e}: ${h[e - 1].valLoss.toFixed(8)}`);
      console.log(
        `  ${run}: test accuracy ${r.test.accuracy}, best epoch ${r.training.bestEpoch}, validation loss by epoch ${pick.join(', ')}; ` +
          `weights differing from avx2: ${differ} of ${w.length} (largest ${maxDiff.toExponential(1)})`,
      );
    }
  }
}
