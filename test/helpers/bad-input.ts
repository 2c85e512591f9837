/** Shared by the bad-input tests (errors.test.ts, errors-extreme.test.ts): small options, a water molecule, and assertions. */
import { expect } from 'vitest';
import { Soap, type SoapOptions, type StructureInput } from '../../lib/soap/soap';

export const SMALL: SoapOptions = { species: ['H'], rCut: 5, nMax: 4, lMax: 3, sigma: 1 };
export const PAPER: SoapOptions = { species: ['H'], rCut: 63, nMax: 7, lMax: 10, sigma: 3 };
export const WATER = {
  positions: [
    [0, 0, 0.119],
    [0, 0.763, -0.477],
    [0, -0.763, -0.477],
  ],
  species: ['O', 'H', 'H'],
};

export type ErrClass = typeof TypeError | typeof RangeError;

/** Asserts that fn throws an instance of cls whose message matches re. */
export function expectThrow(fn: () => unknown, cls: ErrClass, re: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${cls.name} matching ${re}`).toBeInstanceOf(cls);
  expect((caught as Error).message).toMatch(re);
}

/** Valid for every Soap. */
export const EMPTY: StructureInput = { positions: [], species: [] };

/** The process is alive and the engine still works. */
export function stillWorks(): void {
  const m = new Soap(SMALL).createSync({
    positions: [
      [0, 0, 0],
      [1, 0, 0],
    ],
  });
  expect(m.rows).toBe(2);
  expect(m.data.every(Number.isFinite)).toBe(true);
}
