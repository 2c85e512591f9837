/**
 * Entry of an experiment worker process (forked by worker-pool.ts). It is told over IPC which
 * experiment to load (name and compiled module), the run's spec and output folder; then, one at a
 * time, a unit's JSON job, which it runs and writes to the unit's file (the same code as a run in
 * one process: runner.ts computeUnit), answering 'done' or 'failed'. 'finish' tears the state
 * down and exits. SIGTERM / SIGINT (the parent stopping the run) exit at once: the unit being
 * computed has no file yet, so it counts as not done.
 */
import { loadExperiment, type AnyExperiment, type UnitContext } from './definition';
import type { FromWorker, ToWorker } from './worker-pool';
import { computeUnit } from './runner';

interface Session {
  def: AnyExperiment;
  spec: unknown;
  ctx: UnitContext;
  settingsHash: string;
  state: unknown;
  ready: boolean;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Sends `m` to the parent; resolves once it is handed to the channel. */
function tell(m: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) resolve();
    else process.send(m, undefined, {}, () => resolve());
  });
}

/** Handles the parent's messages in order. */
export function startWorker(): void {
  const controller = new AbortController();
  for (const [sig, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)
    process.on(sig, () => process.exit(code));
  // The parent is gone: nobody will read this worker's units.
  process.on('disconnect', () => process.exit(1));
  let session: Session | null = null;
  let chain = Promise.resolve();
  const fail = async (id: string | null, err: unknown): Promise<never> => {
    if (process.env['SOAPIX_DEBUG'] && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    await tell({ type: 'failed', id, message: message(err) });
    process.exit(1);
  };
  const handle = async (m: ToWorker): Promise<void> => {
    if (m.type === 'init') {
      try {
        const def = loadExperiment(m.experiment, m.module);
        const log = m.quiet ? () => undefined : (line: string) => void process.stderr.write(line + '\n');
        const ctx: UnitContext = { out: m.out, threads: m.threads, log, signal: controller.signal, worker: m.worker };
        session = { def, spec: m.spec, ctx, settingsHash: m.settingsHash, state: undefined, ready: false };
      } catch (err) {
        await fail(null, err);
      }
    } else if (m.type === 'unit') {
      const s = session;
      if (s === null) return fail(null, new Error('a unit came before init'));
      let id: string | null = null;
      try {
        id = s.def.unitId(m.unit);
        await tell({ type: 'started', id });
        if (!s.ready) {
          s.state = s.def.setup ? await s.def.setup(s.spec, s.ctx) : undefined;
          s.ready = true;
        }
        await computeUnit(s.def, s.spec, s.state, m.unit, s.ctx, s.settingsHash);
        await tell({ type: 'done', id });
      } catch (err) {
        await fail(id, err);
      }
    } else if (m.type === 'finish') {
      const s = session;
      try {
        if (s?.ready) await s.def.teardown?.(s.state);
      } catch (err) {
        await fail(null, err);
      }
      process.exit(0);
    }
  };
  process.on('message', (m: ToWorker) => {
    chain = chain.then(() => handle(m));
  });
}

if (require.main === module) startWorker();
