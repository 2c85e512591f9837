#!/usr/bin/env node
// Engine benchmark: soapix's SOAP descriptor through the built package, in one command.
//
//   npm run build:ts                              # (once, or whenever lib/ changed) -> dist/
//   npm run bench                                 # = node bench/engine.mjs
//   npm run bench -- --dscribe /path/to/python    # DScribe 2.1.1 side by side, in the same run
//   node bench/engine.mjs --images 200 --params paper --paths avx2 --no-scaling --reps 1
//
// 1. MNIST: the first --images training images (Algorithm 1 points, every point a centre), for
//    each parameter set (paper: rCut 63, nMax 7, lMax 10, sigma 3; small: 5 / 4 / 3 / 1), each
//    kernel path (--paths: by default AVX-512 and AVX2 where the CPU has them; SOAPIX_SIMD caps the
//    path), float64 and float32, at 1 thread and at all cores. Every run is its own child process
//    (peak RSS of one createMany call; the path is chosen when the addon loads); best of --reps.
//    Prints images/s, centres/s, images per CPU-second and thread (the rate net of time the
//    machine gave to other jobs), parallel efficiency, the kernel's arithmetic rate against the
//    path's measured peak FMA rate (the physical limit), peak RSS, and float32 / float64.
// 2. With --dscribe PYTHON: DScribe 2.1.1 (bench/dscribe_child.py, run by that Python) on the same
//    images, 1 process and all cores, and soapix / DScribe per core.
// 3. Scaling (--scaling, default 10000,100000,1000000 points): one random cloud at constant
//    density (--density points per cubic unit), rCut 5, nMax 4, lMax 3, sigma 1, 2 threads,
//    float32, handed over in random order and in spatially sorted order: centres/s should stay
//    flat as the cloud grows, and not depend on the order.
// Results also go to bench/results/engine-<date>.json.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

import {
  checkDist,
  cores as coreCount,
  dist,
  failer,
  fmt,
  loadAverage,
  MiB,
  parseCli,
  root,
  runJsonChild,
  textTable,
} from './common.mjs';

const self = fileURLToPath(import.meta.url);
const fail = failer('engine.mjs');
const PATHS = ['avx512', 'avx2', 'baseline'];
const PARAMS = {
  paper: { rCut: 63, nMax: 7, lMax: 10, sigma: 3 },
  small: { rCut: 5, nMax: 4, lMax: 3, sigma: 1 },
};
const SCALING = { rCut: 5, nMax: 4, lMax: 3, sigma: 1 };

function parse(argv) {
  return parseCli(
    argv,
    {
      images: { type: 'int', min: 1, default: 1000 },
      reps: { type: 'int', min: 1, default: 2 },
      params: { type: 'list', known: Object.keys(PARAMS), what: 'set', default: ['paper', 'small'] },
      paths: { type: 'list', known: PATHS, what: 'kernel path', default: null },
      dtypes: { type: 'list', known: ['float64', 'float32'], what: 'dtype', default: ['float64', 'float32'] },
      threads: { type: 'ints', min: 1, default: null },
      dscribe: { type: 'string', default: null },
      scaling: { type: 'ints', min: 100, default: [10000, 100000, 1000000] },
      'no-scaling': { type: 'boolean' },
      'scaling-threads': { type: 'int', min: 1, default: 2 },
      density: { type: 'number', default: 0.1 },
      'peak-seconds': { type: 'number', default: 1 },
      out: { type: 'string', default: null },
      // child modes
      child: { type: 'string', default: null },
      points: { type: 'string', default: null },
      dtype: { type: 'string', default: 'float64' },
      n: { type: 'int', min: 1, default: 0 },
      order: { type: 'string', default: 'random' },
    },
    'usage: node bench/engine.mjs [--images 1000] [--params paper,small] [--paths avx512,avx2,baseline] [--dtypes float64,float32]\n' +
      '  [--threads 1,<cores>] [--reps 2] [--dscribe /path/to/python] [--scaling 10000,100000,1000000 | --no-scaling]\n' +
      '  [--scaling-threads 2] [--density 0.1] [--peak-seconds 1] [--out file.json]',
    fail,
  );
}

async function loadPackage() {
  checkDist(fail, ['index.js'], []);
  const mod = await import(pathToFileURL(path.join(dist, 'index.js')).href);
  return mod.default ?? mod;
}

function loadAddon() {
  return createRequire(import.meta.url)('node-gyp-build')(root);
}

// --- children: one measurement each, in a fresh process ----------------------------------------

