#!/usr/bin/env node
// Training-throughput benchmark of the paper's small CNN on 13x13x1 patches, on the TensorFlow.js
// backends available here, through the built package (dist/ml/index.js).
//
//   npm run build:ts            # (once, or whenever lib/ changed) -> dist/
//   npm run bench:cnn           # = node bench/cnn.mjs
//   node bench/cnn.mjs --steps 10 --variants cpu,wasm-shipped,wasm --profile
//
// Model: conv2d 16 3x3 valid + ReLU, maxPool 2, conv2d 32 3x3 valid + ReLU, maxPool 2, flatten,
// dense 64 ReLU, dense 10 softmax; sparse categorical cross-entropy, Adam lr 1e-4, batch 2048;
// random data (normal patches, uniform labels). Each variant runs in its own child process:
//
//   cpu           TensorFlow.js's plain-JavaScript backend
//   wasm-shipped  wasm with TensorFlow.js's kernels as shipped (it has no Conv2DBackpropFilter, so
//                 training fails: the table says so and why)
//   wasm          wasm with soapix's kernel fixes (lib/ml/kernels/), the default backend here
//
// After a warm-up (--warmup-steps, default 2; the cpu backend warms up on a small batch, a full one
// takes it about two minutes) each variant times --steps training steps (default 10; cpu:
// --cpu-steps, default 1) of forward, backward and Adam update. "samples/s" is rows per second of
// wall time, "per CPU-second" rows per second of the process's CPU time (one thread on wasm and
// cpu), which drops less than the wall-time rate when other jobs share the machine. --profile
// also prints the milliseconds per kernel of one step on wasm (tf.profile).
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  checkDist,
  cores,
  failer,
  fmt,
  loadAverage,
  parseCli,
  printMarkdownTable,
  root,
  runJsonChild,
} from './common.mjs';

const require = createRequire(import.meta.url);
const VARIANTS = ['cpu', 'wasm-shipped', 'wasm'];
const SIDE = 13;
const CLASSES = 10;
const BATCH = 2048;
const LEARNING_RATE = 1e-4;
const fail = failer('cnn.mjs');

function parseArgs(argv) {
  return parseCli(
    argv,
    {
      steps: { type: 'int', min: 1, default: 10 },
      'cpu-steps': { type: 'int', min: 1, default: 1 },
      'warmup-steps': { type: 'int', min: 0, default: 2 },
      variants: { type: 'list', known: VARIANTS, what: 'variant', default: [...VARIANTS] },
      profile: { type: 'boolean' },
      seed: { type: 'int', min: 0, default: 1 },
      child: { type: 'string', default: null },
    },
    'usage: node bench/cnn.mjs [--steps 10] [--cpu-steps 1] [--warmup-steps 2] [--variants cpu,wasm-shipped,wasm] [--profile] [--seed 1]',
    fail,
  );
}

// --- child: one variant in a fresh process ------------------------------------------------------

function buildModel(tf, seed) {
  const init = (s) => tf.initializers.glorotUniform({ seed: seed + s });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [SIDE, SIDE, 1],
        filters: 16,
        kernelSize: 3,
        padding: 'valid',
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.conv2d({
        filters: 32,
        kernelSize: 3,
        padding: 'valid',
        activation: 'relu',
        kernelInitializer: init(2),
      }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: init(4) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(LEARNING_RATE), loss: 'sparseCategoricalCrossentropy' });
  return model;
}

/** Deterministic random batch: normal pixels, uniform labels. */
function batchData(tf, rows, seed) {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const x = new Float32Array(rows * SIDE * SIDE);
  for (let i = 0; i < x.length; i++) x[i] = Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  const y = new Float32Array(rows);
  for (let i = 0; i < rows; i++) y[i] = Math.floor(next() * CLASSES);
  return { xs: tf.tensor4d(x, [rows, SIDE, SIDE, 1]), ys: tf.tensor1d(y) };
}

