/**
 * Every SIMD path the engine dispatches to (baseline x86-64 / portable, AVX2+FMA, AVX-512), on every
 * reference case. The path is chosen once, when the addon loads, and capped by the environment
 * variable SOAPIX_SIMD, so each path runs in its own child process (test/helpers/compute-child.mjs,
 * using the built package in dist/). For each path:
 *   - the child reports the path it ran (a path the CPU lacks falls back to the next one down);
 *   - float64 equals DScribe 2.1.1 within reference.test.ts's tolerances (DScribe's basis injected:
 *     <= 1e-9 of the largest value; soapix's own basis: per case);
 *   - float32 is within 1e-5 of the same path's float64 result, relative to its largest value;
 *   - float64 results of all paths agree to 1e-12 of the largest value (they differ only in the
 *     order of floating-point sums).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIfStale } from './helpers/cli';
import { listReferenceFiles, relMaxDiff } from './helpers/reference';
import { compareWithReference, jobsFor, runChild, writeJobFile, type ChildResult } from './helpers/reference-jobs';

const PATHS = ['baseline', 'avx2', 'avx512'] as const;
type Path = (typeof PATHS)[number];
const ACROSS_PATHS_TOL = 1e-12;

const jobs = jobsFor(listReferenceFiles());
const tmp = mkdtempSync(path.join(tmpdir(), 'soapix-paths-'));
const jobFile = path.join(tmp, 'jobs.json');
const results = new Map<Path, ChildResult>();

function runPath(p: Path): ChildResult {
  let r = results.get(p);
  if (!r) {
    r = runChild(jobFile, path.join(tmp, `${p}.bin`), { env: { SOAPIX_SIMD: p } });
    results.set(p, r);
  }
  return r;
}

beforeAll(() => {
  buildIfStale();
  writeJobFile(jobs, jobFile);
}, 300_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const summary: string[] = [];

describe.each(PATHS)('SOAPIX_SIMD=%s', (p) => {
  it('runs that path, or the next one down when the CPU lacks it', () => {
    const { ran } = runPath(p);
    expect(PATHS).toContain(ran);
    expect(PATHS.indexOf(ran as Path)).toBeLessThanOrEqual(PATHS.indexOf(p));
    if (ran !== p) console.log(`SOAPIX_SIMD=${p}: this CPU lacks it, ${ran} ran instead`);
  }, 300_000);

  it('float64 equals DScribe 2.1.1 and float32 is within 1e-5 of float64, on every reference case', () => {
    const w = compareWithReference(jobs, runPath(p).values, (rel, tol, what) =>
      expect(rel, what).toBeLessThanOrEqual(tol),
    );
    summary.push(
      `${p}: injected ${w.injected.toExponential(2)}, own ${w.own.toExponential(2)}, float32 ${w.float32.toExponential(2)}`,
    );
  }, 300_000);

  it(`float64 agrees with the widest path to ${ACROSS_PATHS_TOL}`, () => {
    const mine = runPath(p).values;
    const widest = runPath('avx512').values;
    jobs.forEach(({ file, kind }, i) => {
      if (kind === 'own32') return;
      expect(relMaxDiff(mine[i]!, widest[i]!), `${file} (${kind})`).toBeLessThanOrEqual(ACROSS_PATHS_TOL);
    });
  }, 300_000);
});

afterAll(() => console.log(`kernel paths, max relative differences: ${summary.join('; ')}`));
