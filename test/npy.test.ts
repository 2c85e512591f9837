import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileOutputError, writeFileAtomic } from '../lib/util/atomic-file';
import {
  NpyWriter,
  encodeNpy,
  parseNpy,
  readNpy,
  readNpyChunks,
  readNpyHeader,
  readNpySync,
  writeNpy,
  type NpyDType,
  type NpyTypedArray,
} from '../lib/io/npy';
import { Rng } from '../lib/util/random';

const dir = mkdtempSync(path.join(tmpdir(), 'soapix-npy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs python3 with numpy; a missing python3 or numpy fails the test with a clear message. */
function python(script: string, ...args: string[]): string {
  try {
    return execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') {
      throw new Error('these tests need python3 with numpy (python3 was not found on PATH); install python3 and numpy');
    }
    throw new Error(`python3 failed (these tests need python3 with numpy): ${e.stderr ?? e.message}`);
  }
}

beforeAll(() => {
  const out = python('import numpy; print(numpy.__version__)');
  expect(out.trim()).toMatch(/^\d+\.\d+/);
});

const NUMPY_INFO = `
import sys, hashlib, numpy as np
a = np.load(sys.argv[1])
print(a.dtype.str, list(a.shape), repr(float(a.astype(np.float64).sum())), a.flags['C_CONTIGUOUS'],
      hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest())
`;

interface NumpyInfo {
  descr: string;
  shape: number[];
  sum: number;
  contiguous: boolean;
  sha256: string;
}

function numpyInfo(p: string): NumpyInfo {
  const [descr, shape, sum, contiguous, sha] = python(NUMPY_INFO, p)
    .trim()
    .split(/ (?![^[]*\])/);
  return {
    descr,
    shape: JSON.parse(shape) as number[],
    sum: Number(sum),
    contiguous: contiguous === 'True',
    sha256: sha,
  };
}

function sha256(a: NpyTypedArray): string {
  return createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
}

function sumOf(a: NpyTypedArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Number(a[i]);
  return s;
}

function randomData(dtype: NpyDType, n: number, seed: number): NpyTypedArray {
  const rng = new Rng(seed);
  switch (dtype) {
    case 'float32':
      return Float32Array.from({ length: n }, () => rng.normal(0, 10));
    case 'float64':
      return Float64Array.from({ length: n }, () => rng.normal(0, 1e6));
    case 'int32':
      return Int32Array.from({ length: n }, () => rng.nextInt(2 ** 32) - 2 ** 31);
    case 'uint8':
      return Uint8Array.from({ length: n }, () => rng.nextInt(256));
    case 'int64':
      return BigInt64Array.from({ length: n }, () => BigInt(rng.nextInt(2 ** 40)) - 2n ** 39n);
    default:
      throw new Error(`no generator for ${dtype}`);
  }
}

/** Writes `data` in pieces of varying whole-row sizes. */
async function writeInPieces(w: NpyWriter, data: NpyTypedArray, rowLen: number, rng: Rng): Promise<void> {
  const rows = data.length / rowLen;
  let r = 0;
  while (r < rows) {
    const k = Math.min(rows - r, rng.nextInt(300));
    await w.write(data.subarray(r * rowLen, (r + k) * rowLen));
    r += k;
  }
}

const EXPECTED_DESCR: Record<string, string> = {
  float32: '<f4',
  float64: '<f8',
  int32: '<i4',
  uint8: '|u1',
  int64: '<i8',
};

describe('NpyWriter → numpy.load', () => {
  const cases: { dtype: NpyDType; rows: number; columns: number; bufferSize?: number }[] = [
    { dtype: 'float32', rows: 5000, columns: 308, bufferSize: 64 * 1024 },
    { dtype: 'float32', rows: 777, columns: 3 },
    { dtype: 'float64', rows: 2500, columns: 13, bufferSize: 1000 },
    { dtype: 'int32', rows: 4321, columns: 0, bufferSize: 4096 },
    { dtype: 'uint8', rows: 10007, columns: 0, bufferSize: 333 },
    { dtype: 'uint8', rows: 999, columns: 28 },
    { dtype: 'int64', rows: 1234, columns: 2, bufferSize: 2048 },
  ];
  for (const c of cases) {
    it(`${c.dtype}, ${c.rows} rows x ${c.columns || '1-D'} in many writes (buffer ${c.bufferSize ?? 'default'})`, async () => {
      const p = path.join(dir, `w-${c.dtype}-${c.rows}-${c.columns}.npy`);
      const rowLen = Math.max(1, c.columns);
      const data = randomData(c.dtype, c.rows * rowLen, c.rows);
      const w = await NpyWriter.create(p, { dtype: c.dtype, columns: c.columns, bufferSize: c.bufferSize });
      expect(existsSync(w.tempPath)).toBe(true);
      expect(existsSync(p)).toBe(false);
      await writeInPieces(w, data, rowLen, new Rng(c.rows + 1));
      expect(w.rows).toBe(c.rows);
      const res = await w.close();
      const shape = c.columns > 0 ? [c.rows, c.columns] : [c.rows];
      expect(res.shape).toEqual(shape);
      expect(existsSync(w.tempPath)).toBe(false);
      expect(existsSync(p)).toBe(true);
      expect(readFileSync(p).length).toBe(res.bytes);

      const info = numpyInfo(p);
      expect(info.descr).toBe(EXPECTED_DESCR[c.dtype]);
      expect(info.shape).toEqual(shape);
      expect(info.contiguous).toBe(true);
      expect(info.sha256).toBe(sha256(data));
      expect(info.sum).toBeCloseTo(sumOf(data), c.dtype === 'float64' ? -2 : 0);

      const back = await readNpy(p);
      expect(back.dtype).toBe(c.dtype);
      expect(back.shape).toEqual(shape);
      expect(sha256(back.data)).toBe(sha256(data));
      const h = await readNpyHeader(p);
      expect(h.dataOffset % 64).toBe(0);
      expect(h.version).toEqual([1, 0]);
    });
  }

  it('a 0-row file (2-D and 1-D) loads with shape (0, C) / (0,)', async () => {
    for (const columns of [308, 0]) {
      const p = path.join(dir, `empty-${columns}.npy`);
      const w = await NpyWriter.create(p, { dtype: 'float32', columns });
      await w.write(new Float32Array(0));
      const res = await w.close();
      const shape = columns > 0 ? [0, columns] : [0];
      expect(res.shape).toEqual(shape);
      const info = numpyInfo(p);
      expect(info.descr).toBe('<f4');
      expect(info.shape).toEqual(shape);
      expect(info.sum).toBe(0);
      const back = readNpySync(p);
      expect(back.shape).toEqual(shape);
      expect(back.data.length).toBe(0);
    }
  });

  it('keeps the order of writes that are not awaited one by one', async () => {
    const p = path.join(dir, 'unawaited.npy');
    const w = await NpyWriter.create(p, { dtype: 'int32', columns: 2, bufferSize: 16 });
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) pending.push(w.write(Int32Array.of(i, -i, i + 1000, 7)));
    await Promise.all(pending);
    await w.close();
    const back = await readNpy(p);
    expect(back.shape).toEqual([400, 2]);
    const expected = new Int32Array(800);
    for (let i = 0; i < 200; i++) expected.set([i, -i, i + 1000, 7], 4 * i);
    expect(Array.from(back.data as Int32Array)).toEqual(Array.from(expected));
  });

  it('converts plain number arrays and checks integer ranges', async () => {
    const p = path.join(dir, 'convert.npy');
    const w = await NpyWriter.create(p, { dtype: 'uint8', columns: 3 });
    await w.write([1, 2, 3, 250, 251, 252]);
    await expect(w.write([1, 2, 300])).rejects.toThrow(/element 2 = 300 .*uint8/);
    await expect(w.write([1.5, 2, 3])).rejects.toThrow(/not an integer/);
    await expect(w.write(new Uint8Array(4))).rejects.toThrow(/not a whole number of rows of 3/);
    // The writer is still usable after rejected input.
    await w.write(Float64Array.of(9, 8, 7));
    await w.close();
    expect(numpyInfo(p).shape).toEqual([3, 3]);
    expect(Array.from((await readNpy(p)).data as Uint8Array)).toEqual([1, 2, 3, 250, 251, 252, 9, 8, 7]);

    const p64 = path.join(dir, 'convert64.npy');
    const w64 = await NpyWriter.create(p64, { dtype: 'int64', columns: 0 });
    await w64.write([0, -1, 2 ** 53 - 1]);
    await w64.close();
    expect(python('import sys, numpy as np; print(np.load(sys.argv[1]).tolist())', p64).trim()).toBe(
      `[0, -1, ${2 ** 53 - 1}]`,
    );
  });

  it('replaces an existing file only on close; abort leaves it intact and removes the partial file', async () => {
    const p = path.join(dir, 'replace.npy');
    await writeNpy(p, Float64Array.of(1, 2, 3));
    const w = await NpyWriter.create(p, { dtype: 'float64', columns: 0 });
    await w.write(Float64Array.of(4, 5));
    expect(Array.from((await readNpy(p)).data as Float64Array)).toEqual([1, 2, 3]);
    await w.abort();
    await w.abort(); // idempotent
    expect(existsSync(w.tempPath)).toBe(false);
    expect(Array.from((await readNpy(p)).data as Float64Array)).toEqual([1, 2, 3]);
    await expect(w.write(Float64Array.of(1))).rejects.toThrow(/aborted/);
    await expect(w.close()).rejects.toThrow(/aborted/);

    const w2 = await NpyWriter.create(p, { dtype: 'float64', columns: 0 });
    await w2.write(Float64Array.of(4, 5));
    await w2.close();
    await w2.abort(); // no-op after close: the finished file stays
    expect(Array.from((await readNpy(p)).data as Float64Array)).toEqual([4, 5]);
    await expect(w2.write(Float64Array.of(1))).rejects.toThrow(/closed/);
  });

  it('abort with no final file leaves nothing behind', async () => {
    const sub = mkdtempSync(path.join(dir, 'abort-'));
    const p = path.join(sub, 'never.npy');
    const w = await NpyWriter.create(p, { dtype: 'float32', columns: 4 });
    await w.write(new Float32Array(4000));
    const pending = [w.write(new Float32Array(4000)), w.write(new Float32Array(4000))];
    await w.abort();
    await Promise.all(pending); // accepted before abort: resolve, data discarded
    expect(readdirSync(sub)).toEqual([]);
  });

  it('a stale .partial from a crashed run is replaced', async () => {
    const p = path.join(dir, 'stale.npy');
    writeFileSync(p + '.partial', 'garbage from a crashed run');
    const w = await NpyWriter.create(p, { dtype: 'int32', columns: 0 });
    await w.write(Int32Array.of(5));
    await w.close();
    expect(existsSync(p + '.partial')).toBe(false);
    expect(numpyInfo(p).sum).toBe(5);
  });
});

