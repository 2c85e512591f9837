/**
 * Locating and reading the DScribe 2.1.1 reference outputs (docs/REFERENCE-DATA.md describes
 * the cases and the file format; docs/CONVENTIONS.md the maths they follow).
 *
 * The files are committed gzipped in `test/fixtures/reference/` (`<case>.json.gz`; kept out of
 * the npm package). `$SOAPIX_REFERENCE_DIR` points the tests at another folder instead, holding
 * either `<case>.json` or `<case>.json.gz` files. Cases are named by their `.json` name either way.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BasisInput, SoapOptions } from '../../lib/soap/soap';

/** The repository root (test/helpers/../..). */
export const repoRoot: string = path.resolve(__dirname, '..', '..');

/** The committed fixtures. */
export const fixtureReferenceDir: string = path.join(repoRoot, 'test', 'fixtures', 'reference');

/** Where the reference files are. */
export const referenceDir: string = process.env.SOAPIX_REFERENCE_DIR
  ? path.resolve(process.env.SOAPIX_REFERENCE_DIR)
  : fixtureReferenceDir;

/** Files in the folder that are not descriptor cases. */
const NOT_CASES = new Set(['poly_quadrature_grid.json']);

export interface ReferenceParams {
  r_cut: number;
  n_max: number;
  l_max: number;
  sigma: number;
  rbf: 'gto' | 'polynomial';
  /** A mode string, or a dict `{ mode, species_weighting? }`. */
  compression?: string | { mode?: string; species_weighting?: Record<string, number> | null } | null;
  species: string[];
  average?: string;
  weighting?: unknown;
  cutoff_padding: number;
  neighbour_cutoff: number;
}

export interface ReferenceCase {
  /** File name, e.g. `a_paper_rc63_n7_l10_s3_train00000.json`. */
  file: string;
  case: string;
  source: Record<string, unknown>;
  params: ReferenceParams;
  points: number[][];
  species: string[];
  centers: unknown;
  descriptor_shape: [number, number];
  descriptor: number[];
  basis: {
    alphas?: number[][];
    betas: number[][] | number[][][];
    rx?: number[];
    gss?: number[][];
  };
  compare_with?: unknown;
}

/** Throws (never skips) when the reference folder is missing or empty. */
export function requireReferenceDir(): string {
  if (!existsSync(referenceDir) || !statSync(referenceDir).isDirectory())
    throw new Error(
      `reference folder not found: ${referenceDir} (the fixtures are committed in test/fixtures/reference; ` +
        `SOAPIX_REFERENCE_DIR, when set, must name a folder with DScribe's JSON outputs)`,
    );
  return referenceDir;
}

/** The `.json` name of a file in the folder (`x.json.gz` -> `x.json`), or undefined for other files. */
function caseName(f: string): string | undefined {
  if (f.endsWith('.json.gz')) return f.slice(0, -'.gz'.length);
  if (f.endsWith('.json')) return f;
  return undefined;
}

/** Every descriptor case (sorted `.json` names), i.e. every JSON file except the quadrature grid. */
export function listReferenceFiles(): string[] {
  const dir = requireReferenceDir();
  const names = new Set<string>();
  for (const f of readdirSync(dir)) {
    const name = caseName(f);
    if (name !== undefined && !NOT_CASES.has(name)) names.add(name);
  }
  const files = [...names].sort();
  if (files.length === 0) throw new Error(`reference folder ${dir} holds no JSON case files`);
  return files;
}

/** The text of `<name>` (plain) or `<name>.gz` (gunzipped) in the reference folder. */
export function readReferenceText(name: string): string {
  const dir = requireReferenceDir();
  const plain = path.join(dir, name);
  if (existsSync(plain)) return readFileSync(plain, 'utf8');
  const gz = `${plain}.gz`;
  if (existsSync(gz)) return gunzipSync(readFileSync(gz)).toString('utf8');
  throw new Error(`reference file not found: ${plain} (nor ${path.basename(gz)})`);
}

