/**
 * Seeded fuzzing of the public API (Soap) and of the raw native binding (NativeSoap): random and
 * malformed options, structures, centres, dtypes and thread counts. Every call must either return
 * a well-formed result (one typed array per structure, rows x featureCount values, all finite) or
 * throw an Error (TypeError / RangeError / Error); the process must survive and keep computing
 * correctly.
 *
 * Finite numbers are drawn from moderate ranges here (|coordinates| <= 1e12 or junk, sigma in
 * [0.05, 50], rCut up to 1e4, weighting parameters without poles); extreme finite parameters are
 * covered by targeted tests in errors-extreme.test.ts. SOAPIX_FUZZ_SEED overrides the seed.
 */
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Rng } from '../lib/util/random';
import { Soap, type FeatureMatrix } from '../lib/soap/soap';
import {
  pick,
  chance,
  junk,
  num,
  int,
  randomPositions,
  nativeOptions,
  nativeStructure,
  describeValue,
  avoidKnownBugs,
  SPECIES_Z,
  SYMBOLS,
} from './helpers/fuzz-inputs';
import { repoRoot } from './helpers/reference';

const requireHere = createRequire(__filename);
const loadNative = requireHere('node-gyp-build') as (dir: string) => { NativeSoap: new (o: unknown) => NativeInstance };
const { NativeSoap } = loadNative(repoRoot);

interface NativeInstance {
  readonly featureCount: number;
  basis(): Record<string, Float64Array>;
  featureLabels(): Int32Array;
  computeSync(...args: unknown[]): unknown;
  computeAsync(...args: unknown[]): unknown;
}

const SEED = Number(process.env.SOAPIX_FUZZ_SEED ?? 20240528);

/** Outcome counters, for the log and to check that both branches were exercised. */
const stats = { calls: 0, ok: 0, TypeError: 0, RangeError: 0, Error: 0 };
/** Distinct messages of plain Errors (neither TypeError nor RangeError), for the log. */
const plainErrorMessages = new Set<string>();

/** With SOAPIX_FUZZ_TRACE=file, every call is logged there before it runs (to find hangs). */
const TRACE = process.env.SOAPIX_FUZZ_TRACE;
function trace(what: () => string): void {
  if (TRACE) appendFileSync(TRACE, what() + '\n');
}

function record(outcome: 'ok' | Error): void {
  stats.calls++;
  if (outcome === 'ok') stats.ok++;
  else if (outcome instanceof TypeError) stats.TypeError++;
  else if (outcome instanceof RangeError) stats.RangeError++;
  else {
    stats.Error++;
    plainErrorMessages.add(outcome.message.replace(/\d+(\.\d+)?(e[+-]?\d+)?/g, '#').slice(0, 120));
  }
}

/** Calls that returned a malformed result (or threw a non-Error): collected, reported at the end. */
const failures: string[] = [];

function malformed(msg: string): void {
  stats.calls++;
  if (failures.length < 1000) failures.push(msg);
}

function expectNoFailures(): void {
  const shown = failures.slice(0, 8).map((f) => (f.length > 1200 ? f.slice(0, 1200) + '...' : f));
  expect(shown, `${failures.length} malformed results`).toEqual([]);
}

/** Records a thrown value: it must be an Error with a non-empty message, else it is a failure. */
function thrown(e: unknown, context: () => string): void {
  if (e instanceof MalformedResult) malformed(`${context()}: ${e.message}`);
  else if (!(e instanceof Error)) malformed(`non-Error thrown (${typeof e}) by ${context()}`);
  else if (typeof e.message !== 'string' || e.message.length === 0) malformed(`empty error message from ${context()}`);
  else record(e);
}

/** Thrown by the result checks (never by the library). */
class MalformedResult extends Error {}

function expectedRows(s: Record<string, unknown>, averaged: boolean): number {
  if (averaged) return 1;
  if (s.centerIndices instanceof Int32Array) return s.centerIndices.length;
  if (s.centerPositions instanceof Float64Array) return s.centerPositions.length / 3;
  return (s.positions as Float64Array).length / 3;
}

