#!/usr/bin/env node
// Training-throughput benchmark of the VAE family (Rvae: VAE, cVAE, rVAE, rVAE + translation,
// crVAE) on 28x28 images, through the built package (dist/ml/index.js).
//
//   npm run build:ts            # (once, or whenever lib/ changed) -> dist/
//   npm run bench:rvae          # = node bench/rvae.mjs
//   node bench/rvae.mjs --models rvae,crvae --widths 128,64 --subsample 0,256 --backends wasm,cpu --steps 5
//
// Each backend runs in its own child process (wasm with soapix's kernel fixes, lib/ml/backend.ts;
// cpu = TensorFlow.js's plain-JavaScript backend). For every model x decoder width x pixels per step
// (0 = all 784; otherwise the unbiased subsampled likelihood) the child builds the model, runs one
// warm-up training step, then times --steps steps (cpu: --cpu-steps) of a full training step
// (encoder, reparameterised sample, decoder, -ELBO, backward pass, Adam) on a batch of --batch
// random images, via Rvae.fit on steps * batch images (repeated until --min-seconds have passed, so
// that the fast dense models are timed long enough). "samples/s" is images per second of
// wall time, "per CPU-second" images per second of the process's CPU time (one thread), which
// drops less when other jobs share the machine; "60k epoch" is 60,000 images at the CPU-second rate.
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
const MODELS = ['vae', 'cvae', 'rvae', 'trvae', 'crvae'];
const BACKENDS = ['wasm', 'cpu'];
const SIDE = 28;
const fail = failer('rvae.mjs');

function parseArgs(argv) {
  return parseCli(
    argv,
    {
      models: { type: 'list', known: MODELS, what: 'model', default: [...MODELS] },
      backends: { type: 'list', known: BACKENDS, what: 'backend', default: [...BACKENDS] },
      widths: { type: 'ints', min: 1, default: [128, 64] },
      subsample: { type: 'ints', min: 0, default: [0, 256] },
      'cpu-widths': { type: 'ints', min: 1, default: [64] },
      steps: { type: 'int', min: 1, default: 4 },
      'min-seconds': { type: 'number', default: 2 },
      'cpu-steps': { type: 'int', min: 1, default: 1 },
      batch: { type: 'int', min: 1, default: 100 },
      seed: { type: 'int', min: 0, default: 1 },
      child: { type: 'string', default: null },
    },
    'usage: node bench/rvae.mjs [--models vae,cvae,rvae,trvae,crvae] [--backends wasm,cpu] [--widths 128,64] [--cpu-widths 64] [--subsample 0,256] [--steps 4] [--cpu-steps 1] [--min-seconds 2] [--batch 100] [--seed 1]',
    fail,
  );
}

// --- child: one backend, every configuration --------------------------------------------------------

/** Seeded random images (uniform intensities) with uniform labels, from soapix's Rng. */
function randomImages(count, seed) {
  const { Rng } = require(path.join(root, 'dist', 'util', 'random.js'));
  const rng = new Rng(seed);
  const data = new Float32Array(count * SIDE * SIDE);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextFloat();
  const labels = Int32Array.from({ length: count }, () => rng.nextInt(10));
  return { data, count, height: SIDE, width: SIDE, labels };
}

