/**
 * Permutation representations of a finite group on the rows of an equivariant code V (|G| rows,
 * one per element):
 *
 *     left-regular   (P(t) V)[g] = V[t^-1 g]      how a transformed input t·x permutes V(x)
 *     right-regular  (ρ_h V)[g]  = V[g h]         commutes with every P(t): Gram pooling's set P
 *
 * A permutation is stored as a source index array p (row g of the result is row p[g] of the
 * input), so P(t)P(u) = P(tu) and applying p then q gives p[q[g]]. Also the constant 0/1
 * selection matrices that carry these permutations into tensor code as matrix products.
 */
import { multiply, type FiniteGroup } from './dihedral';

/** Source indices of P(t): p[g] = t^-1 g. */
export function leftRegular(g: FiniteGroup, t: number): Int32Array {
  const p = new Int32Array(g.order);
  const ti = g.inverse[t]!;
  for (let i = 0; i < g.order; i++) p[i] = multiply(g, ti, i);
  return p;
}

/** Source indices of ρ_h: p[g] = g h. */
export function rightRegular(g: FiniteGroup, h: number): Int32Array {
  const p = new Int32Array(g.order);
  for (let i = 0; i < g.order; i++) p[i] = multiply(g, i, h);
  return p;
}

/** The permutation "apply p, then q": r[i] = p[q[i]]. */
export function composePermutations(p: Int32Array, q: Int32Array): Int32Array {
  if (p.length !== q.length)
    throw new RangeError(`permutations of ${p.length} and ${q.length} rows cannot be composed`);
  const r = new Int32Array(p.length);
  for (let i = 0; i < p.length; i++) r[i] = p[q[i]!]!;
  return r;
}

/** The inverse permutation. */
export function invertPermutation(p: Int32Array): Int32Array {
  const r = new Int32Array(p.length);
  for (let i = 0; i < p.length; i++) r[p[i]!] = i;
  return r;
}

/**
 * Rows permuted: out[b, g, :] = v[b, p[g], :] for `count` matrices of p.length x `cols` values
 * stored one after another.
 */
export function permuteRows(v: Float32Array, p: Int32Array, cols: number): Float32Array {
  const rows = p.length;
  if (v.length % (rows * cols) !== 0)
    throw new RangeError(`permuteRows: ${v.length} values are not whole ${rows} x ${cols} matrices`);
  const out = new Float32Array(v.length);
  for (let b = 0; b < v.length; b += rows * cols) {
    for (let i = 0; i < rows; i++) out.set(v.subarray(b + p[i]! * cols, b + (p[i]! + 1) * cols), b + i * cols);
  }
  return out;
}

/**
 * The 0/1 matrix S (rows x sources, row-major) with S[i, src[i]] = 1, so S V = V[src] as a matrix
 * product (exact, and differentiable where a gather kernel's gradient is missing).
 */
export function selectionMatrix(src: Int32Array, sources: number): Float32Array {
  const s = new Float32Array(src.length * sources);
  for (let i = 0; i < src.length; i++) {
    const j = src[i]!;
    if (!(j >= 0 && j < sources))
      throw new RangeError(`selectionMatrix: source ${j} of row ${i} is outside 0..${sources - 1}`);
    s[i * sources + j] = 1;
  }
  return s;
}

/**
 * The pairs (u, g) -> u·g (u major): row u |G| + g of the result is element u·g. Selecting with it
 * stacks the |G| right-translated copies V[u·g] that equivariant attention averages.
 */
export function productRows(g: FiniteGroup): Int32Array {
  const n = g.order;
  const out = new Int32Array(n * n);
  for (let u = 0; u < n; u++) for (let i = 0; i < n; i++) out[u * n + i] = multiply(g, u, i);
  return out;
}

/** The pairs (t, g) -> t^-1·g (t major): the rows the attention inverse Σ_t w_t Q[t^-1 g] reads. */
export function inverseProductRows(g: FiniteGroup): Int32Array {
  const n = g.order;
  const out = new Int32Array(n * n);
  for (let t = 0; t < n; t++) for (let i = 0; i < n; i++) out[t * n + i] = multiply(g, g.inverse[t]!, i);
  return out;
}