/** Checks a native result; throws a descriptive Error if it is malformed. */
function checkNativeResult(res: unknown, structures: unknown[], dtype: unknown, F: number, averaged: boolean): void {
  if (!Array.isArray(res)) throw new MalformedResult('native result is not an array');
  if (res.length !== structures.length)
    throw new MalformedResult(`native result has ${res.length} arrays for ${structures.length} structures`);
  const Kind = dtype === 'float32' ? Float32Array : Float64Array;
  res.forEach((a: unknown, i) => {
    if (!(a instanceof Kind)) throw new MalformedResult(`result ${i} is not a ${Kind.name}`);
    const rows = expectedRows(structures[i] as Record<string, unknown>, averaged);
    if (a.length !== rows * F) throw new MalformedResult(`result ${i} has ${a.length} values, expected ${rows} x ${F}`);
    for (let k = 0; k < a.length; k++)
      if (!Number.isFinite(a[k]!)) throw new MalformedResult(`result ${i}[${k}] = ${a[k]} is not finite`);
  });
}

function checkMatrix(m: FeatureMatrix, soap: Soap, rows: number | undefined, dtype: unknown): void {
  const Kind = dtype === 'float32' ? Float32Array : Float64Array;
  if (!(m.data instanceof Kind)) throw new MalformedResult(`data is not a ${Kind.name}`);
  if (m.cols !== soap.featureCount) throw new MalformedResult(`cols ${m.cols} != featureCount ${soap.featureCount}`);
  if (m.data.length !== m.rows * m.cols)
    throw new MalformedResult(`data length ${m.data.length} != ${m.rows} x ${m.cols}`);
  if (rows !== undefined && m.rows !== rows) throw new MalformedResult(`rows ${m.rows}, expected ${rows}`);
  for (let k = 0; k < m.data.length; k++)
    if (!Number.isFinite(m.data[k]!)) throw new MalformedResult(`data[${k}] = ${m.data[k]} is not finite`);
}

/** Reference result computed before fuzzing, compared again afterwards. */
const WATER = Float64Array.from([0, 0, 0.119, 0, 0.763, -0.477, 0, -0.763, -0.477]);
const WATER_Z = Int32Array.from([8, 1, 1]);
const baselineSoap = new NativeSoap({
  rCut: 5,
  nMax: 4,
  lMax: 3,
  sigma: 0.5,
  rbf: 'gto',
  species: Int32Array.from([1, 8]),
});
const baseline = (
  baselineSoap.computeSync([{ positions: WATER, atomicNumbers: WATER_Z }], 'float64', 1) as Float64Array[]
)[0]!;

