#!/usr/bin/env node
// Training-throughput benchmark of the CODAE experiment's models (lib/experiments/codae-models.ts:
// CODAE, spatial-VAE, β-VAE, DAE) at the experiment's network sizes, through the built package
// (dist/). Chooses the scale of `soapix experiment codae` (docs/CODAE.md, "Speed and scale").
//
//   npx tsc -p tsconfig.build.json      # (once, or whenever lib/ changed) -> dist/
//   npm run bench:codae                 # = node bench/codae.mjs
//   node bench/codae.mjs --sets xyrcs --models codae,spatial-vae --backends wasm --steps 6
//
// Each backend runs in its own child process (wasm with soapix's kernel fixes; cpu = TensorFlow.js's
// plain-JavaScript backend). For every data set x model the child builds the model as the
// experiment does, runs one warm-up epoch of one batch, then times training on --steps batches of
// the data set's images (repeated until --min-seconds have passed; cpu: one step on --cpu-images images).
// "samples/s" is images per second of wall time, "per CPU-second" images per second of the
// process's CPU time (one thread), which drops less when other jobs share the machine.
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
const MODELS = ['codae', 'spatial-vae', 'beta-vae', 'dae'];
const SETS = ['xyrcs', 'dsprites', 'mnist'];
const BACKENDS = ['wasm', 'cpu'];
const fail = failer('codae.mjs');

function parseArgs(argv) {
  return parseCli(
    argv,
    {
      sets: { type: 'list', known: SETS, what: 'data set', default: [...SETS] },
      models: { type: 'list', known: MODELS, what: 'model', default: [...MODELS] },
      backends: { type: 'list', known: BACKENDS, what: 'backend', default: [...BACKENDS] },
      steps: { type: 'int', min: 1, default: 6 },
      'cpu-images': { type: 'int', min: 1, default: 8 },
      'min-seconds': { type: 'number', default: 3 },
      seed: { type: 'int', min: 0, default: 1 },
      child: { type: 'string', default: null },
    },
    'usage: node bench/codae.mjs [--sets xyrcs,dsprites,mnist] [--models codae,spatial-vae,beta-vae,dae] [--backends wasm,cpu] [--steps 6] [--cpu-images 8] [--min-seconds 3] [--seed 1]',
    fail,
  );
}

/** Images of a data set: the generators for the synthetic sets, seeded noise for MNIST-sized ones (same cost). */
function images(set, count, seed) {
  if (set === 'xyrcs') {
    const { xyrcsImages } = require(path.join(root, 'dist', 'data', 'xyrcs.js'));
    return xyrcsImages({ count, seed });
  }
  if (set === 'dsprites') {
    const { dspritesImages } = require(path.join(root, 'dist', 'data', 'dsprites.js'));
    return dspritesImages({ count, seed });
  }
  const { Rng } = require(path.join(root, 'dist', 'util', 'random.js'));
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: count * 784 }, () => rng.nextFloat()), count, height: 28, width: 28 };
}

