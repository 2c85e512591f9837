/**
 * The SOAP option limits live once, in the engine (native/src/soap_params.h): the addon exports
 * them, and what it exports is exactly what the engine accepts (the boundary value works, one
 * step past it is refused with a message naming the limit). The CLI's option parsers take their
 * bounds from there, so the experiment command's --l-max stops at 19 (GTO) while featurize's
 * goes to 20 (polynomial) and leaves the basis rule to the engine.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'commander';
import { gtoRCutParser, lMaxParser, nMaxParser, threadsParser } from '../lib/cli/soap-options';
import { soapLimits } from '../lib/soap/limits';
import { resolveSoapOptions, Soap, type SoapOptions } from '../lib/soap/soap';

const BASE: SoapOptions = { species: ['H'], rCut: 5, nMax: 2, lMax: 1, sigma: 1 };
const check = (o: Partial<SoapOptions>) => () => resolveSoapOptions({ ...BASE, ...o } as SoapOptions);

describe('soapLimits', () => {
  const L = soapLimits();
  it('are DScribe 2.1.1 limits where DScribe has them', () => {
    expect(L.lMax.gto.max).toBe(19);
    expect(L.lMax.polynomial.max).toBe(20);
    expect(L.rCut.gtoAbove).toBe(1);
  });

  it('are exactly what the engine accepts', () => {
    expect(() => check({ nMax: L.nMax.min })()).not.toThrow();
    expect(() => check({ nMax: L.nMax.max })()).not.toThrow();
    expect(check({ nMax: L.nMax.min - 1 })).toThrow(
      new RegExp(`nMax must be an integer in \\[${L.nMax.min}, ${L.nMax.max}\\]`),
    );
    expect(check({ nMax: L.nMax.max + 1 })).toThrow(RangeError);
    for (const rbf of ['gto', 'polynomial'] as const) {
      const { min, max } = L.lMax[rbf];
      expect(() => check({ rbf, lMax: min })()).not.toThrow();
      expect(() => check({ rbf, lMax: max })()).not.toThrow();
      expect(check({ rbf, lMax: max + 1 })).toThrow(new RegExp(`lMax must be an integer in \\[${min}, ${max}\\]`));
      expect(check({ rbf, lMax: min - 1 })).toThrow(RangeError);
    }
    expect(check({ rCut: L.rCut.gtoAbove })).toThrow(/rCut must be > 1 with the GTO radial basis/);
    expect(() => check({ rCut: L.rCut.gtoAbove * 1.001 })()).not.toThrow();
    expect(() => check({ rbf: 'polynomial', rCut: L.rCut.min })()).not.toThrow();
    expect(check({ rbf: 'polynomial', rCut: L.rCut.min * 0.99 })).toThrow(/rCut must be in \[0\.001, 1e6\]/);
    expect(() => check({ rCut: L.rCut.max })()).not.toThrow();
    expect(check({ rCut: L.rCut.max * 1.01 })).toThrow(RangeError);
    expect(() => check({ sigma: L.sigma.min })()).not.toThrow();
    expect(check({ sigma: L.sigma.min / 2 })).toThrow(/sigma must be in \[1e-6, 1e6\]/);
    expect(check({ sigma: L.sigma.max * 2 })).toThrow(RangeError);
    const soap = new Soap(BASE);
    const s = { positions: [[0, 0, 0]] };
    expect(soap.createSync(s, { threads: L.threads.max }).rows).toBe(1);
    expect(() => soap.createSync(s, { threads: L.threads.max + 1 })).toThrow(
      new RegExp(`threads must be an integer in \\[0, ${L.threads.max}\\]`),
    );
    expect(soap.createSync({ positions: [[L.maxCoordinate, 0, 0]] }).rows).toBe(1);
    expect(() => soap.createSync({ positions: [[L.maxCoordinate * 1.01, 0, 0]] })).toThrow(/coordinate x of point 0/);
  });

  it('resolveSoapOptions refuses what new Soap refuses, with the same error', () => {
    for (const bad of [
      { lMax: 20 },
      { nMax: 1.5 },
      { rbf: 'gauss' },
      { sigma: '1' },
      { compression: 'zip' },
      { species: [] },
    ]) {
      let a: unknown;
      let b: unknown;
      try {
        resolveSoapOptions({ ...BASE, ...bad } as SoapOptions);
      } catch (e) {
        a = e;
      }
      try {
        new Soap({ ...BASE, ...bad } as SoapOptions);
      } catch (e) {
        b = e;
      }
      expect(a).toBeInstanceOf(Error);
      expect((a as Error).constructor).toBe((b as Error).constructor);
      expect((a as Error).message).toBe((b as Error).message);
    }
  });
});

describe('CLI parsers of the SOAP options', () => {
  const L = soapLimits();
  const rejects = (parse: (v: string) => number, v: string): void =>
    expect(() => parse(v)).toThrow(InvalidArgumentError);
  it('take their bounds from the engine', () => {
    expect(nMaxParser()(String(L.nMax.max))).toBe(L.nMax.max);
    rejects(nMaxParser(), String(L.nMax.max + 1));
    rejects(nMaxParser(), String(L.nMax.min - 1));
    // The experiments use the GTO basis: 19 is the largest lMax.
    expect(lMaxParser('gto')('19')).toBe(19);
    rejects(lMaxParser('gto'), '20');
    // featurize takes --rbf too: the parser allows the polynomial maximum, the engine checks the basis.
    expect(lMaxParser()('20')).toBe(20);
    rejects(lMaxParser(), '21');
    rejects(gtoRCutParser(), '1');
    expect(gtoRCutParser()('1.5')).toBe(1.5);
    expect(threadsParser()(String(L.threads.max))).toBe(L.threads.max);
    rejects(threadsParser(), String(L.threads.max + 1));
  });
});
