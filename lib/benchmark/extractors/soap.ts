/**
 * SOAP image descriptors on soapix's engine (lib/soap/soap.ts), one vector per image, with no
 * training. Each image becomes a point cloud by Algorithm 1 (docs/PAPER-FACTS.md §1): pixel
 * (row i, column j) with intensity I >= 10 gives the point (x = j, y = i, z = floor(I / 10)).
 * The benchmark's images are floats in [0, 1] (lib/data/augment.ts), so each value is turned back
 * into the 0..255 intensity Algorithm 1 expects, I = round(255 v). For an image that is a pixel
 * permutation of a byte image (an upright image, a quarter turn, a mirror) this gives back exactly
 * the source bytes, because float32(b / 255) * 255 is within 2e-5 of b.
 *
 * Variants (p = the power spectrum at a centre, c = the expansion coefficients; docs/CONVENTIONS.md §5):
 *
 *     inner     p(mean over the points of c)            DScribe average 'inner'
 *     outer     mean over the points of p               DScribe average 'outer'
 *     centroid  p at the intensity-weighted centroid    one centre: (Σ I x, Σ I y, Σ I z) / Σ I over the points
 *     meanstd   [mean over the points of p, std over the points of p]   (population std, 2x the width)
 *
 * A 90° turn or a mirror of the image turns or reflects the point cloud about the image centre
 * exactly (pixel positions are integers and the grid maps onto itself), and the power spectrum is
 * invariant to rotations, reflections and translations of the cloud, so all four are exactly
 * invariant to the 90° turns and mirrors up to float rounding (test/benchmark.test.ts). An image
 * without any point (no intensity >= 10) gets the zero vector.
 */
import type { ImageBatch } from '../../data/augment';
import { imageToPoints } from '../../data/image';
import type { CodeMatrix } from '../../ml/layers/mean-pooling';
import { Soap, type StructureInput, type CentersInput } from '../../soap/soap';
import type { Extractor, ExtractorContext } from '../extractor';

/** SOAP parameters (GTO basis, one species). */
export interface SoapSetting {
  rCut: number;
  nMax: number;
  lMax: number;
  sigma: number;
}

/** The named SOAP settings of the benchmark: the paper's optimum and cheaper ones. */
export const SOAP_SETTINGS: Readonly<Record<'paper' | 'mid' | 'small', Readonly<SoapSetting>>> = Object.freeze({
  paper: Object.freeze({ rCut: 63, nMax: 7, lMax: 10, sigma: 3 }),
  mid: Object.freeze({ rCut: 20, nMax: 6, lMax: 6, sigma: 2 }),
  small: Object.freeze({ rCut: 5, nMax: 4, lMax: 3, sigma: 1 }),
});
export type SoapSettingName = keyof typeof SOAP_SETTINGS;
export const SOAP_SETTING_NAMES = Object.freeze(Object.keys(SOAP_SETTINGS) as SoapSettingName[]);

/** How the spectra of an image become one vector. */
export type SoapVariant = 'inner' | 'outer' | 'centroid' | 'meanstd';
export const SOAP_VARIANTS: readonly SoapVariant[] = Object.freeze(['inner', 'outer', 'centroid', 'meanstd']);

const DESCRIPTIONS: Record<SoapVariant, string> = {
  inner: 'SOAP of the mean expansion over all pixel points (average inner)',
  outer: 'mean of the SOAP spectra of all pixel points (average outer)',
  centroid: 'SOAP at one centre, the intensity-weighted centroid of the points',
  meanstd: 'mean and standard deviation over the pixel points of their SOAP spectra',
};

/** Images per native call (bounds the memory of per-point spectra: 256 x ~200 points x 308 float64 = 126 MB). */
const CHUNK = 256;

/** The 0..255 intensities of image `i` of `images` (I = round(255 v), clamped). */
export function imageBytes(images: ImageBatch, i: number): Uint8Array {
  const n = images.height * images.width;
  const out = new Uint8Array(n);
  const src = images.data;
  for (let k = 0; k < n; k++) out[k] = Math.max(0, Math.min(255, Math.round(src[i * n + k]! * 255)));
  return out;
}

