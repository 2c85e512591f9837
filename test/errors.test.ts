/**
 * Bad input gives a TypeError / RangeError with a useful message, and the process lives on.
 * Degenerate but valid input (empty structure, points 1e8 apart) computes correctly.
 * Sync and async calls, and cancellation with an AbortSignal. (Extreme parameter values and junk
 * centres: errors-extreme.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../lib/io/idx';
import { imageToPoints, mnistImage } from '../lib/data/image';
import { Rng } from '../lib/util/random';
import { Soap, type CreateOptions, type SoapOptions, type StructureInput } from '../lib/soap/soap';
import { EMPTY, expectThrow, PAPER, SMALL, stillWorks, WATER, type ErrClass } from './helpers/bad-input';
import { maxAbs, relMaxDiff } from './helpers/reference';

/** Asserts that the sync call throws and the async call rejects, both with cls and re. */
async function expectBoth(
  soap: Soap,
  s: StructureInput,
  opts: CreateOptions,
  cls: ErrClass,
  re: RegExp,
  perStructure = true,
): Promise<void> {
  expectThrow(() => soap.createSync(s, opts), cls, re);
  const p = soap.create(s, opts);
  await expect(p).rejects.toBeInstanceOf(cls);
  await expect(p).rejects.toThrow(re);
  // in a batch, a per-structure error names the structure
  const batch = soap.createMany([EMPTY, s], {
    centers: opts.centers ? [undefined, opts.centers] : undefined,
    dtype: opts.dtype,
    threads: opts.threads,
  });
  await expect(batch).rejects.toBeInstanceOf(cls);
  await expect(batch).rejects.toThrow(perStructure ? /structure 1/ : re);
}

describe('bad coordinates', () => {
  const soap = new Soap(SMALL);
  const bad = [NaN, Infinity, -Infinity, 1e300, -1e300, 1e13];
  it.each(bad)('%s in positions -> RangeError naming the point', async (v) => {
    for (const positions of [
      [
        [0, 0, 0],
        [1, v, 2],
      ],
      Float64Array.from([0, 0, 0, 1, v, 2]),
    ]) {
      await expectBoth(soap, { positions }, {}, RangeError, /coordinate y of point 1.*finite/);
    }
  });
  it.each(bad)('%s in centre positions -> RangeError naming the centre', async (v) => {
    await expectBoth(
      soap,
      { positions: [[0, 0, 0]] },
      {
        centers: {
          positions: [
            [0, 0, 0],
            [0, 0, v],
          ],
        },
      },
      RangeError,
      /coordinate z of centre 1.*finite/,
    );
  });
  it('NaN in a multi-species structure and in the paper parameters, too', () => {
    const s = new Soap({ species: ['H', 'O'], rCut: 5, nMax: 2, lMax: 1 });
    expectThrow(
      () =>
        s.createSync({
          positions: [
            [0, 0, 0],
            [NaN, 0, 0],
          ],
          species: ['O', 'H'],
        }),
      RangeError,
      /point 1/,
    );
    expectThrow(() => new Soap(PAPER).createSync({ positions: [[NaN, 0, 0]] }), RangeError, /point 0/);
    stillWorks();
  });
});

