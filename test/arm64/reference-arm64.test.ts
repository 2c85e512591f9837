/**
 * The linux-arm64 prebuilt binary under qemu-aarch64 with an arm64 Node: it loads through
 * node-gyp-build from prebuilds/linux-arm64/, runs the portable kernels, and a subset of the
 * reference cases equals DScribe 2.1.1 (float64, own and injected basis) with float32 within 1e-5
 * of float64. Run by scripts/check-arm64.sh (from .ci/run), which provides the arm64 Node and the
 * emulator; not part of `npm test` (vitest.config.mts excludes test/arm64/).
 *
 * Environment: SOAPIX_ARM64_NODE (path of the arm64 node binary), SOAPIX_QEMU (emulator command
 * line, default "qemu-aarch64 -L /usr/aarch64-linux-gnu"), SOAPIX_ARM64_PACKAGE (a folder holding
 * the package as installed: package.json, dist/, prebuilds/, node_modules/node-gyp-build and
 * test/helpers/compute-child.mjs, without build/).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { listReferenceFiles } from '../helpers/reference';
import { compareWithReference, jobsFor, runChild, writeJobFile } from '../helpers/reference-jobs';

const node = process.env.SOAPIX_ARM64_NODE;
const pkg = process.env.SOAPIX_ARM64_PACKAGE;
const qemu = (process.env.SOAPIX_QEMU ?? 'qemu-aarch64 -L /usr/aarch64-linux-gnu').split(' ').filter(Boolean);
if (!node || !pkg)
  throw new Error('SOAPIX_ARM64_NODE and SOAPIX_ARM64_PACKAGE must be set (run scripts/check-arm64.sh)');

// A small subset (emulation is slow): one case of each kind, every basis and compression path.
const WANT = [
  /^a_paper_.*train00000\.json$/, // paper parameters, integer grid (float32 kernels)
  /^b_gto_.*train00000\.json$/, // small parameters
  /^c_gto_.*train00000\.json$/, // nMax 9 (two 8-lane blocks)
  /^d_poly_.*train00000\.json$/, // polynomial basis
  /^e_water_.*s0\.5\.json$/, // two species, off-grid
  /^e_cluster30_.*crossover\.json$/, // three species, compression crossover
  /^f_paper_/, // rotated image: off-grid at the paper's parameters
];
const files = listReferenceFiles().filter((f) => WANT.some((re) => re.test(f)));
const tmp = mkdtempSync(path.join(tmpdir(), 'soapix-arm64-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('the arm64 binary loads under qemu and equals DScribe on a subset of the reference cases', () => {
  expect(files.length).toBe(WANT.length);
  const jobs = jobsFor(files);
  const jobFile = path.join(tmp, 'jobs.json');
  writeJobFile(jobs, jobFile);
  const r = runChild(jobFile, path.join(tmp, 'out.bin'), {
    command: qemu[0],
    prefix: [...qemu.slice(1), node],
    script: path.join(pkg, 'test', 'helpers', 'compute-child.mjs'),
    timeoutMs: 1_500_000,
  });
  expect(r.binary).toBe(path.join('prebuilds', 'linux-arm64', 'soapix.glibc.node'));
  expect(r.ran).toBe('baseline'); // the portable kernels: no x86 paths on arm64
  const w = compareWithReference(jobs, r.values, (rel, tol, what) => expect(rel, what).toBeLessThanOrEqual(tol));
  console.log(
    `arm64 under qemu (${files.length} cases): injected ${w.injected.toExponential(2)}, own ${w.own.toExponential(2)}, float32 vs float64 ${w.float32.toExponential(2)}`,
  );
}, 1_600_000);
