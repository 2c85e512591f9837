/**
 * The equivariant encoders and their invariant codes: the dense input-turn matrices reproduce
 * lib/data/transform.ts; the D12 row interleaving is exact under 30° steps of the branch inputs and
 * under the mirror; the C4 / D4 encoders satisfy V(t x) = P(t) V(x) for all elements, the C12 / D12
 * ones for quarter turns and mirrors, to 1e-5 relative; 30° turns are approximate (the error is
 * printed); every pooling's codes are invariant under D4 to 1e-5.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ImageBatch } from '../lib/data/augment';
import { transformFloatImage } from '../lib/data/transform';
import { selectBackend } from '../lib/ml/backend';
import { finiteGroup, groupElement, type GroupName } from '../lib/ml/groups/dihedral';
import { relativeError } from '../lib/ml/groups/equivariance';
import { leftRegular, permuteRows } from '../lib/ml/groups/permutations';
import { branchRowSources, turnMatrixTransposed } from '../lib/ml/layers/input-turns';
import { EquivariantAutoencoder, type PoolingName } from '../lib/ml/models/equivariant-autoencoder';
import { Rng } from '../lib/util/random';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', strict: true, log: false });
});

const SIDE = 28;

/** Smooth test images: a few Gaussian blobs each, values in [0, 1]. */
function blobs(count: number, seed: number, side = SIDE): ImageBatch {
  const rng = new Rng(seed);
  const data = new Float32Array(count * side * side);
  for (let b = 0; b < count; b++) {
    for (let k = 0; k < 4; k++) {
      const cx = 7 + 14 * rng.nextFloat();
      const cy = 7 + 14 * rng.nextFloat();
      const s = 1.5 + 2 * rng.nextFloat();
      for (let i = 0; i < side; i++) {
        for (let j = 0; j < side; j++) {
          const at = b * side * side + i * side + j;
          data[at] = Math.min(1, data[at]! + 0.8 * Math.exp(-((i - cy) ** 2 + (j - cx) ** 2) / (2 * s * s)));
        }
      }
    }
  }
  return { data, count, height: side, width: side };
}

function transformBatch(images: ImageBatch, degrees: number, mirror = false): ImageBatch {
  const n = images.height * images.width;
  const data = new Float32Array(images.data.length);
  for (let b = 0; b < images.count; b++) {
    transformFloatImage(
      images.data.subarray(b * n, (b + 1) * n),
      images.height,
      images.width,
      { degrees, mirror },
      data.subarray(b * n, (b + 1) * n),
    );
  }
  return { ...images, data };
}

const images = blobs(2, 1);
const small = { widths: [2, 3, 4], latentChannels: 5, seed: 3 };
const models: EquivariantAutoencoder[] = [];
function model(group: GroupName, pooling: PoolingName = 'mean'): EquivariantAutoencoder {
  const m = new EquivariantAutoencoder({ group, pooling, ...small });
  models.push(m);
  return m;
}
afterAll(() => models.forEach((m) => m.dispose()));

describe('input turns', () => {
  it('x Mᵀ equals transformFloatImage for 30° and 60°; the 0° matrix is the identity', () => {
    for (const degrees of [30, 60, -30]) {
      const mt = turnMatrixTransposed(SIDE, degrees);
      const got = tf.tidy(() =>
        tf.matMul(tf.tensor2d(images.data, [2, SIDE * SIDE]), tf.tensor2d(mt, [SIDE * SIDE, SIDE * SIDE])).dataSync(),
      );
      expect(relativeError(got, transformBatch(images, degrees).data)).toBeLessThan(1e-6);
    }
    const id = turnMatrixTransposed(SIDE, 0);
    for (let i = 0; i < SIDE * SIDE; i++)
      for (let j = 0; j < SIDE * SIDE; j += 97) expect(id[i * SIDE * SIDE + j]).toBe(i === j ? 1 : 0);
  });

  it('three 30° turns are a quarter turn up to the interpolation error', () => {
    const once = (x: ImageBatch): ImageBatch => transformBatch(x, 30);
    const thrice = once(once(once(images)));
    const exact = transformBatch(images, 90);
    const err = relativeError(thrice.data, exact.data);
    console.info(`R30^3 against an exact quarter turn (smooth blobs): max relative error ${err.toFixed(4)}`);
    expect(err).toBeGreaterThan(1e-3); // Bilinear resampling smooths: not exact.
    expect(err).toBeLessThan(0.25);
  });
});

