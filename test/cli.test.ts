/**
 * The `soapix` command line, run as a child process from the compiled dist/cli.js (built in
 * beforeAll): help and option parsing, featurize, shards + merge, resuming, output files read by
 * numpy. (Bad input, progress, interrupts and predict: cli-errors.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mnistDataset } from '../lib/data/datasets';
import { imageToPoints } from '../lib/data/image';
import { readNpy } from '../lib/io/npy';
import { RobustScaler } from '../lib/features/scaler';
import { Soap } from '../lib/soap/soap';
import { buildIfStale, cli, root } from './helpers/cli';
import { ARRAYS, bytes, ok, shardName, SMALL, soapix, testFolder } from './helpers/featurize-cli';

const { dirOf } = testFolder('soapix-cli-');

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