/** The point cloud of each image (Algorithm 1) and its intensity-weighted centroid. */
function cloud(
  images: ImageBatch,
  i: number,
): { positions: Float64Array; count: number; centroid: [number, number, number] } {
  const pixels = imageBytes(images, i);
  const p = imageToPoints({ pixels, rows: images.height, cols: images.width });
  let w = 0;
  const c: [number, number, number] = [0, 0, 0];
  for (let k = 0; k < p.count; k++) {
    const I = pixels[p.pixelIndex[k]!]!;
    w += I;
    for (let d = 0; d < 3; d++) c[d] += I * p.positions[3 * k + d]!;
  }
  if (w > 0) for (let d = 0; d < 3; d++) c[d] /= w;
  return { positions: p.positions, count: p.count, centroid: c };
}

/** One SOAP image descriptor (see the file comment). */
export class SoapExtractor implements Extractor {
  readonly name: string;
  readonly family = 'soap' as const;
  readonly description: string;
  readonly labels = 'none' as const;
  readonly exactD4Invariant = true;
  readonly trainingCoreSeconds = 0;
  private readonly soap: Soap;

  constructor(
    readonly variant: SoapVariant,
    readonly settingName: string,
    readonly setting: SoapSetting,
  ) {
    if (!SOAP_VARIANTS.includes(variant))
      throw new RangeError(`SoapExtractor: unknown variant '${String(variant)}'; known: ${SOAP_VARIANTS.join(', ')}`);
    const average = variant === 'inner' || variant === 'outer' ? variant : 'off';
    this.soap = new Soap({ species: ['H'], rbf: 'gto', ...setting, average });
    this.name = `soap-${variant}-${settingName}`;
    this.description = `${DESCRIPTIONS[variant]}; r_cut ${setting.rCut}, n_max ${setting.nMax}, l_max ${setting.lMax}, sigma ${setting.sigma}`;
  }

  /** Width of the vector. */
  get cols(): number {
    return this.soap.featureCount * (this.variant === 'meanstd' ? 2 : 1);
  }

  async encode(images: ImageBatch, ctx: ExtractorContext): Promise<CodeMatrix> {
    const f = this.soap.featureCount;
    const cols = this.cols;
    const out = new Float32Array(images.count * cols);
    for (let b0 = 0; b0 < images.count; b0 += CHUNK) {
      ctx.signal?.throwIfAborted();
      const b1 = Math.min(images.count, b0 + CHUNK);
      const structures: StructureInput[] = [];
      const centers: (CentersInput | undefined)[] = [];
      const which: number[] = [];
      for (let i = b0; i < b1; i++) {
        const c = cloud(images, i);
        if (c.count === 0) continue; // the zero vector
        structures.push({ positions: c.positions });
        centers.push(this.variant === 'centroid' ? { positions: Float64Array.from(c.centroid) } : undefined);
        which.push(i);
      }
      const mats = await this.soap.createMany(structures, {
        centers: this.variant === 'centroid' ? centers : undefined,
        threads: ctx.threads,
        signal: ctx.signal,
      });
      mats.forEach((m, j) => {
        const row = out.subarray(which[j]! * cols, (which[j]! + 1) * cols);
        if (this.variant !== 'meanstd') {
          for (let k = 0; k < f; k++) row[k] = m.data[k]!;
          return;
        }
        for (let k = 0; k < f; k++) {
          let s = 0;
          for (let r = 0; r < m.rows; r++) s += m.data[r * f + k]!;
          const mean = s / m.rows;
          let v = 0;
          for (let r = 0; r < m.rows; r++) v += (m.data[r * f + k]! - mean) ** 2;
          row[k] = mean;
          row[f + k] = Math.sqrt(v / m.rows);
        }
      });
    }
    return { data: out, rows: images.count, cols };
  }
}

/** The four SOAP image descriptors at one setting. */
export function soapExtractors(
  settingName: string,
  setting: SoapSetting,
  variants: readonly SoapVariant[] = SOAP_VARIANTS,
): SoapExtractor[] {
  return variants.map((v) => new SoapExtractor(v, settingName, setting));
}