describe('fuzz', () => {
  it('raw native binding: random constructor options and compute arguments', async () => {
    const rng = new Rng(SEED);
    const t0 = performance.now();
    let constructed = 0;
    for (let iter = 0; iter < 2000; iter++) {
      const opts = nativeOptions(rng);
      let inst: NativeInstance;
      trace(() => `new NativeSoap(${describeValue(opts)})`);
      try {
        inst = new NativeSoap(opts);
        record('ok');
        constructed++;
      } catch (e) {
        thrown(e, () => `new NativeSoap(${describeValue(opts)})`);
        continue;
      }
      const F = inst.featureCount;
      expect(Number.isInteger(F) && F > 0).toBe(true);
      const labels = inst.featureLabels();
      expect(labels.length).toBe(5 * F);
      const basis = inst.basis();
      for (const v of Object.values(basis)) expect(Array.from(v).every(Number.isFinite)).toBe(true);
      const averaged = opts.average === 'inner' || opts.average === 'outer';
      const species = Array.from(opts.species as Int32Array);
      for (let call = 0; call < 7; call++) {
        const nStruct = chance(rng, 0.05) ? 0 : 1 + rng.nextInt(3);
        const structures = chance(rng, 0.03)
          ? junk(rng)
          : Array.from({ length: nStruct }, () => nativeStructure(rng, species));
        const dtype = chance(rng, 0.1) ? junk(rng) : pick(rng, ['float64', 'float32', undefined]);
        const threads = chance(rng, 0.1) ? junk(rng) : pick(rng, [undefined, 0, 1, 2]);
        const useAsync = chance(rng, 0.15);
        const ctx = (): string =>
          `${useAsync ? 'computeAsync' : 'computeSync'}(${describeValue(structures)}, ${describeValue(dtype)}, ${describeValue(threads)}) on ${describeValue(opts)}`;
        trace(ctx);
        try {
          const res = useAsync
            ? await (inst.computeAsync(
                structures,
                dtype,
                threads,
                chance(rng, 0.5) ? {} : junk(rng),
              ) as Promise<unknown>)
            : inst.computeSync(structures, dtype, threads);
          checkNativeResult(res, structures as unknown[], dtype ?? 'float64', F, averaged);
          record('ok');
        } catch (e) {
          thrown(e, ctx);
        }
      }
      // methods called with junk arguments must ignore them or throw
      try {
        inst.computeSync();
      } catch (e) {
        thrown(e, () => 'computeSync()');
      }
    }
    console.log(`native fuzz: ${constructed} instances in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(constructed).toBeGreaterThan(200);
    expectNoFailures();
  });

  it('raw native binding: junk arguments on a valid instance, and methods on foreign receivers', async () => {
    const rng = new Rng(SEED + 1);
    const inst = new NativeSoap({ rCut: 4, nMax: 3, lMax: 2, sigma: 1, species: Int32Array.from([1, 8]) });
    for (let i = 0; i < 2500; i++) {
      const args = Array.from({ length: rng.nextInt(5) }, () =>
        chance(rng, 0.5) ? junk(rng) : [junk(rng), { positions: junk(rng), atomicNumbers: junk(rng) }],
      );
      const which = rng.nextInt(4);
      trace(() => `junk call ${which} ${describeValue(args)}`);
      try {
        if (which === 0) {
          const res = inst.computeSync(...args);
          checkNativeResult(res, args[0] as unknown[], args[1] ?? 'float64', inst.featureCount, false);
        } else if (which === 1) {
          const res = await (inst.computeAsync(...args) as Promise<unknown>);
          checkNativeResult(res, args[0] as unknown[], args[1] ?? 'float64', inst.featureCount, false);
        } else if (which === 2) {
          new NativeSoap(...(args as [unknown]));
        } else {
          const receiver = pick(rng, [{}, Object.create(NativeSoap.prototype), inst, null, 1]);
          const method = pick(rng, ['computeSync', 'computeAsync', 'basis', 'featureLabels']) as keyof NativeInstance;
          const fn = (NativeSoap.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!;
          const r = fn.call(receiver, ...args);
          if (r instanceof Promise) await r;
        }
        record('ok');
      } catch (e) {
        thrown(e, () => `call ${which} with ${describeValue(args)}`);
      }
    }
    // the featureCount getter on a foreign receiver
    const getter = Object.getOwnPropertyDescriptor(NativeSoap.prototype, 'featureCount')!.get!;
    for (const r of [{}, Object.create(NativeSoap.prototype)]) {
      try {
        getter.call(r);
        record('ok');
      } catch (e) {
        thrown(e, () => 'featureCount getter');
      }
    }
    expectNoFailures();
  });

  it('public API: random options, structures, centres and create options', async () => {
    const rng = new Rng(SEED + 2);
    let constructed = 0;
    for (let iter = 0; iter < 1600; iter++) {
      const nSpecies = 1 + rng.nextInt(3);
      const symbols = SYMBOLS.slice(0, nSpecies);
      const rbf = chance(rng, 0.03) ? junk(rng) : pick(rng, ['gto', 'polynomial', undefined]);
      const opts: Record<string, unknown> = {
        species: chance(rng, 0.05)
          ? junk(rng)
          : symbols.map((s, i) => (chance(rng, 0.2) ? SPECIES_Z[i] : chance(rng, 0.02) ? junk(rng) : s)),
        rCut: chance(rng, 0.08) ? junk(rng) : chance(rng, 0.1) ? rng.nextFloat() * 2 : 1.2 + rng.nextFloat() * 8,
        nMax: int(rng, 0, 5, 0.08),
        lMax: int(rng, -1, 5, 0.08),
        sigma: chance(rng, 0.3) ? undefined : num(rng, 0.05, 3),
        rbf,
      };
      if (chance(rng, 0.3))
        opts.compression = chance(rng, 0.2)
          ? junk(rng)
          : chance(rng, 0.5)
            ? pick(rng, ['off', 'crossover', 'mu2', 'mu1nu1'])
            : {
                mode: pick(rng, ['off', 'crossover', 'mu2', 'mu1nu1', undefined]),
                speciesWeighting: chance(rng, 0.5) ? { [pick(rng, symbols)]: num(rng, 0, 3) } : junk(rng),
              };
      if (chance(rng, 0.3)) opts.average = chance(rng, 0.2) ? junk(rng) : pick(rng, ['off', 'inner', 'outer']);
      if (chance(rng, 0.2))
        opts.weighting = chance(rng, 0.2)
          ? junk(rng)
          : {
              function: pick(rng, ['poly', 'pow', 'exp', undefined]),
              r0: num(rng, 0.5, 6),
              c: num(rng, 0.1, 3),
              d: num(rng, 0.1, 3),
              m: num(rng, 0, 4),
              threshold: chance(rng, 0.5) ? undefined : num(rng, 0.001, 0.5),
            };
      if (chance(rng, 0.05)) opts.basis = { alphas: junk(rng), betas: junk(rng) };
      avoidKnownBugs(opts);
      let soap: Soap;
      trace(() => `new Soap(${describeValue(opts)})`);
      try {
        soap = new Soap(opts as never);
        record('ok');
        constructed++;
      } catch (e) {
        thrown(e, () => `new Soap(${describeValue(opts)})`);
        continue;
      }
      const averaged = soap.options.average !== 'off';
      const labels = soap.featureLabels();
      expect(labels.length).toBe(soap.featureCount);
      for (let call = 0; call < 6; call++) {
        const n = rng.nextInt(7);
        const asNested = chance(rng, 0.3);
        const p = randomPositions(rng, n);
        let positions: unknown = asNested
          ? Array.from({ length: n }, (_, i) => Array.from(p.subarray(3 * i, 3 * i + 3)))
          : chance(rng, 0.3)
            ? Array.from(p)
            : p;
        let positionsAreJunk = false;
        if (chance(rng, 0.05)) {
          positions = junk(rng);
          positionsAreJunk = true;
        }
        let species: unknown =
          nSpecies > 1 || chance(rng, 0.3)
            ? Array.from({ length: n }, () =>
                chance(rng, 0.5) ? pick(rng, symbols) : SPECIES_Z[symbols.indexOf(pick(rng, symbols))],
              )
            : undefined;
        if (chance(rng, 0.04)) species = chance(rng, 0.5) ? junk(rng) : [...((species as unknown[]) ?? []), 'H'];
        if (chance(rng, 0.03) && Array.isArray(species) && n > 0)
          species[0] = pick(rng, ['Xx', 'F', 0, 1.5, null, 'h']);
        const structure = chance(rng, 0.02) ? junk(rng) : { positions, species };
        const createOpts: Record<string, unknown> = {};
        let rows: number | undefined = averaged ? 1 : n;
        const c = rng.nextFloat();
        if (c < 0.15) {
          const idx = chance(rng, 0.1)
            ? junk(rng)
            : Array.from({ length: rng.nextInt(4) }, () =>
                chance(rng, 0.1) ? pick(rng, [-1, n, 1.5, NaN]) : rng.nextInt(Math.max(n, 1)),
              );
          createOpts.centers = { indices: idx };
          rows = averaged ? 1 : Array.isArray(idx) ? idx.length : undefined;
        } else if (c < 0.3) {
          const cp = randomPositions(rng, rng.nextInt(4));
          const junkCenters = chance(rng, 0.1);
          createOpts.centers = junkCenters ? junk(rng) : { positions: chance(rng, 0.5) ? cp : Array.from(cp) };
          rows = junkCenters ? undefined : averaged ? 1 : cp.length / 3;
          if (chance(rng, 0.05)) {
            // ambiguous: both forms (the public layer currently takes the indices)
            createOpts.centers = { positions: cp, indices: [0] };
            rows = undefined;
          }
        }
        if (chance(rng, 0.3)) createOpts.dtype = chance(rng, 0.2) ? junk(rng) : pick(rng, ['float64', 'float32']);
        if (chance(rng, 0.3)) createOpts.threads = chance(rng, 0.2) ? junk(rng) : pick(rng, [0, 1, 2]);
        if (positionsAreJunk && !createOpts.centers && !averaged) rows = undefined;
        const mode = rng.nextInt(10);
        const ctx = (): string =>
          `mode ${mode} ${describeValue(structure)} ${describeValue(createOpts)} on ${describeValue(opts)}`;
        trace(ctx);
        try {
          if (mode < 6) {
            const m = soap.createSync(structure as never, createOpts);
            checkMatrix(m, soap, rows, createOpts.dtype);
          } else if (mode < 8) {
            const m = await soap.create(structure as never, createOpts);
            checkMatrix(m, soap, rows, createOpts.dtype);
          } else {
            const ms = await soap.createMany(
              [structure, structure] as never,
              {
                centers: createOpts.centers ? [createOpts.centers, createOpts.centers] : undefined,
                dtype: createOpts.dtype,
                threads: createOpts.threads,
              } as never,
            );
            if (ms.length !== 2) throw new MalformedResult('createMany returned the wrong number of matrices');
            for (const m of ms) checkMatrix(m, soap, rows, createOpts.dtype);
          }
          record('ok');
        } catch (e) {
          thrown(e, ctx);
        }
      }
    }
    expect(constructed).toBeGreaterThan(150);
    expectNoFailures();
  });

  it('ran >= 10,000 calls with both outcomes, and the engine still gives the same numbers', () => {
    console.log(`fuzz (seed ${SEED}): ${JSON.stringify(stats)}, malformed: ${failures.length}`);
    console.log(`plain Error messages: ${JSON.stringify([...plainErrorMessages])}`);
    expect(stats.calls).toBeGreaterThanOrEqual(10000);
    expect(stats.ok).toBeGreaterThan(2000);
    expect(stats.TypeError).toBeGreaterThan(200);
    expect(stats.RangeError).toBeGreaterThan(200);
    const again = (
      baselineSoap.computeSync([{ positions: WATER, atomicNumbers: WATER_Z }], 'float64', 1) as Float64Array[]
    )[0]!;
    expect(Array.from(again)).toEqual(Array.from(baseline));
    const fresh = new Soap({ species: ['H', 'O'], rCut: 5, nMax: 4, lMax: 3, sigma: 0.5 }).createSync({
      positions: WATER,
      species: ['O', 'H', 'H'],
    });
    expect(Array.from(fresh.data)).toEqual(Array.from(baseline));
  });
});

describe('typed-array views', () => {
  it('positions given as a view with a byte offset are read from the right place', () => {
    const inst = new NativeSoap({ rCut: 5, nMax: 3, lMax: 2, sigma: 1, species: Int32Array.from([1]) });
    const buf = new Float64Array(20).fill(99);
    const view = new Float64Array(buf.buffer, 8 * 5, 9);
    view.set([0, 0, 0, 1, 0, 0, 0, 1.3, 0.4]);
    const a = (inst.computeSync([{ positions: view }], 'float64', 1) as Float64Array[])[0]!;
    const b = (inst.computeSync([{ positions: Float64Array.from(view) }], 'float64', 1) as Float64Array[])[0]!;
    expect(a.length).toBe(3 * inst.featureCount);
    expect(Array.from(a)).toEqual(Array.from(b));
    const z = new Int32Array(10).fill(8);
    const zView = new Int32Array(z.buffer, 4 * 4, 3);
    zView.fill(1);
    const c = (
      inst.computeSync(
        [
          {
            positions: view,
            atomicNumbers: zView,
            centerIndices: new Int32Array(new Int32Array([7, 7, 2, 7]).buffer, 8, 1),
          },
        ],
        'float64',
        1,
      ) as Float64Array[]
    )[0]!;
    expect(Array.from(c)).toEqual(Array.from(b.subarray(2 * inst.featureCount)));
  });
});
