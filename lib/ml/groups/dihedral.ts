/**
 * The finite rotation-reflection groups of the equivariant autoencoder: the cyclic groups C4, C12
 * (turns by 360°/n) and the dihedral groups D4, D12 (those turns and the mirror), as
 * multiplication tables.
 *
 * Elements are r^k m^s with r the turn by 360°/n counter-clockwise as displayed (the sense of
 * lib/data/transform.ts), m the left-right mirror, 0 <= k < n, s in {0, 1} (s = 0 only for C_n).
 * Index of r^k m^s = s n + k, so rows 0..n-1 of an equivariant code are the turns and rows
 * n..2n-1 the mirrored turns r^k m. The product follows from m r = r^-1 m:
 *
 *     (r^a m^s)(r^b m^t) = r^(a + (-1)^s b) m^(s + t),      (r^k m^s)^-1 = r^(-(-1)^s k) m^s.
 *
 * As a map of the plane, r^k m^s first mirrors (when s = 1), then turns by k 360°/n: the order
 * of lib/data/transform.ts (mirror before rotation). docs/EQUIVARIANT-AE.md derives the layouts.
 */

/** The groups the equivariant autoencoder supports. */
export type GroupName = 'C4' | 'D4' | 'C12' | 'D12';
export const GROUP_NAMES: readonly GroupName[] = Object.freeze(['C4', 'D4', 'C12', 'D12']);

/** A finite group C_n or D_n with its tables (all indices as above). */
export interface FiniteGroup {
  readonly name: GroupName;
  /** Number of turns n (the rotation subgroup C_n). */
  readonly rotations: number;
  /** True for D_n (the mirror is an element). */
  readonly reflections: boolean;
  /** |G| = n for C_n, 2n for D_n. */
  readonly order: number;
  /** product[a * order + b] = index of a·b. */
  readonly product: Int32Array;
  /** inverse[a] = index of a^-1. */
  readonly inverse: Int32Array;
}

/** Checks a group name; throws a RangeError listing the known ones. */
export function checkGroupName(name: unknown): asserts name is GroupName {
  if (!GROUP_NAMES.includes(name as GroupName)) {
    throw new RangeError(`unknown group '${String(name)}'; known: ${GROUP_NAMES.join(', ')}`);
  }
}

const cache = new Map<GroupName, FiniteGroup>();

/** The tables of the group `name` (built once). */
export function finiteGroup(name: GroupName): FiniteGroup {
  checkGroupName(name);
  const known = cache.get(name);
  if (known) return known;
  const n = name === 'C4' || name === 'D4' ? 4 : 12;
  const reflections = name.startsWith('D');
  const order = reflections ? 2 * n : n;
  const mod = (v: number): number => ((v % n) + n) % n;
  const product = new Int32Array(order * order);
  const inverse = new Int32Array(order);
  for (let a = 0; a < order; a++) {
    const [ka, sa] = [a % n, Math.floor(a / n)];
    inverse[a] = sa * n + mod(sa === 0 ? -ka : ka);
    for (let b = 0; b < order; b++) {
      const [kb, sb] = [b % n, Math.floor(b / n)];
      product[a * order + b] = ((sa + sb) % 2) * n + mod(ka + (sa === 0 ? kb : -kb));
    }
  }
  const g: FiniteGroup = Object.freeze({ name, rotations: n, reflections, order, product, inverse });
  cache.set(name, g);
  return g;
}

/** Index of r^k m^s in `g` (k taken modulo n). */
export function groupElement(g: FiniteGroup, k: number, s: 0 | 1 = 0): number {
  if (s === 1 && !g.reflections) throw new RangeError(`${g.name} has no mirror`);
  const n = g.rotations;
  return s * n + (((k % n) + n) % n);
}

/** The turn k and mirror s of element `i` (i = s n + k). */
export function elementParts(g: FiniteGroup, i: number): { k: number; s: 0 | 1 } {
  if (!Number.isInteger(i) || i < 0 || i >= g.order)
    throw new RangeError(`${g.name} has elements 0..${g.order - 1}, got ${String(i)}`);
  return { k: i % g.rotations, s: i >= g.rotations ? 1 : 0 };
}

/** a·b. */
export function multiply(g: FiniteGroup, a: number, b: number): number {
  return g.product[a * g.order + b]!;
}

/** The element as text: 'e', 'r^3', 'm', 'r^2 m'. */
export function elementName(g: FiniteGroup, i: number): string {
  const { k, s } = elementParts(g, i);
  const rot = k === 0 ? '' : k === 1 ? 'r' : `r^${k}`;
  if (s === 0) return rot || 'e';
  return rot ? `${rot} m` : 'm';
}

/** Angle of the turn of element `i`, in degrees (counter-clockwise as displayed). */
export function elementDegrees(g: FiniteGroup, i: number): number {
  return (elementParts(g, i).k * 360) / g.rotations;
}
