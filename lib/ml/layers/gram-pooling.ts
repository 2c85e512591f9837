/**
 * Gram pooling (the paper's §4.1, with the reading of docs/EQUIVARIANT-AE.md): invariant features
 * of an equivariant code V (n = |G| rows, m columns u_1..u_m in R^n) that keep more than the mean.
 *
 *     q^π_ij = <u_i, π u_j>   π ∈ P_used, i in 1..m, j in i..min(i + n - 1, m)    (first n diagonals)
 *     q̃^π_ii = <u_i, π u_i>   π ∈ P'_used, i in 1..m                               (diagonal extras)
 *
 * P, the permutations commuting with every P(t), is exactly the right-regular representation
 * (ρ_h V)[g] = V[g h] (|P| = |G|: the centraliser of the left-regular representation), so
 * <P(t)u, ρ_h P(t)v> = <u, ρ_h v> for every t. P_used is the first few ρ_h in the order of
 * {@link gramPermutationOrder}. P' (π + π^-1 commuting with every P(t)) contains the left turns
 * P(r^k), the paper's example; but <u, P(r^k) u> = <u, ρ_{r^k} u> for C_n and D_n alike (the sums
 * Σ_j u[r^j] u[r^(j±k)] agree, and on mirrored rows P(r^k) and ρ_{r^k} move the same way), so an
 * extra only adds something when neither ρ_{r^k} nor ρ_{r^-k} is in P_used. Feature count:
 * |P_used| Σ_i min(n, m - i + 1) + |extras| m. Computed after training, not differentiated.
 */
import { groupElement, type FiniteGroup } from '../groups/dihedral';
import { leftRegular, rightRegular } from '../groups/permutations';
import { checkEquivariantCodes, type CodeMatrix, type EquivariantCodes } from './mean-pooling';

/** Options of {@link gramPool}. */
export interface GramPoolingOptions {
  /** How many right-regular permutations ρ_h (in {@link gramPermutationOrder}). Default min(|G|, 8). */
  permutations?: number;
  /** Diagonals kept of each m x m matrix (j - i < diagonals). Default |G| (the paper's "first n diagonals"). */
  diagonals?: number;
  /** Add the diagonal extras q̃ of the left turns that P_used does not already give. Default true. */
  extras?: boolean;
}

/** Which features {@link gramPool} computes. */
export interface GramLayout {
  /** Elements h of the right-regular permutations ρ_h used, in order. */
  elements: number[];
  /** Turns k of the diagonal extras <u_i, P(r^k) u_i>. */
  extraTurns: number[];
  diagonals: number;
  /** Columns m of V. */
  cols: number;
  featureCount: number;
}

/**
 * The elements h of ρ_h by how far they move a row: e, m, then for d = 1, 2, ... r^d, r^-d,
 * r^d m, r^-d m (each element once; mirrored ones only in D_n).
 */
export function gramPermutationOrder(g: FiniteGroup): number[] {
  const out: number[] = [];
  const push = (i: number): void => void (out.includes(i) || out.push(i));
  for (let d = 0; d <= g.rotations / 2; d++) {
    push(groupElement(g, d));
    push(groupElement(g, -d));
    if (g.reflections) {
      push(groupElement(g, d, 1));
      push(groupElement(g, -d, 1));
    }
  }
  return out;
}

/** Band size Σ_{i=1..m} min(d, m - i + 1): entries (i, j) with i <= j < i + d. */
export function bandSize(cols: number, diagonals: number): number {
  let s = 0;
  for (let i = 0; i < cols; i++) s += Math.min(diagonals, cols - i);
  return s;
}

/** The features {@link gramPool} computes for codes with `cols` columns. */
export function gramLayout(g: FiniteGroup, cols: number, options: GramPoolingOptions = {}): GramLayout {
  const order = gramPermutationOrder(g);
  const p = options.permutations ?? Math.min(g.order, 8);
  if (!Number.isInteger(p) || p < 1 || p > g.order)
    throw new RangeError(
      `gram pooling: permutations must be an integer in 1..${g.order} for ${g.name}, got ${String(p)}`,
    );
  const diagonals = options.diagonals ?? g.order;
  if (!Number.isInteger(diagonals) || diagonals < 1)
    throw new RangeError(`gram pooling: diagonals must be a positive integer, got ${String(diagonals)}`);
  if (!Number.isInteger(cols) || cols < 1)
    throw new RangeError(`gram pooling: codes need at least one column, got ${String(cols)}`);
  const elements = order.slice(0, p);
  const extraTurns: number[] = [];
  if (options.extras ?? true) {
    for (let k = 1; k <= g.rotations / 2; k++) {
      if (!elements.includes(groupElement(g, k)) && !elements.includes(groupElement(g, -k))) extraTurns.push(k);
    }
  }
  return {
    elements,
    extraTurns,
    diagonals,
    cols,
    featureCount: elements.length * bandSize(cols, diagonals) + extraTurns.length * cols,
  };
}

/**
 * Writes <u_i, π u_j> for i <= j < i + diagonals (row by row of the band) of one code `v` (rows x
 * cols at `at`), π given by source indices (π u)[g] = u[perm[g]], into `out` from `o`; returns
 * the next free position. Float64 sums.
 */
export function bandFeatures(
  v: Float32Array,
  at: number,
  perm: Int32Array,
  cols: number,
  diagonals: number,
  out: Float32Array,
  o: number,
): number {
  const rows = perm.length;
  for (let i = 0; i < cols; i++) {
    const end = Math.min(cols, i + diagonals);
    for (let j = i; j < end; j++) {
      let s = 0;
      for (let g = 0; g < rows; g++) s += v[at + g * cols + i]! * v[at + perm[g]! * cols + j]!;
      out[o++] = s;
    }
  }
  return o;
}

/** Gram-pooled invariant codes of `v` (rows = |G|) under `g`: count x featureCount. */
export function gramPool(
  v: EquivariantCodes,
  g: FiniteGroup,
  options: GramPoolingOptions = {},
): CodeMatrix & { layout: GramLayout } {
  checkEquivariantCodes(v, 'gramPool');
  if (v.rows !== g.order)
    throw new RangeError(`gramPool: codes have ${v.rows} rows, but ${g.name} has ${g.order} elements`);
  const layout = gramLayout(g, v.cols, options);
  const perms = layout.elements.map((h) => rightRegular(g, h));
  const extras = layout.extraTurns.map((k) => leftRegular(g, groupElement(g, k)));
  const f = layout.featureCount;
  const out = new Float32Array(v.count * f);
  const size = v.rows * v.cols;
  for (let b = 0; b < v.count; b++) {
    let o = b * f;
    for (const p of perms) o = bandFeatures(v.data, b * size, p, v.cols, layout.diagonals, out, o);
    for (const p of extras) o = bandFeatures(v.data, b * size, p, v.cols, 1, out, o);
  }
  return { data: out, rows: v.count, cols: f, layout };
}