async function runChild(args) {
  const backend = args.child;
  const ml = require(path.join(root, 'dist', 'ml', 'index.js'));
  const { makeExperimentModel } = require(path.join(root, 'dist', 'experiments', 'codae-models.js'));
  const { CODAE_SCALE } = require(path.join(root, 'dist', 'experiments', 'codae.js'));
  const emit = (o) => process.stdout.write(JSON.stringify({ backend, ...o }) + '\n');
  let sel;
  try {
    sel = await ml.selectBackend({ prefer: backend, strict: true, log: false });
  } catch (err) {
    emit({ unavailable: err.message });
    return;
  }
  const batch = CODAE_SCALE.batchSize;
  // The cpu backend is slow on convolutions: one step on --cpu-images images.
  const count = backend === 'cpu' ? args.cpuImages : args.steps * batch;
  const results = [];
  for (const set of args.sets) {
    const size = set === 'dsprites' ? 64 : set === 'mnist' ? 28 : 32;
    const data = { name: set, size, shiftStd: 3, angleStd: 0.9 };
    const train = images(set, count, args.seed + 1);
    const warm = images(set, Math.min(batch, count), args.seed);
    for (const name of args.models) {
      const model = makeExperimentModel(name, data, CODAE_SCALE, args.seed);
      const row = { set, model: name, size, parameters: model.parameterCount };
      try {
        await model.fit(warm, 1, args.seed, () => undefined);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        let n = 0;
        do {
          await model.fit(train, 1, args.seed, () => undefined);
          n += train.count;
        } while ((performance.now() - t0) / 1000 < (backend === 'cpu' ? 0 : args.minSeconds));
        const seconds = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        results.push({
          ...row,
          images: n,
          seconds,
          samplesPerSecond: n / seconds,
          samplesPerCpuSecond: n / ((cpu.user + cpu.system) / 1e6),
        });
      } catch (err) {
        results.push({ ...row, failed: String(err && err.message ? err.message : err).split('\n')[0] });
      } finally {
        model.dispose();
      }
      const last = results.at(-1);
      process.stderr.write(
        `  ${backend} ${set} ${name}: ${last.failed ?? fmt(last.samplesPerCpuSecond, 1) + ' images per CPU-s'}\n`,
      );
    }
  }
  emit({
    threads: sel.threads,
    kernelFixes: sel.kernelFixes.map((f) => f.split(':')[0]),
    batch,
    scale: CODAE_SCALE,
    results,
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  checkDist(
    fail,
    ['ml/index.js', 'ml/models/codae.js', 'experiments/codae-models.js', 'data/xyrcs.js'],
    ['lib/ml/models', 'lib/ml/layers', 'lib/experiments', 'lib/data'],
  );
  if (args.child) return runChild(args);

  console.log(
    "The CODAE experiment's models at its network sizes (lib/experiments/codae.ts CODAE_SCALE): one training step = forward, loss, backward, Adam",
  );
  console.log(
    `timed: at least ${args.steps} batches and ${args.minSeconds} s per configuration (cpu: one step on ${args.cpuImages} images) after one warm-up step`,
  );
  console.log(
    `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cores()} cores, Node ${process.version}; load average before: ${loadAverage()}`,
  );
  const rows = [
    ['data set', 'model', 'backend', 'parameters', 'samples/s', 'per CPU-second', '12k-image epoch (min, CPU)'],
  ];
  const notes = [];
  for (const backend of args.backends) {
    process.stderr.write(`running ${backend} ...\n`);
    const childArgs = [
      '--child',
      backend,
      '--sets',
      args.sets.join(','),
      '--models',
      args.models.join(','),
      '--steps',
      String(args.steps),
      '--cpu-images',
      String(args.cpuImages),
      '--min-seconds',
      String(args.minSeconds),
      '--seed',
      String(args.seed),
    ];
    const r = runJsonChild(fileURLToPath(import.meta.url), childArgs, { inheritStderr: true });
    if (r.error) {
      notes.push(`${backend}: failed: ${r.error}`);
      continue;
    }
    const res = r.result;
    if (res.unavailable) {
      notes.push(`${backend}: not available: ${res.unavailable}`);
      continue;
    }
    notes.push(
      `${backend}: ${res.threads} thread(s)${res.kernelFixes?.length ? `, kernel fixes: ${res.kernelFixes.join(', ')}` : ''}; batch ${res.batch}; scale ${JSON.stringify(res.scale)}`,
    );
    for (const x of res.results) {
      if (x.failed) {
        rows.push([x.set, x.model, backend, x.parameters, 'fails', '-', '-']);
        notes.push(`${backend} ${x.set} ${x.model}: ${x.failed}`);
        continue;
      }
      rows.push([
        x.set,
        x.model,
        backend,
        x.parameters,
        fmt(x.samplesPerSecond, 1),
        fmt(x.samplesPerCpuSecond, 1),
        fmt(12000 / x.samplesPerCpuSecond / 60, 1),
      ]);
    }
  }
  console.log();
  printMarkdownTable(rows, 3);
  for (const n of notes) console.log(n);
  console.log();
  console.log(
    `load average after: ${loadAverage()} (other processes on this machine slow every rate; compare the per-CPU-second column)`,
  );
}

await main();
