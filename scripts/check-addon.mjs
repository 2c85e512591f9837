#!/usr/bin/env node
// Smoke-checks one compiled addon file (node-gyp's build/Release/soapix.node, cmake-js's
// build-cmake/Release/soapix.node or a prebuild): it loads, computes a descriptor on the calling
// thread and on worker threads (OpenMP linked: no "undefined symbol: GOMP_parallel"), both agree,
// and a C++ exception from the core arrives as a JavaScript RangeError instead of aborting.
//   node scripts/check-addon.mjs [--same] build/Release/soapix.node [more.node ...]
// --same: all files must also expose the same API (module keys, NativeSoap methods) and give the
// same numbers to 1e-12 relative. CI uses it to catch a committed prebuild that is stale
// relative to the sources (fix: `npm run prebuild` and commit prebuilds/).
import { createRequire } from 'node:module';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const same = args.includes('--same');
const files = args.filter((a) => a !== '--same');
if (files.length === 0) {
  console.error('usage: node scripts/check-addon.mjs <addon.node> [...]');
  process.exit(2);
}

const options = (extra = {}) => ({
  rCut: 4,
  nMax: 4,
  lMax: 3,
  sigma: 0.6,
  rbf: 'gto',
  species: Int32Array.from([1, 6]),
  speciesWeights: Float64Array.from([1, 1]),
  compression: 'off',
  average: 'off',
  ...extra,
});

const n = 40;
const positions = new Float64Array(3 * n);
let seed = 12345;
for (let i = 0; i < positions.length; i++) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  positions[i] = (seed / 2147483648) * 5 - 2.5;
}
const atomicNumbers = Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 6 : 1));

let failed = false;
const seen = [];
for (const file of files) {
  const abs = path.resolve(file);
  try {
    const addon = require(abs);
    const soap = new addon.NativeSoap(options());
    const F = soap.featureCount;
    if (F !== (4 * 8 * 9) / 2) throw new Error(`featureCount ${F}, expected 144`);
    const [sync] = soap.computeSync([{ positions, atomicNumbers }], 'float64', 1);
    const [par] = await soap.computeAsync([{ positions, atomicNumbers }], 'float64', 2, {});
    if (sync.length !== n * F) throw new Error(`output length ${sync.length}, expected ${n * F}`);
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < sync.length; i++) {
      if (!Number.isFinite(sync[i])) throw new Error(`non-finite output at ${i}`);
      maxDiff = Math.max(maxDiff, Math.abs(sync[i] - par[i]));
      maxAbs = Math.max(maxAbs, Math.abs(sync[i]));
    }
    if (maxAbs === 0 || maxDiff > 1e-12 * maxAbs) throw new Error(`1 vs 2 threads differ by ${maxDiff}`);
    let threw;
    try {
      new addon.NativeSoap(options({ nMax: 0 }));
    } catch (err) {
      threw = err;
    }
    if (!(threw instanceof RangeError) || !/nMax/.test(threw.message))
      throw new Error(`nMax = 0 should throw a RangeError naming nMax, got ${threw}`);
    const api = [
      ...Object.keys(addon).sort(),
      ...Object.getOwnPropertyNames(addon.NativeSoap.prototype)
        .sort()
        .map((k) => `NativeSoap#${k}`),
    ].join(',');
    const polySoap = new addon.NativeSoap(options({ rbf: 'polynomial', compression: 'crossover', average: 'inner' }));
    const [poly] = polySoap.computeSync([{ positions, atomicNumbers }], 'float64', 1);
    seen.push({ file, api, values: [sync, poly] });
    console.log(`ok   ${file}: ${n} x ${F} features, 1 and 2 threads agree, C++ exceptions -> RangeError`);
  } catch (err) {
    failed = true;
    console.error(`FAIL ${file}: ${err instanceof Error ? err.stack : err}`);
  }
}
if (same && seen.length > 1) {
  const [first, ...rest] = seen;
  for (const other of rest) {
    let problem = '';
    if (other.api !== first.api) problem = `API differs:\n  ${first.file}: ${first.api}\n  ${other.file}: ${other.api}`;
    else {
      for (let k = 0; k < first.values.length && !problem; k++) {
        const a = first.values[k],
          b = other.values[k];
        let d = 0,
          m = 0;
        for (let i = 0; i < a.length; i++) {
          d = Math.max(d, Math.abs(a[i] - b[i]));
          m = Math.max(m, Math.abs(a[i]));
        }
        if (a.length !== b.length || !(d <= 1e-12 * m))
          problem = `results differ (case ${k}: max difference ${d}, scale ${m})`;
      }
    }
    if (problem) {
      failed = true;
      console.error(`FAIL ${other.file} and ${first.file} differ: ${problem}`);
      console.error('     if one is a committed prebuild, it is stale: run `npm run prebuild` and commit prebuilds/');
    } else console.log(`ok   ${other.file} matches ${first.file} (API and results)`);
  }
}
process.exit(failed ? 1 : 0);
