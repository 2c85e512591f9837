/**
 * The time a run still needs, for its progress line (docs/RUNNER.md, "Progress"):
 *
 *   work of unit u        W_u = c_u (1 - f_u)
 *   rate per worker       r   = sum_finished W_u / sum_finished d_u
 *   a running unit ends   max(0, W_u / r - a_u) from now
 *   a queued unit takes   W_u / r on the worker that is free first (in start order)
 *   ETA                   when the last worker is free
 *
 * c_u is the unit's relative cost (Experiment.cost; 1 without), f_u the share of it that earlier
 * runs did (Experiment.resumedShare: a training continued from its checkpoint), d_u the wall
 * seconds it took in this run and a_u the seconds since it started. Counting only the work done in
 * this run keeps a unit resumed near its end from making the rest look cheap, and following each
 * worker keeps a unit that runs alone at the end from looking like half the work it is.
 */

/** A unit of the run as the estimate sees it. */
export interface EtaInput {
  /** Units this run finished: their work W and wall seconds. */
  finished: readonly { work: number; seconds: number }[];
  /** Units running now: their work W and seconds since they started. */
  running: readonly { work: number; elapsed: number }[];
  /** Work W of each unit not started yet, in the order they will start. */
  queued: readonly number[];
  /** Worker processes of the run (1: units run one after the other). */
  workers: number;
}

/** Seconds until the run's last unit ends, or null before a unit finished with measurable work. */
export function estimateRemainingSeconds(input: EtaInput): number | null {
  const work = input.finished.reduce((s, u) => s + u.work, 0);
  const seconds = input.finished.reduce((s, u) => s + u.seconds, 0);
  if (!(work > 0 && seconds > 0)) return null;
  const rate = work / seconds;
  const workers = Math.max(1, Math.floor(input.workers));
  // When each worker is free, seconds from now: those running a unit first, the others now.
  const free = input.running.map((u) => Math.max(0, u.work / rate - u.elapsed));
  while (free.length < workers) free.push(0);
  free.sort((a, b) => a - b);
  for (const w of input.queued) {
    free[0]! += w / rate;
    free.sort((a, b) => a - b);
  }
  return Math.max(...free);
}
