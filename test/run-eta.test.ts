/**
 * The runner's ETA (lib/experiments/run-eta.ts) on cases worked by hand, the progress line that
 * prints it (lib/cli/progress.ts), and the share of a unit earlier runs did, read from its
 * trainings' checkpoint headers (lib/experiments/common.ts, checkpointedShare).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unitProgressLine } from '../lib/cli/progress';
import { checkpointedShare } from '../lib/experiments/common';
import { estimateRemainingSeconds } from '../lib/experiments/run-eta';

describe('estimateRemainingSeconds', () => {
  it('is null until a unit finished with work and time', () => {
    expect(
      estimateRemainingSeconds({ finished: [], running: [{ work: 1, elapsed: 5 }], queued: [1], workers: 2 }),
    ).toBeNull();
    expect(
      estimateRemainingSeconds({ finished: [{ work: 0, seconds: 3 }], running: [], queued: [1], workers: 1 }),
    ).toBeNull();
  });

  it('one worker: the queued work at the measured rate', () => {
    // Rate 1 work per 10 s; queued 2 + 1 work: 30 s.
    expect(
      estimateRemainingSeconds({ finished: [{ work: 1, seconds: 10 }], running: [], queued: [2, 1], workers: 1 }),
    ).toBe(30);
  });

  it('two workers, four equal units: after the first, one more round', () => {
    // The other worker's unit started with the first (10 s ago): it ends now; each worker takes one
    // of the two queued units: 10 s.
    const eta = estimateRemainingSeconds({
      finished: [{ work: 1, seconds: 10 }],
      running: [{ work: 1, elapsed: 10 }],
      queued: [1, 1],
      workers: 2,
    });
    expect(eta).toBeCloseTo(10, 12);
  });

  it('a unit resumed near its end does not make the rest look cheap', () => {
    // Experiment 2 at h_m = 10 (docs/RESULTS.md): h_e 100 resumed at epoch 227 of 300 and h_e 200
    // at 86 of 300, both one worker each. When h_e 100 ends after 4,500 s it did 73/300 of a unit;
    // h_e 200 has done as much and has 141/300 left at that rate: 141/73 * 4,500 s. The old estimate
    // (elapsed per finished unit times units left) said 4,500 s.
    const eta = estimateRemainingSeconds({
      finished: [{ work: 73 / 300, seconds: 4500 }],
      running: [{ work: 214 / 300, elapsed: 4500 }],
      queued: [],
      workers: 2,
    });
    expect(eta).toBeCloseTo((141 / 73) * 4500, 6);
  });

  it('a running unit past its estimate ends now, not in the past; queued units go to the worker free first', () => {
    const eta = estimateRemainingSeconds({
      finished: [{ work: 1, seconds: 10 }],
      running: [
        { work: 1, elapsed: 25 },
        { work: 3, elapsed: 0 },
      ],
      queued: [1, 1],
      workers: 2,
    });
    // Worker A is free now and takes both queued units (10 s, 20 s); worker B needs 30 s.
    expect(eta).toBe(30);
  });
});

describe('unitProgressLine', () => {
  const base = { done: 1, total: 2, running: ['he-200'], elapsedSeconds: 4500 };
  it('prints the runner`s ETA, and none when it is unknown or nothing is left', () => {
    expect(unitProgressLine('compression', 'h_e grid points', { ...base, etaSeconds: 8692 })).toBe(
      'compression: 1/2 h_e grid points done (50%), 1h15m elapsed, ETA 2h24m; running he-200',
    );
    expect(unitProgressLine('compression', 'h_e grid points', { ...base, etaSeconds: null })).not.toMatch(/ETA/);
    expect(unitProgressLine('c', 'units', { ...base, done: 2, running: [], etaSeconds: 0 })).not.toMatch(/ETA/);
  });
});

describe('checkpointedShare', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'soapix-eta-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  /** A file with a checkpoint's header (the share reads nothing else). */
  const header = (name: string, state: object): void => {
    const json = Buffer.from(JSON.stringify({ format: 'soapix-fit-checkpoint', version: 1, state }), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(json.length, 0);
    writeFileSync(path.join(out, 'checkpoints', `${name}.ckpt`), Buffer.concat([len, json]));
  };

  it('averages the trainings: epochs saved over epochs allowed, an ended one whole, a missing or unreadable one 0', async () => {
    mkdirSync(path.join(out, 'checkpoints'), { recursive: true });
    expect(await checkpointedShare(out, [{ name: 'a', epochs: 300 }])).toBe(0);
    header('a', { epoch: 227, stopped: false });
    expect(await checkpointedShare(out, [{ name: 'a', epochs: 300 }])).toBeCloseTo(227 / 300, 12);
    header('b', { epoch: 40, stopped: true });
    writeFileSync(path.join(out, 'checkpoints', 'c.ckpt'), 'not a checkpoint at all');
    const share = await checkpointedShare(out, [
      { name: 'a', epochs: 300 },
      { name: 'b', epochs: 300 },
      { name: 'c', epochs: 300 },
      { name: 'd', epochs: 300 },
    ]);
    expect(share).toBeCloseTo((227 / 300 + 1) / 4, 12);
    expect(await checkpointedShare(out, [])).toBe(0);
  });
});
