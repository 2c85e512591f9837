/**
 * Euler encoding (the DAE of Cha & Thiyagalingam, ICML 2023, and CODAE; docs/CODAE.md): each
 * latent z_i becomes the point e^{i z_i} = (cos z_i, sin z_i) of the unit circle before the decoder,
 *
 *     [B, d] -> [B, 2d] = [cos z_1 .. cos z_d, sin z_1 .. sin z_d],
 *
 * so every (cos, sin) pair has norm 1 and the decoder sees each latent as an angle (z and z + 2π
 * decode alike).
 */
import * as tf from '@tensorflow/tfjs';

/** The Euler encoding of latents z [B, d]: [B, 2d], the cosines first, then the sines. */
export function eulerEncode(z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.concat([tf.cos(z), tf.sin(z)], 1) as tf.Tensor2D);
}
