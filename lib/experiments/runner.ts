/**
 * The experiment runner (docs/RUNNER.md): runs the units of an experiment declared with
 * `defineExperiment` (definition.ts) and merges their results.
 *
 * A run (1) checks the spec's settings against DIR/settings.json, refusing units of other
 * settings; (2) takes this run's share of the units (`shard` i/n: positions k with k mod n = i-1);
 * (3) skips the units whose files are done (unit-files.ts: an invalid file is recomputed);
 * (4) runs the rest, most costly first, in this process or in `workers` worker processes that
 * receive each unit's JSON job (worker-pool.ts); each finished unit is written atomically to
 * DIR/units/<id>.json; (5) when every unit of the experiment is done (by this run, other shards or
 * earlier runs), merges them into DIR/results.json and calls the report hook. A unit failure stops
 * the run (and the other workers); aborting `signal` stops it between units (and kills workers).
 */
import { availableParallelism } from 'node:os';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file';
import { checkShard, inShard, type ShardSpec } from '../util/shard';
import type { AnyExperiment, Experiment, FinishedUnit, MergeContext, UnitContext } from './definition';
import {
  checkSettingsFile,
  checkUnitId,
  readUnitFile,
  settingsHash,
  UNITS_DIR,
  writeSettingsFile,
  writeUnitFile,
} from './unit-files';
import { estimateRemainingSeconds } from './run-eta';
import { runWorkerPool } from './worker-pool';

/** Where a run stands, for a progress display. */
export interface RunProgress {
  /** What just happened. */
  event: 'start' | 'unit-started' | 'unit-done' | 'end';
  /** The unit it happened to (unit events). */
  unit?: string;
  /** Units this run finished so far. */
  done: number;
  /** Units this run has to do (its share, less those done before). */
  total: number;
  /** Ids of the units running now. */
  running: readonly string[];
  elapsedSeconds: number;
  /** Seconds this run still needs (run-eta.ts), or null before a unit finished and once none is left. */
  etaSeconds: number | null;
}

/** Options of {@link runExperiment}. */
export interface RunOptions {
  /** Output folder (created). */
  out: string;
  /** Worker processes; 1 (the default) runs the units in this process. */
  workers?: number;
  /** This run's share of the units. Default: all. */
  shard?: ShardSpec;
  /** Threads for native work, per process (0, the default: all cores, divided among workers). */
  threads?: number;
  /** Merge into results.json when every unit is done (default true). */
  merge?: boolean;
  /** Progress lines (default none; workers are quiet then too). */
  log?: (line: string) => void;
  /** Called as units start and finish (with it, the run reads `resumedShare` for the ETA). */
  onProgress?: (p: RunProgress) => void;
  /** Stops the run: no new unit starts, workers are killed, unfinished units leave no file. */
  signal?: AbortSignal;
  /** The worker entry module (default: worker.js next to this module). */
  workerScript?: string;
}

/** The options of a run besides the spec, as the experiments' run functions take them. */
export interface ExperimentRunOptions extends Omit<RunOptions, 'merge'> {
  /** Merge into results.json when every unit is done (default true). */
  summary?: boolean;
}

/** What a run did and found. */
export interface RunOutcome<Unit, Summary> {
  /** The merged results (also in results.json), or null when units are missing or `merge` is false. */
  summary: Summary | null;
  /** Units of the experiment, of this run's share, computed by this run. */
  total: number;
  inRun: number;
  computed: string[];
  /** Units of the whole experiment without a valid file after this run. */
  missing: Unit[];
  missingIds: string[];
}

/** Runs one unit in this process and writes its file (also the worker's path). */
export async function computeUnit(
  def: AnyExperiment,
  spec: unknown,
  state: unknown,
  unit: unknown,
  ctx: UnitContext,
  hash: string,
): Promise<void> {
  const id = def.unitId(unit);
  const result = await def.run(unit, { ...ctx, spec, state });
  await writeUnitFile(ctx.out, { experiment: def.name, id, settingsHash: hash, unit, result });
}

const neverAborted = new AbortController().signal;

