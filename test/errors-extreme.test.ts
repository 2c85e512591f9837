/**
 * Extreme but accepted parameter values give a RangeError or a finite result, never NaN/Inf, and
 * requests too large to allocate fail cleanly; centres given as junk are rejected.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Soap, type SoapOptions } from '../lib/soap/soap';
import { expectThrow, SMALL, WATER } from './helpers/bad-input';
import { repoRoot } from './helpers/reference';

// ---------------------------------------------------------------------------------------------
// Extreme but accepted parameter values, and requests too large to allocate. Cases that could
// hang or abort the process run in a child process with a time limit.

const requireHere = createRequire(__filename);
const NODE_GYP_BUILD = requireHere.resolve('node-gyp-build');

/** Runs `body` (JS using `N` = NativeSoap) in a child node process; returns its status and output. */
function inChild(
  body: string,
  timeoutMs = 20000,
): { status: number | null; signal: string | null; out: string; timedOut: boolean } {
  const code = `const N = require(${JSON.stringify(NODE_GYP_BUILD)})(${JSON.stringify(repoRoot)}).NativeSoap;\n${body}`;
  const r = spawnSync(process.execPath, ['-e', code], { timeout: timeoutMs, encoding: 'utf8', killSignal: 'SIGKILL' });
  return {
    status: r.status,
    signal: r.signal,
    out: `${r.stdout ?? ''}${r.stderr ?? ''}`.slice(-2000),
    timedOut: (r.error !== undefined && /ETIMEDOUT/.test(String(r.error))) || r.signal === 'SIGKILL',
  };
}

/** Either a RangeError naming `param`, or an all-finite result. Returns a description of a violation, or ''. */
function finiteOrRangeError(opts: SoapOptions, param: RegExp): string {
  let soap: Soap;
  try {
    soap = new Soap(opts);
  } catch (e) {
    if (e instanceof RangeError && param.test(e.message)) return '';
    return `constructor threw ${String(e)}`;
  }
  const m = soap.createSync({
    positions: [
      [0, 0, 0],
      [1, 0, 0],
      [0, 1.5, 0.2],
    ],
  });
  const bad = m.data.filter((v) => !Number.isFinite(v)).length;
  return bad === 0 ? '' : `${JSON.stringify(opts)} was accepted and gives ${bad} of ${m.data.length} non-finite values`;
}

