/**
 * The limits of the SOAP options, as the engine enforces them: read from the addon, which takes
 * them from native/src/soap_params.h, the one place they are written. Anything that needs a
 * limit before building a Soap (the CLI's option parsers, help texts) reads it here instead of
 * repeating the number.
 */
import { native } from './native';

/** An inclusive range of integers. */
export interface IntegerRange {
  min: number;
  max: number;
}

export interface SoapLimits {
  /** Radial basis functions. */
  nMax: IntegerRange;
  /** Maximum degree of the spherical harmonics, per radial basis (DScribe 2.1.1: 19 GTO, 20 polynomial). */
  lMax: Record<'gto' | 'polynomial', IntegerRange>;
  /** Radial cutoff: within [min, max], and above `gtoAbove` (exclusive) with the GTO basis. */
  rCut: { min: number; max: number; gtoAbove: number };
  /** Gaussian width: within [min, max]. */
  sigma: { min: number; max: number };
  /** Threads per call (0: all cores). */
  threads: IntegerRange;
  /** Largest |coordinate| of a point or centre. */
  maxCoordinate: number;
}

let cached: SoapLimits | undefined;

/** The engine's limits (loads the addon on first use). */
export function soapLimits(): SoapLimits {
  if (cached) return cached;
  const l = native().limits;
  cached = Object.freeze({
    nMax: { min: l.minNMax, max: l.maxNMax },
    lMax: { gto: { min: l.minLMax, max: l.maxLMaxGto }, polynomial: { min: l.minLMax, max: l.maxLMaxPolynomial } },
    rCut: { min: l.minRCut, max: l.maxRCut, gtoAbove: l.minRCutGtoExclusive },
    sigma: { min: l.minSigma, max: l.maxSigma },
    threads: { min: 0, max: l.maxThreads },
    maxCoordinate: l.maxCoordinate,
  });
  return cached;
}
