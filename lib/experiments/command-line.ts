/**
 * The command line a results file records: the run as a user types it (`soapix experiment ...`),
 * not as the process saw it (`/usr/bin/node /home/me/soapix/dist/cli.js experiment ...`).
 *
 * - The program: `soapix` when the script is the CLI (`cli.js`, or the `soapix` bin link), else
 *   `node <script file name>` (a library caller's own script).
 * - Absolute paths among the arguments (also as `--flag=/path`) are written relative to the
 *   working directory, so that results.json holds no path of the machine that ran it and the
 *   command runs again from the same place in a checkout.
 * - Arguments with spaces or shell characters are single-quoted.
 */
import * as path from 'node:path';

/** Quotes `s` for a POSIX shell when it holds anything but safe characters. */
function shellWord(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `p` relative to `cwd` when it is absolute ('.' for cwd itself); otherwise unchanged. */
function relativePath(p: string, cwd: string): string {
  if (!path.isAbsolute(p)) return p;
  return path.relative(cwd, p) || '.';
}

/** One argument with an absolute path (bare, or after `--flag=`) made relative to `cwd`. */
function relativeArg(arg: string, cwd: string): string {
  const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
  if (eq > 0) return arg.slice(0, eq + 1) + relativePath(arg.slice(eq + 1), cwd);
  return relativePath(arg, cwd);
}

/**
 * The command line of this process as a user types it (see the file comment).
 *
 * @param argv - process.argv form: [node, script, ...args]. Default `process.argv`.
 * @param cwd - the working directory paths are made relative to. Default `process.cwd()`.
 */
export function recordedCommand(argv: readonly string[] = process.argv, cwd: string = process.cwd()): string {
  const script = argv[1] ?? '';
  const base = path.basename(script);
  const program = base === 'cli.js' || base === 'soapix' ? 'soapix' : `node ${shellWord(base || 'node')}`;
  const args = argv.slice(2).map((a) => shellWord(relativeArg(a, cwd)));
  return [program, ...args].join(' ');
}
