/**
 * Training checkpoints: everything {@link fitModel} needs to continue a training after an epoch
 * exactly as if it had never stopped. Resuming from a checkpoint gives the same weights, bit for
 * bit, as the uninterrupted run on the same machine (test/checkpoint.test.ts), so a long training
 * (the deep autoencoders of Experiment 2 run for hours; docs/RESULTS.md) can be split over
 * sessions or Slurm jobs with time limits without changing its result.
 *
 * The state is the model's weights, Adam's moments and bias-correction powers, the shuffle
 * generator and the current row order, the early-stopping tracker (with its best weights), the
 * learning-rate schedule and the epoch logs. A file holds a JSON header and the float32 arrays,
 * with a SHA-256 of both, written atomically.
 */
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

import { writeFileAtomic } from '../../util/atomic-file';
import type { RngState } from '../../util/random';

/** The early-stopping tracker's state (lib/ml/train/training.ts, BestEpochTracker). */
export interface TrackerState {
  best: number;
  bestEpoch: number | null;
  sinceBest: number;
  /** The best epoch's weights, when the tracker keeps them. */
  weights: Float32Array[] | null;
}

/** The learning-rate schedule's state (lib/ml/train/lr-schedule.ts, PlateauSchedule). */
export interface ScheduleState {
  learningRate: number;
  best: number;
  wait: number;
}

/** Adam's state: its step count, moments (first then second, one per variable) and bias-correction powers. */
export interface OptimizerState {
  iterations: number;
  learningRate: number;
  slotNames: string[];
  slots: Float32Array[];
  accBeta1: number;
  accBeta2: number;
}

/** A training after `epoch` completed epochs. `logs` are the trainer's epoch logs (plain numbers). */
export interface FitState<L = unknown> {
  epoch: number;
  /** What must match for the state to belong to this training (rows, batch size, seed, ...). */
  fingerprint: string;
  /** Early stopping ended the training: nothing is left to train. */
  stopped: boolean;
  /** Early stopping ended it before the last allowed epoch (the history's stoppedEarly). */
  stoppedEarly: boolean;
  /** Seconds spent training before this checkpoint (summed over the processes that ran it). */
  seconds: number;
  /** CPU seconds of the same (user + system). */
  cpuSeconds: number;
  rng: RngState;
  order: Int32Array;
  weights: Float32Array[];
  optimizer: OptimizerState;
  tracker: TrackerState;
  schedule: ScheduleState | null;
  logs: L[];
  /** The model's own training state (fit.ts, FitHooks.state), JSON-able. */
  extra?: unknown;
}

/** Where {@link fitModel} keeps its checkpoints. */
export interface FitCheckpoint {
  /** The saved state, or null when there is none. */
  load(): Promise<FitState | null>;
  save(state: FitState): Promise<void>;
  /** Forgets the state (for the caller, once the finished training's result is stored elsewhere). */
  remove(): Promise<void>;
  /** Least seconds between two saves; 0 saves after every epoch. */
  readonly everySeconds: number;
  /** Where the state is kept, for messages (a file path). */
  readonly location: string;
}

/** A checkpoint file that cannot be read back: its path, and what to do. */
export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    what: string,
  ) {
    super(`checkpoint ${file}: ${what}; delete the file to start this training over`);
    this.name = 'CheckpointError';
  }
}

type AdamFields = { accBeta1?: tf.Variable; accBeta2?: tf.Variable; learningRate: number };

function adamFields(optimizer: tf.Optimizer): AdamFields & { accBeta1: tf.Variable; accBeta2: tf.Variable } {
  const o = optimizer as unknown as AdamFields;
  if (
    optimizer.getClassName() !== 'Adam' ||
    !(o.accBeta1 instanceof tf.Variable) ||
    !(o.accBeta2 instanceof tf.Variable)
  )
    throw new TypeError(`checkpoint: only Adam's state can be saved, got ${optimizer.getClassName()}`);
  return o as AdamFields & { accBeta1: tf.Variable; accBeta2: tf.Variable };
}

/** Adam's state after at least one step. */
export async function captureOptimizer(optimizer: tf.Optimizer): Promise<OptimizerState> {
  const o = adamFields(optimizer);
  const named = await optimizer.getWeights();
  const [iter, ...slots] = named;
  return {
    iterations: (await iter!.tensor.data())[0]!,
    learningRate: o.learningRate,
    slotNames: slots.map((s) => s.name),
    slots: await Promise.all(slots.map(async (s) => Float32Array.from(await s.tensor.data()))),
    accBeta1: (await o.accBeta1.data())[0]!,
    accBeta2: (await o.accBeta2.data())[0]!,
  };
}

