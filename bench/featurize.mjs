#!/usr/bin/env node
// Featurize-at-scale benchmark: the MNIST training set through soapix's streaming pipeline, as
// `soapix featurize` runs it, at the paper's parameters (rCut 63, nMax 7, lMax 10, sigma 3).
//
//   npm run build:ts                      # (once, or whenever lib/ changed) -> dist/
//   npm run bench:featurize               # = node bench/featurize.mjs: all 60,000 images (minutes)
//   node bench/featurize.mjs --images 2000
//
// Three measurements, each in its own child process (so that each peak RSS is its own):
//   stream    all --images images, every point a centre, in one streaming run (featurize(), batches
//             of --batch-size images); the output is consumed and dropped, or with --write
//             written as float32 .npy files by runFeaturize (lib/features/run.ts, what the CLI
//             runs) into a temporary folder (removed afterwards unless --keep). Reports
//             images/s, centres/s and peak RSS (must stay under 1 GiB: memory must not grow
//             with the data set).
//   overhead  the first --subset images both ways in the same process: the bare engine
//             (soap.createMany on all of them in one call, points prepared beforehand, not timed)
//             and the pipeline (featurize() from the data set, or runFeaturize with --write);
//             best of --reps runs each (default 3); overhead = pipeline time / engine time - 1, in wall
//             time and in CPU time (the latter is robust on a shared machine); target <= 10%.
//   sampled   `soapix featurize --sample 120000 --seed 1 --dtype float32` over the --images images
//             (the paper's 120,000 sampled spectra): runFeaturize end to end (point count pass,
//             sampling plan, SOAP at the sampled centres, .npy files), wall time; then the
//             RobustScaler fit on the result (--fit-scaler), timed separately.
// Prints a table; results also go to bench/results/featurize-<date>.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

import { checkDist, dist, failer, MiB, parseCli, root, runJsonChild, textTable } from './common.mjs';

const PAPER = { rCut: 63, nMax: 7, lMax: 10, sigma: 3 };
const GiB = 1024 ** 3;
const PARTS = ['stream', 'overhead', 'sampled'];
const fail = failer('featurize.mjs');

function parseArgs(argv) {
  const a = parseCli(
    argv,
    {
      images: { type: 'int', min: 1, default: 60000 },
      subset: { type: 'int', min: 1, default: 2000 },
      sample: { type: 'int', min: 1, default: 120000 },
      seed: { type: 'int', min: 0, default: 1 },
      reps: { type: 'int', min: 1, default: 3 },
      'batch-size': { type: 'int', min: 1, default: null },
      threads: { type: 'int', min: 0, default: 0 },
      write: { type: 'boolean' },
      keep: { type: 'boolean' },
      skip: { type: 'list', known: PARTS, what: 'part', default: [] },
      out: { type: 'string', default: null },
      child: { type: 'string', default: null },
    },
    'usage: node bench/featurize.mjs [--images N=60000] [--subset 2000] [--sample 120000] [--seed 1] [--reps 3]\n' +
      '                                [--batch-size 64; sampled: auto] [--threads 0] [--write] [--keep] [--skip stream,overhead,sampled] [--out file.json]\n' +
      '  --write  write float32 .npy files through runFeaturize (temporary folder) instead of dropping the output\n' +
      '  --keep   like --write, and keep the folder',
    fail,
  );
  if (a.keep) a.write = true;
  a.skip = new Set(a.skip);
  return a;
}

async function load(rel) {
  checkDist(fail, [rel], []);
  const mod = await import(pathToFileURL(path.join(dist, rel)).href);
  return mod.default ?? mod;
}

const rssBytes = () => process.resourceUsage().maxRSS * 1024;

function tempDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `soapix-bench-${tag}-`));
}

/** Options of the library's featurize run (what `soapix featurize` passes it) for a run on MNIST train. */
function runOptions(a, extra) {
  return {
    dataset: 'mnist',
    split: 'train',
    mode: 'gray',
    ...PAPER,
    rbf: 'gto',
    zScale: 0.1,
    zRounding: 'floor',
    noiseSeed: 0,
    seed: a.seed,
    batchSize: a.batchSize ?? 64,
    threads: a.threads,
    dtype: 'float32',
    fitScaler: false,
    force: true,
    ...extra,
  };
}

