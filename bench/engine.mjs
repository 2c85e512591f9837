#!/usr/bin/env node
// Engine benchmark: soapix's SOAP descriptor on MNIST training images, through the built package.
//
//   npm run build:ts            # (once, or whenever lib/ changed) -> dist/
//   npm run bench               # = node bench/engine.mjs
//   node bench/engine.mjs --images 100 --params paper,small --threads 1,2 --reps 2
//
// For each parameter set (paper: rCut 63, nMax 7, lMax 10, sigma 3; small: 5 / 4 / 3 / 1), float64,
// every point a centre, it runs soap.createMany(structures, { threads }) at 1 thread and at
// os.availableParallelism() threads, 2 runs per configuration (best time kept), every run in its
// own child process (so that its peak RSS is that of one call). It prints images/s, centres/s,
// parallel efficiency, speed relative to DScribe 2.1.1, peak RSS next to the output size, and the
// kernel's useful arithmetic rate against the core's peak FMA rate; results also go to
// bench/results/engine-<date>.json.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

import { checkDist, cores as coreCount, dist, failer, fmt as fmt0, MiB, parseCli, root, runJsonChild, textTable } from './common.mjs';

const distIndex = path.join(dist, 'index.js');
const fail = failer('engine.mjs');

const PARAMS = {
  paper: { rCut: 63, nMax: 7, lMax: 10, sigma: 3 },
  small: { rCut: 5, nMax: 4, lMax: 3, sigma: 1 },
};
// DScribe 2.1.1, SOAP.create on the first 1,000 MNIST training images, every point a centre, on
// this project's standard machine kind (2 cores): docs/REFERENCE-DATA.md. Not measured here.
const DSCRIBE = {
  source: 'docs/REFERENCE-DATA.md (DScribe 2.1.1 on the same machine kind, 2 cores; not measured in this run)',
  paper: { 1: { imagesPerSecond: 31.5, centresPerSecond: 4510 }, 2: { imagesPerSecond: 55.3, centresPerSecond: 7904 } },
  small: { 1: { imagesPerSecond: 652, centresPerSecond: 93191 }, 2: { imagesPerSecond: 950, centresPerSecond: 135885 } },
};

function parseArgs(argv) {
  return parseCli(
    argv,
    {
      images: { type: 'int', min: 1, default: 1000 },
      reps: { type: 'int', min: 1, default: 2 },
      params: { type: 'list', known: Object.keys(PARAMS), what: 'set', default: ['paper', 'small'] },
      threads: { type: 'ints', min: 1, default: null },
      child: { type: 'boolean' },
      points: { type: 'string', default: null },
      'peak-seconds': { type: 'number', default: 1 },
      out: { type: 'string', default: null },
    },
    'usage: node bench/engine.mjs [--images N=1000] [--params paper,small] [--threads 1,<cores>] [--reps 2] [--peak-seconds 1] [--out file.json]',
    fail,
  );
}

async function loadPackage() {
  checkDist(fail, ['index.js'], []);
  const mod = await import(pathToFileURL(distIndex).href);
  return mod.default ?? mod;
}

// --- child: one configuration, timed, in a fresh process --------------------------------------

function readPoints(file) {
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const n = new Int32Array(ab, 0, 2)[0];
  const counts = new Int32Array(ab, 8, n);
  const offset = 8 + 4 * n + ((4 * n) % 8); // Float64 data is 8-byte aligned
  const all = new Float64Array(ab, offset);
  const structures = [];
  let p = 0;
  for (let i = 0; i < n; i++) {
    structures.push({ positions: all.subarray(3 * p, 3 * (p + counts[i])) });
    p += counts[i];
  }
  return { structures, points: p };
}