function readPoints(file) {
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const n = new Int32Array(ab, 0, 2)[0];
  const counts = new Int32Array(ab, 8, n);
  const all = new Float64Array(ab, 8 + 4 * n + ((4 * n) % 8)); // float64 data is 8-byte aligned
  const structures = [];
  let p = 0;
  for (let i = 0; i < n; i++) {
    structures.push({ positions: all.subarray(3 * p, 3 * (p + counts[i])) });
    p += counts[i];
  }
  return { structures, points: p };
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function childMnist(args) {
  const pkg = await loadPackage();
  const [name] = args.params;
  const threads = args.threads[0];
  const { structures, points } = readPoints(args.points);
  const soap = new pkg.Soap({ species: ['H'], ...PARAMS[name] });
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const res = await soap.createMany(structures, { threads, dtype: args.dtype });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - c0;
  let rows = 0;
  for (const m of res) rows += m.rows;
  if (rows !== points) throw new Error(`expected ${points} rows, got ${rows}`);
  const cols = res[0]?.cols ?? soap.featureCount;
  const bytes = args.dtype === 'float32' ? 4 : 8;
  console.log(
    JSON.stringify({
      seconds,
      cpuSeconds: cpu,
      rows,
      cols,
      outputBytes: rows * cols * bytes,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      simdPath: loadAddon().simdPath,
    }),
  );
}

// Random points at constant density in a cube, in random order or sorted by cells of the cutoff's
// size (x, then y, then z: "spatially sorted"), from a fixed seed.
function scalingCloud(pkg, n, density, order, cutoff) {
  const side = Math.cbrt(n / density);
  const rng = new pkg.Rng(12345);
  const xyz = new Float64Array(3 * n);
  for (let i = 0; i < 3 * n; i++) xyz[i] = rng.nextFloat() * side;
  if (order === 'random') return { positions: xyz, side };
  const cell = (i, d) => Math.floor(xyz[3 * i + d] / cutoff);
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => cell(a, 0) - cell(b, 0) || cell(a, 1) - cell(b, 1) || cell(a, 2) - cell(b, 2) || a - b);
  const sorted = new Float64Array(3 * n);
  idx.forEach((j, i) => sorted.set(xyz.subarray(3 * j, 3 * j + 3), 3 * i));
  return { positions: sorted, side };
}

async function childScaling(args) {
  const pkg = await loadPackage();
  const soap = new pkg.Soap({ species: ['H'], ...SCALING });
  const cutoff = pkg.resolveSoapOptions({ species: ['H'], ...SCALING }).neighbourCutoff;
  const { positions, side } = scalingCloud(pkg, args.n, args.density, args.order, cutoff);
  const t0 = performance.now();
  const m = await soap.create({ positions }, { threads: args.threads[0], dtype: 'float32' });
  const seconds = (performance.now() - t0) / 1000;
  if (m.rows !== args.n) throw new Error(`expected ${args.n} rows, got ${m.rows}`);
  console.log(
    JSON.stringify({
      seconds,
      side,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      simdPath: loadAddon().simdPath,
    }),
  );
}

function childInfo(args) {
  const addon = loadAddon();
  const peak = addon.measurePeakFmaRate(args.peakSeconds);
  console.log(JSON.stringify({ simdPath: addon.simdPath, peak }));
}

// --- parent ------------------------------------------------------------------------------------

// Neighbours of each centre within the engine's search cutoff (the centre included), summed.
function neighbourPairs(structures, cutoff) {
  const c2 = cutoff * cutoff;
  let pairs = 0;
  for (const { positions: p } of structures) {
    const n = p.length / 3;
    for (let i = 0; i < n; i++) {
      const x = p[3 * i],
        y = p[3 * i + 1],
        z = p[3 * i + 2];
      for (let j = 0; j < n; j++) {
        const dx = p[3 * j] - x,
          dy = p[3 * j + 1] - y,
          dz = p[3 * j + 2] - z;
        if (dx * dx + dy * dy + dz * dz <= c2) pairs++;
      }
    }
  }
  return pairs;
}

const f1 = (v) => fmt(v, 1);
const mib = (b) => `${fmt(b / MiB, 0)} MiB`;
const ratio = (v) => (v === null || !Number.isFinite(v) ? 'n/a' : `${fmt(v, 2)}x`);

function child(kind, extra, env, inherit = true) {
  const r = runJsonChild(self, ['--child', kind, ...extra], { inheritStderr: inherit, env });
  if (r.error) throw new Error(`child ${kind} ${extra.join(' ')} failed (${r.error})`);
  return r.result;
}

