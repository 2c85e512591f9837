/**
 * Group tables of C4, D4, C12, D12 and their permutation representations: group axioms, the
 * homomorphism property of the left- and right-regular representations, the paper's D4 cycles in
 * its storage order, the centraliser of the left-regular representation (Gram pooling's set P) by
 * brute force, and the P' condition of the diagonal extras.
 */
import { describe, expect, it } from 'vitest';

import { elementName, finiteGroup, GROUP_NAMES, groupElement, multiply } from '../lib/ml/groups/dihedral';
import {
  composePermutations,
  invertPermutation,
  leftRegular,
  permuteRows,
  rightRegular,
  selectionMatrix,
} from '../lib/ml/groups/permutations';

const same = (a: Int32Array, b: Int32Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** Operator composition "apply p after q" as a source-index permutation: (p ∘ q)[i] = q[p[i]]. */
const after = (p: Int32Array, q: Int32Array): Int32Array => composePermutations(q, p);

/** Permutation matrices as operators commute: p ∘ q = q ∘ p. */
const commute = (p: Int32Array, q: Int32Array): boolean => same(after(p, q), after(q, p));

describe('group tables', () => {
  for (const name of GROUP_NAMES) {
    const g = finiteGroup(name);
    it(`${name}: order, identity, inverses, associativity`, () => {
      expect(g.order).toBe((name.startsWith('D') ? 2 : 1) * (name.endsWith('12') ? 12 : 4));
      for (let a = 0; a < g.order; a++) {
        expect(multiply(g, 0, a)).toBe(a);
        expect(multiply(g, a, 0)).toBe(a);
        expect(multiply(g, a, g.inverse[a]!)).toBe(0);
        expect(multiply(g, g.inverse[a]!, a)).toBe(0);
        // Each row of the table is a permutation (Latin square).
        expect(new Set(Array.from({ length: g.order }, (_, b) => multiply(g, a, b))).size).toBe(g.order);
        for (let b = 0; b < g.order; b++) {
          for (let c = 0; c < g.order; c++)
            expect(multiply(g, multiply(g, a, b), c)).toBe(multiply(g, a, multiply(g, b, c)));
        }
      }
    });

    it(`${name}: generators r (order n) and m (order 2) with m r m = r^-1`, () => {
      const r = groupElement(g, 1);
      let p = 0;
      for (let k = 1; k <= g.rotations; k++) {
        p = multiply(g, p, r);
        expect(p === 0).toBe(k === g.rotations);
      }
      if (g.reflections) {
        const m = groupElement(g, 0, 1);
        expect(multiply(g, m, m)).toBe(0);
        expect(multiply(g, multiply(g, m, r), m)).toBe(g.inverse[r]);
        expect(elementName(g, groupElement(g, 3, 1))).toBe('r^3 m');
        expect(multiply(g, groupElement(g, 3), m)).toBe(groupElement(g, 3, 1));
      } else {
        expect(() => groupElement(g, 0, 1)).toThrow(/has no mirror/);
      }
    });

    it(`${name}: P(a)P(b) = P(ab) and ρ_a ρ_b = ρ_ab; every ρ_h commutes with every P(t)`, () => {
      for (let a = 0; a < g.order; a++) {
        for (let b = 0; b < g.order; b++) {
          expect(same(after(leftRegular(g, a), leftRegular(g, b)), leftRegular(g, multiply(g, a, b)))).toBe(true);
          expect(same(after(rightRegular(g, a), rightRegular(g, b)), rightRegular(g, multiply(g, a, b)))).toBe(true);
          expect(commute(rightRegular(g, a), leftRegular(g, b))).toBe(true);
        }
      }
      expect(same(invertPermutation(leftRegular(g, 1)), leftRegular(g, g.inverse[1]!))).toBe(true);
    });

    it(`${name}: left turns lie in P' (π + π^-1 commutes with every P(t))${name.startsWith('D') ? ', the mirror does not' : ''}`, () => {
      const plusInverse = (p: Int32Array): number[][] => {
        const m = Array.from({ length: g.order }, () => new Array<number>(g.order).fill(0));
        const q = invertPermutation(p);
        for (let i = 0; i < g.order; i++) {
          m[i]![p[i]!]! += 1;
          m[i]![q[i]!]! += 1;
        }
        return m;
      };
      const conj = (mat: number[][], t: Int32Array): number[][] =>
        mat.map((_, i) => mat[t[i]!]!.map((__, j) => mat[t[i]!]![t[j]!]!));
      const inPPrime = (p: Int32Array): boolean => {
        const s = plusInverse(p);
        return Array.from({ length: g.order }, (_, t) => t).every(
          (t) => JSON.stringify(conj(s, leftRegular(g, t))) === JSON.stringify(s),
        );
      };
      for (let k = 1; k < g.rotations; k++) expect(inPPrime(leftRegular(g, groupElement(g, k)))).toBe(true);
      if (g.reflections) {
        expect(inPPrime(leftRegular(g, groupElement(g, 0, 1)))).toBe(false);
        // Non-abelian: a left turn is not in P itself.
        expect(commute(leftRegular(g, groupElement(g, 1)), leftRegular(g, groupElement(g, 0, 1)))).toBe(false);
      }
    });
  }

  it('the permutations commuting with every P(t) are exactly the right-regular ones (D4, C4; brute force)', () => {
    for (const name of ['D4', 'C4'] as const) {
      const g = finiteGroup(name);
      const gens =
        name === 'D4'
          ? [leftRegular(g, groupElement(g, 1)), leftRegular(g, groupElement(g, 0, 1))]
          : [leftRegular(g, groupElement(g, 1))];
      const found: string[] = [];
      const perm = new Int32Array(g.order);
      const used = new Array<boolean>(g.order).fill(false);
      const walk = (i: number): void => {
        if (i === g.order) {
          if (gens.every((t) => commute(perm, t))) found.push(perm.join(','));
          return;
        }
        for (let v = 0; v < g.order; v++) {
          if (used[v]) continue;
          used[v] = true;
          perm[i] = v;
          walk(i + 1);
          used[v] = false;
        }
      };
      walk(0);
      const right = Array.from({ length: g.order }, (_, h) => rightRegular(g, h).join(','));
      expect(found.sort()).toEqual(right.sort());
    }
  });

  it("the paper's D4 cycles: R = (1234)(5678), M = (18)(27)(36)(45), π = ρ_{rm} = (15)(26)(37)(48)", () => {
    const g = finiteGroup('D4');
    // The paper's storage order (positions 1..8): e, r, r², r³, r m, r² m, r³ m, m.
    const order = [
      groupElement(g, 0),
      groupElement(g, 1),
      groupElement(g, 2),
      groupElement(g, 3),
      groupElement(g, 1, 1),
      groupElement(g, 2, 1),
      groupElement(g, 3, 1),
      groupElement(g, 0, 1),
    ];
    const pos = (e: number): number => order.indexOf(e) + 1;
    /** Cycles of "the content of position a moves to position b", 1-based, fixed points left out. */
    const cycles = (src: Int32Array): string => {
      const to = new Map<number, number>();
      for (let i = 0; i < g.order; i++) to.set(pos(src[i]!), pos(i));
      const seen = new Set<number>();
      let out = '';
      for (let a = 1; a <= g.order; a++) {
        if (seen.has(a) || to.get(a) === a) continue;
        let c = '';
        for (let b = a; !seen.has(b); b = to.get(b)!) {
          seen.add(b);
          c += String(b);
        }
        out += `(${c})`;
      }
      return out;
    };
    expect(cycles(leftRegular(g, groupElement(g, 1)))).toBe('(1234)(5678)');
    expect(cycles(leftRegular(g, groupElement(g, 0, 1)))).toBe('(18)(27)(36)(45)');
    expect(cycles(rightRegular(g, groupElement(g, 1, 1)))).toBe('(15)(26)(37)(48)');
  });

  it('permuteRows and selectionMatrix agree with the source indices; bad indices are refused', () => {
    const g = finiteGroup('D12');
    const p = leftRegular(g, groupElement(g, 5, 1));
    const v = Float32Array.from({ length: 2 * g.order * 3 }, (_, i) => i);
    const out = permuteRows(v, p, 3);
    const s = selectionMatrix(p, g.order);
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < g.order; i++) {
        for (let c = 0; c < 3; c++) {
          expect(out[(b * g.order + i) * 3 + c]).toBe(v[(b * g.order + p[i]!) * 3 + c]);
          let viaMatrix = 0;
          for (let j = 0; j < g.order; j++) viaMatrix += s[i * g.order + j]! * v[(b * g.order + j) * 3 + c]!;
          expect(viaMatrix).toBe(out[(b * g.order + i) * 3 + c]);
        }
      }
    }
    expect(() => selectionMatrix(Int32Array.from([0, 5]), 2)).toThrow(/outside 0..1/);
    expect(() => permuteRows(new Float32Array(5), p, 3)).toThrow(/not whole/);
    expect(() => finiteGroup('D8' as never)).toThrow(/unknown group 'D8'; known: C4, D4, C12, D12/);
  });
});
