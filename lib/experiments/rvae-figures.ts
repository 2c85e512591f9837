/**
 * The rVAE experiment's figures (the essay's figures, docs/RVAE.md): the latent space of a model as
 * scatter plots of the content latents coloured by true angle and by digit; the encoded angle
 * against the true angle; the decoded latent manifold (a grid of decoded images over the two
 * content latents at standard-normal quantiles, as pyroVED's manifold2d); reconstructions; and the
 * training curves of every model.
 */
import type { ImageBatch } from '../data/augment';
import { CLASS_COLORS, type VegaLiteSpec } from '../report/figures';
import { grayPng, pictureSpec, tileImages } from '../report/image-grid';

/** The standard-normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/** The manifold grid: `size` values at the normal quantiles of linspace(0.05, 0.95, size) (pyroVED's manifold2d). */
export function manifoldAxis(size: number): number[] {
  if (!Number.isInteger(size) || size < 2)
    throw new RangeError(`manifoldAxis: size must be an integer >= 2, got ${String(size)}`);
  return Array.from({ length: size }, (_, i) => normalQuantile(0.05 + (0.9 * i) / (size - 1)));
}

/**
 * The latent points of a size x size manifold grid (row-major over the tiles: tile row i has
 * z2 = axis[size - 1 - i], top = largest; column j has z1 = axis[j]); further latents are 0.
 */
export function manifoldCodes(size: number, latentDim: number): { data: Float32Array; rows: number; cols: number } {
  const axis = manifoldAxis(size);
  const data = new Float32Array(size * size * latentDim);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const k = (i * size + j) * latentDim;
      data[k] = axis[j];
      if (latentDim > 1) data[k + 1] = axis[size - 1 - i];
    }
  }
  return { data, rows: size * size, cols: latentDim };
}

/** One point of a latent scatter plot. */
export interface LatentPoint {
  z1: number;
  z2: number;
  /** True angle, degrees. */
  angle: number;
  digit: number;
}

/** Two panels of the content latents: coloured by the true angle and by the digit. */
export function latentScatterSpec(points: readonly LatentPoint[], title: string, maxAngle: number): VegaLiteSpec {
  // Full turns: a cyclic colour scheme, so that -180° and 180° get one colour.
  const scheme = maxAngle >= 180 ? 'sinebow' : 'turbo';
  const base = (color: Record<string, unknown>, sub: string): VegaLiteSpec => ({
    title: sub,
    width: 330,
    height: 330,
    mark: { type: 'circle', size: 9, opacity: 0.75 },
    encoding: {
      x: { field: 'z1', type: 'quantitative', title: 'content latent 1', scale: { zero: false } },
      y: { field: 'z2', type: 'quantitative', title: 'content latent 2', scale: { zero: false } },
      color,
    },
  });
  return {
    title,
    data: { values: points },
    hconcat: [
      base(
        {
          field: 'angle',
          type: 'quantitative',
          title: 'true angle (°)',
          scale: { scheme, domain: [-maxAngle, maxAngle] },
        },
        'coloured by true angle',
      ),
      base(
        {
          field: 'digit',
          type: 'nominal',
          title: 'digit',
          scale: { domain: CLASS_COLORS.map((_, k) => k), range: [...CLASS_COLORS] },
        },
        'coloured by digit',
      ),
    ],
    resolve: { scale: { color: 'independent' } },
  };
}

/** The encoded angle against the true angle (degrees), with the least-squares line. */
export function angleScatterSpec(points: readonly { truth: number; encoded: number }[], title: string): VegaLiteSpec {
  const x = { field: 'truth', type: 'quantitative', title: 'true angle (°)' };
  const y = { field: 'encoded', type: 'quantitative', title: 'encoded angle (°)', scale: { zero: false } };
  return {
    title,
    width: 380,
    height: 330,
    data: { values: points },
    layer: [
      { mark: { type: 'circle', size: 8, opacity: 0.5, color: '#4e79a7' }, encoding: { x, y } },
      {
        transform: [{ regression: 'encoded', on: 'truth' }],
        mark: { type: 'line', color: '#e15759', strokeWidth: 2 },
        encoding: { x, y },
      },
    ],
  };
}

/** The training objective per epoch of every unit. */
export function trainingLossSpec(series: readonly { id: string; loss: readonly number[] }[]): VegaLiteSpec {
  const values = series.flatMap((s) => s.loss.map((loss, i) => ({ unit: s.id, epoch: i + 1, loss })));
  return {
    title: 'Training objective (BCE + beta KL per image; pixel-subsampled estimate where used)',
    width: 520,
    height: 320,
    data: { values },
    mark: { type: 'line', point: values.length <= 400 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' },
      y: { field: 'loss', type: 'quantitative', title: 'nats per image', scale: { type: 'log' } },
      color: { field: 'unit', type: 'nominal', title: 'model' },
    },
  };
}

/** The decoded manifold (size x size images, row-major as {@link manifoldCodes}) as a figure with latent axes. */
export async function manifoldFigure(images: ImageBatch, size: number, title: string): Promise<VegaLiteSpec> {
  const axis = manifoldAxis(size);
  const half = (axis[1] - axis[0]) / 2;
  const png = await grayPng(tileImages(images, { columns: size }), 1);
  const side = Math.max(180, Math.min(360, size * images.width));
  return pictureSpec(png, {
    title,
    width: side,
    height: side,
    x: { title: 'content latent 1', domain: [axis[0] - half, axis[size - 1] + half] },
    y: { title: 'content latent 2', domain: [axis[0] - half, axis[size - 1] + half] },
  });
}

/** Rows of images (each row `columns` images) as one figure without axes. */
export async function imageRowsFigure(
  images: ImageBatch,
  columns: number,
  title: string,
  subtitle: string,
): Promise<VegaLiteSpec> {
  const tiled = tileImages(images, { columns, gap: 2 });
  const png = await grayPng(tiled, 2);
  return pictureSpec(png, { title, subtitle, width: tiled.width * 2, height: tiled.height * 2 });
}