// --- children -----------------------------------------------------------------------------------

/** All images, every point a centre, one streaming run. */
async function childStream(a) {
  const soapix = await load('index.js');
  const t0 = performance.now();
  let rows = 0;
  let images = 0;
  let lastReport = t0;
  const report = (done) => {
    const now = performance.now();
    if (now - lastReport > 15000) {
      lastReport = now;
      const s = (now - t0) / 1000;
      process.stderr.write(
        `  stream: ${done}/${a.images} images, ${(done / s).toFixed(1)} images/s, RSS peak ${(rssBytes() / MiB).toFixed(0)} MiB\n`,
      );
    }
  };
  let outDir = null;
  if (a.write) {
    const { runFeaturize } = await load('features/run.js');
    outDir = tempDir('stream');
    const { meta } = await runFeaturize(runOptions(a, { limit: a.images, out: outDir }), {
      onEvent: (e) => (e.kind === 'progress' ? report(e.images) : undefined),
    });
    rows = meta.rows;
    images = meta.images;
  } else {
    const ds = soapix.mnistDataset('train');
    const soap = new soapix.Soap({ species: ['H'], ...PAPER });
    for await (const r of soapix.featurize(ds, soap, {
      end: a.images,
      batchSize: a.batchSize ?? 64,
      threads: a.threads,
      dtype: 'float32',
      onProgress: (p) => report(p.done),
    })) {
      rows += r.features.rows; // consume and drop
      images++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const bytesOut = rows * 308 * 4;
  if (outDir && !a.keep) fs.rmSync(outDir, { recursive: true, force: true });
  return {
    images,
    rows,
    seconds,
    imagesPerSecond: images / seconds,
    centresPerSecond: rows / seconds,
    peakRssBytes: rssBytes(),
    outputBytes: bytesOut,
    wrote: a.write ? (a.keep ? outDir : 'temporary folder, removed') : null,
  };
}

/** The first `subset` images: bare engine vs pipeline, alternating, best of reps. */
async function childOverhead(a) {
  const soapix = await load('index.js');
  const { runFeaturize } = a.write ? await load('features/run.js') : {};
  const n = Math.min(a.subset, a.images);
  const ds = soapix.mnistDataset('train');
  const soap = new soapix.Soap({ species: ['H'], ...PAPER });
  const structures = [];
  let centres = 0;
  for (let i = 0; i < n; i++) {
    const p = soapix.imageToPoints(ds.get(i));
    structures.push({ positions: p.positions });
    centres += p.count;
  }
  const bare = [];
  const pipe = [];
  const bareCpu = [];
  const pipeCpu = [];
  const cpu = (c) => (c.user + c.system) / 1e6;
  // A warm-up call (thread pool, code paths) that is not timed.
  await soap.createMany(structures.slice(0, 16), { dtype: 'float32', threads: a.threads });
  for (let r = 0; r < a.reps; r++) {
    let t = performance.now();
    let c = process.cpuUsage();
    let out = await soap.createMany(structures, { dtype: 'float32', threads: a.threads });
    bare.push((performance.now() - t) / 1000);
    bareCpu.push(cpu(process.cpuUsage(c)));
    if (out.reduce((s, m) => s + m.rows, 0) !== centres) throw new Error('engine row count mismatch');
    out = null;
    t = performance.now();
    c = process.cpuUsage();
    let rows = 0;
    if (a.write) {
      const dir = tempDir('overhead');
      const { meta } = await runFeaturize(runOptions(a, { limit: n, out: dir }));
      rows = meta.rows;
      fs.rmSync(dir, { recursive: true, force: true });
    } else {
      for await (const res of soapix.featurize(ds, soap, {
        end: n,
        batchSize: a.batchSize ?? 64,
        threads: a.threads,
        dtype: 'float32',
      }))
        rows += res.features.rows;
    }
    pipe.push((performance.now() - t) / 1000);
    pipeCpu.push(cpu(process.cpuUsage(c)));
    if (rows !== centres) throw new Error(`pipeline gave ${rows} rows, the engine ${centres}`);
  }
  const engineSeconds = Math.min(...bare);
  const pipelineSeconds = Math.min(...pipe);
  const engineCpuSeconds = Math.min(...bareCpu);
  const pipelineCpuSeconds = Math.min(...pipeCpu);
  return {
    images: n,
    centres,
    reps: a.reps,
    engineRuns: bare,
    pipelineRuns: pipe,
    engineSeconds,
    pipelineSeconds,
    engineImagesPerSecond: n / engineSeconds,
    pipelineImagesPerSecond: n / pipelineSeconds,
    engineCpuRuns: bareCpu,
    pipelineCpuRuns: pipeCpu,
    engineCpuSeconds,
    pipelineCpuSeconds,
    overhead: pipelineSeconds / engineSeconds - 1,
    cpuOverhead: pipelineCpuSeconds / engineCpuSeconds - 1,
    pipeline: a.write ? 'runFeaturize, float32 .npy files' : 'featurize(), output dropped',
  };
}

/** --sample T over the images, through runFeaturize, then the scaler fit. */
async function childSampled(a) {
  const { runFeaturize } = await load('features/run.js');
  const { RobustScaler, readNpy } = await load('index.js');
  const dir = tempDir('sampled');
  const t0 = performance.now();
  const { meta } = await runFeaturize(
    runOptions(a, { limit: a.images, sample: a.sample, out: dir, batchSize: a.batchSize ?? 'auto' }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const f = await readNpy(path.join(dir, 'features.npy'));
  new RobustScaler().fit(f.data, meta.rows, 308);
  const scalerSeconds = (performance.now() - t1) / 1000;
  const bytes = fs.statSync(path.join(dir, 'features.npy')).size;
  if (!a.keep) fs.rmSync(dir, { recursive: true, force: true });
  return {
    images: a.images,
    samples: a.sample,
    rows: meta.rows,
    seconds,
    featurizeSeconds: meta.run.seconds,
    scalerSeconds,
    featuresBytes: bytes,
    peakRssBytes: rssBytes(),
    kept: a.keep ? dir : null,
  };
}

// --- parent -------------------------------------------------------------------------------------

function runChild(kind, argv) {
  const r = runJsonChild(fileURLToPath(import.meta.url), [...argv, '--child', kind], { inheritStderr: true });
  if (r.error) fail(`the ${kind} run failed (${r.error}):\n${r.stdout}`);
  return r.result;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.child) {
    const fn = { stream: childStream, overhead: childOverhead, sampled: childSampled }[a.child];
    if (!fn) fail(`unknown child ${a.child}`);
    console.log(JSON.stringify(await fn(a)));
    return;
  }
  checkDist(fail, ['index.js', 'features/run.js'], ['lib', 'lib/features']); // fails early when dist/ is missing
  const pass = process.argv.slice(2);
  const cpus = os.cpus();
  console.log(
    `featurize benchmark: MNIST train, ${a.images} images, paper parameters (rCut ${PAPER.rCut}, nMax ${PAPER.nMax}, lMax ${PAPER.lMax}, sigma ${PAPER.sigma}), ` +
      `float32, batch ${a.batchSize ?? '64 (sampled: auto)'}, threads ${a.threads || `all (${os.availableParallelism()})`}; ${cpus.length} x ${cpus[0]?.model ?? '?'}; load average ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );
  const res = {};
  const t0 = performance.now();
  if (!a.skip.has('overhead')) {
    console.log(
      `overhead: first ${Math.min(a.subset, a.images)} images, bare engine vs pipeline, best of ${a.reps} ...`,
    );
    res.overhead = runChild('overhead', pass);
  }
  if (!a.skip.has('sampled')) {
    console.log(`sampled: --sample ${a.sample} over ${a.images} images ...`);
    res.sampled = runChild('sampled', pass);
  }
  if (!a.skip.has('stream')) {
    console.log(`stream: ${a.images} images, every point a centre ...`);
    res.stream = runChild('stream', pass);
  }
  const rows = [];
  if (res.stream) {
    const s = res.stream;
    rows.push([
      `stream: ${s.images} images, every point a centre (${a.write ? 'written' : 'dropped'})`,
      s.seconds.toFixed(1),
      s.imagesPerSecond.toFixed(1),
      Math.round(s.centresPerSecond).toString(),
      `${(s.peakRssBytes / MiB).toFixed(0)} MiB`,
      s.peakRssBytes < GiB ? 'yes' : 'NO',
    ]);
  }
  if (res.overhead) {
    const o = res.overhead;
    rows.push([
      `engine: first ${o.images} images, one createMany call`,
      o.engineSeconds.toFixed(2),
      o.engineImagesPerSecond.toFixed(1),
      Math.round(o.centres / o.engineSeconds).toString(),
      '',
      '',
    ]);
    rows.push([
      `pipeline: same images (${o.pipeline})`,
      o.pipelineSeconds.toFixed(2),
      o.pipelineImagesPerSecond.toFixed(1),
      Math.round(o.centres / o.pipelineSeconds).toString(),
      '',
      '',
    ]);
  }
  if (res.sampled) {
    const s = res.sampled;
    rows.push([
      `sampled: --sample ${s.samples} over ${s.images} images (CLI, .npy)`,
      s.seconds.toFixed(1),
      (s.images / s.seconds).toFixed(1),
      Math.round(s.rows / s.seconds).toString(),
      `${(s.peakRssBytes / MiB).toFixed(0)} MiB`,
      s.peakRssBytes < GiB ? 'yes' : 'NO',
    ]);
    rows.push([`  RobustScaler fit on ${s.rows} x 308`, s.scalerSeconds.toFixed(1), '', '', '', '']);
  }
  console.log('');
  console.log(textTable(['run', 'seconds', 'images/s', 'centres/s', 'peak RSS', '< 1 GiB'], rows, 1));
  if (res.overhead) {
    const pct = 100 * res.overhead.overhead;
    const cpuPct = 100 * res.overhead.cpuOverhead;
    const sign = (x) => (x >= 0 ? '+' : '');
    console.log(
      `\npipeline overhead against the bare engine: wall time ${sign(pct)}${pct.toFixed(1)}%, CPU time ${sign(cpuPct)}${cpuPct.toFixed(1)}% ` +
        `(target <= 10%; best of ${res.overhead.reps}: engine ${res.overhead.engineSeconds.toFixed(2)} s wall / ${res.overhead.engineCpuSeconds.toFixed(2)} s CPU, ` +
        `pipeline ${res.overhead.pipelineSeconds.toFixed(2)} s / ${res.overhead.pipelineCpuSeconds.toFixed(2)} s)`,
    );
  }
  const date = new Date().toISOString().slice(0, 10);
  const outFile = a.out ?? path.join(root, 'bench', 'results', `featurize-${date}.json`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(
    outFile,
    `${JSON.stringify(
      {
        benchmark: 'featurize',
        date: new Date().toISOString(),
        machine: {
          cpus: cpus.length,
          model: cpus[0]?.model,
          availableParallelism: os.availableParallelism(),
          memoryBytes: os.totalmem(),
          node: process.version,
          loadAverageAtStart: os.loadavg(),
        },
        parameters: {
          ...PAPER,
          dtype: 'float32',
          batchSize: a.batchSize ?? '64 (sampled: auto)',
          threads: a.threads,
          images: a.images,
          subset: a.subset,
          sample: a.sample,
          seed: a.seed,
          write: a.write,
        },
        totalSeconds: (performance.now() - t0) / 1000,
        ...res,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nresults written to ${path.relative(process.cwd(), outFile) || outFile}`);
}

main().catch((err) => fail(err?.stack ?? String(err)));
