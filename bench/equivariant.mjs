#!/usr/bin/env node
// Speed of the equivariant autoencoder (issue 11) on the TensorFlow.js backends, through the built
// package (dist/ml/index.js and dist/ml/layers/*):
//
//   npm run build:ts                 # (once, or whenever lib/ changed) -> dist/
//   npm run bench:equivariant        # = node bench/equivariant.mjs
//   node bench/equivariant.mjs --models ae,d4,d12 --backends wasm --steps 4 --batch 64
//
// 1. Training samples/s (forward, backward, Adam) of whole models on random 28x28 images, each in
//    its own child process: 'ae' the plain ConvAutoencoder (widths 16, 32, 64, code 64), 'd4' and
//    'd12' the EquivariantAutoencoder (p4 widths 8, 16, 32, m = 32, mean pooling: the models
//    behind the 'mean' and 'gram' rows), 'att-d4' and 'att-d12' with attention; all with their
//    decoders. cpu runs --cpu-steps steps of --cpu-batch images (it is ~50x slower).
// 2. Multiply-add rate of p4 layers against a plain conv2d with a filter bank of the same shape
//    ([k, k, 4 Cin, 4 Cout], so the same multiply-adds): forward alone, and a training step (the
//    p4 layer then also builds its bank and back-propagates through it). Target: the p4 layer
//    reaches >= 70 % of the plain layer's rate.
// 3. The reproduction scale these rates allow: seconds per 60,000-image epoch, and epochs of the
//    full training set (or of a smaller set) that fit in --budget-minutes of one core.
//
// Rates are wall time of one thread; "per CPU-second" divides by the process's CPU time, which
// drops less than wall time when other jobs share the machine (the load average is printed).
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
const MODELS = ['ae', 'd4', 'd12', 'att-d4', 'att-d12'];
const BACKENDS = ['wasm', 'cpu'];
const SIDE = 28;
const TRAIN_IMAGES = 60000;
const fail = failer('equivariant.mjs');

function parseArgs(argv) {
  return parseCli(
    argv,
    {
      models: { type: 'list', known: MODELS, what: 'model', default: [...MODELS] },
      backends: { type: 'list', known: BACKENDS, what: 'backend', default: [...BACKENDS] },
      steps: { type: 'int', min: 1, default: 4 },
      batch: { type: 'int', min: 1, default: 64 },
      'cpu-steps': { type: 'int', min: 1, default: 1 },
      'cpu-batch': { type: 'int', min: 1, default: 8 },
      'cpu-models': { type: 'list', known: MODELS, what: 'model', default: ['ae', 'd4'] },
      'layer-reps': { type: 'int', min: 1, default: 5 },
      'no-layers': { type: 'boolean' },
      'budget-minutes': { type: 'int', min: 1, default: 60 },
      seed: { type: 'int', min: 0, default: 1 },
      child: { type: 'string', default: null },
    },
    'usage: node bench/equivariant.mjs [--models ae,d4,d12,att-d4,att-d12] [--backends wasm,cpu] [--steps 4] [--batch 64] [--cpu-steps 1] [--cpu-batch 8] [--cpu-models ae,d4] [--layer-reps 5] [--no-layers] [--budget-minutes 60] [--seed 1]',
    fail,
  );
}

// --- children ---------------------------------------------------------------------------------

function makeModel(ml, name, seed) {
  if (name === 'ae') return new ml.ConvAutoencoder({ seed });
  const [pooling, group] = name.startsWith('att-')
    ? ['attention', name.slice(4).toUpperCase()]
    : ['mean', name.toUpperCase()];
  return new ml.EquivariantAutoencoder({ group, pooling, seed });
}

function randomImages(count, seed) {
  let s = (seed * 2654435761) >>> 0 || 1;
  const data = new Float32Array(count * SIDE * SIDE);
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    data[i] = s / 4294967296;
  }
  return { data, count, height: SIDE, width: SIDE };
}

async function trainChild(args, backend, name) {
  const ml = require(path.join(root, 'dist', 'ml', 'index.js'));
  const sel = await ml.selectBackend({ prefer: backend, strict: true, log: false });
  const model = makeModel(ml, name, args.seed);
  const batch = backend === 'cpu' ? args.cpuBatch : args.batch;
  const steps = backend === 'cpu' ? args.cpuSteps : args.steps;
  // One epoch of `steps` batches after a warm-up epoch of one batch.
  await model.fit(randomImages(batch, args.seed + 1), { epochs: 1, batchSize: batch });
  const images = randomImages(batch * steps, args.seed + 2);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const h = await model.fit(images, { epochs: 1, batchSize: batch });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const out = {
    kind: 'train',
    backend: sel.name,
    kernelFixes: sel.kernelFixes.map((f) => f.split(':')[0]),
    model: name,
    batch,
    rows: batch * steps,
    seconds,
    samplesPerSecond: (batch * steps) / seconds,
    samplesPerCpuSecond: (batch * steps) / ((cpu.user + cpu.system) / 1e6),
    forwardMacs: model.macs(),
    parameters: model.parameterCount,
    loss: h.epochs[0].loss,
  };
  model.dispose();
  return out;
}