async function runChild(args) {
  const variant = args.child;
  const ml = require(path.join(root, 'dist', 'ml', 'index.js'));
  const tf = require('@tensorflow/tfjs');
  const prefer = variant === 'wasm-shipped' ? 'wasm' : variant;
  const emit = (o) => process.stdout.write(JSON.stringify({ variant, ...o }) + '\n');
  let sel;
  try {
    sel = await ml.selectBackend({ prefer, strict: true, wasmKernelFixes: variant !== 'wasm-shipped', log: false });
  } catch (err) {
    emit({ unavailable: err.message });
    return;
  }
  const model = buildModel(tf, args.seed);
  const full = batchData(tf, BATCH, args.seed);
  const isCpu = variant === 'cpu';
  const steps = isCpu ? args.cpuSteps : args.steps;
  try {
    // Warm-up: kernel set-up, JIT, optimiser state (cpu: on a small batch).
    const warm = isCpu ? batchData(tf, 32, args.seed + 1) : full;
    for (let i = 0; i < Math.max(1, args.warmupSteps); i++) await model.trainOnBatch(warm.xs, warm.ys);
    if (warm !== full) tf.dispose([warm.xs, warm.ys]);
  } catch (err) {
    emit({ backend: sel.name, failed: String(err && err.message ? err.message : err).split('\n')[0] });
    return;
  }
  let profile;
  if (args.profile && !isCpu) {
    const info = await tf.profile(async () => {
      const l = await model.trainOnBatch(full.xs, full.ys);
      return l;
    });
    const byKernel = {};
    for (const k of info.kernels) byKernel[k.name] = (byKernel[k.name] ?? 0) + k.kernelTimeMs;
    profile = Object.entries(byKernel).sort((a, b) => b[1] - a[1]);
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let loss = NaN;
  for (let i = 0; i < steps; i++) loss = await model.trainOnBatch(full.xs, full.ys);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rows = steps * BATCH;
  emit({
    backend: sel.name,
    threads: sel.threads,
    kernelFixes: sel.kernelFixes.map((f) => f.split(':')[0]),
    rows,
    seconds,
    samplesPerSecond: rows / seconds,
    samplesPerCpuSecond: rows / ((cpu.user + cpu.system) / 1e6),
    loss: Array.isArray(loss) ? loss[0] : loss,
    profile,
  });
  tf.dispose([full.xs, full.ys]);
  model.dispose();
}

// --- parent: run each variant, print the table ---------------------------------------------------

function main() {
  const args = parseArgs(process.argv.slice(2));
  checkDist(fail, ['ml/index.js', 'ml/backend.js', 'ml/kernels/install.js'], ['lib/ml/backend.ts', 'lib/ml/kernels']);
  if (args.child) return runChild(args);

  console.log(
    `CNN on ${SIDE}x${SIDE}x1 patches: conv 16 3x3 + ReLU, maxPool 2, conv 32 3x3 + ReLU, maxPool 2, dense 64 ReLU, dense ${CLASSES}; Adam lr ${LEARNING_RATE}, batch ${BATCH}, random data`,
  );
  console.log(`timed: ${args.steps} steps per variant (cpu: ${args.cpuSteps}) after ${args.warmupSteps} warm-up steps`);
  console.log(
    `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cores()} cores, Node ${process.version}; load average before: ${loadAverage()}`,
  );
  const results = [];
  for (const variant of args.variants) {
    process.stderr.write(`running ${variant} ...\n`);
    const childArgs = [
      '--child',
      variant,
      '--steps',
      String(args.steps),
      '--cpu-steps',
      String(args.cpuSteps),
      '--warmup-steps',
      String(args.warmupSteps),
      '--seed',
      String(args.seed),
    ];
    if (args.profile) childArgs.push('--profile');
    const r = runJsonChild(fileURLToPath(import.meta.url), childArgs);
    results.push(r.error ? { variant, failed: r.error } : r.result);
  }

  const cpuRate = results.find((r) => r.variant === 'cpu' && r.samplesPerSecond)?.samplesPerSecond;
  const rows = [['variant', 'backend', 'rows timed', 'seconds', 'samples/s', 'per CPU-second', 'vs cpu']];
  for (const r of results) {
    if (!r.samplesPerSecond) {
      rows.push([r.variant, r.backend ?? '-', '-', '-', r.unavailable ? 'not available' : 'fails', '-', '-']);
      continue;
    }
    rows.push([
      r.variant,
      r.backend,
      fmt(r.rows),
      fmt(r.seconds, 1),
      fmt(r.samplesPerSecond),
      fmt(r.samplesPerCpuSecond),
      cpuRate ? `${fmt(r.samplesPerSecond / cpuRate, 1)}x` : '-',
    ]);
  }
  console.log();
  printMarkdownTable(rows, 2);
  for (const r of results) {
    if (r.unavailable) console.log(`${r.variant}: not available: ${r.unavailable}`);
    if (r.failed) console.log(`${r.variant}: fails: ${r.failed}`);
    if (r.kernelFixes?.length) console.log(`${r.variant}: kernel fixes: ${r.kernelFixes.join(', ')}`);
  }
  for (const r of results) {
    if (!r.profile) continue;
    console.log();
    console.log(`${r.variant}: ms per kernel in one training step (tf.profile), largest first`);
    printMarkdownTable(
      [['kernel', 'ms'], ...r.profile.filter(([, ms]) => ms >= 0.5).map(([k, ms]) => [k, fmt(ms, 1)])],
      1,
    );
  }
  console.log();
  console.log(`load average after: ${loadAverage()} (other processes on this machine slow every rate)`);
}

await main();