describe('bad structure shape', () => {
  const soap = new Soap(SMALL);
  it('positions length not a multiple of 3', async () => {
    await expectBoth(soap, { positions: [0, 0, 0, 1] }, {}, TypeError, /multiple of 3/);
    await expectBoth(soap, { positions: new Float64Array(5) }, {}, TypeError, /multiple of 3/);
    await expectBoth(
      soap,
      {
        positions: [
          [0, 0, 0],
          [1, 2],
        ],
      },
      {},
      TypeError,
      /\[x, y, z\]/,
    );
    await expectBoth(
      soap,
      {
        positions: [
          [0, 0, 0],
          [1, 2, 3, 4],
        ],
      },
      {},
      TypeError,
      /\[x, y, z\]/,
    );
    expectThrow(
      () => soap.createSync({ positions: { centers: { positions: [0, 0] } } } as never),
      TypeError,
      /positions/,
    );
    expectThrow(
      () => soap.createSync({ positions: [[0, 0, 0]] }, { centers: { positions: [0, 0, 0, 1] } }),
      TypeError,
      /centers\.positions.*multiple of 3/,
    );
  });
  it('non-numbers in positions', async () => {
    await expectBoth(soap, { positions: [[0, 0, '1' as never]] }, {}, TypeError, /not a number/);
    await expectBoth(soap, { positions: [0, 0, null as never] }, {}, TypeError, /not a number/);
    expectThrow(() => soap.createSync({ positions: 'abc' as never }), TypeError, /positions/);
    expectThrow(() => soap.createSync(null as never), TypeError, /structure 0 must be an object/);
    expectThrow(() => soap.createSync({} as never), TypeError, /positions/);
  });
  it('species array of the wrong length', async () => {
    const s = new Soap({ species: ['H', 'O'], rCut: 5, nMax: 2, lMax: 1 });
    await expectBoth(s, { positions: WATER.positions, species: ['O', 'H'] }, {}, TypeError, /3 points but 2 species/);
    await expectBoth(
      s,
      { positions: WATER.positions, species: ['O', 'H', 'H', 'H'] },
      {},
      TypeError,
      /3 points but 4 species/,
    );
    await expectBoth(s, { positions: WATER.positions }, {}, TypeError, /species are required/);
  });
  it('unknown species and species not in the Soap', async () => {
    const s = new Soap({ species: ['H', 'O'], rCut: 5, nMax: 2, lMax: 1 });
    await expectBoth(
      s,
      { positions: WATER.positions, species: ['O', 'H', 'Xx'] },
      {},
      RangeError,
      /point 2 .*unknown species "Xx"/,
    );
    await expectBoth(
      s,
      { positions: WATER.positions, species: ['O', 'H', 'h'] },
      {},
      RangeError,
      /point 2 .*did you mean "H"/,
    );
    await expectBoth(
      s,
      { positions: WATER.positions, species: ['O', 'H', 0] },
      {},
      RangeError,
      /point 2 .*unknown species 0/,
    );
    await expectBoth(
      s,
      { positions: WATER.positions, species: ['O', 'H', 119] },
      {},
      RangeError,
      /point 2 .*unknown species 119/,
    );
    await expectBoth(
      s,
      { positions: WATER.positions, species: ['O', 'H', 1.5] },
      {},
      RangeError,
      /point 2 .*not an integer/,
    );
    await expectBoth(
      s,
      { positions: WATER.positions, species: ['O', 'H', 'C'] },
      {},
      RangeError,
      /point 2 has species C, which this Soap does not know; allowed: H, O/,
    );
    await expectBoth(
      s,
      { positions: WATER.positions, species: ['O', 'H', 6] },
      {},
      RangeError,
      /point 2 .*does not know/,
    );
  });
  it('centre indices out of range or not integers', async () => {
    for (const bad of [-1, 3, 1.5, NaN, 1e10]) {
      await expectBoth(
        soap,
        { positions: WATER.positions },
        { centers: { indices: [0, bad] } },
        RangeError,
        /centre index .* \(entry 1\) is out of range; the structure has 3 points/,
      );
    }
    expectThrow(
      () => soap.createSync({ positions: WATER.positions }, { centers: { nope: 1 } as never }),
      TypeError,
      /centers must be/,
    );
  });
});

