/**
 * The pieces of the VAE family's loss (docs/RVAE.md, "Loss"): per image,
 *
 *     -ELBO = sum_pixels BCE(x_p, sigmoid(logit_p)) + beta * sum_latents KL(q(z_i | x) || p(z_i))
 *
 * - Bernoulli likelihood on intensities in [0, 1]: BCE(x, sigmoid(l)) = softplus(l) - x l, summed
 *   over the pixels (pyroVED's Bernoulli sampler on grayscale images).
 * - Closed-form KL of N(mu, sigma^2) to N(0, p^2):
 *   log(p / sigma) + (sigma^2 + mu^2) / (2 p^2) - 1/2 (p = 1 for the content and shift latents; the
 *   angle's prior width is an option). The AtomAI variant drops the mu^2 term for the angle
 *   ("width-only": the mean angle is free).
 * - Unbiased pixel subsampling: the likelihood summed over a uniform random subset S of m of the P
 *   pixels, times P / m. Every pixel is in S with probability m / P, so the expectation over S is the
 *   full sum (test/rvae-loss.test.ts checks both the inclusion rate and the mean).
 * - beta, optionally annealed: from `from` up to `startEpoch`, then linearly to beta at `endEpoch`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/random';

/** Sum over all elements of softplus(logits) - targets * logits (BCE of sigmoid(logits)). */
export function bernoulliNll(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.sub(tf.softplus(logits), tf.mul(targets, logits))) as tf.Scalar);
}

/** How the KL of one latent is taken. */
export type KlKind = 'normal' | 'width';

/**
 * Element-wise KL(N(mu, std^2) || N(0, prior^2)); with kind 'width' without the mu^2 / (2 prior^2)
 * term (AtomAI's angle KL).
 */
export function gaussianKl(mu: tf.Tensor, std: tf.Tensor, prior = 1, kind: KlKind = 'normal'): tf.Tensor {
  return tf.tidy(() => {
    const p2 = prior * prior;
    const second = kind === 'normal' ? tf.add(tf.square(std), tf.square(mu)) : tf.square(std);
    return tf.sub(tf.add(tf.neg(tf.log(tf.div(std, prior))), tf.div(second, 2 * p2)), 0.5);
  });
}

/** The same KL in float64 for one latent (reference for tests and reports). */
export function gaussianKlValue(mu: number, std: number, prior = 1, kind: KlKind = 'normal'): number {
  const second = kind === 'normal' ? std * std + mu * mu : std * std;
  return -Math.log(std / prior) + second / (2 * prior * prior) - 0.5;
}

/**
 * `count` distinct pixel indices out of 0..total-1, uniformly (a partial Fisher-Yates shuffle drawn
 * from `rng`), in increasing order.
 */
export function pixelSubset(rng: Rng, total: number, count: number): Int32Array {
  if (!Number.isInteger(count) || count < 1 || count > total)
    throw new RangeError(`pixelSubset: count must be an integer in [1, ${total}], got ${String(count)}`);
  const idx = new Int32Array(total);
  for (let i = 0; i < total; i++) idx[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + rng.nextInt(total - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, count).sort();
}

/** KL annealing: beta starts at `from`, stays there through `startEpoch`, and reaches the final beta at `endEpoch`. */
export interface KlAnnealing {
  /** beta at the start. */
  from: number;
  /** Last epoch (1-based) at `from`. Default 0 (the ramp starts at once). */
  startEpoch?: number;
  /** First epoch at the final beta; must be > startEpoch. */
  endEpoch: number;
}

/** beta of epoch `epoch` (1-based, counted over all training of the model). */
export function betaAt(epoch: number, beta: number, annealing: KlAnnealing | null | undefined): number {
  if (!annealing) return beta;
  const start = annealing.startEpoch ?? 0;
  if (epoch <= start) return annealing.from;
  if (epoch >= annealing.endEpoch) return beta;
  return annealing.from + ((beta - annealing.from) * (epoch - start)) / (annealing.endEpoch - start);
}

/** Throws a RangeError naming the bad field of a {@link KlAnnealing}. */
export function checkKlAnnealing(a: KlAnnealing, where: string): void {
  if (a === null || typeof a !== 'object')
    throw new TypeError(`${where} must be an object { from, startEpoch?, endEpoch }`);
  if (typeof a.from !== 'number' || !Number.isFinite(a.from) || a.from < 0)
    throw new RangeError(`${where}.from must be a finite number >= 0, got ${String(a.from)}`);
  const start = a.startEpoch ?? 0;
  if (!Number.isInteger(start) || start < 0)
    throw new RangeError(`${where}.startEpoch must be an integer >= 0, got ${String(a.startEpoch)}`);
  if (!Number.isInteger(a.endEpoch) || a.endEpoch <= start)
    throw new RangeError(`${where}.endEpoch must be an integer > startEpoch (${start}), got ${String(a.endEpoch)}`);
}
