/**
 * `soapix benchmark compare` (lib/benchmark/compare.ts): finished invariance-benchmark runs side by
 * side. The values come from each run's summaries at the chosen probe and budget (checked against
 * hand-made runs whose answers are known), extractors missing from a run stay empty, the CNN
 * reference joins as two rows, and bad input (one run, a budget not in every run, a missing,
 * truncated or foreign results.json, duplicate labels) is refused with a message.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  compareBenchmarks,
  comparisonMarkdown,
  readBenchmarkResults,
  runLabel,
  type ComparedRun,
} from '../lib/benchmark/compare';
import type { InvarianceBenchmarkResults } from '../lib/benchmark/report';
import { buildIfStale, runCli } from './helpers/cli';

const work = mkdtempSync(path.join(tmpdir(), 'soapix-compare-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Acc = Record<number, [number, number]>; // budget -> [mlp mean, knn mean]

/** A results.json with the given extractors: accuracies per budget for the mlp and knn probes. */
function fakeRun(
  dataset: string,
  interpolation: 'bilinear' | 'nearest',
  extractors: Record<string, Acc>,
  cnn: Record<number, number> = {},
): InvarianceBenchmarkResults {
  const leaderboard = Object.entries(extractors).map(([name, acc]) => ({
    name,
    family: name.startsWith('soap') ? 'soap' : 'pixels',
    summary: Object.entries(acc).flatMap(([b, [mlp, knn]]) => [
      { probe: 'mlp', budget: Number(b), mean: mlp, std: 0.01, seeds: 3 },
      { probe: 'knn', budget: Number(b), mean: knn, std: 0.02, seeds: 3 },
    ]),
  }));
  const summary = Object.entries(cnn).map(([b, mean]) => ({
    condition: 'augmented',
    budget: Number(b),
    mean,
    std: 0.03,
    seeds: 3,
    meanEpochs: 5,
    coreSeconds: 1,
  }));
  return {
    benchmark: 'invariance',
    command: `soapix benchmark invariance --dataset ${dataset} --interpolation ${interpolation}`,
    dataset,
    scale: 'standard',
    settings: { interpolation },
    headline: { probe: 'mlp', budget: 1000 },
    leaderboard,
    reference: { summary, records: [] },
  } as unknown as InvarianceBenchmarkResults;
}

const bilinear = fakeRun(
  'mnist',
  'bilinear',
  { 'soap-inner-paper': { 100: [0.3, 0.25], 1000: [0.6, 0.5] }, pixels: { 100: [0.2, 0.2], 1000: [0.4, 0.35] } },
  { 1000: 0.45 },
);
const nearest = fakeRun(
  'mnist',
  'nearest',
  {
    'soap-inner-paper': { 100: [0.35, 0.3], 1000: [0.7, 0.6], 10000: [0.8, 0.7] },
    pixels: { 100: [0.2, 0.1], 1000: [0.45, 0.3] },
    'soap-outer-paper': { 1000: [0.65, 0.55] },
  },
  { 1000: 0.5 },
);
const runs: ComparedRun[] = [
  { label: runLabel(bilinear), results: bilinear },
  { label: runLabel(nearest), results: nearest },
];

