/**
 * Group convolution on the latent code V (one row per group element, no spatial axes), for C4,
 * D4, C12 and D12:
 *
 *     out[g, c'] = Σ_{h, c} K[g^-1 h, c, c'] V[h, c] + b[c']
 *
 * equivariant to the left-regular action (P(t)V)[g] = V[t^-1 g]: out(P(t)V) = P(t) out(V). The
 * full matrix Kbig[(h, c), (g, c')] = K[g^-1 h, c, c'] is built as one product with the constant
 * 0/1 matrix S[(h, g), u] = [u = g^-1 h], so a layer is two matrix products with gradients on
 * every backend. |G| m m' + m' parameters.
 */
import * as tf from '@tensorflow/tfjs';

import { multiply, type FiniteGroup } from '../groups/dihedral';
import { selectionMatrix } from '../groups/permutations';
import type { ParameterSet } from './parameters';

/** The constant S of the doc comment: (|G| |G|) x |G|, row h |G| + g selects g^-1 h. */
export function groupConvSelection(g: FiniteGroup): Float32Array {
  const n = g.order;
  const src = new Int32Array(n * n);
  for (let h = 0; h < n; h++) for (let i = 0; i < n; i++) src[h * n + i] = multiply(g, g.inverse[i]!, h);
  return selectionMatrix(src, n);
}

/** A latent group convolution [B, |G|, Cin] -> [B, |G|, Cout]. */
export class LatentGroupConv {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;
  private readonly selection: tf.Tensor2D;

  constructor(
    params: ParameterSet,
    name: string,
    readonly group: FiniteGroup,
    readonly inChannels: number,
    readonly outChannels: number,
    useBias = true,
  ) {
    for (const [v, what] of [
      [inChannels, 'inChannels'],
      [outChannels, 'outChannels'],
    ] as const) {
      if (!Number.isInteger(v) || v < 1)
        throw new RangeError(`${name}: ${what} must be a positive integer, got ${String(v)}`);
    }
    const n = group.order;
    this.kernel = params.add(`${name}/kernel`, [n, inChannels, outChannels], {
      glorot: [n * inChannels, n * outChannels],
    });
    this.bias = useBias ? params.add(`${name}/bias`, [outChannels], 'zeros') : null;
    this.selection = tf.tensor2d(groupConvSelection(group), [n * n, n]);
  }

  /** Kbig [(h, c), (g, c')] of the current kernel: [|G| Cin, |G| Cout]. */
  bigKernel(): tf.Tensor2D {
    const n = this.group.order;
    const [ci, co] = [this.inChannels, this.outChannels];
    const picked = tf.matMul(this.selection, tf.reshape(this.kernel, [n, ci * co]));
    return tf.reshape(tf.transpose(tf.reshape(picked, [n, n, ci, co]), [0, 2, 1, 3]), [n * ci, n * co]);
  }

  apply(v: tf.Tensor3D): tf.Tensor3D {
    const n = this.group.order;
    const [b, rows, c] = v.shape;
    if (rows !== n || c !== this.inChannels)
      throw new RangeError(`latent group conv: input is [${v.shape}], expected [batch, ${n}, ${this.inChannels}]`);
    const out = tf.reshape(tf.matMul(tf.reshape(v, [b, n * c]), this.bigKernel()), [
      b,
      n,
      this.outChannels,
    ]) as tf.Tensor3D;
    return this.bias ? (tf.add(out, this.bias) as tf.Tensor3D) : out;
  }

  dispose(): void {
    this.selection.dispose();
  }
}
