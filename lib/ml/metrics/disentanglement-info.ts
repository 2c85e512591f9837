/**
 * The disentanglement metrics built on mutual information between binned codes and factors
 * (docs/CODAE.md, "Metrics"; definitions from Carbonneau et al. 2020's review). With m[j][k] =
 * I(z_j; v_k) (nats), K factors and B code bins:
 *
 * - MIG (Chen et al. 2018): mean over factors of (m[j1][k] - m[j2][k]) / H(v_k), j1 and j2 the two
 *   codes with the most information about v_k.
 * - JEMMIG (Do & Tran 2020), normalised as the review does: mean over factors of
 *   1 - (H(z_j1, v_k) - m[j1][k] + m[j2][k]) / (H(v_k) + log B).
 * - Modularity (Ridgeway & Mozer 2018): mean over codes of
 *   1 - Σ_{k ≠ k*} m[j][k]² / (θ_j² (K - 1)), θ_j = m[j][k*] the code's largest; a code that carries
 *   no information (θ_j = 0) scores 0, and with one factor every informative code scores 1.
 * All three lie in [0, 1]; higher is better.
 */
import { entropy, jointInformation, topTwo, unit, type Discrete } from './disentanglement-data';

/** Mutual information m[j][k] and joint entropies h[j][k] of every (code, factor) pair. */
export function informationMatrix(codes: Discrete[], factors: Discrete[]): { mi: number[][]; joint: number[][] } {
  const mi = codes.map(() => new Array<number>(factors.length).fill(0));
  const joint = codes.map(() => new Array<number>(factors.length).fill(0));
  codes.forEach((z, j) => {
    factors.forEach((v, k) => {
      const r = jointInformation(z, v);
      mi[j]![k] = r.mutual;
      joint[j]![k] = r.joint;
    });
  });
  return { mi, joint };
}

/** MIG; factors without entropy (constant) are left out of the mean. */
export function mig(mi: number[][], factors: Discrete[]): number {
  let sum = 0;
  let used = 0;
  factors.forEach((v, k) => {
    const h = entropy(v);
    if (!(h > 0)) return;
    const t = topTwo(mi.map((row) => row[k]!));
    sum += (t.first - t.second) / h;
    used++;
  });
  return used ? unit(sum / used) : Number.NaN;
}

/** JEMMIG normalised to [0, 1] (1 - normalised JEMMIG); `bins` = the number of code bins B. */
export function jemmig(mi: number[][], joint: number[][], factors: Discrete[], bins: number): number {
  let sum = 0;
  factors.forEach((v, k) => {
    const t = topTwo(mi.map((row) => row[k]!));
    const raw = joint[t.index]![k]! - t.first + t.second;
    sum += 1 - raw / (entropy(v) + Math.log(bins));
  });
  return unit(sum / factors.length);
}

/** Modularity. */
export function modularity(mi: number[][]): number {
  let sum = 0;
  for (const row of mi) {
    const t = topTwo(row);
    if (row.length === 1) {
      sum += t.first > 0 ? 1 : 0;
      continue;
    }
    if (!(t.first > 0)) continue;
    let off = 0;
    row.forEach((m, k) => {
      if (k !== t.index) off += m * m;
    });
    sum += 1 - off / (t.first * t.first * (row.length - 1));
  }
  return unit(sum / mi.length);
}
