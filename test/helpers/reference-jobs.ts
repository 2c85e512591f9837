/**
 * Reference cases computed in another process (test/helpers/compute-child.mjs): under each SIMD
 * path (test/kernel-paths.test.ts) or under an emulated arm64 Node (test/arm64/). For each case
 * file three jobs: soapix's own basis in float64, DScribe's basis injected in float64, and the own
 * basis in float32; the parent compares the results with the reference files.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { root } from './cli';
import { caseLetter, dscribeBasis, flatPoints, readReference, relMaxDiff, soapOptionsFor } from './reference';

export type JobKind = 'own64' | 'injected64' | 'own32';
export interface Job {
  file: string;
  kind: JobKind;
}

/** Tolerances of test/reference.test.ts, and float32 against float64. */
export const INJECTED_TOL = 1e-9;
export const OWN_TOL: Record<string, number> = { a: 1e-4, b: 1e-8, c: 1e-8, d: 1e-4, e: 1e-8, f: 1e-4 };
export const F32_TOL = 1e-5;

/** The three jobs of each file, in file order. */
export function jobsFor(files: string[]): Job[] {
  return files.flatMap((file) => (['own64', 'injected64', 'own32'] as const).map((kind) => ({ file, kind })));
}

/** Writes the jobs as compute-child.mjs reads them. */
export function writeJobFile(jobs: Job[], file: string): void {
  writeFileSync(
    file,
    JSON.stringify({
      jobs: jobs.map(({ file: f, kind }) => {
        const ref = readReference(f);
        const basis = kind === 'injected64' ? dscribeBasis(ref) : undefined;
        return {
          options: soapOptionsFor(ref),
          basis: basis
            ? { betas: [...basis.betas], ...(basis.alphas ? { alphas: [...basis.alphas] } : {}) }
            : undefined,
          positions: [...flatPoints(ref)],
          species: ref.species,
          dtype: kind === 'own32' ? 'float32' : 'float64',
        };
      }),
    }),
  );
}

export interface ChildResult {
  /** The SIMD path the child's engine ran. */
  ran: string;
  /** The addon file the child loaded, relative to its package root. */
  binary: string;
  /** One result per job, as float64. */
  values: Float64Array[];
}

/**
 * Runs `command [...prefix] <script> jobFile outFile` (default: this Node on the repository's
 * compute-child.mjs) and reads its results.
 */
export function runChild(
  jobFile: string,
  outFile: string,
  opts: { command?: string; prefix?: string[]; script?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): ChildResult {
  const script = opts.script ?? path.join(root, 'test', 'helpers', 'compute-child.mjs');
  const stdout = execFileSync(opts.command ?? process.execPath, [...(opts.prefix ?? []), script, jobFile, outFile], {
    cwd: root,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 300_000,
  });
  const { simdPath, binary, lengths } = JSON.parse(stdout.trim().split('\n').pop()!) as {
    simdPath: string;
    binary: string;
    lengths: number[];
  };
  const buf = readFileSync(outFile);
  const all = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
  const values: Float64Array[] = [];
  let o = 0;
  for (const n of lengths) {
    values.push(all.subarray(o, o + n));
    o += n;
  }
  return { ran: simdPath, binary, values };
}

/** The worst relative differences of one child's results (each also checked by `check`). */
export interface Worst {
  injected: number;
  own: number;
  float32: number;
}

/**
 * Compares every job's result: float64 with DScribe's descriptor (injected basis <= 1e-9, own basis
 * per case letter), float32 with the same child's own-basis float64 (<= 1e-5 of the largest value).
 * `check(rel, tol, what)` asserts one comparison (the caller's expect).
 */
export function compareWithReference(
  jobs: Job[],
  values: Float64Array[],
  check: (rel: number, tol: number, what: string) => void,
): Worst {
  const worst: Worst = { injected: 0, own: 0, float32: 0 };
  jobs.forEach(({ file, kind }, i) => {
    const ref = readReference(file);
    if (kind === 'own32') {
      const j = jobs.findIndex((q) => q.file === file && q.kind === 'own64');
      const rel = relMaxDiff(values[i]!, values[j]!);
      check(rel, F32_TOL, `${file} float32 vs float64`);
      worst.float32 = Math.max(worst.float32, rel);
      return;
    }
    const rel = relMaxDiff(values[i]!, ref.descriptor);
    const tol = kind === 'injected64' ? INJECTED_TOL : OWN_TOL[caseLetter(file)]!;
    check(rel, tol, `${file} (${kind}) vs DScribe`);
    if (kind === 'injected64') worst.injected = Math.max(worst.injected, rel);
    else worst.own = Math.max(worst.own, rel);
  });
  return worst;
}
