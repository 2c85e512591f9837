/**
 * The equivariant encoder of the paper's Fig. 5: the branch inputs (x turned by multiples of
 * 360°/n, and mirror(x) for D_n) through one shared p4 network, the branches' rows interleaved
 * into V (|G| rows, one per element r^k m^s at row s n + k), then latent group convolutions:
 *
 *     V0 = Interleave(P4Branch(ρ^s m^μ x) for all branches),   V = GConv_L(ReLU(... GConv_1(ReLU(V0))))
 *
 * so that V(t·x) = P(t) V(x), (P(t)V)[g] = V[t^-1 g]: exactly for quarter turns and the mirror,
 * up to interpolation for the 30° turns of C12/D12 (layers/input-turns.ts).
 */
import * as tf from '@tensorflow/tfjs';

import type { Interpolation } from '../../data/transform';
import type { FiniteGroup } from '../groups/dihedral';
import { selectionMatrix } from '../groups/permutations';
import { BranchInputs, branchCount, branchRowSources } from '../layers/input-turns';
import { LatentGroupConv } from '../layers/latent-group-conv';
import { P4Branch } from '../layers/p4-branch';
import { P4_SLOTS } from '../layers/p4-filter-bank';
import type { ParameterSet } from '../layers/parameters';

/** Options of {@link EquivariantEncoder}. */
export interface EquivariantEncoderOptions {
  group: FiniteGroup;
  imageSize: number;
  widths: readonly number[];
  latentChannels: number;
  kernelSize: number;
  /** Latent group convolutions m -> m after the interleaving (ReLU between, the last linear). */
  latentLayers: number;
  turnInterpolation: Interpolation;
}

export class EquivariantEncoder {
  readonly inputs: BranchInputs;
  readonly branch: P4Branch;
  readonly latent: LatentGroupConv[] = [];
  private readonly interleave: tf.Tensor2D;

  constructor(
    params: ParameterSet,
    name: string,
    readonly options: EquivariantEncoderOptions,
  ) {
    const { group, imageSize, widths, latentChannels, kernelSize, latentLayers, turnInterpolation } = options;
    this.branch = new P4Branch(params, `${name}/p4`, { imageSize, widths, outChannels: latentChannels, kernelSize });
    for (let i = 0; i < latentLayers; i++) {
      this.latent.push(new LatentGroupConv(params, `${name}/latent_${i + 1}`, group, latentChannels, latentChannels));
    }
    this.inputs = new BranchInputs(group, imageSize, turnInterpolation);
    this.interleave = tf.tensor2d(selectionMatrix(branchRowSources(group), group.order), [group.order, group.order]);
  }

  /** The branches' rows interleaved into V0 [B, |G|, m] (before the latent layers). */
  interleaved(stacked: tf.Tensor3D, batch: number): tf.Tensor3D {
    const branches = branchCount(this.options.group);
    const m = this.options.latentChannels;
    const rows = branches * P4_SLOTS;
    // stacked: [branches B, 4, m], branch-major -> [(branch, k), (b, c)], then rows permuted.
    const byRow = tf.reshape(tf.transpose(tf.reshape(stacked, [branches, batch, P4_SLOTS, m]), [0, 2, 1, 3]), [
      rows,
      batch * m,
    ]);
    const v = tf.reshape(tf.matMul(this.interleave, byRow), [rows, batch, m]);
    return tf.transpose(v, [1, 0, 2]) as tf.Tensor3D;
  }

  /** Images [B, side²] -> V [B, |G|, m]. */
  apply(x: tf.Tensor2D): tf.Tensor3D {
    const b = x.shape[0];
    let v = this.interleaved(this.branch.apply(this.inputs.apply(x)), b);
    for (const layer of this.latent) v = layer.apply(tf.relu(v));
    return v;
  }

  /** Multiply-adds of one forward pass of one image (branches, turns, latent layers). */
  macs(): number {
    const { group, imageSize, latentChannels: m } = this.options;
    const px = imageSize * imageSize;
    const turns = branchCount(group) - (group.reflections ? 2 : 1);
    return (
      branchCount(group) * this.branch.macs() + turns * px * px + this.latent.length * group.order * m * group.order * m
    );
  }

  dispose(): void {
    this.inputs.dispose();
    this.branch.dispose();
    this.interleave.dispose();
    for (const l of this.latent) l.dispose();
  }
}
