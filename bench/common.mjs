// What the benchmarks in bench/ share: the repository paths, command-line parsing (Node's
// util.parseArgs plus typed values and the benches' error messages), the check that the built
// package in dist/ exists and is not older than lib/, child processes that answer with a JSON line,
// and table and number formatting.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const dist = path.join(root, 'dist');
export const MiB = 1024 * 1024;

/** A bench's `fail(msg)`: prints `bench/<name>: msg` to stderr and exits with status 1. */
export function failer(name) {
  return (msg) => {
    console.error(`bench/${name}: ${msg}`);
    process.exit(1);
  };
}

const camel = (flag) => flag.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

/**
 * Parses `argv` with util.parseArgs against `spec`, a map from flag name (without `--`) to
 *
 *   { type: 'int', min, default }                 an integer >= min
 *   { type: 'ints', min, default }                comma-separated integers >= min
 *   { type: 'number', default }                   a finite number
 *   { type: 'string', default }
 *   { type: 'list', known, what, default }        comma-separated names out of `known`
 *   { type: 'boolean' }                           (default false)
 *   { alias: 'other-flag' }                       the same as --other-flag
 *
 * and returns the values keyed by the camel-cased flag (`--cpu-steps` -> cpuSteps); a flag given
 * twice keeps its last value. `-h` / `--help` prints `usage` and exits 0; anything else wrong
 * (unknown flag, missing or bad value) fails with a message.
 */
export function parseCli(argv, spec, usage, fail) {
  const options = { help: { type: 'boolean', short: 'h' } };
  for (const [flag, s] of Object.entries(spec))
    options[flag] = { type: (spec[s.alias] ?? s).type === 'boolean' ? 'boolean' : 'string' };
  let tokens;
  try {
    ({ tokens } = parseArgs({ args: argv, options, strict: true, allowPositionals: false, tokens: true }));
  } catch (err) {
    const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
    const flag = quoted.split(' ')[0];
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      fail(`unknown argument '${flag}' (try --help)`);
    if (/argument missing/.test(err.message)) fail(`${flag} needs a value`);
    fail(`${err.message.split('\n')[0]} (try --help)`);
  }
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) {
    console.log(usage);
    process.exit(0);
  }
  const out = {};
  for (const [flag, s] of Object.entries(spec))
    if (!s.alias) out[camel(flag)] = s.type === 'boolean' ? false : s.default;
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const name = spec[t.name].alias ?? t.name;
    out[camel(name)] = convert(t.rawName, spec[name], t.value, fail);
  }
  return out;
}

function convert(flag, s, value, fail) {
  const int = (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isSafeInteger(n) || n < s.min)
      fail(`${flag} must be an integer >= ${s.min}, got '${v}'`);
    return n;
  };
  switch (s.type) {
    case 'boolean':
      return true;
    case 'string':
      return value;
    case 'int':
      return int(value);
    case 'ints':
      return value.split(',').map(int);
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) fail(`${flag} must be a number, got '${value}'`);
      return n;
    }
    case 'list': {
      const items = value.split(',');
      for (const v of items)
        if (!s.known.includes(v)) fail(`${flag}: unknown ${s.what} '${v}'; known: ${s.known.join(', ')}`);
      return items;
    }
    default:
      throw new Error(`parseCli: unknown type ${s.type}`);
  }
}

/**
 * The benches run the built package: fails when one of `distFiles` (relative to dist/) is missing,
 * and warns on stderr when a .ts file in `sources` (files or folders relative to the repository
 * root; folders are not searched recursively) is newer than the oldest of them.
 */
export function checkDist(fail, distFiles, sources) {
  for (const f of distFiles) {
    const file = path.join(dist, f);
    if (!fs.existsSync(file))
      fail(
        `${path.relative(process.cwd(), file) || file} is missing: the benchmark runs the built package; run \`npm run build:ts\` first`,
      );
  }
  const distTime = Math.min(...distFiles.map((f) => fs.statSync(path.join(dist, f)).mtimeMs));
  const stale = [];
  for (const s of sources) {
    const p = path.join(root, s);
    if (!fs.existsSync(p)) continue;
    const files = fs.statSync(p).isDirectory()
      ? fs
          .readdirSync(p)
          .filter((f) => f.endsWith('.ts'))
          .map((f) => path.join(s, f))
      : [s];
    for (const f of files) if (fs.statSync(path.join(root, f)).mtimeMs > distTime) stale.push(f);
  }
  if (stale.length > 0) {
    const names = stale.length > 3 ? `${stale.slice(0, 3).join(', ')} and ${stale.length - 3} more` : stale.join(', ');
    console.error(
      `warning: ${names} ${stale.length > 1 ? 'are' : 'is'} newer than dist/: run \`npm run build:ts\` to benchmark the current code`,
    );
  }
}

/**
 * Runs `node script ...args` (or `command script ...args`, e.g. a Python; cwd: the repository root,
 * `env` added to this process's environment) and parses the last stdout line that starts with '{'. Returns { result } or, when the child failed or printed no such line, { error } (the
 * exit status, and the child's last stderr lines unless its stderr is inherited) and its stdout.
 */
export function runJsonChild(
  script,
  args,
  { inheritStderr = false, env = undefined, command = process.execPath } = {},
) {
  const r = spawnSync(command, [script, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: env ? { ...process.env, ...env } : process.env,
    stdio: ['ignore', 'pipe', inheritStderr ? 'inherit' : 'pipe'],
    maxBuffer: 16 * MiB,
  });
  const line = (r.stdout || '')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (r.status === 0 && line) return { result: JSON.parse(line) };
  const tail = inheritStderr ? '' : `: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`;
  return { error: `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}${tail}`, stdout: r.stdout || '' };
}

/** `v` with thousands separators and `digits` decimals. */
export function fmt(v, digits = 0) {
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const cores = () => (os.availableParallelism ? os.availableParallelism() : os.cpus().length);
export const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const widths = (rows) => rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
const cell = (s, c, w, leftCols) => (c < leftCols ? String(s).padEnd(w[c]) : String(s).padStart(w[c]));

/** Prints a Markdown table (first row: header); columns from `leftCols` on are right-aligned. */
export function printMarkdownTable(rows, leftCols) {
  const w = widths(rows);
  console.log(`| ${rows[0].map((s, c) => String(s).padEnd(w[c])).join(' | ')} |`);
  console.log(`| ${w.map((n, c) => (c >= leftCols ? '-'.repeat(n - 1) + ':' : '-'.repeat(n))).join(' | ')} |`);
  for (const row of rows.slice(1)) console.log(`| ${row.map((s, c) => cell(s, c, w, leftCols)).join(' | ')} |`);
}

/** A plain-text table (`a | b` with a `--|--` rule under the header); columns from `leftCols` on are right-aligned. */
export function textTable(header, rows, leftCols) {
  const w = widths([header, ...rows]);
  const line = (r) => r.map((s, c) => cell(s, c, w, leftCols)).join(' | ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('-|-'), ...rows.map(line)].join('\n');
}