function writePointsFile(file, structures) {
  const counts = Int32Array.from(structures, (s) => s.positions.length / 3);
  const points = counts.reduce((a, b) => a + b, 0);
  const xyz = new Float64Array(3 * points);
  let o = 0;
  for (const s of structures) {
    xyz.set(s.positions, o);
    o += s.positions.length;
  }
  const head = Int32Array.from([structures.length, 0]);
  const pad = Buffer.alloc((4 * structures.length) % 8);
  fs.writeFileSync(
    file,
    Buffer.concat([Buffer.from(head.buffer), Buffer.from(counts.buffer), pad, Buffer.from(xyz.buffer)]),
  );
  return points;
}

async function runParent(args) {
  const pkg = await loadPackage();
  checkDist(fail, ['index.js'], ['lib', 'lib/soap']);
  const cores = coreCount();
  const threadList = args.threads ?? [...new Set([1, cores])];
  const load0 = loadAverage();

  // Which kernel paths this CPU has: ask a child capped at each one.
  const info = {};
  for (const p of PATHS) info[p] = child('info', ['--peak-seconds', String(args.peakSeconds)], { SOAPIX_SIMD: p });
  const available = PATHS.filter((p) => info[p].simdPath === p);
  const paths = args.paths ?? available.filter((p) => p !== 'baseline').slice(0, 2);
  for (const p of paths)
    if (!available.includes(p)) fail(`--paths ${p}: this CPU does not have it (available: ${available.join(', ')})`);
  const widest = available[0];

  const mnist = pkg.mnistDataset('train');
  if (args.images > mnist.length) fail(`--images ${args.images}: the training split holds ${mnist.length}`);
  const structures = [];
  for (let i = 0; i < args.images; i++) structures.push({ positions: pkg.imageToPoints(mnist.get(i)).positions });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'soapix-bench-'));
  const pointsFile = path.join(tmp, 'points.bin');
  const points = writePointsFile(pointsFile, structures);

  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  console.log(
    `soapix engine benchmark: ${args.images} MNIST training images, ${fmt(points)} points, every point a centre`,
  );
  console.log(
    `machine: ${cpu}, ${cores} cores (os.availableParallelism), ${f1(os.totalmem() / 2 ** 30)} GiB; Node ${process.version}; load average at start ${load0}`,
  );
  console.log(`kernel paths this CPU has: ${available.join(', ')}; measured here: ${paths.join(', ')}`);
  for (const p of paths) {
    const note =
      p !== widest
        ? ` (the ${p} path on a CPU that also has ${widest}: SOAPIX_SIMD=${p} caps the dispatch; an ${p}-only CPU may differ in clock and caches)`
        : '';
    console.log(
      `  ${p}: single-thread peak FMA rate ${f1(info[p].peak.gflops)} GFLOP/s (measurePeakFmaRate, ${info[p].peak.isa} loop)${note}`,
    );
  }
  console.log(`every run in its own child process, best of ${args.reps} runs per configuration\n`);

  const results = { mnist: [], dscribe: [], scaling: [] };
  try {
    // 1. soapix on MNIST.
    for (const name of args.params) {
      const opts = pkg.resolveSoapOptions({ species: ['H'], ...PARAMS[name] });
      const pairs = neighbourPairs(structures, opts.neighbourCutoff);
      const fmas = pairs * opts.nMax * (opts.lMax + 1) ** 2;
      for (const p of paths)
        for (const dtype of args.dtypes)
          for (const threads of threadList) {
            process.stderr.write(`soapix ${name} ${p} ${dtype} ${threads} thread(s) x ${args.reps} ...\n`);
            const runs = [];
            for (let rep = 0; rep < args.reps; rep++)
              runs.push(
                child(
                  'mnist',
                  ['--params', name, '--threads', String(threads), '--points', pointsFile, '--dtype', dtype],
                  { SOAPIX_SIMD: p },
                ),
              );
            if (runs.some((r) => r.simdPath !== p)) throw new Error(`asked for ${p}, ran ${runs[0].simdPath}`);
            const best = Math.min(...runs.map((r) => r.seconds));
            const bestCpu = Math.min(...runs.map((r) => r.cpuSeconds));
            results.mnist.push({
              params: name,
              path: p,
              dtype,
              threads,
              times: runs.map((r) => r.seconds),
              best,
              imagesPerSecond: args.images / best,
              centresPerSecond: points / best,
              imagesPerCpuSecondPerThread: args.images / bestCpu,
              kernelGflops: (2 * fmas) / best / 1e9,
              peakGflops: info[p].peak.gflops * threads,
              peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
              outputBytes: runs[0].outputBytes,
              neighbourPairs: pairs,
              usefulFmas: fmas,
            });
          }
    }
    // 2. DScribe on the same images.
    if (args.dscribe) {
      const script = path.join(root, 'bench', 'dscribe_child.py');
      for (const name of args.params) {
        const P = PARAMS[name];
        for (const procs of threadList) {
          process.stderr.write(`DScribe ${name} n_jobs=${procs} x ${args.reps} ...\n`);
          const runs = [];
          for (let rep = 0; rep < args.reps; rep++) {
            const r = runJsonChild(script, [pointsFile, P.rCut, P.nMax, P.lMax, P.sigma, procs].map(String), {
              command: args.dscribe,
              inheritStderr: true,
            });
            if (r.error) throw new Error(`DScribe (${args.dscribe} ${script}) failed: ${r.error}`);
            runs.push(r.result);
          }
          if (runs[0].rows !== points) throw new Error(`DScribe returned ${runs[0].rows} rows, expected ${points}`);
          const best = Math.min(...runs.map((r) => r.seconds));
          const cpuRuns = runs.map((r) => r.cpuSeconds).filter((c) => c !== null);
          results.dscribe.push({
            params: name,
            processes: procs,
            version: runs[0].version,
            times: runs.map((r) => r.seconds),
            best,
            imagesPerSecond: args.images / best,
            imagesPerCpuSecond: cpuRuns.length ? args.images / Math.min(...cpuRuns) : null,
          });
        }
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  // 3. Scaling of one growing structure.
  if (!args.noScaling) {
    const threads = args.scalingThreads;
    for (const n of args.scaling)
      for (const order of ['random', 'sorted']) {
        process.stderr.write(`scaling ${n} points, ${order} order ...\n`);
        const runs = [];
        for (let rep = 0; rep < Math.min(args.reps, n >= 1e6 ? 1 : args.reps); rep++)
          runs.push(
            child(
              'scaling',
              ['--n', String(n), '--order', order, '--threads', String(threads), '--density', String(args.density)],
              { SOAPIX_SIMD: paths[0] },
            ),
          );
        const best = Math.min(...runs.map((r) => r.seconds));
        results.scaling.push({
          points: n,
          order,
          threads,
          path: runs[0].simdPath,
          side: runs[0].side,
          best,
          centresPerSecond: n / best,
          peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
        });
      }
  }

  // --- report ---
  const find = (q) => results.mnist.find((r) => Object.entries(q).every(([k, v]) => r[k] === v));
  const dsFor = (params, procs) => results.dscribe.find((d) => d.params === params && d.processes === procs);
  const rows = results.mnist.map((r) => {
    const one = find({ params: r.params, path: r.path, dtype: r.dtype, threads: 1 });
    const eff = one ? r.imagesPerSecond / (r.threads * one.imagesPerSecond) : null;
    const ds = dsFor(r.params, r.threads);
    r.vsDscribePerCore = ds ? r.imagesPerSecond / ds.imagesPerSecond : null; // same core count on both sides
    return [
      r.params,
      r.path,
      r.dtype,
      String(r.threads),
      f1(r.imagesPerSecond),
      fmt(r.centresPerSecond),
      f1(r.imagesPerCpuSecondPerThread),
      eff === null ? 'n/a' : `${f1(100 * eff)}%`,
      fmt(r.kernelGflops, 2),
      `${f1((100 * r.kernelGflops) / r.peakGflops)}%`,
      `${mib(r.peakRssBytes)} (${mib(r.outputBytes)})`,
      ...(args.dscribe ? [ratio(r.vsDscribePerCore)] : []),
    ];
  });
  console.log(
    textTable(
      [
        'params',
        'path',
        'dtype',
        'threads',
        'images/s',
        'centres/s',
        'img/CPU-s/thread',
        'par. eff.',
        'kernel GFLOP/s',
        '% of peak',
        'peak RSS (output)',
        ...(args.dscribe ? ['vs DScribe'] : []),
      ],
      rows,
      3,
    ),
  );

  const f32rows = [];
  for (const r of results.mnist.filter((q) => q.dtype === 'float32')) {
    const r64 = find({ params: r.params, path: r.path, dtype: 'float64', threads: r.threads });
    if (!r64) continue;
    r.float32OverFloat64 = r.imagesPerSecond / r64.imagesPerSecond;
    r.float32OverFloat64Cpu = r.imagesPerCpuSecondPerThread / r64.imagesPerCpuSecondPerThread;
    f32rows.push([r.params, r.path, String(r.threads), ratio(r.float32OverFloat64), ratio(r.float32OverFloat64Cpu)]);
  }
  if (f32rows.length)
    console.log(
      `\nfloat32 / float64 (same run):\n${textTable(['params', 'path', 'threads', 'images/s', 'per CPU-second'], f32rows, 3)}`,
    );

  if (results.dscribe.length) {
    const dsRows = results.dscribe.map((d) => [
      d.params,
      String(d.processes),
      f1(d.imagesPerSecond),
      fmt((d.imagesPerSecond * points) / args.images),
      d.imagesPerCpuSecond === null ? 'n/a' : f1(d.imagesPerCpuSecond),
    ]);
    console.log(
      `\nDScribe ${results.dscribe[0].version} on the same images (SOAP.create, n_jobs processes, float64):\n${textTable(['params', 'processes', 'images/s', 'centres/s', 'img/CPU-s'], dsRows, 2)}`,
    );
    const cmp = [];
    for (const r of results.mnist) {
      const ds = dsFor(r.params, r.threads);
      if (!ds) continue;
      const perCpu =
        ds.imagesPerCpuSecond && r.threads === 1 ? r.imagesPerCpuSecondPerThread / ds.imagesPerCpuSecond : null;
      cmp.push([
        r.params,
        r.path,
        r.dtype,
        `${r.threads} vs ${ds.processes}`,
        ratio(r.imagesPerSecond / ds.imagesPerSecond),
        ratio(perCpu),
      ]);
    }
    console.log(
      `\nsoapix / DScribe per core (soapix on N threads vs DScribe on N processes, measured in this run):\n${textTable(['params', 'path', 'dtype', 'threads vs processes', 'images/s', 'per CPU-second'], cmp, 4)}`,
    );
  }

  if (results.scaling.length) {
    const base = results.scaling.find((s) => s.order === 'sorted') ?? results.scaling[0];
    const sRows = results.scaling.map((s) => [
      fmt(s.points),
      s.order,
      f1(s.side),
      fmt(s.centresPerSecond),
      ratio(s.centresPerSecond / base.centresPerSecond),
      mib(s.peakRssBytes),
    ]);
    console.log(
      `\nOne growing structure: random points at density ${args.density} per cubic unit, rCut 5, nMax 4, lMax 3, sigma 1, float32, ${results.scaling[0].threads} threads, ${results.scaling[0].path} path:\n${textTable(['points', 'order', 'cube side', 'centres/s', `vs ${fmt(base.points)} ${base.order}`, 'peak RSS'], sRows, 2)}`,
    );
  }

  const load1 = loadAverage();
  console.log(`
params: paper = rCut 63, nMax 7, lMax 10, sigma 3 (308 features); small = rCut 5, nMax 4, lMax 3, sigma 1 (40 features).
img/CPU-s/thread = images / CPU seconds of the child process: on a shared machine it leaves out the time other jobs held
  the cores (wall-clock rates fall, this one much less). par. eff. = speed at N threads / (N x speed at 1 thread).
kernel GFLOP/s = 2 x useful FMAs / time, useful FMAs = sum over centres of (neighbours within rCut + 3.717 sigma, the
  centre included) x nMax x (lMax+1)^2; % of peak = kernel GFLOP/s / (threads x the path's single-thread peak FMA rate,
  float64 FMAs; float32 runs do the same useful work with twice the lanes).
peak RSS = maxRSS of the child process doing one createMany call (Node itself and the points included).
load average: ${load0} at start, ${load1} at the end (${os.cpus().length} CPUs): figures measured under load are low and noisy.`);

  const date = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '');
  const outFile = args.out ?? path.join(root, 'bench', 'results', `engine-${date}.json`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(
    outFile,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: {
          cpu,
          cores,
          totalMemoryBytes: os.totalmem(),
          platform: `${os.platform()} ${os.arch()}`,
          loadAverage: [load0, load1],
        },
        node: process.version,
        paths: {
          available,
          measured: paths,
          peakFmaGflopsSingleThread: Object.fromEntries(paths.map((p) => [p, info[p].peak.gflops])),
        },
        images: args.images,
        points,
        reps: args.reps,
        params: Object.fromEntries(args.params.map((p) => [p, PARAMS[p]])),
        scalingParams: { ...SCALING, density: args.density },
        results,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nresults written to ${path.relative(process.cwd(), outFile) || outFile}`);
}

const args = parse(process.argv.slice(2));
if (args.child === 'mnist') await childMnist(args);
else if (args.child === 'scaling') await childScaling(args);
else if (args.child === 'info') childInfo(args);
else if (args.child) fail(`unknown child mode ${args.child}`);
else await runParent(args);
