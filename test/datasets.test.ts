import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { Dataset, IndexedImage } from '../lib/data/dataset';
import {
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_DEFAULT_DIR,
  InMemoryDataset,
  fashionMnistDataset,
  idxDataset,
  mnistDataset,
} from '../lib/data/datasets';
import { imageFolderDataset } from '../lib/data/image-folder';
import { imageToPoints } from '../lib/data/image';

const tmp = mkdtempSync(path.join(tmpdir(), 'soapix-datasets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes an IDX file (big-endian header); `gzip` compresses it. */
function writeIdx(
  file: string,
  type: 'uint8' | 'int32',
  dims: number[],
  values: ArrayLike<number>,
  gzip = false,
): void {
  const size = type === 'uint8' ? 1 : 4;
  const buf = Buffer.alloc(4 + 4 * dims.length + size * values.length);
  buf[2] = type === 'uint8' ? 0x08 : 0x0c;
  buf[3] = dims.length;
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  const off = 4 + 4 * dims.length;
  for (let i = 0; i < values.length; i++) {
    if (type === 'uint8') buf.writeUInt8(values[i] as number, off + i);
    else buf.writeInt32BE(values[i] as number, off + 4 * i);
  }
  writeFileSync(file, gzip ? gzipSync(buf) : buf);
}

async function collect(ds: Dataset, limit = Infinity): Promise<IndexedImage[]> {
  const out: IndexedImage[] = [];
  for await (const img of ds) {
    out.push(img);
    if (out.length >= limit) break;
  }
  return out;
}

/** Writes a PNG of raw pixels. */
async function writePng(file: string, rows: number, cols: number, channels: 1 | 3, pixels: number[]): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(pixels), { raw: { width: cols, height: rows, channels } })
    .png()
    .toFile(file);
}