async function runChild(args) {
  const backend = args.child;
  const ml = require(path.join(root, 'dist', 'ml', 'index.js'));
  const emit = (o) => process.stdout.write(JSON.stringify({ backend, ...o }) + '\n');
  let sel;
  try {
    sel = await ml.selectBackend({ prefer: backend, strict: true, log: false });
  } catch (err) {
    emit({ unavailable: err.message });
    return;
  }
  const isCpu = backend === 'cpu';
  const steps = isCpu ? args.cpuSteps : args.steps;
  const widths = isCpu ? args.cpuWidths : args.widths;
  const results = [];
  for (const model of args.models) {
    for (const width of widths) {
      for (const sub of args.subsample) {
        const rvae = new ml.Rvae({
          ...ml.RVAE_MODELS[model],
          decoderWidth: width,
          pixelSubsample: sub,
          batchSize: args.batch,
          seed: args.seed,
        });
        const row = { model, width, pixels: sub || SIDE * SIDE, decoder: rvae.options.decoder };
        try {
          await rvae.fit(randomImages(args.batch, args.seed), { epochs: 1 });
          const data = randomImages(steps * args.batch, args.seed + 1);
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          // At least --steps steps and --min-seconds of wall time (fast models repeat the epoch).
          let images = 0;
          let loss = NaN;
          do {
            loss = (await rvae.fit(data, { epochs: 1 })).epochs[0].loss;
            images += steps * args.batch;
          } while ((performance.now() - t0) / 1000 < args.minSeconds);
          const seconds = (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          results.push({
            ...row,
            images,
            seconds,
            samplesPerSecond: images / seconds,
            samplesPerCpuSecond: images / ((cpu.user + cpu.system) / 1e6),
            loss,
          });
        } catch (err) {
          results.push({ ...row, failed: String(err && err.message ? err.message : err).split('\n')[0] });
        } finally {
          rvae.dispose();
        }
        process.stderr.write(
          `  ${backend} ${model} width ${width} pixels ${row.pixels}: ${results.at(-1).failed ?? fmt(results.at(-1).samplesPerSecond, 1) + ' /s'}\n`,
        );
      }
    }
  }
  emit({ threads: sel.threads, kernelFixes: sel.kernelFixes.map((f) => f.split(':')[0]), results });
}

// --- parent: run each backend, print the table ----------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  checkDist(
    fail,
    ['ml/index.js', 'ml/models/rvae.js', 'ml/layers/spatial-decoder.js'],
    ['lib/ml/models', 'lib/ml/layers', 'lib/ml/backend.ts'],
  );
  if (args.child) return runChild(args);

  console.log(
    `VAE family on ${SIDE}x${SIDE} random images: encoder 784 -> 128 -> 128 tanh; dense decoder (vae, cvae) or coordinate decoder (rvae, trvae, crvae); Adam, batch ${args.batch}`,
  );
  console.log(
    `timed: at least ${args.steps} training steps and ${args.minSeconds} s per configuration (cpu: ${args.cpuSteps} steps, decoder widths ${args.cpuWidths.join(', ')}) after one warm-up step`,
  );
  console.log(
    `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cores()} cores, Node ${process.version}; load average before: ${loadAverage()}`,
  );
  const rows = [
    ['model', 'backend', 'decoder', 'width', 'pixels/step', 'samples/s', 'per CPU-second', '60k epoch (min, CPU)'],
  ];
  const notes = [];
  for (const backend of args.backends) {
    process.stderr.write(`running ${backend} ...\n`);
    const childArgs = [
      '--child',
      backend,
      '--models',
      args.models.join(','),
      '--widths',
      args.widths.join(','),
      '--cpu-widths',
      args.cpuWidths.join(','),
      '--subsample',
      args.subsample.join(','),
      '--steps',
      String(args.steps),
      '--cpu-steps',
      String(args.cpuSteps),
      '--min-seconds',
      String(args.minSeconds),
      '--batch',
      String(args.batch),
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
    if (res.kernelFixes?.length)
      notes.push(`${backend}: ${res.threads} thread(s), kernel fixes: ${res.kernelFixes.join(', ')}`);
    for (const x of res.results) {
      if (x.failed) {
        rows.push([x.model, backend, x.decoder, x.width, x.pixels, 'fails', '-', '-']);
        notes.push(`${backend} ${x.model} width ${x.width}: ${x.failed}`);
        continue;
      }
      rows.push([
        x.model,
        backend,
        x.decoder,
        x.width,
        x.pixels,
        fmt(x.samplesPerSecond, 1),
        fmt(x.samplesPerCpuSecond, 1),
        fmt(60000 / x.samplesPerCpuSecond / 60, 1),
      ]);
    }
  }
  console.log();
  printMarkdownTable(rows, 3);
  for (const n of notes) console.log(n);
  console.log();
  console.log(`load average after: ${loadAverage()} (other processes on this machine slow every rate)`);
}

await main();
