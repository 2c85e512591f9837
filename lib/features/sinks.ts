/**
 * The three .npy sinks of a featurize run or merge: features (rows x featureCount), labels
 * (rows, int32) and centres (rows x 2, int32: image index, pixel index), streamed row by row
 * (NpyWriter: memory does not grow with the data). `close` commits them in a fixed order (each
 * renamed from its .partial name); `discard` removes whatever was started or committed, so a
 * failed run leaves no array file behind.
 */
import * as path from 'node:path';
import { NpyWriter, type NpyTypedArray } from '../io/npy';
import { removeQuietly } from '../util/atomic-file';
import { ARRAY_KINDS, type ArrayKind } from './meta';
import type { RunFiles } from './run-files';

export class RunSinks {
  /** Paths committed by {@link close} (and any the caller adds, such as scaler.json). */
  readonly committed: string[] = [];
  readonly #writers: Partial<Record<ArrayKind, NpyWriter>>;

  private constructor(writers: Partial<Record<ArrayKind, NpyWriter>>) {
    this.#writers = writers;
  }

  /**
   * Creates the three `.partial` files in `dir`. If one cannot be created, the others are
   * removed and the error is thrown.
   */
  static async create(
    dir: string,
    names: RunFiles,
    dtype: 'float32' | 'float64',
    featureCount: number,
  ): Promise<RunSinks> {
    const writers: Partial<Record<ArrayKind, NpyWriter>> = {};
    try {
      writers.features = await NpyWriter.create(path.join(dir, names.features), { dtype, columns: featureCount });
      writers.labels = await NpyWriter.create(path.join(dir, names.labels), { dtype: 'int32', columns: 0 });
      writers.centers = await NpyWriter.create(path.join(dir, names.centers), { dtype: 'int32', columns: 2 });
    } catch (err) {
      for (const kind of ARRAY_KINDS) await writers[kind]?.abort().catch(() => undefined);
      throw err;
    }
    return new RunSinks(writers);
  }

  /** Appends raw values (whole rows) to one array. */
  async write(kind: ArrayKind, data: NpyTypedArray): Promise<void> {
    await this.#writers[kind]!.write(data);
  }

  /**
   * Appends the rows of one image: its feature rows, its label on every row, and for every row
   * the image index and the pixel its centre sits on.
   */
  async writeImage(
    features: Float32Array | Float64Array,
    rows: number,
    label: number,
    imageIndex: number,
    pixelIndex: Int32Array,
  ): Promise<void> {
    if (rows === 0) return;
    const labels = new Int32Array(rows).fill(label);
    const centers = new Int32Array(2 * rows);
    for (let k = 0; k < rows; k++) {
      centers[2 * k] = imageIndex;
      centers[2 * k + 1] = pixelIndex[k]!;
    }
    await Promise.all([this.write('features', features), this.write('labels', labels), this.write('centers', centers)]);
  }

  /** Closes and commits the three files (features, labels, centres), recording each in {@link committed}. */
  async close(): Promise<void> {
    for (const kind of ARRAY_KINDS) {
      const w = this.#writers[kind]!;
      await w.close();
      this.committed.push(w.path);
    }
  }

  /** Aborts the open files and removes the committed ones (never throws). */
  async discard(): Promise<void> {
    for (const kind of ARRAY_KINDS) await this.#writers[kind]?.abort().catch(() => undefined);
    for (const f of this.committed) await removeQuietly(f);
  }
}
