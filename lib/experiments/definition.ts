/**
 * How an experiment is declared for the runner (runner.ts, docs/RUNNER.md), and the registry a
 * worker process uses to find it by name.
 *
 * An experiment is a grid of independent units. From one JSON-serialisable spec (the resolved
 * options of a run) it derives the settings that define its protocol (checked against
 * DIR/settings.json, hashed into every unit file), the list of units (each a JSON-serialisable job
 * with a stable id), a function that runs one unit and returns a JSON-serialisable result, and a
 * merge of every unit's result into results.json. `defineExperiment` registers the declaration when
 * its module loads, so a worker told (name, module) can find it.
 */

/** What a unit runs with, in the process that runs it. */
export interface UnitContext {
  /** The run's output folder (absolute). */
  readonly out: string;
  /** Threads this process may use for native work (0: all cores). */
  readonly threads: number;
  /** Progress lines (a no-op when quiet). */
  readonly log: (line: string) => void;
  /** Aborted when the run is stopped; long units should pass it on or check it. */
  readonly signal: AbortSignal;
  /** 1-based number of the worker process running the unit; 0 in the process that started the run. */
  readonly worker: number;
}

/** A unit's context plus the run's spec and this process's state (what `setup` returned). */
export interface UnitEnv<Spec, State> extends UnitContext {
  readonly spec: Spec;
  readonly state: State;
}

/** What the merge and the report run with. */
export interface MergeContext {
  readonly out: string;
  readonly threads: number;
  readonly log: (line: string) => void;
  readonly signal: AbortSignal;
  /** `performance.now()` when the run started (wall times in results). */
  readonly startedAt: number;
}

/** A finished unit read back from its file. */
export interface FinishedUnit<Unit, Result> {
  readonly id: string;
  readonly unit: Unit;
  readonly result: Result;
}

/**
 * The declaration of an experiment. `Spec`, `Unit` and `Result` must be plain JSON (they travel to
 * worker processes and into unit files); `State` lives in one process only.
 */
export interface Experiment<Spec, Unit, Result, Summary, State = undefined> {
  /** Registry name, recorded in settings.json and every unit file (e.g. 'compression'). */
  readonly name: string;
  /** Absolute path of the compiled module that defines it (`__filename`): worker processes load it. */
  readonly module: string;
  /** What the units are, plural, for log lines (default 'units'). */
  readonly unitNoun?: string;
  /** Name of the merged file under the output folder (default 'results.json'). */
  readonly resultsFile?: string;
  /** How to name a setting in the mismatch message, by setting key (e.g. `{ seed: '--seed' }`); default the key. */
  readonly settingNames?: Readonly<Record<string, string>>;
  /** The settings every unit's result depends on (besides the unit's own job). Units of other settings are never mixed. */
  settings(spec: Spec): object;
  /** Every unit of the run, in a fixed order (shard i/n takes positions k with k mod n = i-1). */
  units(spec: Spec): readonly Unit[];
  /** A stable id, unique in the run, usable as a file name (letters, digits, '.', '_', '-'). */
  unitId(unit: Unit): string;
  /** Relative cost of a unit: with it, units start most costly first (balanced over workers). */
  cost?(unit: Unit): number;
  /**
   * The share (0 to 1) of a unit that an earlier run did and this one continues (its trainings'
   * checkpoints), so that the progress line's ETA counts only the work left (run-eta.ts). Default 0.
   */
  resumedShare?(unit: Unit, spec: Spec, out: string): Promise<number>;
  /** Cheap checks of the spec before settings.json is written and any unit starts (run in the starting process). */
  validate?(spec: Spec): void | Promise<void>;
  /** State shared by the units of one process (data, features, a backend), built before its first unit. */
  setup?(spec: Spec, ctx: UnitContext): Promise<State>;
  /** Runs one unit; the result is written to the unit's file. */
  run(unit: Unit, env: UnitEnv<Spec, State>): Promise<Result>;
  /** Frees the state after the process's last unit. */
  teardown?(state: State): void | Promise<void>;
  /** Turns every unit's result (in unit order) into what is written to results.json; may render figures into ctx.out. */
  merge(units: readonly FinishedUnit<Unit, Result>[], spec: Spec, ctx: MergeContext): Promise<Summary>;
  /** After results.json is written: a report, more figures. */
  report?(summary: Summary, spec: Spec, ctx: MergeContext): Promise<void>;
}

/** An experiment of unknown types (the registry's view). */
export type AnyExperiment = Experiment<unknown, unknown, unknown, unknown, unknown>;

const registry = new Map<string, AnyExperiment>();

/** Declares an experiment: checks the declaration, registers it by name and returns it. */
export function defineExperiment<Spec, Unit, Result, Summary, State = undefined>(
  def: Experiment<Spec, Unit, Result, Summary, State>,
): Experiment<Spec, Unit, Result, Summary, State> {
  if (typeof def.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(def.name)) {
    throw new Error(
      `experiment name ${JSON.stringify(def.name)}: use lower-case letters, digits and '-', starting with a letter`,
    );
  }
  if (typeof def.module !== 'string' || def.module.length === 0)
    throw new Error(`experiment ${def.name}: module must be the path of its compiled module (__filename)`);
  registerExperiment(def as unknown as AnyExperiment);
  return def;
}

/** Adds `def` under its name; another definition of that name from another module is an error. */
export function registerExperiment(def: AnyExperiment): void {
  const had = registry.get(def.name);
  if (had !== undefined && had.module !== def.module) {
    throw new Error(`experiment ${JSON.stringify(def.name)} is defined twice (${had.module} and ${def.module})`);
  }
  registry.set(def.name, def);
}

/** The registered experiment `name`, or undefined. */
export function findExperiment(name: string): AnyExperiment | undefined {
  return registry.get(name);
}

/** Names of the registered experiments, sorted. */
export function experimentNames(): string[] {
  return [...registry.keys()].sort();
}

/**
 * The experiment `name`, loading `module` (a compiled JavaScript module) first when it is not
 * registered yet; throws naming both when the module cannot be loaded or does not define it.
 */
export function loadExperiment(name: string, module: string): AnyExperiment {
  if (!registry.has(name)) {
    try {
      require(module);
    } catch (err) {
      throw new Error(`cannot load ${module} for experiment ${JSON.stringify(name)}: ${(err as Error).message}`);
    }
  }
  const def = registry.get(name);
  if (def === undefined)
    throw new Error(
      `${module} does not define experiment ${JSON.stringify(name)} (registered: ${experimentNames().join(', ') || 'none'})`,
    );
  return def;
}
