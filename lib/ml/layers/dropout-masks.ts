/**
 * Seeded dropout masks for a training forward pass (inverted dropout: each value is kept with
 * probability 1 - rate and scaled by 1 / (1 - rate)). TensorFlow.js's own Dropout layer draws from
 * an unseeded generator, or with a seed repeats one mask every step, so soapix's models multiply
 * by masks from this generator instead, seeded from the training run's {@link Rng}.
 */
import type { Rng } from '../../util/random';

/**
 * Bulk generator of dropout masks: xoshiro128** (as {@link Rng}) with its state in local
 * variables for the inner loop, about 10x faster than one {@link Rng.nextUint32} call per value
 * (a training step of the default network draws 115,000 values). Seeded from an {@link Rng}.
 */
export class MaskGenerator {
  private readonly s = new Int32Array(4);

  constructor(seedFrom: Rng) {
    for (let i = 0; i < 4; i++) this.s[i] = seedFrom.nextUint32() | 0;
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Fills `mask` with inverted-dropout factors: 0 with probability `rate`, else 1 / (1 - rate). */
  fill(mask: Float32Array, rate: number): void {
    const threshold = rate * 4294967296;
    const keep = 1 / (1 - rate);
    const st = this.s;
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    for (let i = 0; i < mask.length; i++) {
      const x = Math.imul(s1, 5);
      const r = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      mask[i] = r < threshold ? 0 : keep;
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
  }
}