describe('extreme parameter values: a RangeError or a finite result, never NaN/Inf', () => {
  it('sigma and rCut at the ends of the double range (each in a child process: some hang)', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ sigma: 1e-160 }, /sigma/],
      [{ sigma: 1e-300 }, /sigma/],
      [{ sigma: 1e300 }, /sigma/],
      [{ rCut: 1e15 }, /rCut/],
      [{ rCut: 1e200 }, /rCut|alpha/],
      [{ rbf: 'polynomial', sigma: 1e150 }, /sigma/],
      [{ rbf: 'polynomial', sigma: 1e300 }, /sigma/],
      [{ rbf: 'polynomial', rCut: 1e-300 }, /rCut/],
      [{ rbf: 'polynomial', rCut: 1e160 }, /rCut/],
      [{ rbf: 'polynomial', rCut: 1e100 }, /rCut/],
    ];
    const violations: string[] = [];
    for (const [o, re] of cases) {
      const opts = { rCut: 5, nMax: 4, lMax: 3, sigma: 1, rbf: 'gto', ...o };
      const r = inChild(
        `
        try {
          const s = new N({ ...${JSON.stringify(opts)}, species: Int32Array.from([1]) });
          const out = s.computeSync([{ positions: Float64Array.from([0, 0, 0, 1, 0, 0, 0, 1.5, 0.2]) }], 'float64', 1)[0];
          const bad = out.filter((v) => !Number.isFinite(v)).length;
          console.log(bad === 0 ? 'FINITE' : 'NONFINITE ' + bad + ' of ' + out.length);
        } catch (e) { console.log(e.constructor.name + ': ' + e.message); }
      `,
        15000,
      );
      const line = r.out.trim().split('\n').pop() ?? '';
      const ok =
        !r.timedOut && r.status === 0 && (line === 'FINITE' || (line.startsWith('RangeError: ') && re.test(line)));
      if (!ok) violations.push(`${JSON.stringify(o)}: ${r.timedOut ? 'did not return within 15 s' : line}`);
    }
    expect(violations).toEqual([]);
  });

  it('a polynomial basis with non-finite betas is rejected like a GTO one', () => {
    for (const v of [NaN, Infinity]) {
      expectThrow(() => new Soap({ ...SMALL, nMax: 1, rbf: 'polynomial', basis: { betas: [v] } }), RangeError, /beta/);
      expectThrow(
        () => new Soap({ ...SMALL, nMax: 1, lMax: 0, basis: { alphas: [1], betas: [v] } }),
        RangeError,
        /beta/,
      );
    }
  });

  it('weighting functions with a pole at a neighbour distance', () => {
    const cases: Array<[SoapOptions, RegExp]> = [
      [{ ...SMALL, weighting: { function: 'pow', r0: 1, c: 1, d: -1, m: 1 } }, /weighting/], // pole at r = 1
      [{ ...SMALL, weighting: { function: 'exp', r0: 1, c: 1, d: -1, m: 1 } }, /weighting/], // pole at r = 0 (the centre)
      [{ ...SMALL, weighting: { function: 'pow', r0: 1, c: 1, d: 0, m: 1 } }, /weighting/], // pole at r = 0
    ];
    const violations = cases.map(([o, re]) => finiteOrRangeError(o, re)).filter((v) => v !== '');
    expect(violations).toEqual([]);
  });

  it('a polynomial basis with a huge rCut returns (no hang) with a RangeError or a finite result', () => {
    // nMax 4: S_ij ~ rCut^(7+i+j) and products of its diagonal overflow binary128 from rCut ~ 1e165
    for (const rCut of [1e200]) {
      const r = inChild(
        `
        try {
          const s = new N({ rCut: ${rCut}, nMax: 4, lMax: 3, sigma: 1, rbf: 'polynomial', species: Int32Array.from([1]) });
          const out = s.computeSync([{ positions: Float64Array.from([0, 0, 0, 1, 0, 0]) }], 'float64', 1)[0];
          console.log(out.every(Number.isFinite) ? 'FINITE' : 'NONFINITE');
        } catch (e) { console.log(e.constructor.name + ': ' + e.message); }
      `,
        15000,
      );
      expect(r.timedOut, `polynomial rCut=${rCut}: the constructor did not return within 15 s`).toBe(false);
      expect(r.status).toBe(0);
      expect(r.out).toMatch(/^(FINITE|RangeError: .*rCut)/m);
    }
  });

  it('an output too large to allocate throws a RangeError instead of aborting the process', () => {
    // 118 species, nMax 10, lMax 19: 13,935,800 features per row (111 MB); 20,000 rows = 2.2 TB.
    const r = inChild(
      `
      const s = new N({ rCut: 5, nMax: 10, lMax: 19, sigma: 1, species: Int32Array.from({ length: 118 }, (_, i) => i + 1) });
      const n = 20000, p = new Float64Array(3 * n);
      for (let i = 0; i < p.length; i++) p[i] = (i * 0.37) % 50;
      try {
        s.computeSync([{ positions: p, atomicNumbers: new Int32Array(n).fill(1) }], 'float64', 1);
        console.log('RETURNED');
      } catch (e) { console.log(e.constructor.name + ': ' + e.message); }
    `,
      60000,
    );
    expect(r.signal, r.out).toBeNull();
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/RangeError/);
  });
});

describe('centres given as junk', () => {
  it('centers: null / 0 / a string -> a TypeError that names centers, in sync and async calls alike', async () => {
    const soap = new Soap(SMALL);
    for (const c of [null, 0, 'all', 5]) {
      expectThrow(() => soap.createSync({ positions: WATER.positions }, { centers: c as never }), TypeError, /centers/);
      await expect(soap.create({ positions: WATER.positions }, { centers: c as never })).rejects.toThrow(/centers/);
    }
  });
});
