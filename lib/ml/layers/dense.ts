/**
 * Fully connected layers held as plain TensorFlow.js variables, for models that compute their
 * forward pass with tensor operations (the VAE family's encoder, dense decoder and coordinate
 * decoder): y = act(x W + b), W inputs x units.
 *
 * Initialisation follows PyTorch's nn.Linear, which the rVAE authors' pyroVED uses: W and b
 * uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)], drawn from soapix's seeded {@link Rng} so that
 * the same seed gives the same weights on every backend.
 *
 * Saving: {@link holderModel} wraps a list of layers in a TensorFlow.js layers model (one input and
 * one Dense layer per entry, named after it), so the model-folder format (model.json + weights.bin)
 * stores them; {@link copyFromHolder} reads them back by name, checking every shape.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/random';

/** The activations the layers here apply. */
export type DenseActivation = 'linear' | 'tanh';

/** A dense layer's shape. */
export interface DenseSpec {
  /** Unique within a model: letters, digits and underscores (it names the layer in model.json). */
  name: string;
  inputs: number;
  units: number;
  /** Default true. */
  bias?: boolean;
}

function uniform(rng: Rng, n: number, limit: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng.nextFloat() - 1) * limit;
  return a;
}

/** One dense layer: `kernel` [inputs, units] and `bias` [units] (or none). */
export class Dense {
  readonly name: string;
  readonly inputs: number;
  readonly units: number;
  readonly kernel: tf.Variable<tf.Rank.R2>;
  readonly bias: tf.Variable<tf.Rank.R1> | null;

  constructor(spec: DenseSpec, rng: Rng) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(spec.name))
      throw new RangeError(`Dense: layer name '${spec.name}' must be letters, digits and underscores`);
    if (!Number.isInteger(spec.inputs) || spec.inputs < 1 || !Number.isInteger(spec.units) || spec.units < 1) {
      throw new RangeError(
        `Dense ${spec.name}: inputs and units must be positive integers, got ${spec.inputs} x ${spec.units}`,
      );
    }
    this.name = spec.name;
    this.inputs = spec.inputs;
    this.units = spec.units;
    const limit = 1 / Math.sqrt(spec.inputs);
    this.kernel = tf.variable(tf.tensor2d(uniform(rng, spec.inputs * spec.units, limit), [spec.inputs, spec.units]));
    this.bias = spec.bias === false ? null : tf.variable(tf.tensor1d(uniform(rng, spec.units, limit)));
  }

  /** act(x W + b) for x [rows, inputs]. */
  apply(x: tf.Tensor2D, activation: DenseActivation = 'linear'): tf.Tensor2D {
    const y = (
      this.bias ? tf.fused.matMul({ a: x, b: this.kernel, bias: this.bias }) : tf.matMul(x, this.kernel)
    ) as tf.Tensor2D;
    return activation === 'tanh' ? tf.tanh(y) : y;
  }

  variables(): tf.Variable[] {
    return this.bias ? [this.kernel, this.bias] : [this.kernel];
  }

  dispose(): void {
    this.kernel.dispose();
    this.bias?.dispose();
  }
}

/** x through `layers` in turn, tanh after every layer but the last (`lastActivation` there). */
export function denseStack(
  x: tf.Tensor2D,
  layers: readonly Dense[],
  lastActivation: DenseActivation = 'linear',
): tf.Tensor2D {
  let h = x;
  layers.forEach((layer, i) => {
    h = layer.apply(h, i === layers.length - 1 ? lastActivation : 'tanh');
  });
  return h;
}

/**
 * A layers model holding copies of `layers`' weights (one input and one Dense layer per entry,
 * named after it), for {@link saveModelFolder}. Dispose it after saving.
 */
export function holderModel(layers: readonly Dense[], name: string): tf.LayersModel {
  const inputs: tf.SymbolicTensor[] = [];
  const outputs: tf.SymbolicTensor[] = [];
  const made: tf.layers.Layer[] = [];
  for (const l of layers) {
    const input = tf.input({ shape: [l.inputs], name: `${l.name}_in` });
    const layer = tf.layers.dense({
      units: l.units,
      useBias: l.bias !== null,
      name: l.name,
      kernelInitializer: 'zeros',
      biasInitializer: 'zeros',
    });
    inputs.push(input);
    outputs.push(layer.apply(input) as tf.SymbolicTensor);
    made.push(layer);
  }
  const model = tf.model({ inputs, outputs, name });
  made.forEach((layer, i) => layer.setWeights(layers[i]!.variables()));
  return model;
}

/**
 * Copies the weights of the Dense layers of `model` (a {@link holderModel} read back) into
 * `layers`, by name. Throws, naming the layer, when one is missing or has another shape.
 */
export function copyFromHolder(model: tf.LayersModel, layers: readonly Dense[]): void {
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const names = layers.map((l) => l.name);
  const extra = [...byName.keys()].filter((n) => !n.endsWith('_in') && !names.includes(n));
  if (extra.length) throw new Error(`the saved weights have layers this model does not: ${extra.join(', ')}`);
  for (const l of layers) {
    const saved = byName.get(l.name);
    if (!saved) throw new Error(`the saved weights have no layer '${l.name}'`);
    const ws = saved.getWeights();
    const want = l.variables();
    if (ws.length !== want.length || ws.some((w, k) => w.shape.join(',') !== want[k]!.shape.join(','))) {
      const shapes = (t: tf.Tensor[]): string => t.map((w) => `[${w.shape.join(',')}]`).join(' ');
      throw new Error(
        `layer '${l.name}' has weights ${shapes(ws)} in the folder, but this model needs ${shapes(want)}`,
      );
    }
    ws.forEach((w, k) => want[k]!.assign(w));
  }
}

/**
 * The last step of a model's `load`: copies the saved `holder`'s weights into `layers`
 * ({@link copyFromHolder}) and always frees the holder; on a mismatch it frees the half-built
 * model (`disposeTarget`) and throws a `load:` error naming the folder.
 */
export function restoreFromHolder(
  holder: tf.LayersModel,
  layers: readonly Dense[],
  dir: string,
  disposeTarget: () => void,
): void {
  try {
    copyFromHolder(holder, layers);
  } catch (err) {
    disposeTarget();
    throw new Error(
      `load: the weights in ${dir} do not fit the model that soapix.json describes: ${(err as Error).message}`,
    );
  } finally {
    holder.dispose();
  }
}