describe('bad Soap options', () => {
  const make = (o: Partial<SoapOptions>) => () => new Soap({ ...SMALL, ...o } as SoapOptions);
  it('nMax < 1, non-integer or too large', () => {
    expectThrow(make({ nMax: 0 }), RangeError, /nMax must be an integer in \[1, 64\], got 0/);
    expectThrow(make({ nMax: -1 }), RangeError, /nMax .* got -1/);
    expectThrow(make({ nMax: 1.5 }), TypeError, /nMax must be an integer, got 1.5/);
    expectThrow(make({ nMax: NaN }), TypeError, /nMax/);
    expectThrow(make({ nMax: '4' as never }), TypeError, /nMax/);
    expectThrow(make({ nMax: 65 }), RangeError, /nMax .* got 65/);
  });
  it('lMax < 0 or above the maximum (19 GTO, 20 polynomial)', () => {
    expectThrow(make({ lMax: -1 }), RangeError, /lMax must be an integer in \[0, 19\] with the GTO basis, got -1/);
    expectThrow(make({ lMax: 20 }), RangeError, /lMax .*\[0, 19\].* got 20/);
    expectThrow(
      make({ lMax: 21, rbf: 'polynomial' }),
      RangeError,
      /lMax .*\[0, 20\] with the polynomial basis, got 21/,
    );
    expectThrow(make({ lMax: -1, rbf: 'polynomial' }), RangeError, /lMax/);
    expectThrow(make({ lMax: 2.5 }), TypeError, /lMax must be an integer/);
    // the largest allowed values work
    expect(new Soap({ ...SMALL, nMax: 2, lMax: 19 }).featureCount).toBe(20 * 3);
    expect(new Soap({ ...SMALL, nMax: 2, lMax: 20, rbf: 'polynomial' }).featureCount).toBe(21 * 3);
  });
  it('rCut <= 1 with GTO, <= 0 with polynomial, not finite, missing', () => {
    for (const r of [1, 0.5, 1e-9])
      expectThrow(make({ rCut: r }), RangeError, /rCut must be > 1 with the GTO radial basis/);
    for (const r of [0, -3]) expectThrow(make({ rCut: r }), RangeError, /rCut must be a finite number > 0/);
    for (const r of [0, -1])
      expectThrow(make({ rCut: r, rbf: 'polynomial' }), RangeError, /rCut must be a finite number > 0/);
    for (const r of [NaN, Infinity]) {
      expectThrow(make({ rCut: r }), RangeError, /rCut/);
      expectThrow(make({ rCut: r, rbf: 'polynomial' }), RangeError, /rCut/);
    }
    expectThrow(make({ rCut: undefined }), TypeError, /rCut is required/);
    expectThrow(make({ rCut: '5' as never }), TypeError, /rCut must be a number/);
    expect(new Soap({ ...SMALL, rCut: 0.5, rbf: 'polynomial' }).featureCount).toBe(40);
  });
  it('sigma <= 0, NaN or infinite', () => {
    for (const s of [0, -1, NaN, Infinity])
      expectThrow(make({ sigma: s }), RangeError, /sigma must be a finite number > 0/);
    expectThrow(make({ sigma: '1' as never }), TypeError, /sigma/);
  });
  it('species, rbf, compression, average', () => {
    expectThrow(make({ species: [] }), TypeError, /species must be a non-empty array/);
    expectThrow(make({ species: 'H' as never }), TypeError, /species/);
    expectThrow(make({ species: ['H', 'Qq'] }), RangeError, /unknown species "Qq"/);
    expectThrow(make({ species: [0] }), RangeError, /unknown species 0/);
    expectThrow(make({ rbf: 'gauss' as never }), RangeError, /rbf must be 'gto' or 'polynomial'/);
    expectThrow(make({ compression: 'zip' as never }), RangeError, /compression\.mode/);
    expectThrow(
      make({ compression: { mode: 'off', speciesWeighting: { O: 2 } } }),
      RangeError,
      /names O, which is not in species/,
    );
    expectThrow(make({ compression: { speciesWeighting: { H: NaN } } }), RangeError, /finite/);
    expectThrow(make({ average: 'middle' as never }), RangeError, /average must be/);
    expectThrow(() => new Soap(null as never), TypeError, /options must be an object/);
  });
  it('weighting', () => {
    expectThrow(make({ weighting: { function: 'poly', r0: 0 } }), RangeError, /weighting\.r0/);
    expectThrow(make({ weighting: { function: 'pow', r0: 1, c: NaN } }), RangeError, /weighting\.c/);
    expectThrow(make({ weighting: { function: 'cubic' as never } }), RangeError, /weighting\.function/);
    expectThrow(make({ weighting: { w0: NaN } }), RangeError, /w0/);
  });
  it('a basis of the wrong size', () => {
    const good = new Soap(SMALL).basis(); // alphas 4*4, betas 4*4*4
    expect(good.alphas!.length).toBe(16);
    expect(good.betas.length).toBe(64);
    expectThrow(
      make({ basis: { alphas: good.alphas!.slice(1), betas: good.betas } }),
      RangeError,
      /alphas must hold \(lMax\+1\)\*nMax = 16/,
    );
    expectThrow(
      make({ basis: { alphas: good.alphas!, betas: good.betas.slice(0, 60) } }),
      RangeError,
      /betas must hold \(lMax\+1\)\*nMax\*nMax = 64/,
    );
    expectThrow(make({ basis: { betas: good.betas } }), TypeError, /GTO basis needs alphas/);
    const badAlpha = good.alphas!.slice();
    badAlpha[3] = NaN;
    expectThrow(make({ basis: { alphas: badAlpha, betas: good.betas } }), RangeError, /alpha\[l=0\]\[3\]/);
    const poly = new Soap({ ...SMALL, rbf: 'polynomial' }).basis();
    expect(poly.betas.length).toBe(16);
    expectThrow(make({ rbf: 'polynomial', basis: { betas: poly.betas.slice(0, 15) } }), RangeError, /nMax\*nMax/);
    // the right basis, injected, gives the same result as the built-in one
    const s1 = new Soap({ ...SMALL, basis: { alphas: good.alphas!, betas: good.betas } });
    const s2 = new Soap(SMALL);
    const s = { positions: WATER.positions };
    expect(relMaxDiff(s1.createSync(s).data, s2.createSync(s).data)).toBe(0);
  });
  it('a basis that cannot be orthonormalised names nMax and rCut', () => {
    for (const [nMax, rCut] of [
      [40, 1.5],
      [20, 1.5],
      [25, 5],
      [64, 100],
    ] as const) {
      expectThrow(
        make({ nMax, rCut, lMax: 2 }),
        RangeError,
        new RegExp(`nearly linearly dependent|singular.*nMax=${nMax} and rCut=${rCut}`),
      );
      expectThrow(
        make({ nMax, rCut, lMax: 2 }),
        RangeError,
        new RegExp(`nMax=${nMax} and rCut=${rCut}.*lower nMax or raise rCut`),
      );
    }
    expectThrow(
      make({ nMax: 20, rCut: 10, rbf: 'polynomial' }),
      RangeError,
      /polynomial radial basis cannot be orthonormalised for nMax = 20.*lower nMax/,
    );
    // what DScribe accepts still works (docs/CONVENTIONS.md §6)
    expect(new Soap({ ...PAPER, nMax: 15 }).featureCount).toBe((11 * 15 * 16) / 2);
    expect(new Soap({ ...SMALL, nMax: 12 }).featureCount).toBe((4 * 12 * 13) / 2);
    stillWorks();
  });
});

