/**
 * Running the compiled CLI (dist/cli.js, as installed) from tests, and rebuilding dist/ first
 * when a lib/ source is newer than its compiled file.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

export const root = path.resolve(__dirname, '..', '..');
export const cli = path.join(root, 'dist', 'cli.js');

/** A lib/ source whose compiled file in dist/ is missing or older, or undefined when dist/ is fresh. */
export function staleSource(dir = path.join(root, 'lib')): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const s = staleSource(p);
      if (s) return s;
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
      const js = path.join(root, 'dist', path.relative(path.join(root, 'lib'), p)).replace(/\.ts$/, '.js');
      if (!existsSync(js) || statSync(js).mtimeMs < statSync(p).mtimeMs) return p;
    }
  }
  return undefined;
}

/**
 * Compiles lib/ into dist/ when stale (only then, so that a fresh dist/ is not rewritten while
 * other test files, such as the packaging test, read it). Call from beforeAll with a long timeout.
 */
export function buildIfStale(): void {
  if (staleSource() !== undefined) {
    execFileSync(
      process.execPath,
      [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: root, stdio: 'pipe' },
    );
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js ...args` (with `env` added to this process's environment) and collects its exit status and output (never rejects). */
export function runCli(args: string[], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { cwd: root, timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        resolve({
          code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0,
          stdout,
          stderr,
        });
      },
    );
  });
}
