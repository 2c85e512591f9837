/**
 * Runs shares of an experiment's independent trainings in worker processes: forks of the soapix
 * CLI, one per group of items, with their output relayed line by line under a `[worker n]` prefix.
 */
import { fork, type ChildProcess } from 'node:child_process';

/** Deals `items` round-robin into at most `n` non-empty groups. */
export function dealRoundRobin<T>(items: readonly T[], n: number): T[][] {
  const groups: T[][] = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, () => []);
  items.forEach((item, i) => groups[i % groups.length]!.push(item));
  return groups;
}

/**
 * Splits `items` into at most `n` non-empty groups of about equal total cost: the most costly
 * first, each to the group with the least cost so far (greedy longest-processing-time order).
 */
export function dealByCost<T>(items: readonly T[], n: number, cost: (item: T) => number): T[][] {
  const groups: T[][] = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, () => []);
  const load = groups.map(() => 0);
  for (const item of [...items].sort((a, b) => cost(b) - cost(a))) {
    let g = 0;
    for (let i = 1; i < groups.length; i++) if (load[i]! < load[g]!) g = i;
    groups[g]!.push(item);
    load[g]! += cost(item);
  }
  return groups;
}

export interface WorkerRun<T> {
  /** The CLI script to fork. */
  cli: string;
  groups: T[][];
  /** Command-line arguments of the worker for one group. */
  args: (group: T[]) => string[];
  /** Names a group in an error message, e.g. "h_e 5,20". */
  describe: (group: T[]) => string;
  log: (line: string) => void;
  /** Aborting sends SIGTERM to every worker. */
  signal?: AbortSignal;
}

/**
 * Resolves when every worker exited with status 0; rejects with the first failure, after stopping
 * the other workers (SIGTERM) so that none is left running on its own.
 */
export async function runWorkers<T>(o: WorkerRun<T>): Promise<void> {
  const children: ChildProcess[] = [];
  const stopAll = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  };
  await Promise.all(
    o.groups.map(
      (g, w) =>
        new Promise<void>((resolve, reject) => {
          const child = fork(o.cli, o.args(g), { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
          children.push(child);
          const prefix = `[worker ${w + 1}] `;
          const relay = (chunk: Buffer): void => {
            for (const line of chunk.toString().split('\n')) if (line.trim()) o.log(prefix + line);
          };
          child.stdout?.on('data', relay);
          child.stderr?.on('data', relay);
          const onAbort = (): void => void child.kill('SIGTERM');
          o.signal?.addEventListener('abort', onAbort, { once: true });
          child.on('error', reject);
          child.on('exit', (code) => {
            o.signal?.removeEventListener('abort', onAbort);
            if (code === 0) {
              resolve();
            } else {
              stopAll();
              reject(new Error(`worker ${w + 1} (${o.describe(g)}) exited with status ${code}`));
            }
          });
        }),
    ),
  );
}
