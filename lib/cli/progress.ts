/**
 * Progress output of the CLI: a cli-progress bar (ETA, images/s) on a terminal, plain lines
 * every few seconds otherwise (log files, Slurm, Kubernetes), nothing with --quiet.
 */
import cliProgress from 'cli-progress';
import { formatDuration } from '../util/format';

/** How progress is shown. 'auto' picks 'bar' on a TTY, 'lines' otherwise. */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

/** The state of a run, as reported to {@link ProgressReporter.update}. */
export interface ProgressSnapshot {
  /** Items (images) done. */
  done: number;
  /** Feature rows written. */
  rows: number;
  elapsedSeconds: number;
}

/** Output stream of the reporter (process.stdout in the CLI). */
export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
}

export interface ProgressReporterOptions {
  mode: ProgressMode;
  /** Line prefix, e.g. 'featurize'. */
  label: string;
  /** Items this run processes. */
  total: number;
  stream: ProgressStream;
  /** Seconds between plain lines (0: a line after every update). Default 5. */
  intervalSeconds?: number;
}

/** The mode actually used for `mode` on `stream`. */
export function resolveProgressMode(mode: ProgressMode, stream: ProgressStream): 'bar' | 'lines' | 'none' {
  if (mode !== 'auto') return mode;
  return stream.isTTY === true ? 'bar' : 'lines';
}

function rate(s: ProgressSnapshot): number {
  return s.elapsedSeconds > 0 ? s.done / s.elapsedSeconds : 0;
}

/** Reports the progress of a run of `total` images. */
export class ProgressReporter {
  readonly mode: 'bar' | 'lines' | 'none';
  private readonly label: string;
  private readonly total: number;
  private readonly stream: ProgressStream;
  private readonly interval: number;
  private bar: cliProgress.SingleBar | undefined;
  private lastLineAt = 0;
  private finished = false;

  constructor(opts: ProgressReporterOptions) {
    this.mode = resolveProgressMode(opts.mode, opts.stream);
    this.label = opts.label;
    this.total = opts.total;
    this.stream = opts.stream;
    this.interval = opts.intervalSeconds ?? 5;
    if (this.mode === 'bar') {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${this.label} |{bar}| {percentage}% | {value}/{total} images | {ips} images/s | ETA {eta_text}`,
          stream: this.stream as unknown as NodeJS.WritableStream,
          hideCursor: true,
          barsize: 30,
          fps: 5,
          clearOnComplete: false,
          stopOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(this.total, 0, { ips: '0.0', eta_text: '?' });
    }
  }

  /** One plain progress line: "featurize: 1234/60000 images (2.1%), 180.3 images/s, ETA 5m12s". */
  line(s: ProgressSnapshot, final = false): string {
    const pct = this.total > 0 ? (100 * s.done) / this.total : 100;
    const ips = rate(s);
    const tail = final
      ? `${formatDuration(s.elapsedSeconds)} elapsed, ${s.rows} rows`
      : `ETA ${ips > 0 ? formatDuration((this.total - s.done) / ips) : '?'}`;
    return `${this.label}: ${s.done}/${this.total} images (${pct.toFixed(1)}%), ${ips.toFixed(1)} images/s, ${tail}`;
  }

  update(s: ProgressSnapshot): void {
    if (this.finished) return;
    if (this.bar) {
      const ips = rate(s);
      this.bar.update(s.done, {
        ips: ips.toFixed(1),
        eta_text: ips > 0 ? formatDuration((this.total - s.done) / ips) : '?',
      });
    } else if (this.mode === 'lines') {
      if (s.done < this.total && s.elapsedSeconds - this.lastLineAt >= this.interval) {
        this.lastLineAt = s.elapsedSeconds;
        this.stream.write(this.line(s) + '\n');
      }
    }
  }

  /** The run is complete: final bar state or a final line. */
  finish(s: ProgressSnapshot): void {
    if (this.finished) return;
    this.finished = true;
    if (this.bar) {
      const ips = rate(s);
      this.bar.update(s.done, { ips: ips.toFixed(1), eta_text: '0s' });
      this.bar.stop();
    } else if (this.mode === 'lines') {
      this.stream.write(this.line(s, true) + '\n');
    }
  }

  /** Stops without a final line (on error or interrupt). */
  stop(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.bar) {
      this.bar.stop();
    }
  }
}

/** Where an experiment run stands (the runner's progress events). */
export interface UnitProgress {
  done: number;
  total: number;
  running: readonly string[];
  elapsedSeconds: number;
  /** Seconds still needed (lib/experiments/run-eta.ts); null when unknown or nothing is left. */
  etaSeconds: number | null;
}

/**
 * One progress line of an experiment run: "compression: 1/2 h_e grid points done (50%), 3m12s
 * elapsed, ETA 3m12s; running he-20".
 */
export function unitProgressLine(label: string, noun: string, s: UnitProgress): string {
  const pct = s.total > 0 ? Math.round((100 * s.done) / s.total) : 100;
  const eta = s.etaSeconds !== null && s.done < s.total ? `, ETA ${formatDuration(s.etaSeconds)}` : '';
  const running = s.running.length > 0 ? `; running ${s.running.join(', ')}` : '';
  return `${label}: ${s.done}/${s.total} ${noun} done (${pct}%), ${formatDuration(s.elapsedSeconds)} elapsed${eta}${running}`;
}
