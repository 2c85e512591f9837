/**
 * Gray images laid out as a grid in one PNG (reconstructions, traversals): tiles of equal size,
 * values in [0, 1] shown as 0..255 (clipped), each pixel enlarged to `scale` x `scale`, tiles
 * separated by `gap` pixels of a mid-gray border so that black tiles stay visible. Written with
 * sharp from raw gray bytes.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';

/** Options of {@link writeImageGrid}. */
export interface ImageGridOptions {
  /** Tiles per row. */
  columns: number;
  /** Output pixels per image pixel. Default 3. */
  scale?: number;
  /** Border pixels between tiles. Default 2. */
  gap?: number;
}

/**
 * Writes `images` (count tiles of height x width, row-major, values in [0, 1]; a missing tile is
 * left blank when `data` holds NaN there) as a PNG grid of `columns` tiles per row; returns the path.
 */
export async function writeImageGrid(file: string, images: { data: Float32Array; count: number; height: number; width: number }, options: ImageGridOptions): Promise<string> {
  const { count, height: h, width: w, data } = images;
  const cols = options.columns;
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`writeImageGrid: columns must be a positive integer, got ${String(cols)}`);
  if (data.length !== count * h * w) throw new RangeError(`writeImageGrid: data has ${data.length} values, expected ${count} x ${h} x ${w}`);
  const scale = options.scale ?? 3;
  const gap = options.gap ?? 2;
  const rows = Math.max(1, Math.ceil(count / cols));
  const W = cols * (w * scale + gap) + gap;
  const H = rows * (h * scale + gap) + gap;
  const out = new Uint8Array(W * H).fill(128);
  for (let t = 0; t < count; t++) {
    const oy = gap + Math.floor(t / cols) * (h * scale + gap);
    const ox = gap + (t % cols) * (w * scale + gap);
    for (let r = 0; r < h * scale; r++) {
      for (let c = 0; c < w * scale; c++) {
        const v = data[t * h * w + Math.floor(r / scale) * w + Math.floor(c / scale)]!;
        out[(oy + r) * W + ox + c] = Number.isNaN(v) ? 128 : Math.round(255 * Math.min(1, Math.max(0, v)));
      }
    }
  }
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const { default: sharp } = await import('sharp');
  await sharp(Buffer.from(out), { raw: { width: W, height: H, channels: 1 } }).png().toFile(file);
  return file;
}
