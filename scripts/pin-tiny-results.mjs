#!/usr/bin/env node
/**
 * Re-pins test/fixtures/tiny/<name>.json (test/tiny-results.test.ts): runs each fixture's command
 * through the compiled CLI with SOAPIX_SIMD=avx2 and stores its results files without the keys
 * that depend on the machine or the moment (the test's EXCLUDED list). Run it only when a change
 * is meant to change the numbers (a new SOAP kernel's summation order, a new model default), and
 * say why in the commit.
 *
 *   npm run build:ts && node scripts/pin-tiny-results.mjs [name ...]     (default: every fixture)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'test', 'fixtures', 'tiny');
const EXCLUDED = new Set([
  'seconds',
  'samplesPerSecond',
  'finishedAt',
  'command',
  'backend',
  'model',
  'files',
  'tfjsVersion',
  'cpuSeconds',
  'trainingCpuSeconds',
  'imagesPerCpuSecond',
  'simdPath',
]);
const content = (v) =>
  Array.isArray(v)
    ? v.map(content)
    : typeof v === 'object' && v !== null
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([k]) => !EXCLUDED.has(k))
            .map(([k, x]) => [k, content(x)]),
        )
      : v;

const names =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -5));
const work = mkdtempSync(path.join(tmpdir(), 'soapix-pin-'));
try {
  for (const name of names) {
    const file = path.join(dir, `${name}.json`);
    const fx = JSON.parse(readFileSync(file, 'utf8'));
    const out = path.join(work, name);
    execFileSync(process.execPath, [path.join(root, 'dist', 'cli.js'), ...fx.args, '--out', out], {
      env: { ...process.env, SOAPIX_SIMD: 'avx2' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (const f of Object.keys(fx.files)) fx.files[f] = content(JSON.parse(readFileSync(path.join(out, f), 'utf8')));
    writeFileSync(file, JSON.stringify(fx, null, 1) + '\n');
    console.log(`pinned ${name}: ${Object.keys(fx.files).join(', ')}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
