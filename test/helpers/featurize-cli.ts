/**
 * Shared by the featurize CLI tests (cli.test.ts, cli-errors.test.ts): small SOAP arguments, a
 * temporary folder per test file, and the child-process runner.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';
import { runCli, type CliResult } from './cli';

/** Small SOAP parameters (5 / 4 / 3 / 1: 40 features for one species). */
export const SMALL_SOAP = ['--r-cut', '5', '--n-max', '4', '--l-max', '3', '--sigma', '1'];
/** MNIST, first 40 training images, small SOAP parameters. */
export const SMALL = ['--dataset', 'mnist', '--split', 'train', '--limit', '40', ...SMALL_SOAP];
export const ARRAYS = ['features', 'labels', 'centers'] as const;

export type RunResult = CliResult;

/** Runs `node dist/cli.js ...args`; never rejects. */
export const soapix = (args: string[], timeout = 60_000): Promise<RunResult> => runCli(args, timeout);

/** Runs the CLI and throws with its output unless it exits 0. */
export async function ok(args: string[]): Promise<RunResult> {
  const r = await soapix(args);
  if (r.code !== 0) throw new Error(`soapix ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** A temporary folder removed after the calling test file; returns it and a path maker inside it. */
export function testFolder(prefix: string): { tmp: string; dirOf: (name: string) => string } {
  const tmp = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  return { tmp, dirOf: (name: string) => path.join(tmp, name) };
}

export function bytes(dir: string, file: string): Buffer {
  return readFileSync(path.join(dir, file));
}

export function shardName(kind: string, i: number, n: number, ext = 'npy'): string {
  return `${kind}.shard-${i}-of-${n}.${ext}`;
}
