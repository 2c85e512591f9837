import { describe, expect, it } from 'vitest';
import { ELEMENT_SYMBOLS, MAX_ATOMIC_NUMBER, atomicNumber, chemicalSymbol } from '../lib/soap/species';

describe('species', () => {
  it('has the 118 symbols H..Og in order', () => {
    expect(ELEMENT_SYMBOLS).toHaveLength(118);
    expect(MAX_ATOMIC_NUMBER).toBe(118);
    expect(ELEMENT_SYMBOLS[0]).toBe('H');
    expect(ELEMENT_SYMBOLS[117]).toBe('Og');
    expect(new Set(ELEMENT_SYMBOLS).size).toBe(118);
  });

  it('maps well-known symbols to atomic numbers', () => {
    const known: Array<[string, number]> = [
      ['H', 1],
      ['He', 2],
      ['Li', 3],
      ['C', 6],
      ['N', 7],
      ['O', 8],
      ['Na', 11],
      ['Cl', 17],
      ['Fe', 26],
      ['Br', 35],
      ['Ag', 47],
      ['I', 53],
      ['Xe', 54],
      ['La', 57],
      ['Lu', 71],
      ['W', 74],
      ['Au', 79],
      ['Hg', 80],
      ['Pb', 82],
      ['Rn', 86],
      ['U', 92],
      ['Lr', 103],
      ['Rf', 104],
      ['Cn', 112],
      ['Nh', 113],
      ['Fl', 114],
      ['Mc', 115],
      ['Lv', 116],
      ['Ts', 117],
      ['Og', 118],
    ];
    for (const [s, z] of known) {
      expect(atomicNumber(s)).toBe(z);
      expect(chemicalSymbol(z)).toBe(s);
    }
  });

  it('round-trips every element and accepts numbers', () => {
    for (let z = 1; z <= 118; z++) {
      expect(atomicNumber(chemicalSymbol(z))).toBe(z);
      expect(atomicNumber(z)).toBe(z);
    }
  });

  it('rejects unknown species with a clear message', () => {
    expect(() => atomicNumber('Xx')).toThrow(RangeError);
    expect(() => atomicNumber('Xx')).toThrow(/unknown species "Xx".*H\.\.Og/);
    expect(() => atomicNumber('he')).toThrow(/did you mean "He"/);
    expect(() => atomicNumber('')).toThrow(RangeError);
    expect(() => atomicNumber(' H')).toThrow(RangeError);
    expect(() => atomicNumber(0)).toThrow(RangeError);
    expect(() => atomicNumber(119)).toThrow(/unknown species 119.*1\.\.118/);
    expect(() => atomicNumber(1.5)).toThrow(TypeError);
    expect(() => atomicNumber(Number.NaN)).toThrow(TypeError);
    expect(() => atomicNumber(null as unknown as string)).toThrow(TypeError);
  });

  it('chemicalSymbol validates its argument', () => {
    expect(() => chemicalSymbol(0)).toThrow(RangeError);
    expect(() => chemicalSymbol(119)).toThrow(/1\.\.118/);
    expect(() => chemicalSymbol(2.5)).toThrow(TypeError);
    expect(() => chemicalSymbol('H' as unknown as number)).toThrow(TypeError);
  });
});
