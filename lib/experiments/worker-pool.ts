/**
 * Worker processes of an experiment run (the parent's side; worker.ts is the child's). Each worker
 * is a fork of the worker entry module, told over IPC which experiment to load, the run's spec
 * (every option, as JSON) and its output folder, then given one unit's JSON job at a time: a worker
 * that finishes a unit (its file written) gets the next one from the queue, so units given
 * most-costly first are spread evenly. The output of each worker is relayed line by line under a
 * `[worker n]` prefix.
 *
 * When a unit fails, or a worker dies, the other workers are stopped (SIGTERM) and the run rejects
 * with an error naming the unit; aborting the run's signal stops every worker the same way.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Parent -> worker. */
export type ToWorker =
  | {
      type: 'init';
      experiment: string;
      module: string;
      spec: unknown;
      out: string;
      threads: number;
      quiet: boolean;
      worker: number;
      settingsHash: string;
    }
  | { type: 'unit'; unit: unknown }
  | { type: 'finish' };

/** Worker -> parent. */
export type FromWorker =
  | { type: 'started'; id: string }
  | { type: 'done'; id: string }
  | { type: 'failed'; id: string | null; message: string };

/** Options of {@link runWorkerPool}. */
export interface WorkerPoolOptions {
  /** The worker entry module (worker.js). */
  script: string;
  /** Worker processes to start (at most one per unit). */
  workers: number;
  /** The init message, without the worker number. */
  init: Omit<Extract<ToWorker, { type: 'init' }>, 'type' | 'worker'>;
  /** The units in the order they are handed out. */
  units: readonly { id: string; unit: unknown }[];
  log: (line: string) => void;
  signal?: AbortSignal;
  onStart?: (id: string, worker: number) => void;
  onDone?: (id: string, worker: number) => void;
}

interface Worker {
  n: number;
  proc: ChildProcess;
  current: string | null;
  finishing: boolean;
}

/** Splits a stream into lines and hands each non-blank one to `line` (the last partial line on flush). */
function lineRelay(line: (text: string) => void): { push: (chunk: Buffer) => void; flush: () => void } {
  let rest = '';
  return {
    push: (chunk) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) line(p);
    },
    flush: () => {
      if (rest.trim()) line(rest);
      rest = '';
    },
  };
}

/** Runs `o.units` in worker processes; resolves when all are done, rejects with the first failure after every worker has exited. */
export function runWorkerPool(o: WorkerPoolOptions): Promise<void> {
  if (!existsSync(o.script)) {
    return Promise.reject(
      new Error(
        `the experiment worker entry ${o.script} does not exist (build dist/ first: npx tsc -p tsconfig.build.json)`,
      ),
    );
  }
  return new Promise<void>((resolve, reject) => {
    const queue = [...o.units];
    const workers: Worker[] = [];
    let failure: Error | null = null;
    let live = 0;
    const alive = (w: Worker): boolean => w.proc.exitCode === null && w.proc.signalCode === null;
    const fail = (err: Error): void => {
      if (failure !== null) return;
      failure = err;
      for (const w of workers) if (alive(w)) w.proc.kill('SIGTERM');
    };
    const send = (w: Worker, m: ToWorker): void => {
      // A send to a worker that has just died fails; its exit is reported by 'close'.
      if (alive(w) && w.proc.connected) w.proc.send(m, () => undefined);
    };
    const next = (w: Worker): void => {
      if (failure !== null) return;
      const u = queue.shift();
      if (u === undefined) {
        w.current = null;
        w.finishing = true;
        send(w, { type: 'finish' });
        return;
      }
      w.current = u.id;
      send(w, { type: 'unit', unit: u.unit });
    };
    const onAbort = (): void => {
      const reason: unknown = o.signal?.reason;
      fail(reason instanceof Error ? reason : Object.assign(new Error('aborted'), { name: 'AbortError' }));
    };
    if (o.signal?.aborted) {
      reject(o.signal.reason instanceof Error ? o.signal.reason : new Error('aborted'));
      return;
    }
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const count = Math.max(1, Math.min(o.workers, queue.length));
    for (let i = 0; i < count; i++) {
      const n = i + 1;
      const proc = fork(o.script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      const w: Worker = { n, proc, current: null, finishing: false };
      workers.push(w);
      live++;
      const out = lineRelay((line) => o.log(`[worker ${n}] ${line}`));
      const err = lineRelay((line) => o.log(`[worker ${n}] ${line}`));
      proc.stdout?.on('data', out.push);
      proc.stderr?.on('data', err.push);
      proc.on('message', (m: FromWorker) => {
        if (m.type === 'started') o.onStart?.(m.id, n);
        else if (m.type === 'done') {
          if (w.current === m.id) w.current = null;
          o.onDone?.(m.id, n);
          next(w);
        } else if (m.type === 'failed') {
          fail(
            new Error(
              m.id === null
                ? `worker ${n} could not start: ${m.message}`
                : `unit ${m.id} failed in worker ${n}: ${m.message}`,
            ),
          );
        }
      });
      proc.on('error', (e) => fail(new Error(`worker ${n}: ${e.message}`)));
      proc.on('close', (code, sig) => {
        out.flush();
        err.flush();
        live--;
        if (!(code === 0 && w.finishing)) {
          const how = sig !== null ? `was killed by ${sig}` : `exited with status ${String(code)}`;
          fail(new Error(`worker ${n} ${how}${w.current !== null ? ` while running unit ${w.current}` : ''}`));
        }
        if (live === 0) {
          o.signal?.removeEventListener('abort', onAbort);
          if (failure !== null) reject(failure);
          else resolve();
        }
      });
      send(w, { type: 'init', ...o.init, worker: n });
      next(w);
    }
  });
}