/** p4 layers against plain conv2d with a bank of the same shape. */
async function layerChild(args) {
  const ml = require(path.join(root, 'dist', 'ml', 'index.js'));
  const { ParameterSet } = require(path.join(root, 'dist', 'ml', 'layers', 'parameters.js'));
  const { P4GroupConv, P4LiftingConv } = require(path.join(root, 'dist', 'ml', 'layers', 'p4-conv.js'));
  const tf = require('@tensorflow/tfjs');
  await ml.selectBackend({ prefer: 'wasm', strict: true, log: false });
  // [label, lifting?, side, k, Cin, Cout, padding]: the default p4 branch's layers, batch 128 (D4: two branches of 64).
  const cases = [
    ['lift 1->8, 3x3 on 28x28', true, 28, 3, 1, 8, 'same'],
    ['p4 8->16, 3x3 on 14x14', false, 14, 3, 8, 16, 'same'],
    ['p4 16->32, 3x3 on 7x7', false, 7, 3, 16, 32, 'same'],
    ['p4 32->32, 7x7 valid on 7x7', false, 7, 7, 32, 32, 'valid'],
  ];
  const n = 128;
  const results = [];
  for (const [label, lifting, side, k, cin, cout, padding] of cases) {
    const params = new ParameterSet(args.seed);
    const layer = lifting
      ? new P4LiftingConv(params, 'l', { inChannels: cin, outChannels: cout, kernelSize: k, padding })
      : new P4GroupConv(params, 'l', { inChannels: cin, outChannels: cout, kernelSize: k, padding });
    const inCh = lifting ? cin : 4 * cin;
    const x = tf.randomUniform([n, side, side, inCh], 0, 1, 'float32', args.seed);
    const plainW = tf.variable(tf.randomNormal([k, k, inCh, 4 * cout], 0, 0.1, 'float32', args.seed));
    const plainB = tf.variable(tf.zeros([4 * cout]));
    const p4 = () => layer.apply(x);
    const plain = () => tf.add(tf.conv2d(x, plainW, 1, padding), plainB);
    const time = (f, train, vars) => {
      const run = () => {
        const out = tf.tidy(() => {
          if (!train) return tf.sum(f());
          const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(f())), vars);
          tf.dispose(Object.values(grads));
          return value;
        });
        out.dataSync();
        out.dispose();
      };
      run();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < args.layerReps; i++) run();
      const cu = process.cpuUsage(c0);
      return {
        wall: (performance.now() - t0) / 1000 / args.layerReps,
        cpu: (cu.user + cu.system) / 1e6 / args.layerReps,
      };
    };
    const macs = n * layer.macs(side);
    const row = { kind: 'layer', label, macs };
    for (const [mode, train] of [
      ['forward', false],
      ['train', true],
    ]) {
      // Alternate to share any change of load fairly.
      const a = time(p4, train, params.variables);
      const b = time(plain, train, [plainW, plainB]);
      const a2 = time(p4, train, params.variables);
      const b2 = time(plain, train, [plainW, plainB]);
      row[mode] = {
        p4: Math.min(a.cpu, a2.cpu),
        plain: Math.min(b.cpu, b2.cpu),
        p4Wall: Math.min(a.wall, a2.wall),
        plainWall: Math.min(b.wall, b2.wall),
      };
    }
    results.push(row);
    tf.dispose([x, plainW, plainB]);
    layer.dispose();
    params.dispose();
  }
  return { kind: 'layers', results };
}

async function runChild(args) {
  const [what, backend, name] = args.child.split(':');
  const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n');
  try {
    emit(what === 'layers' ? await layerChild(args) : await trainChild(args, backend, name));
  } catch (err) {
    emit({ kind: what, backend, model: name, failed: String(err && err.message ? err.message : err).split('\n')[0] });
  }
}

// --- parent -----------------------------------------------------------------------------------

