/**
 * Options of the VAE family ({@link Rvae}): which model (plain VAE, conditional VAE, rVAE with
 * rotation and optionally translation, class-conditioned rVAE), the network widths, the loss
 * weights and the training defaults, with their checks. The defaults are pyroVED's and the rVAE
 * notebook's (docs/RVAE.md): 2 content latents, encoder and decoder 128-128 tanh, beta 1 for the
 * VAE and cVAE and 3 for the rVAE and crVAE, Adam 1e-3, translation prior 0.1 grid units.
 */
import type { ImageBatch } from '../../data/augment';
import { checkKlAnnealing, type KlAnnealing, type KlKind } from './vae-loss';

/** A row-major float matrix. */
export interface Float32Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Images with an optional class label per image (e.g. an AugmentedImages set). */
export type RvaeImages = ImageBatch & { labels?: Int32Array };

/** Which decoder: the coordinate (spatial) decoder or a dense one onto all pixels. */
export type RvaeDecoderKind = 'spatial' | 'dense';

/** Options of `new Rvae(...)`. */
export interface RvaeOptions {
  /** Content latents. Default 2. */
  latentDim?: number;
  /** An angle latent turns the decoded image (rVAE). Default false. */
  rotation?: boolean;
  /** Two shift latents move the decoded image. Default false. */
  translation?: boolean;
  /** Number of classes for conditioning (one-hot into the decoder, and the encoder unless `conditionEncoder` is false); 0 = none. Default 0. */
  classes?: number;
  /** Feed the one-hot class to the encoder too (pyroVED's iVAE). Default true. */
  conditionEncoder?: boolean;
  /** Image height and width the encoder reads. Default 28 x 28. */
  height?: number;
  width?: number;
  /** Default 'spatial' when rotation or translation is on, else 'dense' (the plain VAE and cVAE). */
  decoder?: RvaeDecoderKind;
  /** Encoder hidden width and number of hidden tanh layers. Default 128, 2. */
  encoderWidth?: number;
  encoderLayers?: number;
  /** Decoder width and hidden layers (spatial: after the coordinate-latent layer; dense: all). Default 128, 2. */
  decoderWidth?: number;
  decoderLayers?: number;
  /** KL weight. Default 3 with rotation, else 1 (the notebook). */
  beta?: number;
  /** KL annealing schedule; default none (beta constant). */
  klAnnealing?: KlAnnealing | null;
  /** Prior std of the angle latent in radians. Default 1 (pyroVED: N(0, 1) for every latent). */
  anglePrior?: number;
  /** 'normal' (default) or 'width' (AtomAI: no penalty on the mean angle). */
  angleKl?: KlKind;
  /** Grid units per unit of the shift latents (prior std of the shift). Default 0.1. */
  translationPrior?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Training batch size. Default 100. */
  batchSize?: number;
  /** Pixels per training step for the likelihood (an unbiased, rescaled estimate); 0 = all. Default 0. */
  pixelSubsample?: number;
  /** Seed of the weights, the shuffles and the sampling noise. Default 0. */
  seed?: number;
}

/** {@link RvaeOptions} with every default filled in. */
export interface ResolvedRvaeOptions extends Required<Omit<RvaeOptions, 'klAnnealing'>> {
  klAnnealing: KlAnnealing | null;
}

/** The models of the rVAE essay and the notebook, as options (merge with widths, seed, ...). */
export const RVAE_MODELS = Object.freeze({
  vae: Object.freeze({}),
  cvae: Object.freeze({ classes: 10 }),
  rvae: Object.freeze({ rotation: true }),
  trvae: Object.freeze({ rotation: true, translation: true }),
  crvae: Object.freeze({ rotation: true, classes: 10 }),
}) satisfies Record<string, Readonly<RvaeOptions>>;

/** The names of {@link RVAE_MODELS}. */
export type RvaeModelName = keyof typeof RVAE_MODELS;

const KEYS: readonly (keyof RvaeOptions)[] = [
  'latentDim',
  'rotation',
  'translation',
  'classes',
  'conditionEncoder',
  'height',
  'width',
  'decoder',
  'encoderWidth',
  'encoderLayers',
  'decoderWidth',
  'decoderLayers',
  'beta',
  'klAnnealing',
  'anglePrior',
  'angleKl',
  'translationPrior',
  'learningRate',
  'batchSize',
  'pixelSubsample',
  'seed',
];

function positiveInt(v: unknown, name: string, max = 1 << 20): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
    throw new RangeError(`Rvae: ${name} must be an integer in [1, ${max}], got ${String(v)}`);
  return v;
}

