// Child process of test/kernel-paths.test.ts and test/arm64/reference-arm64.test.ts: computes SOAP
// descriptors with the built package (dist/soap: the Soap class and the addon loader only) under
// whatever SOAPIX_SIMD the parent set, so that every SIMD path of the engine runs in its own
// process (the path is chosen once, when the addon loads), or under an emulated arm64 Node.
//
//   node test/helpers/compute-child.mjs jobs.json results.bin
//
// jobs.json: { jobs: [{ options, basis?, positions, species, dtype }] } (basis as flat arrays).
// results.bin: every result as float64 (float32 results converted exactly), concatenated in job
// order. Prints one JSON line: { simdPath, binary (the addon file loaded), lengths: [...] }.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { Soap } = require(path.join(root, 'dist', 'soap', 'soap.js'));
const { native } = require(path.join(root, 'dist', 'soap', 'native.js'));

const [jobFile, outFile] = process.argv.slice(2);
const { jobs } = JSON.parse(readFileSync(jobFile, 'utf8'));
const parts = [];
for (const job of jobs) {
  const basis = job.basis
    ? {
        betas: Float64Array.from(job.basis.betas),
        ...(job.basis.alphas ? { alphas: Float64Array.from(job.basis.alphas) } : {}),
      }
    : undefined;
  const soap = new Soap(basis ? { ...job.options, basis } : job.options);
  const m = soap.createSync(
    { positions: Float64Array.from(job.positions), species: job.species },
    { dtype: job.dtype },
  );
  parts.push(Float64Array.from(m.data));
}
const total = parts.reduce((n, p) => n + p.length, 0);
const all = new Float64Array(total);
let o = 0;
for (const p of parts) {
  all.set(p, o);
  o += p.length;
}
writeFileSync(outFile, Buffer.from(all.buffer));
const binary = path.relative(root, require('node-gyp-build').path(root));
process.stdout.write(
  `${JSON.stringify({ simdPath: native().simdPath, binary, lengths: parts.map((p) => p.length) })}\n`,
);