function childArgs(args, child) {
  return [
    '--child',
    child,
    '--steps',
    String(args.steps),
    '--batch',
    String(args.batch),
    '--cpu-steps',
    String(args.cpuSteps),
    '--cpu-batch',
    String(args.cpuBatch),
    '--layer-reps',
    String(args.layerReps),
    '--seed',
    String(args.seed),
  ];
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  checkDist(
    fail,
    ['ml/index.js', 'ml/layers/p4-conv.js', 'ml/layers/parameters.js'],
    ['lib/ml/layers', 'lib/ml/models', 'lib/ml/groups'],
  );
  if (args.child) return runChild(args);
  const script = fileURLToPath(import.meta.url);

  console.log(
    `Equivariant autoencoder speed on ${SIDE}x${SIDE} images (random data); wasm: ${args.steps} steps of ${args.batch}, cpu: ${args.cpuSteps} of ${args.cpuBatch}, after one warm-up step`,
  );
  console.log(
    `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cores()} cores, Node ${process.version}; load average before: ${loadAverage()}`,
  );
  const train = [];
  for (const backend of args.backends) {
    for (const name of backend === 'cpu' ? args.cpuModels.filter((m) => args.models.includes(m)) : args.models) {
      process.stderr.write(`training ${name} on ${backend} ...\n`);
      const r = runJsonChild(script, childArgs(args, `train:${backend}:${name}`));
      train.push(r.error ? { backend, model: name, failed: r.error } : r.result);
    }
  }
  const rows = [
    [
      'model',
      'backend',
      'parameters',
      'MAC/image (fwd)',
      'samples/s',
      'per CPU-second',
      'GMAC/s (3x fwd)',
      '60k epoch (min)',
    ],
  ];
  for (const r of train) {
    if (r.failed) {
      rows.push([r.model, r.backend, '-', '-', 'fails', '-', '-', '-']);
      continue;
    }
    rows.push([
      r.model,
      r.backend,
      fmt(r.parameters),
      `${fmt(r.forwardMacs / 1e6, 1)} M`,
      fmt(r.samplesPerSecond, 1),
      fmt(r.samplesPerCpuSecond, 1),
      fmt((3 * r.forwardMacs * r.samplesPerCpuSecond) / 1e9, 2),
      fmt(TRAIN_IMAGES / r.samplesPerCpuSecond / 60, 1),
    ]);
  }
  console.log();
  printMarkdownTable(rows, 2);
  for (const r of train) if (r.failed) console.log(`${r.model} on ${r.backend}: fails: ${r.failed}`);
  const fixes = train.find((r) => r.kernelFixes?.length)?.kernelFixes;
  if (fixes) console.log(`wasm kernel fixes: ${fixes.join(', ')}`);

  if (!args.noLayers) {
    process.stderr.write('p4 layers against plain conv2d on wasm ...\n');
    const r = runJsonChild(script, childArgs(args, 'layers:wasm:'));
    console.log();
    if (r.error || r.result.failed) {
      console.log(`layer comparison fails: ${r.error ?? r.result.failed}`);
    } else {
      console.log(
        'p4 layer against a plain conv2d with a bank of the same shape (same multiply-adds), batch 128, wasm, CPU time per call:',
      );
      const lrows = [
        [
          'layer',
          'GMAC',
          'fwd p4 ms',
          'fwd plain ms',
          'fwd p4/plain rate',
          'train p4 ms',
          'train plain ms',
          'train p4/plain rate',
        ],
      ];
      for (const x of r.result.results) {
        lrows.push([
          x.label,
          fmt(x.macs / 1e9, 3),
          fmt(1000 * x.forward.p4, 1),
          fmt(1000 * x.forward.plain, 1),
          `${fmt((100 * x.forward.plain) / x.forward.p4)} %`,
          fmt(1000 * x.train.p4, 1),
          fmt(1000 * x.train.plain, 1),
          `${fmt((100 * x.train.plain) / x.train.p4)} %`,
        ]);
      }
      const sum = (f) => r.result.results.reduce((a, x) => a + f(x), 0);
      const [fp, fq, tp, tq] = [
        sum((x) => x.forward.p4),
        sum((x) => x.forward.plain),
        sum((x) => x.train.p4),
        sum((x) => x.train.plain),
      ];
      lrows.push([
        'all four (a p4 branch)',
        fmt(sum((x) => x.macs) / 1e9, 3),
        fmt(1000 * fp, 1),
        fmt(1000 * fq, 1),
        `${fmt((100 * fq) / fp)} %`,
        fmt(1000 * tp, 1),
        fmt(1000 * tq, 1),
        `${fmt((100 * tq) / tp)} %`,
      ]);
      printMarkdownTable(lrows, 1);
      console.log(
        "(a full-size layer's bank is as large as its input batch, so building it costs as much as the conv2d; larger batches, e.g. D12's 6 branches, amortise it)",
      );
    }
  }

  // The scale: epochs of the full set, or of a smaller one, that fit in the budget on one core.
  const budget = args.budgetMinutes * 60;
  const wasm = train.filter((r) => r.backend === 'wasm' && r.samplesPerCpuSecond);
  if (wasm.length) {
    console.log();
    console.log(
      `scale for one training in ${args.budgetMinutes} min on one core (rates per CPU-second above; a contended machine understates them):`,
    );
    const srows = [['model', 's per 60k epoch', 'epochs of 60k in budget', 'or: epochs of 20k']];
    for (const r of wasm) {
      const perEpoch = TRAIN_IMAGES / r.samplesPerCpuSecond;
      srows.push([r.model, fmt(perEpoch), fmt(budget / perEpoch, 1), fmt(budget / (perEpoch / 3), 1)]);
    }
    printMarkdownTable(srows, 1);
  }
  console.log();
  console.log(`load average after: ${loadAverage()} (other processes on this machine slow every rate)`);
}

await main();