/**
 * Puts Adam's state back. `shapes` are the trainable variables' shapes in the order Adam keeps
 * its moments (the order of the variables it updates). Adam's own `setWeights` recomputes the
 * bias-correction powers as beta^(t+1), which rounds differently from the running product a
 * live optimizer keeps, so the saved powers are assigned after it.
 */
export async function restoreOptimizer(
  optimizer: tf.Optimizer,
  state: OptimizerState,
  shapes: readonly number[][],
): Promise<void> {
  const o = adamFields(optimizer);
  if (state.slots.length !== 2 * shapes.length)
    throw new RangeError(
      `checkpoint: the optimizer state has ${state.slots.length} moments, the model needs ${2 * shapes.length}`,
    );
  const named: Parameters<tf.Optimizer['setWeights']>[0] = [
    { name: 'iter', tensor: tf.scalar(state.iterations, 'int32') },
    ...state.slots.map((data, i) => {
      const shape = shapes[i % shapes.length]!;
      if (data.length !== shape.reduce((a, b) => a * b, 1))
        throw new RangeError(`checkpoint: moment ${i} has ${data.length} values, its variable has shape [${shape}]`);
      return { name: state.slotNames[i] ?? `slot${i}`, tensor: tf.tensor(data, shape) };
    }),
  ];
  await optimizer.setWeights(named);
  tf.dispose(named.map((n) => n.tensor));
  o.accBeta1.assign(tf.scalar(state.accBeta1));
  o.accBeta2.assign(tf.scalar(state.accBeta2));
  o.learningRate = state.learningRate;
}

/** A SHA-256 of the training rows (and labels), so that a state is never continued on other data. */
export function dataFingerprint(x: Float32Array, y?: Int32Array | Uint8Array): string {
  const h = createHash('sha256').update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  if (y) h.update(new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
  return h.digest('hex');
}

const MAGIC = 'soapix-fit-checkpoint';
const VERSION = 1;

/** JSON with NaN and ±Infinity kept (a tracker starts at NaN, a schedule at +Infinity). */
function encodeNumber(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? { nonFinite: String(v) } : v;
}
function decodeNumber(_k: string, v: unknown): unknown {
  if (v !== null && typeof v === 'object' && 'nonFinite' in v && Object.keys(v).length === 1)
    return Number((v as { nonFinite: string }).nonFinite);
  return v;
}

interface Header {
  format: typeof MAGIC;
  version: number;
  /** The state without its arrays, and each array's length in the payload, in order. */
  state: Omit<FitState, 'order' | 'weights' | 'optimizer' | 'tracker'> & {
    optimizer: Omit<OptimizerState, 'slots'>;
    tracker: Omit<TrackerState, 'weights'> & { hasWeights: boolean };
  };
  arrays: { order: number; weights: number[]; slots: number[]; best: number[] };
  sha256: string;
}

function digest(json: string, payload: Uint8Array): string {
  return createHash('sha256').update(json).update(payload).digest('hex');
}

/** The bytes of a checkpoint: a length-prefixed JSON header, then int32 order and float32 arrays. */
function encode(state: FitState): Buffer {
  const floats = [...state.weights, ...state.optimizer.slots, ...(state.tracker.weights ?? [])];
  const parts = [state.order, ...floats].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const payload = Buffer.concat(parts);
  const { order: _o, weights: _w, optimizer, tracker, ...rest } = state;
  const { slots: _s, ...opt } = optimizer;
  const { weights: best, ...trk } = tracker;
  const headerNoSum = {
    format: MAGIC,
    version: VERSION,
    state: { ...rest, optimizer: opt, tracker: { ...trk, hasWeights: best !== null } },
    arrays: {
      order: state.order.length,
      weights: state.weights.map((a) => a.length),
      slots: optimizer.slots.map((a) => a.length),
      best: (best ?? []).map((a) => a.length),
    },
  };
  const sha256 = digest(JSON.stringify(headerNoSum, encodeNumber), payload);
  const json = Buffer.from(JSON.stringify({ ...headerNoSum, sha256 }, encodeNumber), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  return Buffer.concat([len, json, payload]);
}

function decode(file: string, bytes: Buffer): FitState {
  if (bytes.length < 4) throw new CheckpointError(file, 'truncated (no header)');
  const n = bytes.readUInt32LE(0);
  if (4 + n > bytes.length) throw new CheckpointError(file, 'truncated header');
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(4, 4 + n).toString('utf8'), decodeNumber) as Header;
  } catch {
    throw new CheckpointError(file, 'the header is not JSON');
  }
  if (header?.format !== MAGIC) throw new CheckpointError(file, 'not a soapix training checkpoint');
  if (header.version !== VERSION)
    throw new CheckpointError(file, `version ${String(header.version)}, this soapix reads version ${VERSION}`);
  const { sha256, ...noSum } = header;
  const payload = bytes.subarray(4 + n);
  const a = header.arrays;
  const floatCount = [...a.weights, ...a.slots, ...a.best].reduce((s, x) => s + x, 0);
  if (payload.length !== 4 * (a.order + floatCount))
    throw new CheckpointError(
      file,
      `${payload.length} bytes of arrays, the header describes ${4 * (a.order + floatCount)}`,
    );
  if (digest(JSON.stringify(noSum, encodeNumber), payload) !== sha256)
    throw new CheckpointError(file, 'checksum mismatch (the file is damaged)');
  // Copies, so the arrays are aligned and independent of the file buffer.
  let off = 0;
  const take = <T extends Int32Array | Float32Array>(make: (buf: ArrayBuffer) => T, count: number): T => {
    const slice = payload.subarray(off, off + 4 * count);
    off += 4 * count;
    return make(Uint8Array.from(slice).buffer);
  };
  const order = take((b) => new Int32Array(b), a.order);
  const weights = a.weights.map((c) => take((b) => new Float32Array(b), c));
  const slots = a.slots.map((c) => take((b) => new Float32Array(b), c));
  const best = a.best.map((c) => take((b) => new Float32Array(b), c));
  const { hasWeights, ...tracker } = header.state.tracker;
  return {
    ...header.state,
    order,
    weights,
    optimizer: { ...header.state.optimizer, slots },
    tracker: { ...tracker, weights: hasWeights ? best : null },
  };
}

