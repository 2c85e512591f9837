/**
 * Equivariant attention (the paper's §4.2, Eqs. 11, 15, 16) on an equivariant code V
 * (n = |G| rows):
 *
 *     w    = softmax over the rows of a latent group-conv network of V   (w(P(t)V) = P(t) w(V))
 *     Q[g] = Σ_u w_u V[u g]                                              (invariant: Eq. 11 with
 *                                                                        π_t(V)[g] = V[t^-1 g])
 *     V̂[g] = Σ_t w_t Q[t^-1 g]                                           (Eq. 15; exact for one-hot w)
 *     H(w) = -Σ_t w_t log w_t                                            (Eq. 16, added to the loss)
 *
 * Q is invariant because V and w permute together: Σ_u w[t^-1 u] V[t^-1 u g] = Σ_v w_v V[v g].
 * Both sums are one product with a constant 0/1 selection matrix (rows (u, g) -> u g, or
 * (t, g) -> t^-1 g) and one batched product with w, so they have gradients on every backend.
 */
import * as tf from '@tensorflow/tfjs';

import type { FiniteGroup } from '../groups/dihedral';
import { inverseProductRows, productRows, selectionMatrix } from '../groups/permutations';
import { LatentGroupConv } from './latent-group-conv';
import type { ParameterSet } from './parameters';

/**
 * Σ_u w[b, u] V[b, sel(u, g)] for a selection `sel` of n^2 rows (u major): [B, n, m]. `selection`
 * is the constant [n^2, n] 0/1 matrix.
 */
function weightedRows(v: tf.Tensor3D, w: tf.Tensor2D, selection: tf.Tensor2D): tf.Tensor3D {
  const [b, n, m] = v.shape;
  const cols = tf.reshape(tf.transpose(v, [1, 0, 2]), [n, b * m]); // [n, (b, c)]
  const all = tf.reshape(tf.matMul(selection, cols), [n, n, b, m]); // [u, g, b, c]
  const perBatch = tf.reshape(tf.transpose(all, [2, 0, 1, 3]), [b, n, n * m]); // [b, u, (g, c)]
  return tf.reshape(tf.matMul(tf.reshape(w, [b, 1, n]), perBatch), [b, n, m]);
}

/** The constant selection matrices of a group: [n^2, n] for u g and for t^-1 g. */
export class AttentionSelections {
  readonly forward: tf.Tensor2D;
  readonly inverse: tf.Tensor2D;

  constructor(readonly group: FiniteGroup) {
    const n = group.order;
    this.forward = tf.tensor2d(selectionMatrix(productRows(group), n), [n * n, n]);
    this.inverse = tf.tensor2d(selectionMatrix(inverseProductRows(group), n), [n * n, n]);
  }

  dispose(): void {
    this.forward.dispose();
    this.inverse.dispose();
  }
}

/** Q[g] = Σ_u w_u V[u g]: V [B, n, m], w [B, n] -> [B, n, m]. */
export function attentionPool(v: tf.Tensor3D, w: tf.Tensor2D, s: AttentionSelections): tf.Tensor3D {
  return weightedRows(v, w, s.forward);
}

/** V̂[g] = Σ_t w_t Q[t^-1 g]: the inverse of {@link attentionPool} for one-hot w. */
export function attentionUnpool(q: tf.Tensor3D, w: tf.Tensor2D, s: AttentionSelections): tf.Tensor3D {
  return weightedRows(q, w, s.inverse);
}

/** H(w) = -Σ w log w of each row of probabilities w [B, n] (0 log 0 = 0): [B]. */
export function attentionEntropy(w: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(w, tf.log(tf.maximum(w, 1e-30))), 1)) as tf.Tensor1D;
}

/** H(softmax(z)) from the logits z [B, n], in the stable form -Σ softmax(z) logSoftmax(z): [B]. */
export function entropyOfLogits(z: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(tf.softmax(z), tf.logSoftmax(z)), 1)) as tf.Tensor1D;
}

/**
 * The attention network: latent group conv m -> hidden, ReLU, group conv hidden -> 1, softmax over
 * the n rows. Equivariant, so its weights permute with V.
 */
export class AttentionWeights {
  private readonly first: LatentGroupConv;
  private readonly second: LatentGroupConv;

  constructor(params: ParameterSet, name: string, group: FiniteGroup, channels: number, hidden: number) {
    this.first = new LatentGroupConv(params, `${name}/gconv1`, group, channels, hidden);
    // No bias on the logits: softmax ignores a constant added to all of them (its gradient is 0).
    this.second = new LatentGroupConv(params, `${name}/gconv2`, group, hidden, 1, false);
  }

  /** The logits z [B, n]; w = softmax(z). */
  logits(v: tf.Tensor3D): tf.Tensor2D {
    const z = this.second.apply(tf.relu(this.first.apply(v)));
    return tf.reshape(z, [z.shape[0], z.shape[1]]);
  }

  dispose(): void {
    this.first.dispose();
    this.second.dispose();
  }
}
