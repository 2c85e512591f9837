#!/usr/bin/env node
// Compares two experiment results.json files for scripts/slurm-ci.sh: every value must be equal
// (numbers exactly) except what describes the run rather than its results: timings, dates, the
// command line and paths. Exit 0 when equal; otherwise prints each difference and exits 1.
// Usage: node scripts/slurm/same-results.mjs A/results.json B/results.json
import { readFileSync } from 'node:fs';

/** Keys whose values describe how and where a run happened, not what it found. */
const IGNORED =
  /^(command|argv|cwd|out|outDir|dir|path|host|hostname|pid|date|created|seconds|elapsed\w*|duration\w*|timing\w*|\w+Seconds|\w+At|\w+Path|\w+Dir)$/i;

const [fileA, fileB] = process.argv.slice(2);
if (!fileA || !fileB) {
  console.error('usage: node scripts/slurm/same-results.mjs A/results.json B/results.json');
  process.exit(2);
}
const a = JSON.parse(readFileSync(fileA, 'utf8'));
const b = JSON.parse(readFileSync(fileB, 'utf8'));

const diffs = [];
let compared = 0;
function walk(x, y, where) {
  if (Array.isArray(x) || Array.isArray(y)) {
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) {
      diffs.push(`${where}: ${JSON.stringify(x)?.slice(0, 80)} vs ${JSON.stringify(y)?.slice(0, 80)}`);
      return;
    }
    x.forEach((v, i) => walk(v, y[i], `${where}[${i}]`));
    return;
  }
  if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
    const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
    for (const k of [...keys].sort()) if (!IGNORED.test(k)) walk(x[k], y[k], `${where}.${k}`);
    return;
  }
  compared++;
  if (!Object.is(x, y)) diffs.push(`${where}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
}
walk(a, b, '$');

if (diffs.length) {
  console.error(`${diffs.length} of ${compared} values differ between ${fileA} and ${fileB}:`);
  for (const d of diffs.slice(0, 20)) console.error(`  ${d}`);
  process.exit(1);
}
if (compared === 0) {
  console.error('nothing compared: both files are empty of results');
  process.exit(1);
}
console.log(`same-results: ${compared} values equal (timings, dates, commands and paths aside)`);