/**
 * How far the training saved in `file` got, from the header alone (no checksum, no arrays), or
 * null when there is no readable checkpoint there. For progress estimates only: a resume loads
 * and checks the whole file ({@link fileCheckpoint}).
 */
export async function checkpointProgress(file: string): Promise<{ epoch: number; stopped: boolean } | null> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(file, 'r');
    const len = Buffer.alloc(4);
    if ((await fh.read(len, 0, 4, 0)).bytesRead < 4) return null;
    const n = len.readUInt32LE(0);
    if (4 + n > (await fh.stat()).size) return null; // truncated, or not a length: allocate nothing
    const json = Buffer.alloc(n);
    if ((await fh.read(json, 0, json.length, 4)).bytesRead < json.length) return null;
    const h = JSON.parse(json.toString('utf8'), decodeNumber) as Partial<Header>;
    const epoch = h.state?.epoch;
    if (h.format !== MAGIC || typeof epoch !== 'number' || !(epoch >= 0)) return null;
    return { epoch, stopped: h.state?.stopped === true };
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}

/** Options of {@link fileCheckpoint}. */
export interface FileCheckpointOptions {
  /** Least seconds between two saves; 0 saves after every epoch. Default 300. */
  everySeconds?: number;
}

/** A checkpoint kept in one file (written atomically; its folder is created when needed). */
export function fileCheckpoint(file: string, options: FileCheckpointOptions = {}): FitCheckpoint {
  const everySeconds = options.everySeconds ?? 300;
  if (!(typeof everySeconds === 'number' && everySeconds >= 0 && Number.isFinite(everySeconds)))
    throw new RangeError(`checkpoint: everySeconds must be a finite number >= 0, got ${String(options.everySeconds)}`);
  return {
    everySeconds,
    location: file,
    async load() {
      let bytes: Buffer;
      try {
        bytes = await fsp.readFile(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new CheckpointError(file, `cannot be read (${(err as Error).message})`);
      }
      return decode(file, bytes);
    },
    async save(state) {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, encode(state));
    },
    async remove() {
      await fsp.rm(file, { force: true });
    },
  };
}
