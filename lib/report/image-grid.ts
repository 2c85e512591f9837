/**
 * Figures made of images (decoded latent manifolds, reconstructions): gray images tiled into one
 * picture, encoded as PNG with sharp, and placed as a Vega-Lite `image` mark so that the figure gets
 * a title and, where they mean something, axes (e.g. the latent coordinates of a manifold grid).
 * The PNG travels inside the spec as a data: URL, which resvg draws (figures.ts). writeImageGrid
 * writes such a tiled picture straight to a PNG file (reconstructions, traversals).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ImageBatch } from '../data/augment';
import type { VegaLiteSpec } from './figures';

/** A tiled gray picture, one byte per pixel, row-major. */
export interface GrayPicture {
  pixels: Uint8Array;
  width: number;
  height: number;
}

/** Options of {@link tileImages}. */
export interface TileOptions {
  /** Images per row. */
  columns: number;
  /** Pixels between tiles. Default 0. */
  gap?: number;
  /** Gray level of the gaps, 0..255. Default 128. */
  gapLevel?: number;
}

/**
 * Images 0..count-1 of `images` (values in [0, 1], clipped) tiled row by row, `columns` per row;
 * image i goes to tile row floor(i / columns), column i mod columns. A NaN pixel (a tile left out)
 * is drawn in the gap level; other non-finite values as black.
 */
export function tileImages(images: ImageBatch, o: TileOptions): GrayPicture {
  const { count, height: h, width: w, data } = images;
  if (!Number.isInteger(o.columns) || o.columns < 1)
    throw new RangeError(`tileImages: columns must be a positive integer, got ${String(o.columns)}`);
  if (count < 1 || data.length !== count * h * w)
    throw new RangeError(`tileImages: need at least one ${h}x${w} image, got ${data.length} values for ${count}`);
  const gap = o.gap ?? 0;
  const cols = Math.min(o.columns, count);
  const rows = Math.ceil(count / o.columns);
  const width = cols * w + (cols - 1) * gap;
  const height = rows * h + (rows - 1) * gap;
  const pixels = new Uint8Array(width * height).fill(o.gapLevel ?? 128);
  for (let i = 0; i < count; i++) {
    const r0 = Math.floor(i / o.columns) * (h + gap);
    const c0 = (i % o.columns) * (w + gap);
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const v = data[i * h * w + r * w + c];
        pixels[(r0 + r) * width + c0 + c] = Number.isNaN(v)
          ? (o.gapLevel ?? 128)
          : Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)));
      }
    }
  }
  return { pixels, width, height };
}

/** A gray picture as PNG bytes, enlarged `scale` times by pixel repetition (sharp). */
export async function grayPng(p: GrayPicture, scale = 1): Promise<Buffer> {
  // sharp is a native addon; required lazily so that only figure code loads it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sharp = require('sharp') as typeof import('sharp');
  let img = sharp(Buffer.from(p.pixels.buffer, p.pixels.byteOffset, p.pixels.byteLength), {
    raw: { width: p.width, height: p.height, channels: 1 },
  });
  if (scale !== 1) img = img.resize(p.width * scale, p.height * scale, { kernel: 'nearest' });
  return img.png().toBuffer();
}

/** An axis of {@link pictureSpec}: its title and the data range the picture spans. */
export interface PictureAxis {
  title: string;
  domain: [number, number];
}

/** Options of {@link pictureSpec}. */
export interface PictureSpecOptions {
  title: string;
  subtitle?: string;
  /** Displayed size in figure pixels. */
  width: number;
  height: number;
  /** Axes spanned by the picture; without them the picture has none. */
  x?: PictureAxis;
  y?: PictureAxis;
}

/** A Vega-Lite spec showing `png` over the plot area (with axes when given). */
export function pictureSpec(png: Buffer, o: PictureSpecOptions): VegaLiteSpec {
  const url = `data:image/png;base64,${png.toString('base64')}`;
  const x = o.x ?? { title: '', domain: [0, 1] as [number, number] };
  const y = o.y ?? { title: '', domain: [0, 1] as [number, number] };
  const axis = (a: PictureAxis | undefined): Record<string, unknown> | null =>
    a ? { title: a.title, grid: false } : null;
  return {
    title: o.subtitle ? { text: o.title, subtitle: o.subtitle } : o.title,
    width: o.width,
    height: o.height,
    data: { values: [{ x0: x.domain[0], x1: x.domain[1], y0: y.domain[0], y1: y.domain[1], url }] },
    mark: { type: 'image', aspect: false },
    encoding: {
      x: { field: 'x0', type: 'quantitative', scale: { domain: x.domain, nice: false, zero: false }, axis: axis(o.x) },
      x2: { field: 'x1' },
      y: { field: 'y0', type: 'quantitative', scale: { domain: y.domain, nice: false, zero: false }, axis: axis(o.y) },
      y2: { field: 'y1' },
      url: { field: 'url', type: 'nominal' },
    },
    ...(o.x || o.y ? {} : { view: { stroke: null } }),
  };
}

/** Options of {@link writeImageGrid}. */
export interface ImageGridOptions {
  /** Tiles per row. */
  columns: number;
  /** Output pixels per image pixel. Default 3. */
  scale?: number;
  /** Image pixels of mid-gray between tiles, so that black tiles stay visible. Default 1. */
  gap?: number;
}

/** Writes `images` tiled `columns` per row (tileImages) as a PNG file enlarged `scale` times; returns the path. */
export async function writeImageGrid(file: string, images: ImageBatch, options: ImageGridOptions): Promise<string> {
  const picture = tileImages(images, { columns: options.columns, gap: options.gap ?? 1, gapLevel: 128 });
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, await grayPng(picture, options.scale ?? 3));
  return file;
}