describe('compareBenchmarks', () => {
  it('takes each run’s mean ± std at the largest common budget, keeps gaps empty and sorts by the first run', () => {
    const c = compareBenchmarks(runs);
    expect(c.probe).toBe('mlp');
    expect(c.budget).toBe(1000); // 10,000 is only in the second run
    expect(c.runs.map((r) => r.label)).toEqual(['mnist, bilinear', 'mnist, nearest']);
    expect(c.rows.map((r) => r.name)).toEqual([
      'soap-inner-paper',
      'CNN (supervised, augmented)',
      'pixels',
      'soap-outer-paper',
    ]);
    const soap = c.rows[0]!.values;
    expect(soap.map((v) => v?.mean)).toEqual([0.6, 0.7]);
    expect(soap.map((v) => v?.std)).toEqual([0.01, 0.01]);
    expect(c.rows[1]!.values.map((v) => v?.mean)).toEqual([0.45, 0.5]);
    expect(c.rows[3]!.values).toEqual([null, { mean: 0.65, std: 0.01, seeds: 3 }]);
  });

  it('honours the probe and budget asked for', () => {
    const c = compareBenchmarks(runs, { probe: 'knn', budget: 100 });
    expect(c.rows.find((r) => r.name === 'pixels')!.values.map((v) => v?.mean)).toEqual([0.2, 0.1]);
    expect(c.rows.some((r) => r.name.startsWith('CNN'))).toBe(false); // the CNN ran at 1,000 labels only
  });

  it('writes the difference in points, signed, in a right-aligned column', () => {
    const md = comparisonMarkdown(compareBenchmarks(runs));
    const lines = md.split('\n');
    expect(lines[0]).toMatch(/mlp probe at 1,000 labels; difference = mnist, nearest − mnist, bilinear/);
    expect(lines).toContain('| soap-inner-paper | soap | 60.0 ± 1.0 | 70.0 ± 1.0 | +10.0 |');
    expect(lines).toContain('| soap-outer-paper | soap | – | 65.0 ± 1.0 | – |');
    expect(lines[3]).toBe('| --- | --- | ---: | ---: | ---: |');
    expect(md).toContain('`soapix benchmark invariance --dataset mnist --interpolation nearest`');
  });

  it('refuses one run, a budget missing from a run and a probe that did not run', () => {
    expect(() => compareBenchmarks(runs.slice(0, 1))).toThrow(/at least 2 runs, got 1/);
    expect(() => compareBenchmarks(runs, { budget: 10000 })).toThrow(
      /label budget 10000 is not in every run; the budgets all runs have for mlp: 100, 1000/,
    );
    expect(() => compareBenchmarks(runs, { probe: 'logistic' })).toThrow(/has no results for the logistic probe/);
  });
});

describe('readBenchmarkResults', () => {
  it('reads a folder or the file, and names what is wrong with a bad one', async () => {
    const dir = path.join(work, 'ok');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify(bilinear));
    expect((await readBenchmarkResults(dir)).dataset).toBe('mnist');
    expect((await readBenchmarkResults(path.join(dir, 'results.json'))).dataset).toBe('mnist');
    await expect(readBenchmarkResults(path.join(work, 'missing'))).rejects.toThrow(
      /cannot read .*missing[/\\]results\.json.*finished 'soapix benchmark invariance' run/,
    );
    const truncated = path.join(work, 'truncated.json');
    writeFileSync(truncated, JSON.stringify(bilinear).slice(0, 100));
    await expect(readBenchmarkResults(truncated)).rejects.toThrow(/is not valid JSON \(truncated or corrupt\?\)/);
    const foreign = path.join(work, 'foreign.json');
    writeFileSync(foreign, JSON.stringify({ experiment: 'rotation', results: [] }));
    await expect(readBenchmarkResults(foreign)).rejects.toThrow(/is not the results\.json of 'soapix benchmark/);
  });
});

describe('soapix benchmark compare', () => {
  beforeAll(buildIfStale, 120_000);

  it('writes compare.md, compare.json and the figure; refuses bad labels with status 2', async () => {
    const a = path.join(work, 'a');
    const b = path.join(work, 'b');
    for (const [d, r] of [
      [a, bilinear],
      [b, nearest],
    ] as const) {
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, 'results.json'), JSON.stringify(r));
    }
    const out = path.join(work, 'out');
    const r = await runCli(['benchmark', 'compare', a, b, '--out', out, '--labels', 'bil,near']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/4 rows, mlp probe at 1000 labels; wrote /);
    for (const f of ['compare.md', 'compare.json', 'compare.png', 'compare.svg'])
      expect(existsSync(path.join(out, f)), f).toBe(true);
    const c = JSON.parse(readFileSync(path.join(out, 'compare.json'), 'utf8'));
    expect(c.runs.map((x: { label: string }) => x.label)).toEqual(['bil', 'near']);
    expect(readFileSync(path.join(out, 'compare.md'), 'utf8')).toMatch(
      /\| pixels \| pixels \| 40\.0 ± 1\.0 \| 45\.0 ± 1\.0 \| \+5\.0 \|/,
    );
    const bad = await runCli(['benchmark', 'compare', a, b, '--out', out, '--labels', 'one']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--labels needs one label per run \(2\), got 1/);
    const same = await runCli(['benchmark', 'compare', a, a, '--out', out]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/two runs have the same label .*name them with --labels/);
  }, 60_000);
});
