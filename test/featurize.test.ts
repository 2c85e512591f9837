import { describe, expect, it } from 'vitest';

import type { ImageRecord } from '../lib/data/dataset';
import { mnistDataset } from '../lib/data/datasets';
import {
  featurize,
  featurizeStream,
  imageSeed,
  type FeaturizeProgress,
  type FeaturizedImage,
} from '../lib/features/featurize';
import { imageToPoints } from '../lib/data/image';
import { Soap } from '../lib/soap/soap';

const SMALL = { species: ['H'], rCut: 5, nMax: 4, lMax: 3, sigma: 1 };

async function collect(it: AsyncIterable<FeaturizedImage>): Promise<FeaturizedImage[]> {
  const out: FeaturizedImage[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe('featurize', () => {
  const mnist = mnistDataset('test');

  it('gives, per image and in index order, exactly the rows of a direct createMany', async () => {
    const soap = new Soap(SMALL);
    const results = await collect(featurize(mnist, soap, { start: 10, end: 47, batchSize: 8 }));
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: 37 }, (_, i) => 10 + i));
    const direct = await soap.createMany(
      results.map((r) => ({ positions: imageToPoints(mnist.get(r.index)).positions })),
    );
    results.forEach((r, i) => {
      expect(r.label).toBe(mnist.get(r.index).label);
      expect(r.features.rows).toBe(r.numPoints);
      expect(Array.from(r.features.data)).toEqual(Array.from(direct[i]!.data));
      expect(Array.from(r.pixelIndex)).toEqual(Array.from(imageToPoints(mnist.get(r.index)).pixelIndex));
    });
  });

  it('pulls images lazily: a slow consumer keeps at most about two batches in flight', async () => {
    let pulled = 0;
    async function* source(): AsyncGenerator<ImageRecord> {
      for (let i = 0; i < 200; i++) {
        pulled++;
        yield mnist.get(i);
      }
    }
    const it = featurize(source(), SMALL, { batchSize: 10 })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    // One batch being consumed and one computed ahead; never the whole source.
    expect(pulled).toBeLessThanOrEqual(20);
    let n = 1;
    while (!(await it.next()).done) n++;
    expect(n).toBe(200);
    expect(pulled).toBe(200);
  });

  it('reports progress after each batch and the Node stream variant yields the same results', async () => {
    const progress: FeaturizeProgress[] = [];
    const viaIter = await collect(
      featurize(mnist, SMALL, { end: 30, batchSize: 7, onProgress: (p) => progress.push(p) }),
    );
    expect(progress.map((p) => p.done)).toEqual([7, 14, 21, 28, 30]);
    expect(progress.at(-1)!.total).toBe(30);
    expect(progress.at(-1)!.rows).toBe(viaIter.reduce((s, r) => s + r.features.rows, 0));
    const stream = featurizeStream(mnist, SMALL, { end: 30, batchSize: 7 });
    const events: FeaturizeProgress[] = [];
    stream.on('progress', (p: FeaturizeProgress) => events.push(p));
    const viaStream: FeaturizedImage[] = [];
    for await (const r of stream) viaStream.push(r as FeaturizedImage);
    expect(events.length).toBe(5);
    expect(viaStream.map((r) => r.index)).toEqual(viaIter.map((r) => r.index));
    expect(Array.from(viaStream[3]!.features.data)).toEqual(Array.from(viaIter[3]!.features.data));
  });

  it('computes only the selected centres, mapped to their pixels, and skips images with none', async () => {
    const selector = (index: number, numPoints: number): number[] =>
      index % 3 === 0 ? [] : [0, numPoints - 1, Math.floor(numPoints / 2)];
    const results = await collect(featurize(mnist, SMALL, { end: 12, centers: selector }));
    expect(results.map((r) => r.index)).toEqual([1, 2, 4, 5, 7, 8, 10, 11]);
    const full = await collect(featurize(mnist, SMALL, { end: 12 }));
    for (const r of results) {
      const all = full.find((f) => f.index === r.index)!;
      const picks = [0, all.numPoints - 1, Math.floor(all.numPoints / 2)];
      expect(r.features.rows).toBe(3);
      picks.forEach((p, row) => {
        expect(r.pixelIndex[row]).toBe(all.pixelIndex[p]);
        const F = r.features.cols;
        expect(Array.from(r.features.data.subarray(row * F, (row + 1) * F))).toEqual(
          Array.from(all.features.data.subarray(p * F, (p + 1) * F)),
        );
      });
    }
  });

  it('adds seeded positional noise that differs between images and repeats for the same seed', async () => {
    const opts = { end: 4, image: { displacement: { sigma: 0.5, seed: 7 } } };
    const a = await collect(featurize(mnist, SMALL, opts));
    const b = await collect(featurize(mnist, SMALL, opts));
    const clean = await collect(featurize(mnist, SMALL, { end: 4 }));
    expect(Array.from(a[2]!.features.data)).toEqual(Array.from(b[2]!.features.data));
    expect(Array.from(a[2]!.features.data)).not.toEqual(Array.from(clean[2]!.features.data));
    expect(imageSeed(7, 0)).not.toBe(imageSeed(7, 1));
    // The noise of image 2 is the noise imageToPoints draws with that image's derived seed.
    const expected = imageToPoints(mnist.get(2), { displacement: { sigma: 0.5, seed: imageSeed(7, 2) } });
    const direct = new Soap(SMALL).createSync({ positions: expected.positions });
    expect(Array.from(a[2]!.features.data)).toEqual(Array.from(direct.data));
  });

  it('treats each colour channel as a species', async () => {
    const g = mnist.get(0);
    const rgb = new Uint8Array(g.rows * g.cols * 3);
    for (let i = 0; i < g.rows * g.cols; i++) {
      rgb[3 * i] = g.pixels[i]!;
      rgb[3 * i + 2] = 255 - g.pixels[i]!;
    }
    const image: ImageRecord = { pixels: rgb, rows: g.rows, cols: g.cols, channels: 3, label: g.label };
    const opts = { ...SMALL, species: ['H', 'He', 'Li'] };
    const [r] = await collect(featurize([image], opts));
    const pts = imageToPoints(image);
    const direct = new Soap(opts).createSync({ positions: pts.positions, species: Array.from(pts.species) });
    expect(r!.features.rows).toBe(pts.count);
    expect(Array.from(r!.features.data)).toEqual(Array.from(direct.data));
  });

  it('stops with the signal reason when aborted, and rejects bad options', async () => {
    const ac = new AbortController();
    const it = featurize(mnist, SMALL, { batchSize: 4, signal: ac.signal })[Symbol.asyncIterator]();
    await it.next();
    ac.abort(new Error('stop now'));
    await expect(
      (async () => {
        while (!(await it.next()).done) {
          /* drain */
        }
      })(),
    ).rejects.toThrow('stop now');
    await expect(collect(featurize(mnist, SMALL, { batchSize: 0 }))).rejects.toThrow(RangeError);
    await expect(collect(featurize(mnist, SMALL, { start: -1 }))).rejects.toThrow(/start/);
  });
});