describe('bad create options', () => {
  const soap = new Soap(SMALL);
  const s = { positions: WATER.positions };
  it('dtype', async () => {
    for (const d of ['float16', 'Float64', 64, null])
      await expectBoth(soap, s, { dtype: d as never }, RangeError, /dtype must be 'float64' or 'float32'/, false);
  });
  it('threads', async () => {
    for (const t of [-1, 1.5, NaN, 5000, '2', Infinity])
      await expectBoth(
        soap,
        s,
        { threads: t as never },
        RangeError,
        /threads must be an integer in \[0, 4096\]/,
        false,
      );
    expect(soap.createSync(s, { threads: 1 }).rows).toBe(3);
    expect(soap.createSync(s, { threads: 3 }).rows).toBe(3);
  });
  it('createMany arguments', async () => {
    await expect(soap.createMany('x' as never)).rejects.toThrow(TypeError);
    await expect(soap.createMany([s, s], { centers: [undefined] })).rejects.toThrow(
      /centers has 1 entries for 2 structures/,
    );
    await expect(soap.createMany([s, { positions: [[NaN, 0, 0]] }, s])).rejects.toThrow(
      /structure 1: coordinate x of point 0/,
    );
  });
});

describe('degenerate but valid input', () => {
  it('an empty structure gives 0 rows', async () => {
    for (const opts of [SMALL, { ...SMALL, species: ['H', 'O'] }, { ...SMALL, rbf: 'polynomial' as const }]) {
      const soap = new Soap(opts);
      for (const positions of [[], new Float64Array(0)]) {
        const a = soap.createSync({ positions });
        const b = await soap.create({ positions, species: [] });
        for (const m of [a, b]) {
          expect(m.rows).toBe(0);
          expect(m.cols).toBe(soap.featureCount);
          expect(m.data.length).toBe(0);
        }
      }
      const many = await soap.createMany([
        { positions: [] },
        { positions: [[0, 0, 0]], species: ['H'] },
        { positions: [] },
      ]);
      expect(many.map((m) => m.rows)).toEqual([0, 1, 0]);
    }
    // no structures at all
    expect(await new Soap(SMALL).createMany([])).toEqual([]);
  });

  function isolatedCheck(opts: SoapOptions, positions: Float64Array): void {
    const soap = new Soap(opts);
    const single = soap.createSync({ positions: [[0, 0, 0]] });
    const m = soap.createSync({ positions });
    const labels = soap.featureLabels();
    expect(m.rows).toBe(positions.length / 3);
    expect(m.data.every(Number.isFinite)).toBe(true);
    let l0 = 0;
    for (let r = 0; r < m.rows; r++)
      for (let c = 0; c < m.cols; c++) {
        const v = m.data[r * m.cols + c]!;
        if (labels[c]!.l > 0) expect(v).toBe(0);
        else l0 = Math.max(l0, Math.abs(v));
        expect(Math.abs(v - single.data[c]!)).toBeLessThanOrEqual(1e-14 * maxAbs(single.data));
      }
    expect(l0).toBeGreaterThan(0);
  }

  it('two points 1e8 apart are two isolated atoms (only the l=0 block non-zero)', () => {
    for (const opts of [SMALL, PAPER]) isolatedCheck(opts, Float64Array.from([0, 0, 0, 1e8, 0, 0]));
    isolatedCheck(SMALL, Float64Array.from([0, 0, 0, 0, -1e8, 1e8]));
  });

  it('1000 points spread over 1e9 compute fast and give isolated-atom rows', () => {
    const rng = new Rng(7);
    const p = new Float64Array(3000);
    for (let i = 0; i < p.length; i++) p[i] = (rng.nextFloat() - 0.5) * 1e9;
    for (const opts of [SMALL, PAPER]) isolatedCheck(opts, p);
  });

  it('points near the coordinate limit (1e12) work; a single isolated point is not zero', () => {
    const soap = new Soap(SMALL);
    const m = soap.createSync({
      positions: [
        [1e12, -1e12, 0],
        [0, 0, 0],
      ],
    });
    expect(m.rows).toBe(2);
    expect(relMaxDiff(m.data.subarray(0, m.cols), m.data.subarray(m.cols))).toBe(0);
  });

  it('duplicate points: identical rows, l=0 block 4x the single-atom value (docs/CONVENTIONS.md §6)', () => {
    const soap = new Soap(SMALL);
    const single = soap.createSync({ positions: [[0, 0, 0]] });
    const dup = soap.createSync({
      positions: [
        [1, 2, 3],
        [1, 2, 3],
      ],
    });
    expect(relMaxDiff(dup.data.subarray(0, dup.cols), dup.data.subarray(dup.cols))).toBe(0);
    expect(
      relMaxDiff(
        dup.data.subarray(0, dup.cols),
        single.data.map((v) => 4 * v),
      ),
    ).toBeLessThanOrEqual(1e-14);
  });
});

