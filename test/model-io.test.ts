/**
 * Saved model folders (lib/ml/model-folder.ts): autoencoder save -> load round trips (linear and
 * deep: identical encode / decode outputs), the shared folder format, and the load errors
 * (missing folder or files, corrupt files, checksum mismatch, another kind of model).
 */
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Autoencoder, type AutoencoderConfig } from '../lib/ml/models/autoencoder';
import { selectBackend } from '../lib/ml/backend';
import * as mlIndex from '../lib/ml/index';
import { MlpClassifier } from '../lib/ml/models/mlp';
import { Rng } from '../lib/util/random';

const dir = mkdtempSync(path.join(tmpdir(), 'soapix-model-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await selectBackend({ log: false });
});

const COLS = 12;
const ROWS = 200;

function data(seed: number, rows = ROWS): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * COLS }, () => rng.nextFloat() * 2 - 1);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return (
    a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
  );
}

/** A trained autoencoder of `config` and its folder saved under `name`. */
async function savedAutoencoder(name: string, config: AutoencoderConfig): Promise<{ ae: Autoencoder; folder: string }> {
  const ae = Autoencoder.create(config);
  await ae.train({ x: data(1), rows: ROWS, cols: COLS }, { epochs: 2, batchSize: 32, seed: 3 });
  const folder = path.join(dir, name);
  await ae.save(folder, {
    soap: { rCut: 5, nMax: 4, lMax: 3, sigma: 1 },
    scaler: { type: 'test', center: [0] },
    extra: { note: name },
  });
  return { ae, folder };
}

describe('Autoencoder.save / Autoencoder.load', () => {
  for (const config of [
    { inputDim: COLS, codeDim: 3, kind: 'linear', learningRate: 1e-2, seed: 5 },
    { inputDim: COLS, codeDim: 4, kind: 'deep', hiddenMultiplier: 2, learningRate: 1e-2, seed: 6 },
  ] as AutoencoderConfig[]) {
    it(`${config.kind} AE: a loaded folder encodes and decodes exactly as the saved autoencoder`, async () => {
      const { ae, folder } = await savedAutoencoder(`ae-${config.kind}`, config);
      const x = data(2, 50);
      const { autoencoder: loaded, info } = await Autoencoder.load(folder);
      const fresh = Autoencoder.create(config);
      try {
        expect(readdirSync(folder).sort()).toEqual(['model.json', 'soapix.json', 'weights.bin']);
        expect(readFileSync(path.join(folder, 'weights.bin')).byteLength).toBe(4 * ae.parameterCount);
        const onDisk = JSON.parse(readFileSync(path.join(folder, 'soapix.json'), 'utf8'));
        expect(onDisk).toEqual(info);
        expect(info).toMatchObject({
          format: 'soapix-model',
          version: 1,
          kind: 'autoencoder',
          autoencoder: ae.config,
          soap: { rCut: 5, nMax: 4, lMax: 3, sigma: 1 },
          scaler: { type: 'test', center: [0] },
          extra: { note: `ae-${config.kind}` },
        });
        expect(loaded.config).toEqual(ae.config);
        expect(loaded.parameterCount).toBe(ae.parameterCount);

        const codes = ae.encode(x);
        expect(sameBits(loaded.encode(x), codes)).toBe(true);
        expect(sameBits(loaded.decode(codes), ae.decode(codes))).toBe(true);
        expect(loaded.reconstructionMse({ x, rows: 50, cols: COLS })).toBe(
          ae.reconstructionMse({ x, rows: 50, cols: COLS }),
        );
        // The trained weights came back, not the initial ones of the same seed.
        expect(sameBits(fresh.encode(x), codes)).toBe(false);

        // A loaded autoencoder trains on.
        const before = loaded.encode(x);
        await loaded.train({ x: data(1), rows: ROWS, cols: COLS }, { epochs: 1, batchSize: 32 });
        expect(sameBits(loaded.encode(x), before)).toBe(false);
      } finally {
        ae.dispose();
        loaded.dispose();
        fresh.dispose();
      }
    });
  }

  it('model.json is one TensorFlow.js Sequential model from input to reconstruction', async () => {
    const { ae, folder } = await savedAutoencoder('ae-topology', {
      inputDim: COLS,
      codeDim: 2,
      kind: 'deep',
      hiddenMultiplier: 3,
    });
    ae.dispose();
    const m = JSON.parse(readFileSync(path.join(folder, 'model.json'), 'utf8'));
    expect(m.format).toBe('layers-model');
    expect(m.modelTopology.class_name).toBe('Sequential');
    expect(m.weightsManifest[0].paths).toEqual(['weights.bin']);
    const layers = m.modelTopology.config.layers as { class_name: string; config: { name: string; units: number } }[];
    expect(layers.map((l) => [l.config.name, l.config.units])).toEqual([
      ['enc_hidden', 36],
      ['code', 2],
      ['dec_hidden', 36],
      ['output', COLS],
    ]);
  });

  it('is exported from the soapix/ml entry point with the folder file names', () => {
    expect(mlIndex.Autoencoder.load).toBe(Autoencoder.load);
    expect([mlIndex.MODEL_JSON, mlIndex.WEIGHTS_BIN, mlIndex.SOAPIX_JSON]).toEqual([
      'model.json',
      'weights.bin',
      'soapix.json',
    ]);
  });
});

