/**
 * A toy experiment for the runner's tests (test/runner.test.ts), free of SOAP and TensorFlow: unit
 * {v} returns {v, y: v * factor}. Plain JavaScript that loads the compiled runner from dist/, so
 * that worker processes (forks of dist/experiments/worker.js) can load it too.
 *
 * Spec: { values: number[], factor: number, dir: string, hang?: string[], fail?: string[], waitFor?: string,
 *         resumed?: Record<string, number>, shareFails?: boolean }
 *   settings = { factor }; every unit run appends a line to DIR/count-<id>.txt; a unit in `hang`
 *   writes DIR/hang-<id>.pid and never ends; a unit in `fail` first waits for the file `waitFor`
 *   (when given), then throws. The merge sums y; the report writes DIR/report.txt.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { defineExperiment } = require(path.join(__dirname, '..', '..', 'dist', 'experiments', 'definition.js'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports.toyExperiment = defineExperiment({
  name: 'toy',
  module: __filename,
  unitNoun: 'toy units',
  settingNames: { factor: '--factor' },
  settings: (spec) => ({ factor: spec.factor }),
  units: (spec) => spec.values.map((v) => ({ v })),
  unitId: (u) => `v-${u.v}`,
  cost: (u) => u.v,
  // Records each call in DIR/share-<id>.txt (the output folder it was given); spec.resumed maps ids
  // to shares, spec.shareFails makes it throw (the runner then takes 0).
  resumedShare: async (u, spec, out) => {
    fs.writeFileSync(path.join(spec.dir, `share-v-${u.v}.txt`), out);
    if (spec.shareFails) throw new Error('toy: no share');
    return (spec.resumed ?? {})[`v-${u.v}`] ?? 0;
  },
  validate: (spec) => {
    if (!Number.isFinite(spec.factor)) throw new RangeError(`factor must be a finite number, got ${spec.factor}`);
  },
  setup: async (spec, ctx) => ({ pid: process.pid, worker: ctx.worker }),
  run: async (u, env) => {
    const id = `v-${u.v}`;
    fs.appendFileSync(path.join(env.spec.dir, `count-${id}.txt`), `${process.pid}\n`);
    env.log(`toy: unit ${id} in worker ${env.worker}`);
    if ((env.spec.hang ?? []).includes(id)) {
      fs.writeFileSync(path.join(env.spec.dir, `hang-${id}.pid`), String(process.pid));
      for (;;) {
        env.signal.throwIfAborted();
        await sleep(50);
      }
    }
    if ((env.spec.fail ?? []).includes(id)) {
      while (env.spec.waitFor && !fs.existsSync(env.spec.waitFor)) await sleep(20);
      throw new Error(`toy failure at ${id}`);
    }
    return { v: u.v, y: u.v * env.spec.factor, worker: env.state.worker };
  },
  merge: async (units, spec) => ({
    experiment: 'toy',
    factor: spec.factor,
    sum: units.reduce((s, u) => s + u.result.y, 0),
    ids: units.map((u) => u.id),
  }),
  report: async (summary, spec) => {
    fs.writeFileSync(path.join(spec.dir, 'report.txt'), `sum ${summary.sum}\n`);
  },
});