describe('sync and async', () => {
  const mnist = loadMnist('train');
  const images = Array.from({ length: 5 }, (_, i) => ({ positions: imageToPoints(mnistImage(mnist, i)).positions }));

  it('createSync, create and createMany agree exactly', async () => {
    const soap = new Soap(SMALL);
    const sync = images.map((s) => soap.createSync(s));
    const asyncOne = await Promise.all(images.map((s) => soap.create(s)));
    const many = await soap.createMany(images, { threads: 2 });
    for (let i = 0; i < images.length; i++) {
      expect(sync[i]!.rows).toBe(images[i]!.positions.length / 3);
      expect(relMaxDiff(asyncOne[i]!.data, sync[i]!.data)).toBe(0);
      expect(relMaxDiff(many[i]!.data, sync[i]!.data)).toBe(0);
    }
  });

  it('create returns a promise and does not block on the call itself', async () => {
    const soap = new Soap(PAPER);
    let ticked = false;
    const p = soap.createMany(images);
    expect(p).toBeInstanceOf(Promise);
    setImmediate(() => (ticked = true));
    const out = await p;
    expect(out.length).toBe(5);
    expect(ticked).toBe(true);
  });
});

describe('AbortSignal', () => {
  const mnist = loadMnist('train');
  const big = Array.from({ length: 1500 }, (_, i) => ({ positions: imageToPoints(mnistImage(mnist, i)).positions }));

  it('an already-aborted signal rejects immediately with the signal reason', async () => {
    const soap = new Soap(PAPER);
    const ac = new AbortController();
    ac.abort();
    const err = await soap.createMany(big, { signal: ac.signal, threads: 1 }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(err).toBe(ac.signal.reason);
    const ac2 = new AbortController();
    const reason = new Error('stop now');
    ac2.abort(reason);
    await expect(soap.createMany(big, { signal: ac2.signal })).rejects.toBe(reason);
  });

  it('aborting mid-way rejects with AbortError instead of finishing the batch', async () => {
    const soap = new Soap(PAPER);
    // 1,500 images at the paper's parameters on one thread take seconds: an abort after 100 ms
    // lands mid-batch, and the run must reject rather than resolve with the finished matrices.
    // (No timing is asserted: tests never assert timings.)
    const ac = new AbortController();
    const p = soap.createMany(big, { signal: ac.signal, threads: 1 });
    setTimeout(() => ac.abort(), 100);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('AbortError');
    // the engine is usable afterwards, and a later signal-free run still completes
    const again = await soap.createMany(big.slice(0, 3), { signal: new AbortController().signal });
    expect(again.length).toBe(3);
    stillWorks();
  });

  it('aborting after completion changes nothing', async () => {
    const soap = new Soap(SMALL);
    const ac = new AbortController();
    const out = await soap.createMany(big.slice(0, 3), { signal: ac.signal });
    ac.abort();
    expect(out.length).toBe(3);
    expect(out[0]!.rows).toBe(big[0]!.positions.length / 3);
  });
});

describe('the process survives all of the above', () => {
  it('still computes', () => stillWorks());
});