function positive(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0))
    throw new RangeError(`Rvae: ${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}

/** Fills in and checks {@link RvaeOptions}; throws a RangeError/TypeError naming the bad field. */
export function resolveRvaeOptions(options: RvaeOptions = {}): ResolvedRvaeOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('Rvae: options must be an object');
  const unknown = Object.keys(options).filter((k) => !KEYS.includes(k as keyof RvaeOptions));
  if (unknown.length)
    throw new RangeError(
      `Rvae: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${KEYS.join(', ')}`,
    );
  for (const k of ['rotation', 'translation', 'conditionEncoder'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'boolean')
      throw new TypeError(`Rvae: ${k} must be true or false, got ${String(options[k])}`);
  }
  const rotation = options.rotation ?? false;
  const translation = options.translation ?? false;
  const decoder = options.decoder ?? (rotation || translation ? 'spatial' : 'dense');
  if (decoder !== 'spatial' && decoder !== 'dense')
    throw new RangeError(`Rvae: decoder must be 'spatial' or 'dense', got ${String(decoder)}`);
  if (decoder === 'dense' && (rotation || translation))
    throw new RangeError(
      'Rvae: rotation and translation need the spatial decoder (a dense decoder cannot turn or move its image)',
    );
  const classes = options.classes ?? 0;
  if (!Number.isInteger(classes) || classes < 0 || classes > 1000)
    throw new RangeError(`Rvae: classes must be an integer in [0, 1000] (0 = unconditional), got ${String(classes)}`);
  if (classes === 1)
    throw new RangeError('Rvae: classes = 1 conditions on nothing; use 0 (unconditional) or at least 2');
  const angleKl = options.angleKl ?? 'normal';
  if (angleKl !== 'normal' && angleKl !== 'width')
    throw new RangeError(`Rvae: angleKl must be 'normal' or 'width', got ${String(angleKl)}`);
  const beta = options.beta ?? (rotation ? 3 : 1);
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0)
    throw new RangeError(`Rvae: beta must be a finite number >= 0, got ${String(beta)}`);
  const klAnnealing = options.klAnnealing ?? null;
  if (klAnnealing) checkKlAnnealing(klAnnealing, 'Rvae: klAnnealing');
  const r: ResolvedRvaeOptions = {
    latentDim: positiveInt(options.latentDim ?? 2, 'latentDim', 4096),
    rotation,
    translation,
    classes,
    conditionEncoder: options.conditionEncoder ?? true,
    height: positiveInt(options.height ?? 28, 'height', 4096),
    width: positiveInt(options.width ?? 28, 'width', 4096),
    decoder,
    encoderWidth: positiveInt(options.encoderWidth ?? 128, 'encoderWidth', 65536),
    encoderLayers: positiveInt(options.encoderLayers ?? 2, 'encoderLayers', 64),
    decoderWidth: positiveInt(options.decoderWidth ?? 128, 'decoderWidth', 65536),
    decoderLayers: 0,
    beta,
    klAnnealing: klAnnealing ? { ...klAnnealing } : null,
    anglePrior: positive(options.anglePrior ?? 1, 'anglePrior'),
    angleKl,
    translationPrior: positive(options.translationPrior ?? 0.1, 'translationPrior'),
    learningRate: positive(options.learningRate ?? 1e-3, 'learningRate'),
    batchSize: positiveInt(options.batchSize ?? 100, 'batchSize'),
    pixelSubsample: 0,
    seed: options.seed ?? 0,
  };
  const layers = options.decoderLayers ?? 2;
  // The spatial decoder may have no hidden layer after its coordinate-latent layer; the dense one needs one.
  if (!Number.isInteger(layers) || layers < (decoder === 'dense' ? 1 : 0) || layers > 64) {
    throw new RangeError(
      `Rvae: decoderLayers must be an integer in [${decoder === 'dense' ? 1 : 0}, 64] for the ${decoder} decoder, got ${String(layers)}`,
    );
  }
  r.decoderLayers = layers;
  const pixels = r.height * r.width;
  const sub = options.pixelSubsample ?? 0;
  if (!Number.isInteger(sub) || sub < 0 || sub > pixels)
    throw new RangeError(
      `Rvae: pixelSubsample must be an integer in [0, ${pixels}] (0 = all pixels), got ${String(sub)}`,
    );
  r.pixelSubsample = sub === pixels ? 0 : sub;
  if (!Number.isSafeInteger(r.seed)) throw new RangeError(`Rvae: seed must be a safe integer, got ${String(r.seed)}`);
  return r;
}

/** Latents the encoder produces: the angle (rotation), two shifts (translation), then the content. */
export function latentLayout(o: Pick<ResolvedRvaeOptions, 'rotation' | 'translation' | 'latentDim'>): {
  angle: number;
  shift: number;
  content: number;
  total: number;
} {
  const angle = o.rotation ? 0 : -1;
  const shift = o.translation ? (o.rotation ? 1 : 0) : -1;
  const content = (o.rotation ? 1 : 0) + (o.translation ? 2 : 0);
  return { angle, shift, content, total: content + o.latentDim };
}

/** A one-line description of the model (for logs and reports). */
export function describeRvae(o: ResolvedRvaeOptions): string {
  const kind = o.rotation ? (o.classes ? 'class-conditioned rVAE' : 'rVAE') : o.classes ? 'conditional VAE' : 'VAE';
  const parts = [`${kind}${o.translation ? ' + translation' : ''}`, `${o.latentDim} content latents`];
  parts.push(
    o.decoder === 'spatial'
      ? `coordinate decoder (coordinate layer + ${o.decoderLayers} hidden, width ${o.decoderWidth})`
      : `dense decoder (${o.decoderLayers} hidden, width ${o.decoderWidth})`,
  );
  parts.push(`beta ${o.beta}${o.klAnnealing ? ` (annealed from ${o.klAnnealing.from})` : ''}`);
  if (o.pixelSubsample) parts.push(`${o.pixelSubsample} of ${o.height * o.width} pixels per step`);
  return parts.join(', ');
}
