/**
 * Options of {@link Codae} (models/codae.ts) with their defaults and checks. The paper gives no
 * sizes (docs/CODAE.md, "Architecture"); the defaults are this project's: a C4 trunk lift 5x5 ->
 * 8, p4 3x3 -> 16, p4 3x3 -> 32 G-channels with 2x2 max-pools between (32 x 32 -> 8 x 8 maps),
 * branches of width 64, 2 invariant latents, the coordinate decoder of the rVAE at width 64 with 2
 * hidden layers, moment weight 1 fading to 0 over the first half of training, Adam 1e-3, batch 64.
 */
import { quarterTurnExact } from '../layers/p4-conv';

/** Options of `new Codae(...)`. */
export interface CodaeOptions {
  /** Invariant latents (before the Euler encoding, which doubles them). Default 2. */
  latentDim?: number;
  /** Side of the square input images. Default 32. */
  imageSize?: number;
  /** The input is average-pooled by this factor before the encoder (e.g. 2 for 64 x 64 dSprites). Default 1. */
  inputPool?: number;
  /** G-channels of the p4 blocks (2x2 max-pool between consecutive blocks). Default [8, 16, 32]. */
  widths?: number[];
  /** Odd kernel side of the p4 -> p4 blocks. Default 3. */
  kernelSize?: number;
  /** Odd kernel side of the lifting layer. Default 5. */
  liftKernelSize?: number;
  /** Width of the fully connected layers of both branches. Default 64. */
  hidden?: number;
  /** Units of the coordinate decoder's layers. Default 64. */
  decoderWidth?: number;
  /** Hidden layers of the coordinate decoder after its coordinate-latent layer. Default 2. */
  decoderLayers?: number;
  /**
   * The decoder's output: 'linear' (the intensity itself; clipped to [0, 1] in the images returned)
   * or 'sigmoid' (squashed into [0, 1], which saturates on the black background and slows
   * learning). Default 'linear'.
   */
  output?: 'linear' | 'sigmoid';
  /** β at the start of training: the weight of the moment loss. 0 = the ablation without it. Default 1. */
  momentWeight?: number;
  /** Fraction of the training steps over which β falls linearly to 0. Default 0.5 (the first half). */
  momentFade?: number;
  /** Pixels per training step for the reconstruction loss (an unbiased estimate of the mean); 0 = all. Default 0. */
  pixelSubsample?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Training batch size. Default 64. */
  batchSize?: number;
  /** Seed of the weights (and, by default, of fit's shuffles and pixel subsets). Default 0. */
  seed?: number;
}

export type ResolvedCodaeOptions = Required<CodaeOptions>;

export const CODAE_OUTPUTS: readonly ('linear' | 'sigmoid')[] = Object.freeze(['linear', 'sigmoid']);

const KEYS: readonly (keyof CodaeOptions)[] = [
  'latentDim',
  'imageSize',
  'inputPool',
  'widths',
  'kernelSize',
  'liftKernelSize',
  'hidden',
  'decoderWidth',
  'decoderLayers',
  'output',
  'momentWeight',
  'momentFade',
  'pixelSubsample',
  'learningRate',
  'batchSize',
  'seed',
];