async function runChild(args) {
  const pkg = await loadPackage();
  const [name] = args.params;
  const threads = args.threads[0];
  const { structures, points } = readPoints(args.points);
  const soap = new pkg.Soap({ species: ['H'], ...PARAMS[name] });
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const res = await soap.createMany(structures, { threads, dtype: 'float64' });
  const seconds = (performance.now() - t0) / 1000;
  let rows = 0;
  for (const m of res) rows += m.rows;
  const cols = res[0]?.cols ?? soap.featureCount;
  if (rows !== points) throw new Error(`expected ${points} rows, got ${rows}`);
  const result = {
    seconds,
    rows,
    cols,
    outputBytes: rows * cols * 8,
    rssBeforeBytes: rssBefore,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// --- parent ----------------------------------------------------------------------------------

// Neighbours of each centre within the engine's search cutoff (the centre included), summed.
function neighbourPairs(structures, cutoff) {
  const c2 = cutoff * cutoff;
  let pairs = 0;
  for (const { positions: p } of structures) {
    const n = p.length / 3;
    for (let i = 0; i < n; i++) {
      const x = p[3 * i], y = p[3 * i + 1], z = p[3 * i + 2];
      for (let j = 0; j < n; j++) {
        const dx = p[3 * j] - x, dy = p[3 * j + 1] - y, dz = p[3 * j + 2] - z;
        if (dx * dx + dy * dy + dz * dz <= c2) pairs++;
      }
    }
  }
  return pairs;
}

function loadAddon() {
  try {
    const req = createRequire(import.meta.url);
    return req('node-gyp-build')(root);
  } catch {
    return null;
  }
}

const fmt = (v, d = 1) => fmt0(v, d);
const mib = (b) => `${fmt(b / MiB, 0)} MiB`;

async function runParent(args) {
  const pkg = await loadPackage();
  checkDist(fail, ['index.js'], ['lib']);
  const cores = coreCount();
  const threadList = args.threads ?? [...new Set([1, cores])];

  // Points of the first N training images (Algorithm 1: z = floor(I / 10), z > 0, row-major).
  const mnist = pkg.mnistDataset('train');
  if (args.images > mnist.length) fail(`--images ${args.images}: the training split holds ${mnist.length}`);
  const structures = [];
  for (let i = 0; i < args.images; i++) structures.push({ positions: pkg.imageToPoints(mnist.get(i)).positions });
  const counts = Int32Array.from(structures, (s) => s.positions.length / 3);
  const points = counts.reduce((a, b) => a + b, 0);

  // One file of points for the children: [n, pad] int32, counts int32[n], (pad to 8), xyz float64.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'soapix-bench-'));
  const pointsFile = path.join(tmp, 'points.bin');
  const head = Int32Array.from([args.images, 0]);
  const pad = Buffer.alloc((4 * args.images) % 8);
  const xyz = new Float64Array(3 * points);
  let o = 0;
  for (const s of structures) { xyz.set(s.positions, o); o += s.positions.length; }
  fs.writeFileSync(pointsFile, Buffer.concat([Buffer.from(head.buffer), Buffer.from(counts.buffer), pad, Buffer.from(xyz.buffer)]));

  const addon = loadAddon();
  const peak = addon && typeof addon.measurePeakFmaRate === 'function' ? addon.measurePeakFmaRate(args.peakSeconds) : null;

  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  console.log(`soapix engine benchmark: ${args.images} MNIST training images, ${points.toLocaleString('en-US')} points, every point a centre, float64`);
  console.log(`machine: ${cpu}, ${cores} cores (os.availableParallelism), ${fmt(os.totalmem() / 2 ** 30)} GiB; Node ${process.version}`);
  console.log(peak
    ? `SIMD: ${peak.isa}; single-thread peak FMA rate ${fmt(peak.gflops)} GFLOP/s (measurePeakFmaRate)`
    : 'SIMD/peak: n/a (the loaded addon has no measurePeakFmaRate: rebuild it with `npm run build:native`)');
  console.log(`every run in its own child process, best of ${args.reps} runs per configuration\n`);

  const results = [];
  try {
    for (const name of args.params) {
      const opts = pkg.resolveSoapOptions({ species: ['H'], ...PARAMS[name] });
      const pairs = neighbourPairs(structures, opts.neighbourCutoff);
      const fmas = pairs * opts.nMax * (opts.lMax + 1) ** 2;
      for (const threads of threadList) {
        process.stderr.write(`running ${name}, ${threads} thread(s), ${args.reps} run(s) ...\n`);
        // Every run in a fresh child process: its maxRSS is the peak of that one call.
        const runs = [];
        for (let rep = 0; rep < args.reps; rep++) {
          const r = runJsonChild(fileURLToPath(import.meta.url), ['--child', '--params', name, '--threads', String(threads), '--points', pointsFile], { inheritStderr: true });
          if (r.error) throw new Error(`child for ${name} / ${threads} threads failed (${r.error})`);
          runs.push(r.result);
        }
        const best = Math.min(...runs.map((q) => q.seconds));
        const c = {
          params: name,
          threads,
          times: runs.map((q) => q.seconds),
          best,
          rows: runs[0].rows,
          cols: runs[0].cols,
          outputBytes: runs[0].outputBytes,
          rssBeforeBytes: Math.max(...runs.map((q) => q.rssBeforeBytes)),
          peakRssBytes: Math.max(...runs.map((q) => q.peakRssBytes)),
        };
        results.push({
          ...c,
          images: args.images,
          points,
          neighbourCutoff: opts.neighbourCutoff,
          neighbourPairs: pairs,
          usefulFmas: fmas,
          imagesPerSecond: args.images / c.best,
          centresPerSecond: points / c.best,
          kernelGflops: (2 * fmas) / c.best / 1e9,
        });
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const rows = [];
  for (const r of results) {
    const one = results.find((q) => q.params === r.params && q.threads === 1);
    r.parallelEfficiency = one ? r.imagesPerSecond / (r.threads * one.imagesPerSecond) : null;
    // 1 thread vs DScribe on 1 process; more threads vs DScribe on 2 processes, per core.
    const dsProcs = r.threads === 1 ? 1 : 2;
    const ds = DSCRIBE[r.params]?.[dsProcs];
    r.dscribe = ds ? { processes: dsProcs, imagesPerSecond: ds.imagesPerSecond } : null;
    r.speedupVsDscribePerCore = ds ? r.imagesPerSecond / r.threads / (ds.imagesPerSecond / dsProcs) : null;
    r.peakFraction = peak ? r.kernelGflops / (peak.gflops * r.threads) : null;
    r.rssWithinBudget = r.peakRssBytes <= r.outputBytes + 100 * MiB;
    rows.push([
      r.params,
      String(r.threads),
      fmt(r.imagesPerSecond),
      fmt(r.centresPerSecond, 0),
      r.parallelEfficiency === null ? 'n/a' : `${fmt(100 * r.parallelEfficiency)}%`,
      r.speedupVsDscribePerCore === null ? 'n/a' : `${fmt(r.speedupVsDscribePerCore, 2)}x (${dsProcs}p)`,
      mib(r.peakRssBytes),
      mib(r.outputBytes),
      r.rssWithinBudget ? 'yes' : 'NO',
      fmt(r.kernelGflops, 2),
      r.peakFraction === null ? 'n/a' : `${fmt(100 * r.peakFraction)}%`,
    ]);
  }
  console.log(textTable(
    ['params', 'threads', 'images/s', 'centres/s', 'par. eff.', 'vs DScribe/core', 'peak RSS', 'output', 'RSS <= out+100MiB', 'kernel GFLOP/s', '% of peak'],
    rows,
    2,
  ));
  console.log(`
params: paper = rCut 63, nMax 7, lMax 10, sigma 3 (308 features); small = rCut 5, nMax 4, lMax 3, sigma 1 (40 features).
par. eff. = speed at N threads / (N x speed at 1 thread).
vs DScribe/core = (soapix images/s per thread) / (DScribe images/s per process); 1 thread is compared with DScribe
  on 1 process (1p), more threads with DScribe on 2 processes (2p). DScribe figures are from
  ${DSCRIBE.source}.
peak RSS = maxRSS of a child process doing one createMany call (Node itself and the points included), the largest
  of the ${args.reps} runs; output = rows x features x 8 bytes; the requirement is peak RSS <= output + 100 MiB.
kernel GFLOP/s = 2 x useful FMAs / time, useful FMAs = sum over centres of (neighbours within rCut + 3.717 sigma,
  the centre included) x nMax x (lMax+1)^2; % of peak = kernel GFLOP/s / (threads x single-thread peak FMA rate).`);

  const date = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '');
  const outFile = args.out ?? path.join(root, 'bench', 'results', `engine-${date}.json`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, `${JSON.stringify({
    date: new Date().toISOString(),
    machine: { cpu, cores, totalMemoryBytes: os.totalmem(), platform: `${os.platform()} ${os.arch()}` },
    node: process.version,
    simd: peak?.isa ?? null,
    peakFmaGflopsSingleThread: peak?.gflops ?? null,
    images: args.images,
    points,
    reps: args.reps,
    params: Object.fromEntries(args.params.map((p) => [p, PARAMS[p]])),
    dscribe: DSCRIBE,
    results,
  }, null, 2)}\n`);
  console.log(`\nresults written to ${path.relative(process.cwd(), outFile) || outFile}`);
}

const args = parseArgs(process.argv.slice(2));
if (args.child) await runChild(args);
else await runParent(args);
