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
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIfStale, root } from './helpers/cli';
import {
  caseLetter,
  dscribeBasis,
  flatPoints,
  listReferenceFiles,
  readReference,
  relMaxDiff,
  soapOptionsFor,
} from './helpers/reference';

const PATHS = ['baseline', 'avx2', 'avx512'] as const;
type Path = (typeof PATHS)[number];
const INJECTED_TOL = 1e-9;
const OWN_TOL: Record<string, number> = { a: 1e-4, b: 1e-8, c: 1e-8, d: 1e-4, e: 1e-8, f: 1e-4 };
const F32_TOL = 1e-5;
const ACROSS_PATHS_TOL = 1e-12;

interface Job {
  file: string;
  kind: 'own64' | 'injected64' | 'own32';
}

const files = listReferenceFiles();
const jobs: Job[] = files.flatMap((file) => (['own64', 'injected64', 'own32'] as const).map((kind) => ({ file, kind })));
const tmp = mkdtempSync(path.join(tmpdir(), 'soapix-paths-'));
const jobFile = path.join(tmp, 'jobs.json');
const results = new Map<Path, { ran: string; values: Float64Array[] }>();

function runPath(p: Path): { ran: string; values: Float64Array[] } {
  const hit = results.get(p);
  if (hit) return hit;
  const out = path.join(tmp, `${p}.bin`);
  const stdout = execFileSync(process.execPath, [path.join(root, 'test', 'helpers', 'compute-child.mjs'), jobFile, out], {
    cwd: root,
    env: { ...process.env, SOAPIX_SIMD: p },
    encoding: 'utf8',
    timeout: 300_000,
  });
  const { simdPath, lengths } = JSON.parse(stdout.trim().split('\n').pop()!) as { simdPath: string; lengths: number[] };
  const buf = readFileSync(out);
  const all = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
  const values: Float64Array[] = [];
  let o = 0;
  for (const n of lengths) {
    values.push(all.subarray(o, o + n));
    o += n;
  }
  const r = { ran: simdPath, values };
  results.set(p, r);
  return r;
}

beforeAll(() => {
  buildIfStale();
  writeFileSync(
    jobFile,
    JSON.stringify({
      jobs: jobs.map(({ file, kind }) => {
        const ref = readReference(file);
        const basis = kind === 'injected64' ? dscribeBasis(ref) : undefined;
        return {
          options: soapOptionsFor(ref),
          basis: basis ? { betas: [...basis.betas], ...(basis.alphas ? { alphas: [...basis.alphas] } : {}) } : undefined,
          positions: [...flatPoints(ref)],
          species: ref.species,
          dtype: kind === 'own32' ? 'float32' : 'float64',
        };
      }),
    }),
  );
}, 300_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const worst = new Map<string, string>();

describe.each(PATHS)('SOAPIX_SIMD=%s', (p) => {
  it('runs that path, or the next one down when the CPU lacks it', () => {
    const { ran } = runPath(p);
    expect(PATHS).toContain(ran);
    expect(PATHS.indexOf(ran as Path)).toBeLessThanOrEqual(PATHS.indexOf(p));
    if (ran !== p) console.log(`SOAPIX_SIMD=${p}: this CPU lacks it, ${ran} ran instead`);
  }, 300_000);

  it('float64 equals DScribe 2.1.1 on every reference case (injected and own basis)', () => {
    const { values } = runPath(p);
    let worstInjected = 0, worstOwn = 0;
    jobs.forEach(({ file, kind }, i) => {
      if (kind === 'own32') return;
      const ref = readReference(file);
      const rel = relMaxDiff(values[i]!, ref.descriptor);
      const tol = kind === 'injected64' ? INJECTED_TOL : OWN_TOL[caseLetter(file)]!;
      expect(rel, `${file} (${kind})`).toBeLessThanOrEqual(tol);
      if (kind === 'injected64') worstInjected = Math.max(worstInjected, rel);
      else worstOwn = Math.max(worstOwn, rel);
    });
    worst.set(`${p} injected`, worstInjected.toExponential(2));
    worst.set(`${p} own`, worstOwn.toExponential(2));
  }, 300_000);

  it(`float32 is within ${F32_TOL} of float64 on every reference case`, () => {
    const { values } = runPath(p);
    let w = 0;
    jobs.forEach(({ file, kind }, i) => {
      if (kind !== 'own32') return;
      const f64 = values[i - 2]!; // own64 of the same file
      expect(jobs[i - 2]).toEqual({ file, kind: 'own64' });
      const rel = relMaxDiff(values[i]!, f64);
      expect(rel, file).toBeLessThanOrEqual(F32_TOL);
      w = Math.max(w, rel);
    });
    worst.set(`${p} float32`, w.toExponential(2));
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

afterAll(() => {
  console.log(`kernel paths (max relative difference): ${[...worst].map(([k, v]) => `${k} ${v}`).join('; ')}`);
});