function int(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`Codae: ${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return v;
}

function num(v: unknown, name: string, min: number, max: number, minOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (minOpen && v === min) || v > max) {
    throw new RangeError(`Codae: ${name} must be a number in ${minOpen ? '(' : '['}${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

/** Fills in and checks the options; throws a RangeError/TypeError naming the bad one. */
export function resolveCodaeOptions(options: CodaeOptions = {}): ResolvedCodaeOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('Codae: options must be an object');
  const unknown = Object.keys(options).filter((k) => !KEYS.includes(k as keyof CodaeOptions));
  if (unknown.length)
    throw new RangeError(
      `Codae: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${KEYS.join(', ')}`,
    );
  const widths = options.widths ?? [8, 16, 32];
  if (
    !Array.isArray(widths) ||
    widths.length < 1 ||
    widths.length > 6 ||
    !widths.every((w) => Number.isInteger(w) && w >= 1 && w <= 1024)
  ) {
    throw new RangeError(`Codae: widths must list 1 to 6 integers in [1, 1024], got ${JSON.stringify(widths)}`);
  }
  const r: ResolvedCodaeOptions = {
    latentDim: int(options.latentDim ?? 2, 'latentDim', 1, 256),
    imageSize: int(options.imageSize ?? 32, 'imageSize', 2, 1024),
    inputPool: int(options.inputPool ?? 1, 'inputPool', 1, 16),
    widths: [...widths],
    kernelSize: int(options.kernelSize ?? 3, 'kernelSize', 1, 15),
    liftKernelSize: int(options.liftKernelSize ?? 5, 'liftKernelSize', 1, 15),
    hidden: int(options.hidden ?? 64, 'hidden', 1, 4096),
    decoderWidth: int(options.decoderWidth ?? 64, 'decoderWidth', 1, 4096),
    decoderLayers: int(options.decoderLayers ?? 2, 'decoderLayers', 0, 16),
    output: options.output ?? 'linear',
    momentWeight: num(options.momentWeight ?? 1, 'momentWeight', 0, 1e6),
    momentFade: num(options.momentFade ?? 0.5, 'momentFade', 0, 1, true),
    pixelSubsample: 0,
    learningRate: num(options.learningRate ?? 1e-3, 'learningRate', 0, 10, true),
    batchSize: int(options.batchSize ?? 64, 'batchSize', 1, 1 << 16),
    seed: options.seed ?? 0,
  };
  if (!CODAE_OUTPUTS.includes(r.output))
    throw new RangeError(`Codae: output must be 'linear' or 'sigmoid', got ${String(r.output)}`);
  if (!Number.isSafeInteger(r.seed)) throw new RangeError(`Codae: seed must be a safe integer, got ${String(r.seed)}`);
  for (const k of ['kernelSize', 'liftKernelSize'] as const) {
    if (r[k] % 2 === 0)
      throw new RangeError(
        `Codae: ${k} must be odd (even kernels pad 'same' unevenly, breaking exact equivariance), got ${r[k]}`,
      );
  }
  const pixels = r.imageSize * r.imageSize;
  const sub = options.pixelSubsample ?? 0;
  if (!Number.isInteger(sub) || sub < 0 || sub > pixels)
    throw new RangeError(
      `Codae: pixelSubsample must be an integer in [0, ${pixels}] (0 = all pixels), got ${String(sub)}`,
    );
  r.pixelSubsample = sub === pixels ? 0 : sub;
  const e = codaeGeometry(r);
  if (!e.exact) throw new RangeError(`Codae: ${e.reason}`);
  return r;
}

/**
 * Whether the encoder's sampling grid turns onto itself under quarter turns for these options, so
 * that its equivariance is exact (docs/CODAE.md, "Exact symmetry"): the input side must be a
 * multiple of inputPool x 2^(blocks - 1) (average-pool, then 2x2 max-pools of even maps; the
 * 'same' convolutions with odd kernels at stride 1 are exact at any size). With the side of the
 * maps and the input pixels per cell side.
 */
export function codaeGeometry(o: Pick<ResolvedCodaeOptions, 'imageSize' | 'inputPool' | 'widths'>): {
  exact: boolean;
  mapSize: number;
  cellPixels: number;
  reason?: string;
} {
  let size = o.imageSize;
  if (o.inputPool > 1) {
    const p = quarterTurnExact(size, o.inputPool, o.inputPool, 'valid');
    if (!p.exact)
      return {
        exact: false,
        mapSize: 0,
        cellPixels: 0,
        reason: `inputPool ${o.inputPool} does not divide the image side ${size} (${p.reason})`,
      };
    size = p.outSize;
  }
  for (let i = 0; i < o.widths.length - 1; i++) {
    if (size % 2 !== 0) {
      return {
        exact: false,
        mapSize: 0,
        cellPixels: 0,
        reason: `${o.widths.length - 1} 2x2 poolings after an input pool of ${o.inputPool} need an image side divisible by ${o.inputPool * 2 ** (o.widths.length - 1)}, got ${o.imageSize}`,
      };
    }
    size /= 2;
  }
  return { exact: true, mapSize: size, cellPixels: o.imageSize / size };
}
