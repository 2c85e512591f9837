/**
 * `soapix predict --model DIR image.png [--out map.png]`: the per-pixel class map of any image.
 * The image is decoded to grayscale with sharp (resized to the model's image size with --resize),
 * SOAP is computed at every point with the model's parameters and scaled with its scaler, each
 * point is classified, and the map is written as a PNG (one colour per class, background black).
 * `--backend` picks the TensorFlow.js backend (auto: tensorflow, wasm, cpu, the first that starts;
 * a named one must start); the backend used is printed and returned.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import type { ImageToPointsOptions } from '../data/image';
import { RobustScaler, type RobustScalerJSON } from '../features/scaler';
import { CLASS_COLORS } from '../report/figures';
import { classHistogram, makeSoap, predictClassMap, type SoapParams } from '../experiments/common';
import type { BackendName } from '../ml/backend';
import { UsageError } from '../util/usage-error';

export interface PredictCommandOptions {
  model: string;
  out?: string;
  resize?: [number, number];
  scale: number;
  /** TensorFlow.js backend: 'auto' (first that starts) or one that must start. Default 'auto'. */
  backend?: 'auto' | BackendName;
  quiet: boolean;
}

function hexToRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Runs `soapix predict`; resolves with the class counts and the majority class. */
export async function runPredict(
  imagePath: string,
  o: PredictCommandOptions,
  io: { stdout: { write(s: string): boolean }; stderr: { write(s: string): boolean } },
): Promise<{ counts: number[]; majority: number; map: Int32Array; out: string; backend: BackendName }> {
  const { default: sharp } = await import('sharp');
  const ml = await import('../ml/index.js');
  const want = o.backend ?? 'auto';
  if (want !== 'auto' && !ml.BACKEND_ORDER.includes(want)) {
    throw new UsageError(`--backend must be one of auto, ${ml.BACKEND_ORDER.join(', ')}; got '${String(want)}'`);
  }
  const backend = await ml.selectBackend({ ...(want !== 'auto' ? { prefer: want, strict: true } : {}), log: false });
  let loaded;
  try {
    loaded = await ml.MlpClassifier.load<SoapParams & { image?: ImageToPointsOptions }, RobustScalerJSON>(o.model);
  } catch (err) {
    throw new UsageError(`cannot load the model folder ${o.model}: ${(err as Error).message}`);
  }
  const { classifier, info } = loaded;
  if (!info.soap || !info.scaler)
    throw new UsageError(
      `${o.model}/soapix.json has no SOAP parameters or scaler; was it saved by soapix experiment classify?`,
    );
  const soap = makeSoap(info.soap);
  if (soap.featureCount !== classifier.config.inputDim) {
    throw new Error(
      `the model takes ${classifier.config.inputDim} features but its SOAP parameters give ${soap.featureCount}`,
    );
  }
  const scaler = RobustScaler.fromJSON(info.scaler);
  let img = sharp(imagePath).greyscale();
  if (o.resize) img = img.resize(o.resize[1], o.resize[0], { fit: 'fill' });
  const { data, info: meta } = await img.raw().toColourspace('b-w').toBuffer({ resolveWithObject: true });
  const rows = meta.height;
  const cols = meta.width;
  const pixels =
    meta.channels === 1
      ? new Uint8Array(data)
      : Uint8Array.from({ length: rows * cols }, (_, i) => data[i * meta.channels]!);
  const map = predictClassMap(classifier, scaler, soap, { pixels, rows, cols }, info.soap.image);
  classifier.dispose();
  const classes = classifier.config.classes;
  const h = classHistogram(map, classes);

  const out =
    o.out ?? path.join(path.dirname(imagePath), path.basename(imagePath, path.extname(imagePath)) + '.classes.png');
  const rgb = Buffer.alloc(rows * cols * 3);
  for (let i = 0; i < map.length; i++) {
    const k = map[i]!;
    if (k < 0) continue;
    const [r, g, b] = hexToRgb(CLASS_COLORS[k % CLASS_COLORS.length]!);
    rgb[i * 3] = r;
    rgb[i * 3 + 1] = g;
    rgb[i * 3 + 2] = b;
  }
  await mkdir(path.dirname(path.resolve(out)), { recursive: true });
  const png = await sharp(rgb, { raw: { width: cols, height: rows, channels: 3 } })
    .resize(cols * o.scale, rows * o.scale, { kernel: 'nearest' })
    .png()
    .toBuffer();
  await writeFile(out, png);

  if (!o.quiet) {
    const total = h.counts.reduce((a, b) => a + b, 0);
    io.stdout.write(`${imagePath}: ${rows}x${cols}, ${total} points classified\n`);
    h.counts.forEach((c, k) => {
      if (c > 0)
        io.stdout.write(
          `  class ${k}: ${String(c).padStart(5)} (${((100 * c) / total).toFixed(1)}%)  ${CLASS_COLORS[k % CLASS_COLORS.length]}\n`,
        );
    });
    io.stdout.write(`majority vote: ${h.majority}\n${backend.summary}\nwrote ${out}\n`);
  }
  return { counts: h.counts, majority: h.majority, map, out, backend: backend.name };
}
