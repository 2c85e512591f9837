/**
 * Command-line parsers of the SOAP options, bounded by the engine's own limits
 * (lib/soap/limits.ts, read from the addon) instead of repeated numbers. Where a limit depends
 * on the radial basis and the basis is another option, the parser takes the widest range and
 * the engine's check names the rule (e.g. lMax <= 19 with GTO).
 */
import { soapLimits } from '../soap/limits';
import { integerParser, numberParser } from './parse';

/** `--n-max`: an integer within the engine's range (1..64). */
export function nMaxParser(): (value: string) => number {
  const { min, max } = soapLimits().nMax;
  return integerParser(min, max);
}

/** `--l-max`: an integer within the engine's range for `rbf`, or for any basis when omitted. */
export function lMaxParser(rbf?: 'gto' | 'polynomial'): (value: string) => number {
  const { gto, polynomial } = soapLimits().lMax;
  const range = rbf
    ? soapLimits().lMax[rbf]
    : { min: Math.min(gto.min, polynomial.min), max: Math.max(gto.max, polynomial.max) };
  return integerParser(range.min, range.max);
}

/** Help text of `--l-max`'s limits: "at most 19 with gto, 20 with polynomial". */
export function lMaxLimitsText(): string {
  const { gto, polynomial } = soapLimits().lMax;
  return `at most ${gto.max} with gto, ${polynomial.max} with polynomial`;
}

/** `--r-cut` with the GTO basis: a number above the engine's GTO minimum (> 1). */
export function gtoRCutParser(): (value: string) => number {
  return numberParser({ min: soapLimits().rCut.gtoAbove, minExclusive: true });
}

/** `--threads`: 0 (all cores) up to the engine's maximum. */
export function threadsParser(): (value: string) => number {
  const { min, max } = soapLimits().threads;
  return integerParser(min, max);
}