describe('loading a model folder: clear errors', () => {
  const linear: AutoencoderConfig = { inputDim: COLS, codeDim: 3, kind: 'linear', seed: 1 };

  /** A fresh saved linear autoencoder folder. */
  async function folder(name: string): Promise<string> {
    const ae = Autoencoder.create(linear);
    const f = path.join(dir, name);
    await ae.save(f);
    ae.dispose();
    return f;
  }

  it('a missing folder, or a path that is a file', async () => {
    await expect(Autoencoder.load(path.join(dir, 'no-such-folder'))).rejects.toThrow(
      /the folder .*no-such-folder does not exist/,
    );
    await expect(MlpClassifier.load(path.join(dir, 'no-such-folder'))).rejects.toThrow(
      /does not exist \(not a saved soapix model folder\)/,
    );
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'x');
    await expect(Autoencoder.load(file)).rejects.toThrow(/a-file is a file, not a saved soapix model folder/);
  });

  it('missing files', async () => {
    for (const name of ['soapix.json', 'model.json', 'weights.bin']) {
      const f = await folder(`missing-${name}`);
      unlinkSync(path.join(f, name));
      await expect(Autoencoder.load(f)).rejects.toThrow(
        new RegExp(
          `cannot read .*${name.replace('.', '\\.')} \\(not a saved soapix model folder, or an incomplete one\\)`,
        ),
      );
    }
  });

  it('a corrupt soapix.json or model.json', async () => {
    const f = await folder('corrupt-info');
    writeFileSync(path.join(f, 'soapix.json'), '{"format": "soapix-model", "ver');
    await expect(Autoencoder.load(f)).rejects.toThrow(/soapix\.json is not valid JSON \(a corrupt or truncated file\)/);
    writeFileSync(path.join(f, 'soapix.json'), '{"format": "something-else"}');
    await expect(Autoencoder.load(f)).rejects.toThrow(/is not a soapix model description \(format something-else/);

    // model.json replaced, and soapix.json's checksum updated to match: still caught, as not JSON.
    const g = await folder('corrupt-model');
    const info = JSON.parse(readFileSync(path.join(g, 'soapix.json'), 'utf8'));
    const bad = Buffer.from('{ not json');
    writeFileSync(path.join(g, 'model.json'), bad);
    const { createHash } = await import('node:crypto');
    info.files['model.json'] = { bytes: bad.byteLength, sha256: createHash('sha256').update(bad).digest('hex') };
    writeFileSync(path.join(g, 'soapix.json'), JSON.stringify(info));
    await expect(Autoencoder.load(g)).rejects.toThrow(/model\.json is not valid JSON/);
  });

  it('checksum and size mismatches', async () => {
    const f = await folder('flipped');
    const w = readFileSync(path.join(f, 'weights.bin'));
    w[5] ^= 0x40;
    writeFileSync(path.join(f, 'weights.bin'), w);
    await expect(Autoencoder.load(f)).rejects.toThrow(
      /weights\.bin does not match soapix\.json \(checksum mismatch: SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}/,
    );

    const g = await folder('truncated');
    truncateSync(path.join(g, 'weights.bin'), 10);
    await expect(Autoencoder.load(g)).rejects.toThrow(
      /weights\.bin does not match soapix\.json \(10 bytes, expected \d+; the file was changed or is incomplete\)/,
    );

    const h = await folder('no-checksum');
    const info = JSON.parse(readFileSync(path.join(h, 'soapix.json'), 'utf8'));
    delete info.files['model.json'];
    writeFileSync(path.join(h, 'soapix.json'), JSON.stringify(info));
    await expect(Autoencoder.load(h)).rejects.toThrow(/soapix\.json records no checksum of model\.json/);
  });

  it('an architecture in soapix.json that is invalid or does not fit the weights', async () => {
    const f = await folder('bad-config');
    const info = JSON.parse(readFileSync(path.join(f, 'soapix.json'), 'utf8'));
    writeFileSync(
      path.join(f, 'soapix.json'),
      JSON.stringify({ ...info, autoencoder: { ...info.autoencoder, codeDim: 0 } }),
    );
    await expect(Autoencoder.load(f)).rejects.toThrow(
      /describes an invalid model: AutoencoderConfig\.codeDim must be a positive integer/,
    );
    writeFileSync(
      path.join(f, 'soapix.json'),
      JSON.stringify({ ...info, autoencoder: { ...info.autoencoder, codeDim: 4 } }),
    );
    await expect(Autoencoder.load(f)).rejects.toThrow(/do not fit the linear autoencoder 12 -> 4/);
    writeFileSync(
      path.join(f, 'soapix.json'),
      JSON.stringify({ ...info, autoencoder: { ...info.autoencoder, kind: 'deep' } }),
    );
    await expect(Autoencoder.load(f)).rejects.toThrow(/do not fit the deep autoencoder/);
  });

  it('a folder holding the other kind of model', async () => {
    const mlpDir = path.join(dir, 'an-mlp');
    const clf = MlpClassifier.create({ inputDim: COLS, hidden: [4], classes: 3 });
    await clf.save(mlpDir);
    clf.dispose();
    await expect(Autoencoder.load(mlpDir)).rejects.toThrow(
      /holds an MLP classifier \(kind 'mlp-classifier'\), not an autoencoder; load it with MlpClassifier\.load/,
    );

    const aeDir = await folder('an-ae');
    await expect(MlpClassifier.load(aeDir)).rejects.toThrow(
      /holds an autoencoder \(kind 'autoencoder'\), not an MLP classifier; load it with Autoencoder\.load/,
    );

    const info = JSON.parse(readFileSync(path.join(aeDir, 'soapix.json'), 'utf8'));
    writeFileSync(path.join(aeDir, 'soapix.json'), JSON.stringify({ ...info, kind: 'cnn' }));
    await expect(Autoencoder.load(aeDir)).rejects.toThrow(/holds a model of unknown kind 'cnn', not an autoencoder/);

    // Saving an autoencoder over the classifier's folder replaces it; it then loads as an autoencoder only.
    const ae = Autoencoder.create(linear);
    await ae.save(mlpDir);
    const { autoencoder } = await Autoencoder.load(mlpDir);
    expect(sameBits(autoencoder.encode(data(4, 3)), ae.encode(data(4, 3)))).toBe(true);
    autoencoder.dispose();
    ae.dispose();
    await expect(MlpClassifier.load(mlpDir)).rejects.toThrow(/holds an autoencoder/);
    expect(readdirSync(mlpDir).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });

  it('the classifier folder format is unchanged by the shared helpers', async () => {
    const f = path.join(dir, 'mlp-format');
    const clf = MlpClassifier.create({ inputDim: COLS, hidden: [5], classes: 3, seed: 2 });
    const info = await clf.save(f, { soap: { rCut: 1 }, scaler: null as never });
    expect(Object.keys(info)).toEqual([
      'format',
      'version',
      'kind',
      'mlp',
      'soap',
      'scaler',
      'extra',
      'files',
      'tfjsVersion',
      'savedAt',
    ]);
    expect(Object.keys(info.files)).toEqual(['model.json', 'weights.bin']);
    const { classifier } = await MlpClassifier.load(f);
    const x = data(7, 4);
    expect(sameBits(classifier.predict(x), clf.predict(x))).toBe(true);
    classifier.dispose();
    clf.dispose();
    expect(existsSync(path.join(f, 'soapix.json'))).toBe(true);
  });
});
