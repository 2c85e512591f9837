/**
 * Which SIMD kernel path the native SOAP engine runs on this machine. Its float64 sums differ in
 * the last bits between paths, so a seeded experiment is bit-identical only between machines that
 * run the same path (docs/DETERMINISM.md); the experiments record it in results.json for that reason.
 */
import { native } from './native';

/** The kernel paths: "avx512" and "avx2" (x86-64, picked at load time), "baseline" (portable; NEON on arm64). */
export type SimdPath = 'avx512' | 'avx2' | 'baseline';

/**
 * The widest kernel path the engine uses here, after the cap of the environment variable
 * `SOAPIX_SIMD` (read when the addon loads).
 */
export function simdPath(): SimdPath {
  const p = native().simdPath;
  if (p === 'avx512' || p === 'avx2' || p === 'baseline') return p;
  throw new Error(`soapix: the native engine reports an unknown SIMD path '${p}'`);
}