describe('D12 row interleaving', () => {
  it('branches [b1, b2, turn(b0)] give P(r) E([b0, b1, b2]) exactly; the mirror swaps the halves as P(m)', () => {
    const g = finiteGroup('D12');
    const src = branchRowSources(g);
    const m = 3;
    const rng = new Rng(4);
    // Branch outputs: 6 branches (s = 0..2, then mirrored) x 4 p4 rows x m.
    const b = Array.from({ length: 6 }, () => Float32Array.from({ length: 4 * m }, () => rng.nextFloat()));
    const interleave = (branches: Float32Array[]): Float32Array => {
      const stacked = new Float32Array(24 * m);
      branches.forEach((x, i) => stacked.set(x, i * 4 * m));
      return permuteRows(stacked, src, m);
    };
    const quarter = (x: Float32Array, by: number): Float32Array =>
      permuteRows(x, leftRegular(finiteGroup('C4'), ((by % 4) + 4) % 4), m);
    const v = interleave(b);
    // Input turned by 30°: unmirrored branch s sees branch s + 1's input (branch 3 = a quarter turn
    // of branch 0); mirrored branch s sees mirrored branch s - 1's (branch -1 = a quarter turn back
    // of mirrored branch 2).
    const turned = interleave([b[1]!, b[2]!, quarter(b[0]!, 1), quarter(b[5]!, -1), b[3]!, b[4]!]);
    expect(Array.from(turned)).toEqual(Array.from(permuteRows(v, leftRegular(g, groupElement(g, 1)), m)));
    const mirrored = interleave([b[3]!, b[4]!, b[5]!, b[0]!, b[1]!, b[2]!]);
    expect(Array.from(mirrored)).toEqual(Array.from(permuteRows(v, leftRegular(g, groupElement(g, 0, 1)), m)));
    // Every row is filled once.
    expect(new Set(src).size).toBe(24);
  });
});

/** V(t x) against P(t) V(x) for the elements given as [degrees, mirror, element]. */
async function encoderErrors(m: EquivariantAutoencoder, cases: [number, boolean, number][]): Promise<number[]> {
  const g = m.group;
  const v = await m.encodeEquivariant(images);
  const out: number[] = [];
  for (const [degrees, mirror, t] of cases) {
    const vt = await m.encodeEquivariant(transformBatch(images, degrees, mirror));
    out.push(relativeError(vt.data, permuteRows(v.data, leftRegular(g, t), v.cols)));
  }
  return out;
}

/** The quarter turns and mirrors of `g` as [degrees, mirror, element]. */
function d4Cases(group: GroupName): [number, boolean, number][] {
  const g = finiteGroup(group);
  const s = g.rotations / 4;
  const out: [number, boolean, number][] = [];
  for (let k = 0; k < 4; k++) {
    out.push([90 * k, false, groupElement(g, s * k)]);
    if (g.reflections) out.push([90 * k, true, groupElement(g, s * k, 1)]);
  }
  return out;
}

describe('equivariant encoders', () => {
  for (const group of ['C4', 'D4', 'C12', 'D12'] as const) {
    it(`${group}: V(t x) = P(t) V(x) for every quarter turn${group.startsWith('D') ? ' and mirror' : ''}, to 1e-5`, async () => {
      const m = model(group);
      const cases = d4Cases(group);
      expect(cases).toHaveLength(group.startsWith('D') ? 8 : 4);
      const errs = await encoderErrors(m, cases);
      for (const e of errs) expect(e).toBeLessThan(1e-5);
    });
  }

  for (const group of ['C12', 'D12'] as const) {
    it(`${group}: a 30° turn permutes V approximately (interpolation); the error is reported`, async () => {
      const m = model(group);
      const g = m.group;
      const [err30, err60] = await encoderErrors(m, [
        [30, false, groupElement(g, 1)],
        [60, false, groupElement(g, 2)],
      ]);
      // A wrong row order would give an O(1) error: compare with the unpermuted code.
      const [wrong] = await encoderErrors(m, [[30, false, 0]]);
      console.info(
        `${group}: V(R30 x) vs P(r) V(x): ${err30!.toFixed(4)}; R60: ${err60!.toFixed(4)}; unpermuted: ${wrong!.toFixed(4)}`,
      );
      expect(err30).toBeLessThan(0.2);
      expect(err60).toBeLessThan(0.2);
      expect(err30!).toBeLessThan(wrong! / 2);
    });
  }

  for (const group of ['D4', 'D12'] as const) {
    for (const pooling of ['mean', 'gram', 'attention'] as const) {
      it(`${group} ${pooling}: codes invariant under the 8 elements of D4 to 1e-5${group === 'D12' ? ', close under 30°' : ''}`, async () => {
        const m = model(group, pooling);
        const code = await m.encode(images);
        expect(code.cols).toBe(m.codeLength(pooling));
        for (const [degrees, mirror] of d4Cases(group)) {
          const other = await m.encode(transformBatch(images, degrees, mirror));
          expect(relativeError(other.data, code.data), `${degrees}° mirror ${mirror}`).toBeLessThan(1e-5);
        }
        if (group === 'D12') {
          const turned = await m.encode(transformBatch(images, 30));
          const err = relativeError(turned.data, code.data);
          console.info(`D12 ${pooling} code: 30° turn changes it by ${err.toFixed(4)} (relative, max norm)`);
          expect(err).toBeLessThan(0.3);
        }
      });
    }
  }
});