/** The share (0 to 1) of `u` that earlier runs did, for the ETA only: 0 when unknown or unreadable. */
async function resumedShare(
  def: AnyExperiment,
  u: { id: string; unit: unknown },
  spec: unknown,
  out: string,
): Promise<number> {
  if (!def.resumedShare) return 0;
  try {
    const f = await def.resumedShare(u.unit, spec, out);
    return Number.isFinite(f) ? Math.min(0.99, Math.max(0, f)) : 0;
  } catch {
    return 0;
  }
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : Object.assign(new Error('aborted'), { name: 'AbortError' });
}

/** Runs (this shard of) `def` with `spec`; see the file comment. */
export async function runExperiment<Spec, Unit, Result, Summary, State>(
  def: Experiment<Spec, Unit, Result, Summary, State>,
  spec: Spec,
  options: RunOptions,
): Promise<RunOutcome<Unit, Summary>> {
  const startedAt = performance.now();
  const anyDef = def as unknown as AnyExperiment;
  const log = options.log ?? (() => undefined);
  const signal = options.signal ?? neverAborted;
  const workers = options.workers ?? 1;
  if (!Number.isSafeInteger(workers) || workers < 1)
    throw new RangeError(`workers must be a positive integer, got ${String(workers)}`);
  const threads = options.threads ?? 0;
  if (!Number.isSafeInteger(threads) || threads < 0)
    throw new RangeError(`threads must be an integer >= 0, got ${String(threads)}`);
  if (options.shard) checkShard(options.shard);
  const out = path.resolve(options.out);
  const noun = def.unitNoun ?? 'units';

  const settings = def.settings(spec);
  const hash = settingsHash(settings);
  const units = def.units(spec).map((unit) => ({ id: def.unitId(unit), unit }));
  const seen = new Set<string>();
  for (const u of units) {
    checkUnitId(u.id);
    if (seen.has(u.id)) throw new Error(`${def.name}: two units have the id ${u.id}`);
    seen.add(u.id);
  }
  await checkSettingsFile(out, def.name, settings, def.settingNames);
  await mkdir(path.join(out, UNITS_DIR), { recursive: true });
  const want = (u: { id: string; unit: Unit }) => ({
    experiment: def.name,
    id: u.id,
    settingsHash: hash,
    unit: u.unit,
  });

  const mine = units.filter((_, k) => inShard(k, options.shard));
  const todo: { id: string; unit: Unit }[] = [];
  for (const u of mine) {
    const s = await readUnitFile<Result>(out, want(u));
    if (s.state === 'invalid')
      log(`${def.name}: ${path.join(UNITS_DIR, u.id + '.json')} ${s.reason}; computing it again`);
    if (s.state !== 'done') todo.push(u);
  }
  const cost = def.cost?.bind(def);
  if (cost) todo.sort((a, b) => cost(b.unit) - cost(a.unit)); // stable: protocol order among equals
  const processes = workers > 1 && todo.length > 1 ? Math.min(workers, todo.length) : 1;
  log(`${def.name}: ${units.length} ${noun}, ${mine.length} in this run, ${todo.length} to do, ${processes} worker(s)`);

  // Each unit's work for the ETA: its cost less what earlier runs did (run-eta.ts); the shares
  // (checkpoint headers read from disk) only when someone listens to progress.
  const work = new Map<string, number>();
  for (const u of todo) {
    const share = options.onProgress ? await resumedShare(anyDef, u, spec, out) : 0;
    work.set(u.id, Math.max(0, cost ? cost(u.unit) : 1) * (1 - share));
  }
  const computed: string[] = [];
  const running = new Map<string, number>();
  const finishedWork: { work: number; seconds: number }[] = [];
  const eta = (now: number): number | null => {
    if (computed.length === 0 || computed.length === todo.length) return null;
    const done = new Set(computed);
    return estimateRemainingSeconds({
      finished: finishedWork,
      running: [...running].map(([id, t]) => ({ work: work.get(id)!, elapsed: (now - t) / 1000 })),
      queued: todo.filter((u) => !running.has(u.id) && !done.has(u.id)).map((u) => work.get(u.id)!),
      workers: processes,
    });
  };
  const progress = (event: RunProgress['event'], unit?: string): void => {
    if (!options.onProgress) return;
    const now = performance.now();
    options.onProgress({
      event,
      unit,
      done: computed.length,
      total: todo.length,
      running: [...running.keys()],
      elapsedSeconds: (now - startedAt) / 1000,
      etaSeconds: eta(now),
    });
  };
  const started = (id: string): void => {
    running.set(id, performance.now());
    progress('unit-started', id);
  };
  const finished = (id: string): void => {
    const t = running.get(id);
    running.delete(id);
    computed.push(id);
    if (t !== undefined) finishedWork.push({ work: work.get(id)!, seconds: (performance.now() - t) / 1000 });
    progress('unit-done', id);
  };
  progress('start');

  if (todo.length > 0) {
    await def.validate?.(spec);
    await writeSettingsFile(out, def.name, settings);
    if (processes > 1) {
      await runWorkerPool({
        script: options.workerScript ?? path.join(__dirname, 'worker.js'),
        workers: processes,
        init: {
          experiment: def.name,
          module: def.module,
          spec,
          out,
          threads: threads > 0 ? threads : Math.max(1, Math.floor(availableParallelism() / processes)),
          quiet: options.log === undefined,
          settingsHash: hash,
        },
        units: todo,
        log,
        signal: options.signal,
        onStart: started,
        onDone: finished,
      });
    } else {
      const ctx: UnitContext = { out, threads, log, signal, worker: 0 };
      let state: State | undefined;
      let ready = false;
      try {
        for (const u of todo) {
          if (signal.aborted) throw abortReason(signal);
          started(u.id);
          if (!ready) {
            state = def.setup ? await def.setup(spec, ctx) : undefined;
            ready = true;
          }
          try {
            await computeUnit(anyDef, spec, state, u.unit, ctx, hash);
          } catch (err) {
            if (signal.aborted || !(err instanceof Error)) throw err;
            throw new Error(`unit ${u.id}: ${err.message}`, { cause: err });
          }
          finished(u.id);
        }
      } finally {
        if (ready) await def.teardown?.(state as State);
      }
    }
  }
  progress('end');

  const outcome: RunOutcome<Unit, Summary> = {
    summary: null,
    total: units.length,
    inRun: mine.length,
    computed,
    missing: [],
    missingIds: [],
  };
  if (options.merge === false) {
    log(`${def.name}: ${computed.length} ${noun} computed; not merging`);
    return outcome;
  }
  const done: FinishedUnit<Unit, Result>[] = [];
  for (const u of units) {
    const s = await readUnitFile<Result>(out, want(u));
    if (s.state === 'done') done.push({ id: u.id, unit: u.unit, result: s.result });
    else {
      outcome.missing.push(u.unit);
      outcome.missingIds.push(u.id);
    }
  }
  if (outcome.missing.length > 0) {
    log(
      `${def.name}: ${done.length}/${units.length} ${noun} done; still missing: ${outcome.missingIds.join(', ')} (the run that finds every unit done writes ${def.resultsFile ?? 'results.json'})`,
    );
    return outcome;
  }
  const mctx: MergeContext = { out, threads, log, signal, startedAt };
  const summary = await def.merge(done, spec, mctx);
  // Two shards that finish together may both find every unit done and both merge.
  await writeFileAtomic(path.join(out, def.resultsFile ?? 'results.json'), JSON.stringify(summary, null, 2) + '\n', {
    unique: true,
  });
  await def.report?.(summary, spec, mctx);
  outcome.summary = summary;
  return outcome;
}

/** Runs `def` with `spec` and the run options of `o`; resolves with the merged results, or null when units are missing or `summary` is false. */
export async function runToSummary<Spec, Unit, Result, Summary, State>(
  def: Experiment<Spec, Unit, Result, Summary, State>,
  spec: Spec,
  o: ExperimentRunOptions,
): Promise<Summary | null> {
  const { out, workers, shard, threads, summary, log, onProgress, signal, workerScript } = o;
  return (
    await runExperiment(def, spec, {
      out,
      workers,
      shard,
      threads,
      merge: summary !== false,
      log,
      onProgress,
      signal,
      workerScript,
    })
  ).summary;
}