const cache = new Map<string, ReferenceCase>();

/** Reads and parses one case file (cached); `file` is the `.json` name. */
export function readReference(file: string): ReferenceCase {
  const hit = cache.get(file);
  if (hit) return hit;
  const parsed = JSON.parse(readReferenceText(file)) as Omit<ReferenceCase, 'file'>;
  const c: ReferenceCase = { ...parsed, file };
  cache.set(file, c);
  return c;
}

/** The case letter (first character of the file name: a..f). */
export function caseLetter(file: string): string {
  return path.basename(file).charAt(0);
}

/** The compression mode of a case, whether `params.compression` is a string or a dict. */
export function compressionMode(p: ReferenceParams): 'off' | 'crossover' | 'mu2' | 'mu1nu1' {
  const c = p.compression;
  let mode: unknown;
  if (c === undefined || c === null) mode = 'off';
  else if (typeof c === 'string') mode = c;
  else if (typeof c === 'object') mode = c.mode ?? 'off';
  if (mode !== 'off' && mode !== 'crossover' && mode !== 'mu2' && mode !== 'mu1nu1')
    throw new Error(`unexpected compression in reference params: ${JSON.stringify(c)}`);
  return mode;
}

/** Species weights of a dict-form compression, if any. */
export function speciesWeighting(p: ReferenceParams): Record<string, number> | undefined {
  const c = p.compression;
  if (c && typeof c === 'object' && c.species_weighting) return c.species_weighting;
  return undefined;
}

/** Soap options equivalent to the case's DScribe parameters (soapix's own basis). */
export function soapOptionsFor(ref: ReferenceCase): SoapOptions {
  const p = ref.params;
  if ((p.average ?? 'off') !== 'off') throw new Error(`${ref.file}: averaged reference cases are not handled`);
  if (p.weighting !== undefined && p.weighting !== null) throw new Error(`${ref.file}: weighted cases are not handled`);
  const sw = speciesWeighting(p);
  return {
    species: p.species,
    rCut: p.r_cut,
    nMax: p.n_max,
    lMax: p.l_max,
    sigma: p.sigma,
    rbf: p.rbf,
    compression: sw ? { mode: compressionMode(p), speciesWeighting: sw } : compressionMode(p),
  };
}

/** DScribe's basis from the case, flattened row-major in the layout `Soap`'s `basis` option takes. */
export function dscribeBasis(ref: ReferenceCase): BasisInput {
  const b = ref.basis;
  const flat = (v: unknown): number[] => (Array.isArray(v) ? (v as unknown[]).flatMap(flat) : [v as number]);
  if (ref.params.rbf === 'gto') {
    if (!b.alphas) throw new Error(`${ref.file}: GTO case without basis.alphas`);
    return { alphas: Float64Array.from(flat(b.alphas)), betas: Float64Array.from(flat(b.betas)) };
  }
  return { betas: Float64Array.from(flat(b.betas)) };
}

/** The case's points as a flat Float64Array. */
export function flatPoints(ref: ReferenceCase): Float64Array {
  const out = new Float64Array(3 * ref.points.length);
  ref.points.forEach((p, i) => {
    out[3 * i] = p[0]!;
    out[3 * i + 1] = p[1]!;
    out[3 * i + 2] = p[2]!;
  });
  return out;
}

/** max |a - b| / max |b| (b = the reference). Throws if lengths differ; NaN anywhere gives Infinity. */
export function relMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Infinity;
    if (d > maxDiff) maxDiff = d;
    const r = Math.abs(b[i]!);
    if (r > maxRef) maxRef = r;
  }
  if (maxRef === 0) return maxDiff === 0 ? 0 : Infinity;
  return maxDiff / maxRef;
}

/** max |x|. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (Number.isNaN(v)) return NaN;
    if (v > m) m = v;
  }
  return m;
}
