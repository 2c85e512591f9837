/**
 * The inputs of the branches of an equivariant encoder and where each branch's p4 rows go in V
 * (the paper's "naive method", §2.2): the image x turned by 0, 360/n, ..., (S - 1) 360/n degrees
 * (S = n / 4 turns per quarter: 1 for C4/D4, 3 for C12/D12), and for D_n the same for mirror(x).
 *
 * A p4 network B gives B(t·y)[k] = B(y)[k - 1] for a quarter turn t. Writing ρ for the turn by
 * 360°/n (so a quarter turn is ρ^S), branch (mirror μ, turn s) with input ρ^s m^μ x fills
 *
 *     μ = 0:  row  (S k - s) mod n           (element ρ^(S k - s))
 *     μ = 1:  row  n + ((s - S k) mod n)     (element ρ^(s - S k) m)
 *
 * so that V(t·x) = P(t) V(x) for every t in the quarter-turn-and-mirror subgroup exactly, and for
 * ρ itself up to the interpolation error of turning by 360°/n (docs/EQUIVARIANT-AE.md).
 *
 * Turns other than quarter turns are dense bilinear (or nearest) resampling matrices applied with
 * one matrix product: row j of the stored matrix Mᵀ is lib/data/transform.ts's
 * transformFloatImage of the unit image e_j, so x Mᵀ is that function's result (to float32
 * rounding) and no interpolation code is duplicated.
 */
import * as tf from '@tensorflow/tfjs';

import { transformFloatImage, type Interpolation } from '../../data/transform';
import type { FiniteGroup } from '../groups/dihedral';
import { P4_SLOTS } from './p4-filter-bank';

/** Mᵀ of the turn by `degrees` of a side x side image: [side², side²], row j = transform of e_j. */
export function turnMatrixTransposed(
  side: number,
  degrees: number,
  interpolation: Interpolation = 'bilinear',
): Float32Array {
  const n = side * side;
  const out = new Float32Array(n * n);
  const unit = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    unit[j] = 1;
    transformFloatImage(unit, side, side, { degrees, interpolation }, out.subarray(j * n, (j + 1) * n));
    unit[j] = 0;
  }
  return out;
}

/** Branches per quarter turn S = n / 4. */
export function turnsPerQuarter(g: FiniteGroup): number {
  return g.rotations / P4_SLOTS;
}

/** Number of branches: S, times 2 for D_n. */
export function branchCount(g: FiniteGroup): number {
  return turnsPerQuarter(g) * (g.reflections ? 2 : 1);
}

/**
 * Source rows of the interleaving: V[i] = stacked[src[i]], where stacked holds the branches'
 * p4 rows in branch order (b = μ S + s) and turn order (row b 4 + k).
 */
export function branchRowSources(g: FiniteGroup): Int32Array {
  const n = g.rotations;
  const s0 = turnsPerQuarter(g);
  const mod = (v: number): number => ((v % n) + n) % n;
  const src = new Int32Array(g.order).fill(-1);
  for (let mu = 0; mu < (g.reflections ? 2 : 1); mu++) {
    for (let s = 0; s < s0; s++) {
      for (let k = 0; k < P4_SLOTS; k++) {
        const row = mu === 0 ? mod(s0 * k - s) : n + mod(s - s0 * k);
        src[row] = (mu * s0 + s) * P4_SLOTS + k;
      }
    }
  }
  if (src.some((v) => v < 0)) throw new Error(`branchRowSources: ${g.name} rows are not all filled`);
  return src;
}

/** The branch inputs of a batch, turned and mirrored, stacked branch after branch. */
export class BranchInputs {
  private readonly turns: tf.Tensor2D[] = [];

  constructor(
    readonly group: FiniteGroup,
    readonly side: number,
    readonly interpolation: Interpolation = 'bilinear',
  ) {
    const s0 = turnsPerQuarter(group);
    for (let s = 1; s < s0; s++) {
      const degrees = (s * 360) / group.rotations;
      this.turns.push(tf.tensor2d(turnMatrixTransposed(side, degrees, interpolation), [side * side, side * side]));
    }
  }

  /** x [B, side²] -> [branches B, side, side, 1], branch b = μ S + s first. */
  apply(x: tf.Tensor2D): tf.Tensor4D {
    const b = x.shape[0];
    const { side } = this;
    const copies = (y: tf.Tensor2D): tf.Tensor2D[] => [y, ...this.turns.map((m) => tf.matMul(y, m) as tf.Tensor2D)];
    const all = copies(x);
    if (this.group.reflections)
      all.push(...copies(tf.reshape(tf.reverse(tf.reshape(x, [b, side, side]), 2), [b, side * side]) as tf.Tensor2D));
    return tf.reshape(all.length === 1 ? all[0]! : tf.concat(all, 0), [all.length * b, side, side, 1]);
  }

  dispose(): void {
    for (const t of this.turns) t.dispose();
  }
}
