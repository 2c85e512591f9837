/**
 * The named trainable tensors of a model built from plain TensorFlow.js ops (the group
 * convolutions, the image autoencoders): created in a fixed order with seeded Glorot-uniform
 * values, U(-a, a) with a = sqrt(6 / (fanIn + fanOut)), drawn from soapix's {@link Rng} so that a
 * seed gives the same weights on every backend; saved and restored by name.
 */
import * as tf from '@tensorflow/tfjs';

import { Rng } from '../../util/random';

/** How a parameter starts: Glorot-uniform with the given fans, or zeros. */
export type ParameterInit = { glorot: [fanIn: number, fanOut: number] } | 'zeros';

interface Entry {
  name: string;
  variable: tf.Variable;
}

/** An ordered set of named variables. */
export class ParameterSet {
  private readonly entries: Entry[] = [];
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  /** A new variable `name` of `shape`; names are unique within the set. */
  add(name: string, shape: number[], init: ParameterInit): tf.Variable {
    if (this.entries.some((e) => e.name === name)) throw new Error(`parameter '${name}' defined twice`);
    const size = shape.reduce((p, d) => p * d, 1);
    const values = new Float32Array(size);
    if (init !== 'zeros') {
      const [fanIn, fanOut] = init.glorot;
      const a = Math.sqrt(6 / (fanIn + fanOut));
      // One generator per parameter, seeded from the set's: adding a parameter later in the
      // order does not change the ones before it.
      const r = new Rng(this.rng.nextUint32());
      for (let i = 0; i < size; i++) values[i] = a * (2 * r.nextFloat() - 1);
    } else {
      this.rng.nextUint32();
    }
    // No tfjs name: variable names are global in TensorFlow.js, and two models would clash.
    const variable = tf.variable(tf.tensor(values, shape, 'float32'), true);
    this.entries.push({ name, variable });
    return variable;
  }

  /** The variables in creation order. */
  get variables(): tf.Variable[] {
    return this.entries.map((e) => e.variable);
  }

  get names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /** Total number of values. */
  get size(): number {
    return this.entries.reduce((p, e) => p + e.variable.size, 0);
  }

  /** The variables by name (the tensors themselves, not copies). */
  named(): tf.NamedTensorMap {
    const out: tf.NamedTensorMap = {};
    for (const e of this.entries) out[e.name] = e.variable;
    return out;
  }

  /** Current values, in order. */
  getWeights(): tf.Tensor[] {
    return this.entries.map((e) => e.variable);
  }

  /** Assigns values in order (same shapes). */
  setWeights(ws: tf.Tensor[]): void {
    if (ws.length !== this.entries.length)
      throw new Error(`setWeights: ${ws.length} tensors for ${this.entries.length} parameters`);
    this.entries.forEach((e, i) => e.variable.assign(ws[i]!));
  }

  /**
   * Assigns values by name; every parameter must be present with its shape, and nothing else.
   * @throws Error listing the missing, extra or misshapen tensors.
   */
  assignNamed(map: tf.NamedTensorMap): void {
    const problems: string[] = [];
    for (const e of this.entries) {
      const t = map[e.name];
      if (!t) problems.push(`'${e.name}' is missing`);
      else if (t.shape.join(',') !== e.variable.shape.join(','))
        problems.push(`'${e.name}' has shape [${t.shape}], expected [${e.variable.shape}]`);
    }
    for (const name of Object.keys(map))
      if (!this.entries.some((e) => e.name === name)) problems.push(`'${name}' is not a parameter of this model`);
    if (problems.length) throw new Error(`the weights do not fit the model: ${problems.join('; ')}`);
    for (const e of this.entries) e.variable.assign(map[e.name]!);
  }

  dispose(): void {
    for (const e of this.entries) e.variable.dispose();
    this.entries.length = 0;
  }
}