describe('mnistDataset', () => {
  it('has 60000 / 10000 images of 28 x 28 with the known first labels', async () => {
    const train = mnistDataset('train');
    const test = mnistDataset('test');
    expect(train.length).toBe(60000);
    expect(test.length).toBe(10000);
    expect(train.name).toBe('mnist/train');
    expect(test.name).toBe('mnist/test');
    expect(train.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const labels = Array.from({ length: 10 }, (_, i) => train.get(i).label);
    expect(labels).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from({ length: 5 }, (_, i) => test.get(i).label)).toEqual([7, 2, 1, 0, 4]);
    const img = train.get(0);
    expect(img).toMatchObject({ rows: 28, cols: 28, channels: 1, label: 5, index: 0 });
    expect(img.pixels).toBeInstanceOf(Uint8Array);
    expect(img.pixels.length).toBe(784);
    // Same points as the MNIST loader path.
    expect(imageToPoints(img).count).toBe(imageToPoints(train.get(0)).count);
    const first = await collect(train, 3);
    expect(first.map((x) => [x.index, x.label])).toEqual([
      [0, 5],
      [1, 0],
      [2, 4],
    ]);
  });

  it('get outside 0..length-1 throws RangeError, a non-integer TypeError', () => {
    const test = mnistDataset('test');
    expect(() => test.get(-1)).toThrow(RangeError);
    expect(() => test.get(10000)).toThrow(RangeError);
    expect(() => test.get(10000)).toThrow(/index 10000 is out of range; allowed are 0..9999/);
    expect(() => test.get(1.5)).toThrow(TypeError);
    expect(() => mnistDataset('val' as 'train')).toThrow(/split must be 'train' or 'test'/);
  });

  it('takes its folder as { dir }, like fashionMnistDataset, and rejects other option shapes', () => {
    const empty = path.join(tmp, 'mnist-empty');
    mkdirSync(empty);
    expect(() => mnistDataset('test', { dir: empty })).toThrow(/MNIST file not found.*t10k-images-idx3-ubyte/);
    for (const f of [mnistDataset, fashionMnistDataset]) {
      expect(() => f('test', empty as never)).toThrow(/options must be an object such as \{ dir/);
      expect(() => f('test', { dir: '' })).toThrow(/dir must be a non-empty string/);
      expect(() => f('test', { dir: 3 } as never)).toThrow(TypeError);
    }
  });
});

// Needs Debian's dataset-fashion-mnist (installed by .ci/run); without it this fails with the install hint.
describe('fashionMnistDataset', () => {
  it('has 60000 / 10000 images with labels 0..9 and the 10 class names', () => {
    const train = fashionMnistDataset('train');
    const test = fashionMnistDataset('test');
    expect(train.length).toBe(60000);
    expect(test.length).toBe(10000);
    expect(train.name).toBe('fashion-mnist/train');
    expect(train.classNames).toEqual([
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ]);
    expect(test.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
    for (const ds of [train, test]) {
      const counts = new Array<number>(10).fill(0);
      for (let i = 0; i < ds.length; i++) {
        const l = ds.get(i).label;
        expect(Number.isInteger(l) && l >= 0 && l <= 9).toBe(true);
        counts[l]!++;
      }
      // Fashion-MNIST is balanced: 6000 / 1000 per class.
      expect(counts).toEqual(new Array(10).fill(ds.length / 10));
    }
    // Known first labels: Ankle boot, T-shirt/top, T-shirt/top, Dress; test: Ankle boot, Pullover.
    expect([0, 1, 2, 3].map((i) => train.get(i).label)).toEqual([9, 0, 0, 3]);
    expect([0, 1].map((i) => test.get(i).label)).toEqual([9, 2]);
    expect(train.get(0)).toMatchObject({ rows: 28, cols: 28, channels: 1 });
  });
});

describe('fashionMnistDataset errors', () => {
  it('names the Debian package when the folder is missing', () => {
    expect(() => fashionMnistDataset('train', { dir: path.join(tmp, 'nope') })).toThrow(/dataset-fashion-mnist/);
    expect(() => fashionMnistDataset('train', { dir: path.join(tmp, 'nope') })).toThrow(/not found/);
  });
  it('names the missing file in an existing folder', () => {
    const d = path.join(tmp, 'fm-empty');
    mkdirSync(d);
    expect(() => fashionMnistDataset('test', { dir: d })).toThrow(
      /t10k-images-idx3-ubyte\.gz.*not found.*dataset-fashion-mnist/,
    );
  });
});

describe('idxDataset', () => {
  const rows = 3;
  const cols = 2;
  const n = 4;
  const pixels = Array.from({ length: n * rows * cols }, (_, k) => (k * 7) % 256);
  const labels = [3, -1, 0, 7];

  it('round-trips a gray IDX pair (int32 labels, gzipped images)', async () => {
    const ip = path.join(tmp, 'gray-images.idx.gz');
    const lp = path.join(tmp, 'gray-labels.idx');
    writeIdx(ip, 'uint8', [n, rows, cols], pixels, true);
    writeIdx(lp, 'int32', [n], labels);
    const ds = idxDataset(ip, { labelsPath: lp });
    expect(ds.length).toBe(n);
    expect(ds.name).toBe('idx:gray-images.idx.gz');
    for (let i = 0; i < n; i++) {
      const img = ds.get(i);
      expect(img).toMatchObject({ rows, cols, channels: 1, label: labels[i], index: i });
      expect(Array.from(img.pixels)).toEqual(pixels.slice(i * 6, (i + 1) * 6));
    }
    const all = await collect(ds);
    expect(all.map((x) => x.index)).toEqual([0, 1, 2, 3]);
    expect(all.map((x) => x.label)).toEqual(labels);
    expect(() => ds.get(-1)).toThrow(RangeError);
    expect(() => ds.get(n)).toThrow(RangeError);
  });

  it('reads [n, rows, cols, channels] images and uint8 labels; no labels file gives -1', () => {
    const ip = path.join(tmp, 'rgb-images.idx');
    const lp = path.join(tmp, 'rgb-labels.idx');
    const px = Array.from({ length: 2 * 2 * 2 * 3 }, (_, k) => k);
    writeIdx(ip, 'uint8', [2, 2, 2, 3], px);
    writeIdx(lp, 'uint8', [2], [1, 2]);
    const ds = idxDataset(ip, { labelsPath: lp, name: 'mine', classNames: ['a', 'b', 'c'] });
    expect(ds.name).toBe('mine');
    expect(ds.classNames).toEqual(['a', 'b', 'c']);
    expect(ds.get(1)).toMatchObject({ rows: 2, cols: 2, channels: 3, label: 2 });
    expect(Array.from(ds.get(1).pixels)).toEqual(px.slice(12));
    const unlabelled = idxDataset(ip);
    expect([unlabelled.get(0).label, unlabelled.get(1).label]).toEqual([-1, -1]);
  });

  it('mismatched counts, wrong types and out-of-range labels give clear errors', () => {
    const ip = path.join(tmp, 'c-images.idx');
    const lp = path.join(tmp, 'c-labels.idx');
    writeIdx(ip, 'uint8', [n, rows, cols], pixels);
    writeIdx(lp, 'uint8', [n - 1], [1, 2, 3]);
    expect(() => idxDataset(ip, { labelsPath: lp })).toThrow(
      /c-images\.idx holds 4 images but .*c-labels\.idx holds 3 labels/,
    );
    const bad = path.join(tmp, 'c-int32-images.idx');
    writeIdx(bad, 'int32', [1, 1, 1], [5]);
    expect(() => idxDataset(bad)).toThrow(/c-int32-images\.idx: expected uint8 images .* found 3-D int32/);
    const flat = path.join(tmp, 'c-flat.idx');
    writeIdx(flat, 'uint8', [4], [1, 2, 3, 4]);
    expect(() => idxDataset(flat)).toThrow(/c-flat\.idx: expected uint8 images/);
    const lp2 = path.join(tmp, 'c-labels2.idx');
    writeIdx(lp2, 'uint8', [n], [0, 1, 2, 3]);
    expect(() => idxDataset(ip, { labelsPath: lp2, classNames: ['x', 'y'] })).toThrow(/label 2 is 2; allowed are 0..1/);
  });

  it('truncated, corrupt and unreadable files give errors naming the file', () => {
    const ip = path.join(tmp, 'trunc-images.idx');
    const full = Buffer.alloc(4 + 12 + n * rows * cols);
    full[2] = 0x08;
    full[3] = 3;
    full.writeUInt32BE(n, 4);
    full.writeUInt32BE(rows, 8);
    full.writeUInt32BE(cols, 12);
    writeFileSync(ip, full.subarray(0, full.length - 5));
    expect(() => idxDataset(ip)).toThrow(/idxDataset: .*trunc-images\.idx: truncated data/);
    const junk = path.join(tmp, 'junk.idx');
    writeFileSync(junk, 'hello world');
    expect(() => idxDataset(junk)).toThrow(/junk\.idx: wrong magic/);
    const gz = path.join(tmp, 'trunc.idx.gz');
    writeFileSync(gz, gzipSync(full).subarray(0, 20));
    expect(() => idxDataset(gz)).toThrow(/trunc\.idx\.gz: .*could not be decompressed/);
    expect(() => idxDataset(path.join(tmp, 'missing.idx'))).toThrow(/cannot read IDX file .*missing\.idx/);
    expect(() => idxDataset(ip, 'labels.idx' as never)).toThrow(/options must be an object such as \{ labelsPath/);
  });
});

describe('InMemoryDataset', () => {
  it('checks its shape and iterates in index order', async () => {
    expect(
      () =>
        new InMemoryDataset({ name: 'x', pixels: new Uint8Array(5), labels: [0, 1], rows: 1, cols: 2, channels: 1 }),
    ).toThrow(/pixels has length 5, expected .* = 4/);
    const ds = new InMemoryDataset({
      name: 'x',
      pixels: Uint8Array.from([1, 2, 3, 4, 5, 6]),
      labels: [0, 1, 2],
      rows: 1,
      cols: 2,
      channels: 1,
    });
    const seen = await collect(ds);
    expect(seen.map((s) => [s.index, s.label, Array.from(s.pixels)])).toEqual([
      [0, 0, [1, 2]],
      [1, 1, [3, 4]],
      [2, 2, [5, 6]],
    ]);
    const empty = new InMemoryDataset({
      name: 'e',
      pixels: new Uint8Array(0),
      labels: [],
      rows: 1,
      cols: 1,
      channels: 1,
    });
    expect(empty.length).toBe(0);
    expect(await collect(empty)).toEqual([]);
    expect(() => empty.get(0)).toThrow(/the data set is empty/);
  });
});

describe('imageFolderDataset', () => {
  // Folder: classes "cat" and "dog" (sorted), 2 images each of 4 x 3 (rows x cols), plus one unlabelled file.
  const root = path.join(tmp, 'folder');
  const rows = 4;
  const cols = 3;
  const gray = (seed: number): number[] => Array.from({ length: rows * cols }, (_, k) => (seed * 31 + k * 17) % 256);
  const rgb = (seed: number): number[] => Array.from({ length: rows * cols * 3 }, (_, k) => (seed * 13 + k * 11) % 256);
  const setup = (async () => {
    await writePng(path.join(root, 'dog', 'b.png'), rows, cols, 3, rgb(1));
    await writePng(path.join(root, 'dog', 'a.png'), rows, cols, 3, rgb(2));
    await writePng(path.join(root, 'cat', 'z.png'), rows, cols, 1, gray(3));
    await writePng(path.join(root, 'cat', 'nested', 'y.png'), rows, cols, 1, gray(4));
    await writePng(path.join(root, 'loose.png'), rows, cols, 1, gray(5));
    writeFileSync(path.join(root, 'README.txt'), 'not an image');
    mkdirSync(path.join(root, '.hidden'));
    await writePng(path.join(root, '.hidden', 'h.png'), rows, cols, 1, gray(6));
    const jpg = path.join(root, 'dog', 'c.JPG');
    await sharp(Buffer.from(rgb(7)), { raw: { width: cols, height: rows, channels: 3 } })
      .jpeg({ quality: 100 })
      .toFile(jpg);
  })();

  it('labels images by sorted sub-folder names; loose files get -1; decodes gray exactly', async () => {
    await setup;
    const ds = await imageFolderDataset(root);
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(ds.length).toBe(6);
    expect(ds.files.map((f) => path.relative(root, f))).toEqual([
      'loose.png',
      path.join('cat', 'nested', 'y.png'),
      path.join('cat', 'z.png'),
      path.join('dog', 'a.png'),
      path.join('dog', 'b.png'),
      path.join('dog', 'c.JPG'),
    ]);
    expect(Array.from({ length: 6 }, (_, i) => ds.get(i).label)).toEqual([-1, 0, 0, 1, 1, 1]);
    expect(ds.get(0)).toMatchObject({ rows, cols, channels: 1, index: 0 });
    // Gray PNGs decode to their exact values in gray mode.
    expect(Array.from(ds.get(0).pixels)).toEqual(gray(5));
    expect(Array.from(ds.get(2).pixels)).toEqual(gray(3));
    const order = await collect(ds);
    expect(order.map((x) => x.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(() => ds.get(-1)).toThrow(RangeError);
    expect(() => ds.get(ds.length)).toThrow(RangeError);
  });

  it("mode 'rgb' gives 3 interleaved channels (gray files as R = G = B)", async () => {
    await setup;
    const ds = await imageFolderDataset(root, { mode: 'rgb', concurrency: 2 });
    expect(ds.channels).toBe(3);
    const a = ds.get(3);
    expect(a).toMatchObject({ rows, cols, channels: 3, label: 1 });
    expect(Array.from(a.pixels)).toEqual(rgb(2));
    expect(Array.from(ds.get(4).pixels)).toEqual(rgb(1));
    const g = ds.get(2).pixels;
    const expected = gray(3).flatMap((v) => [v, v, v]);
    expect(Array.from(g)).toEqual(expected);
  });

  it('invert gives 255 - v', async () => {
    await setup;
    const ds = await imageFolderDataset(root, { invert: true });
    expect(Array.from(ds.get(0).pixels)).toEqual(gray(5).map((v) => 255 - v));
  });

  it('mixed sizes: a clear error naming two files, or resize to one size', async () => {
    const mixed = path.join(tmp, 'mixed');
    await writePng(path.join(mixed, 'a', '1.png'), 4, 3, 1, gray(1));
    await writePng(path.join(mixed, 'a', '2.png'), 4, 3, 1, gray(2));
    await writePng(
      path.join(mixed, 'b', '3.png'),
      5,
      6,
      1,
      Array.from({ length: 30 }, (_, k) => k * 8),
    );
    await expect(imageFolderDataset(mixed)).rejects.toThrow(
      /images of different sizes: .*a\/1\.png is 4 x 3 \(rows x cols\) but .*b\/3\.png is 5 x 6; pass resize/,
    );
    const ds = await imageFolderDataset(mixed, { resize: [8, 7] });
    expect(ds.length).toBe(3);
    for (let i = 0; i < 3; i++)
      expect(ds.get(i)).toMatchObject({ rows: 8, cols: 7, channels: 1, pixels: expect.any(Uint8Array) });
    expect(ds.get(0).pixels.length).toBe(56);
    const rgbDs = await imageFolderDataset(mixed, { resize: [2, 2], mode: 'rgb', fit: 'contain' });
    expect(rgbDs.get(2)).toMatchObject({ rows: 2, cols: 2, channels: 3 });
    expect(rgbDs.get(2).pixels.length).toBe(12);
  });

  it('unreadable images, empty or missing folders and oversize data give clear errors', async () => {
    const bad = path.join(tmp, 'bad');
    await writePng(path.join(bad, 'x', 'ok.png'), 2, 2, 1, [1, 2, 3, 4]);
    writeFileSync(path.join(bad, 'x', 'broken.png'), 'this is not a png');
    await expect(imageFolderDataset(bad)).rejects.toThrow(/cannot decode image .*x\/broken\.png/);
    const truncated = path.join(tmp, 'truncated');
    mkdirSync(path.join(truncated, 'x'), { recursive: true });
    const png = await sharp(Buffer.from(gray(1)), { raw: { width: cols, height: rows, channels: 1 } })
      .png()
      .toBuffer();
    writeFileSync(path.join(truncated, 'x', 't.png'), png.subarray(0, png.length - 20));
    await expect(imageFolderDataset(truncated)).rejects.toThrow(/cannot decode image .*x\/t\.png/);
    const empty = path.join(tmp, 'empty');
    mkdirSync(path.join(empty, 'cls'), { recursive: true });
    await expect(imageFolderDataset(empty)).rejects.toThrow(/no image files .* found in/);
    await expect(imageFolderDataset(path.join(tmp, 'missing'))).rejects.toThrow(/folder .*missing not found/);
    await setup;
    await expect(imageFolderDataset(root, { maxBytes: 10 })).rejects.toThrow(
      /need 72 bytes in memory, more than maxBytes = 10/,
    );
    await expect(imageFolderDataset(root, { mode: 'cmyk' as 'rgb' })).rejects.toThrow(/unknown mode/);
    await expect(imageFolderDataset(root, { resize: [0, 3] })).rejects.toThrow(/resize must be \[rows, cols\]/);
  });
});

describe('imageToPoints', () => {
  it('with one channel equals imageToPoints, species H', () => {
    const ds = mnistDataset('test');
    const img = ds.get(0);
    for (const opts of [{}, { zRounding: 'none' as const, threshold: 1 }, { displacement: { sigma: 0.5, seed: 7 } }]) {
      const a = imageToPoints(img, opts);
      const b = imageToPoints(img, opts);
      expect(a.count).toBe(b.count);
      expect(a.positions).toEqual(b.positions);
      expect(a.pixelIndex).toEqual(b.pixelIndex);
      expect(Array.from(new Set(a.species))).toEqual([1]);
      expect(a.channelSpecies).toEqual([1]);
      expect(Array.from(new Set(a.channel))).toEqual([0]);
    }
  });

  it('maps R, G, B to H, He, Li and each channel value to z', () => {
    // 2 x 2 RGB: pixel 0 = (200, 0, 50), pixel 1 = (0, 0, 0), pixel 2 = (9, 10, 255), pixel 3 = (100, 100, 100).
    const pixels = Uint8Array.from([200, 0, 50, 0, 0, 0, 9, 10, 255, 100, 100, 100]);
    const pts = imageToPoints({ pixels, rows: 2, cols: 2, channels: 3 });
    expect(pts.channelSpecies).toEqual([1, 2, 3]);
    expect(pts.count).toBe(7);
    const triples = Array.from({ length: pts.count }, (_, p) => Array.from(pts.positions.subarray(3 * p, 3 * p + 3)));
    // Points are (x = col, y = row, z = floor(v / 10)), pixel by pixel, channel by channel.
    expect(triples).toEqual([
      [0, 0, 20],
      [0, 0, 5], // pixel (row 0, col 0): R 200, B 50
      [0, 1, 1],
      [0, 1, 25], // pixel (row 1, col 0): G 10, B 255 (R 9 is below the threshold 10)
      [1, 1, 10],
      [1, 1, 10],
      [1, 1, 10], // pixel (row 1, col 1): 100, 100, 100
    ]);
    expect(Array.from(pts.species)).toEqual([1, 3, 2, 3, 1, 2, 3]);
    expect(Array.from(pts.channel)).toEqual([0, 2, 1, 2, 0, 1, 2]);
    expect(Array.from(pts.pixelIndex)).toEqual([0, 0, 2, 2, 3, 3, 3]);
    // Every point's z is floor(value / 10) of its own channel.
    for (let p = 0; p < pts.count; p++) {
      const v = pixels[(pts.pixelIndex[p] as number) * 3 + (pts.channel[p] as number)] as number;
      expect(pts.positions[3 * p + 2]).toBe(Math.floor(v / 10));
    }
    // Each channel alone equals imageToPoints of that channel's plane.
    for (let c = 0; c < 3; c++) {
      const plane = Uint8Array.from({ length: 4 }, (_, k) => pixels[3 * k + c] as number);
      const ref = imageToPoints({ pixels: plane, rows: 2, cols: 2 });
      const mine = Array.from({ length: pts.count }, (_, p) => p).filter((p) => pts.channel[p] === c);
      expect(mine.length).toBe(ref.count);
      expect(mine.flatMap((p) => Array.from(pts.positions.subarray(3 * p, 3 * p + 3)))).toEqual(
        Array.from(ref.positions),
      );
    }
  });

  it('honours zScale, zRounding, threshold, channelSpecies and seeded displacement', () => {
    const pixels = [30, 60, 90, 0, 5, 255];
    const img = { pixels, rows: 1, cols: 2, channels: 3 };
    const a = imageToPoints(img, { zScale: 0.5, zRounding: 'none', threshold: 5, channelSpecies: ['C', 'N', 'O'] });
    expect(a.count).toBe(5);
    expect(Array.from(a.species)).toEqual([6, 7, 8, 7, 8]);
    expect(Array.from({ length: a.count }, (_, p) => a.positions[3 * p + 2])).toEqual([15, 30, 45, 2.5, 127.5]);
    const n1 = imageToPoints(img, { displacement: { sigma: 1, seed: 3 } });
    const n2 = imageToPoints(img, { displacement: { sigma: 1, seed: 3 } });
    const n0 = imageToPoints(img);
    expect(n1.positions).toEqual(n2.positions);
    expect(n1.positions).not.toEqual(n0.positions);
    expect(n1.species).toEqual(n0.species);
  });

  it('works on an RGB image folder record and rejects bad input', async () => {
    const d = path.join(tmp, 'rgbfolder');
    await writePng(path.join(d, 'k', 'a.png'), 1, 2, 3, [255, 0, 0, 0, 0, 120]);
    const ds = await imageFolderDataset(d, { mode: 'rgb' });
    const pts = imageToPoints(ds.get(0));
    expect(Array.from(pts.species)).toEqual([1, 3]);
    expect(Array.from(pts.positions)).toEqual([0, 0, 25, 1, 0, 12]);
    expect(() => imageToPoints({ pixels: new Uint8Array(5), rows: 1, cols: 2, channels: 3 })).toThrow(
      /pixels has length 5, expected rows \* cols \* channels = 1 \* 2 \* 3 = 6/,
    );
    expect(() => imageToPoints({ pixels: [1, 2, 300], rows: 1, cols: 1, channels: 3 })).toThrow(RangeError);
    expect(() =>
      imageToPoints({ pixels: [1, 2, 3], rows: 1, cols: 1, channels: 3 }, { channelSpecies: ['H'] }),
    ).toThrow(/channelSpecies must be an array of 3 species/);
    expect(() => imageToPoints({ pixels: [1, 2, 3], rows: 1, cols: 1, channels: 3 }, { zScale: -1 })).toThrow(
      /^imageToPoints: zScale = -1 is out of range/,
    );
  });
});