describe('write errors name the path and leave nothing behind', () => {
  it('parent is a regular file (ENOTDIR)', async () => {
    const file = path.join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const p = path.join(file, 'out.npy');
    const err = await NpyWriter.create(p, { dtype: 'float32', columns: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileOutputError);
    expect((err as Error).message).toContain(p);
    expect((err as Error).message).toMatch(/not a directory \(ENOTDIR\)/);
    await expect(writeNpy(p, Float32Array.of(1))).rejects.toThrow(/out\.npy: .*ENOTDIR/);
    await expect(writeFileAtomic(p, 'text')).rejects.toThrow(p);
  });

  it('missing directory (ENOENT)', async () => {
    const p = path.join(dir, 'no', 'such', 'dir', 'out.npy');
    await expect(NpyWriter.create(p, { dtype: 'float32', columns: 3 })).rejects.toThrow(
      new RegExp(`cannot create ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no such file or directory`),
    );
  });

  it('/dev/null/x is refused with a clear message', async () => {
    await expect(NpyWriter.create('/dev/null/x.npy', { dtype: 'uint8', columns: 0 })).rejects.toThrow(
      /cannot create \/dev\/null\/x\.npy: a component of the path is not a directory/,
    );
  });

  it('a full device (ENOSPC) gives "no space left on device" and removes the partial file', async () => {
    expect(existsSync('/dev/full'), 'this test needs /dev/full (Linux)').toBe(true);
    const sub = mkdtempSync(path.join(dir, 'full-'));
    const p = path.join(sub, 'full.npy');
    // The writer fills <path>.partial; make that name lead to /dev/full, which fails every write.
    symlinkSync('/dev/full', p + '.partial');
    const err = await NpyWriter.create(p, { dtype: 'float32', columns: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileOutputError);
    expect((err as FileOutputError).code).toBe('ENOSPC');
    expect((err as Error).message).toBe(`cannot write ${p}: no space left on device (ENOSPC)`);
    expect(readdirSync(sub)).toEqual([]);

    symlinkSync('/dev/full', p + '.partial');
    await expect(writeFileAtomic(p, 'x'.repeat(10000))).rejects.toThrow(/no space left on device/);
    expect(readdirSync(sub)).toEqual([]);
  });

  it('an I/O error in the middle of a stream removes the partial file; later calls report it', async () => {
    const sub = mkdtempSync(path.join(dir, 'midway-'));
    const p = path.join(sub, 'midway.npy');
    const w = await NpyWriter.create(p, { dtype: 'float64', columns: 2, bufferSize: 64 });
    await w.write(new Float64Array(8)); // 64 bytes: flushed to disk
    // Simulate the disk filling up: the next write to the file fails with ENOSPC.
    const fh = (w as unknown as { fh: { write: (...a: unknown[]) => Promise<unknown> } }).fh;
    fh.write = () =>
      Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    const err = await w.write(new Float64Array(8)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileOutputError);
    expect((err as Error).message).toBe(`cannot write ${p}: no space left on device (ENOSPC)`);
    expect(readdirSync(sub)).toEqual([]);
    await expect(w.write(new Float64Array(2))).rejects.toThrow(/an earlier write failed: cannot write .*no space left/);
    await expect(w.close()).rejects.toThrow(/an earlier write failed/);
    await w.abort(); // harmless
    expect(readdirSync(sub)).toEqual([]);
  });

  it('bad options', async () => {
    const p = path.join(dir, 'opts.npy');
    await expect(NpyWriter.create(p, { dtype: 'float16' as NpyDType, columns: 3 })).rejects.toThrow(
      /dtype must be one of/,
    );
    await expect(NpyWriter.create(p, { dtype: 'float32', columns: -1 })).rejects.toThrow(/columns must be an integer/);
    await expect(NpyWriter.create(p, { dtype: 'float32', columns: 1.5 })).rejects.toThrow(/columns/);
    expect(existsSync(p + '.partial')).toBe(false);
  });
});

describe('readNpy', () => {
  it('reads what numpy.save writes (several dtypes and shapes)', async () => {
    const script = `
import sys, os, numpy as np
d = sys.argv[1]
np.save(os.path.join(d, 'np-f4.npy'), (np.arange(24, dtype=np.float32) * 0.5 - 3).reshape(2, 3, 4))
np.save(os.path.join(d, 'np-f8.npy'), np.linspace(-1, 1, 7))
np.save(os.path.join(d, 'np-i8.npy'), np.array([-(2**40), 0, 2**40], dtype=np.int64))
np.save(os.path.join(d, 'np-u1.npy'), np.arange(256, dtype=np.uint8).reshape(16, 16))
np.save(os.path.join(d, 'np-i4-empty.npy'), np.zeros((0, 5), dtype=np.int32))
np.save(os.path.join(d, 'np-scalar.npy'), np.float64(2.5))
np.save(os.path.join(d, 'np-fortran.npy'), np.asfortranarray(np.ones((3, 2))))
np.save(os.path.join(d, 'np-be.npy'), np.arange(3, dtype='>f4'))
`;
    python(script, dir);
    const f4 = await readNpy(path.join(dir, 'np-f4.npy'));
    expect(f4.dtype).toBe('float32');
    expect(f4.shape).toEqual([2, 3, 4]);
    expect(Array.from(f4.data as Float32Array)).toEqual(Array.from({ length: 24 }, (_, i) => i * 0.5 - 3));
    const f8 = await readNpy(path.join(dir, 'np-f8.npy'));
    expect(f8.shape).toEqual([7]);
    expect((f8.data as Float64Array)[6]).toBe(1);
    const i8 = await readNpy(path.join(dir, 'np-i8.npy'));
    expect(i8.dtype).toBe('int64');
    expect(Array.from(i8.data as BigInt64Array)).toEqual([-(2n ** 40n), 0n, 2n ** 40n]);
    const u1 = await readNpy(path.join(dir, 'np-u1.npy'));
    expect(u1.shape).toEqual([16, 16]);
    expect((u1.data as Uint8Array)[255]).toBe(255);
    const empty = await readNpy(path.join(dir, 'np-i4-empty.npy'));
    expect(empty.dtype).toBe('int32');
    expect(empty.shape).toEqual([0, 5]);
    const scalar = await readNpy(path.join(dir, 'np-scalar.npy'));
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data as Float64Array)).toEqual([2.5]);
    await expect(readNpy(path.join(dir, 'np-fortran.npy'))).rejects.toThrow(/Fortran-order arrays are not supported/);
    await expect(readNpy(path.join(dir, 'np-be.npy'))).rejects.toThrow(/not little-endian/);
  });

  it('reads in chunks of rows', async () => {
    const p = path.join(dir, 'chunks.npy');
    const data = randomData('float32', 1000 * 7, 5) as Float32Array;
    await writeNpy(p, data, { shape: [1000, 7] });
    const got: number[] = [];
    let next = 0;
    for await (const c of readNpyChunks(p, { rowsPerChunk: 300 })) {
      expect(c.startRow).toBe(next);
      expect(c.rows).toBe(Math.min(300, 1000 - next));
      expect(c.data.length).toBe(c.rows * 7);
      next += c.rows;
      got.push(...Array.from(c.data as Float32Array));
    }
    expect(next).toBe(1000);
    expect(got).toEqual(Array.from(data));
  });

  it('truncated, overlong and malformed files give clear errors', async () => {
    const p = path.join(dir, 'trunc.npy');
    const w = await NpyWriter.create(p, { dtype: 'float64', columns: 10 });
    await w.write(new Float64Array(100 * 10).fill(1));
    await w.close();
    const size = readFileSync(p).length;

    const cut = path.join(dir, 'cut.npy');
    writeFileSync(cut, readFileSync(p).subarray(0, size - 8));
    await expect(readNpy(cut)).rejects.toThrow(
      /cut\.npy: truncated \.npy file: shape \(100, 10\) <f8 needs 8000 bytes of data, the file has 7992/,
    );
    await expect(readNpyHeader(cut)).rejects.toThrow(/truncated/);
    // numpy agrees that it is broken.
    expect(() => python('import sys, numpy as np; np.load(sys.argv[1])', cut)).toThrow();

    const headerOnly = path.join(dir, 'header-cut.npy');
    writeFileSync(headerOnly, readFileSync(p).subarray(0, 50));
    await expect(readNpy(headerOnly)).rejects.toThrow(/truncated \.npy header/);
    await expect(readNpyHeader(headerOnly)).rejects.toThrow(/truncated \.npy header/);

    const tiny = path.join(dir, 'tiny.npy');
    writeFileSync(tiny, Buffer.from([0x93, 0x4e]));
    await expect(readNpy(tiny)).rejects.toThrow(/only 2 bytes/);

    const zero = path.join(dir, 'zero.npy');
    writeFileSync(zero, '');
    truncateSync(zero, 0);
    await expect(readNpy(zero)).rejects.toThrow(/only 0 bytes/);

    const long = path.join(dir, 'long.npy');
    writeFileSync(long, readFileSync(p));
    appendFileSync(long, Buffer.alloc(3));
    await expect(readNpy(long)).rejects.toThrow(/3 unexpected bytes after the data/);

    const notNpy = path.join(dir, 'not.npy');
    writeFileSync(notNpy, 'PK\x03\x04 this is a zip file, maybe an npz');
    await expect(readNpy(notNpy)).rejects.toThrow(/not a \.npy file \(the magic string/);

    expect(() => parseNpy(new Uint8Array(0), 'buf')).toThrow(/buf: not a \.npy file/);
    await expect(readNpy(path.join(dir, 'missing.npy'))).rejects.toThrow(/cannot read .*missing\.npy: ENOENT/);
  });

  it('encodeNpy pads the header to 64 bytes and numpy reads it', () => {
    const buf = encodeNpy(Int32Array.of(1, 2, 3, 4, 5, 6), { shape: [2, 3] });
    const text = buf.subarray(10, 10 + buf.readUInt16LE(8)).toString('latin1');
    expect(text).toMatch(/^\{'descr': '<i4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    expect((10 + text.length) % 64).toBe(0);
    const p = path.join(dir, 'encoded.npy');
    writeFileSync(p, buf);
    expect(numpyInfo(p)).toMatchObject({ descr: '<i4', shape: [2, 3], sum: 21 });
    expect(() => encodeNpy(Int32Array.of(1, 2, 3), { shape: [2, 2] })).toThrow(/has 4 elements, data has 3/);
  });
});
