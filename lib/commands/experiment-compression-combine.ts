/**
 * `soapix experiment compression-combine`: finished Experiment-2 runs (PCA and the linear AE in one,
 * each deep-AE depth in its own) as one results.json, one pair of figures and one report
 * (lib/experiments/compression-combine.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';

import { UsageError } from '../util/usage-error';
import type { RegisterExperiment } from './experiment-options';

interface CombineOpts {
  out: string;
  figures: boolean;
}

/** True when `dir` holds the results.json of a run rather than of an earlier combination. */
async function holdsRunResults(dir: string): Promise<boolean> {
  const file = path.join(dir, 'results.json');
  if (!existsSync(file)) return false;
  try {
    return !('sources' in (JSON.parse(await readFile(file, 'utf8')) as object));
  } catch {
    return true; // unreadable: not ours to overwrite
  }
}

export const registerCompressionCombine: RegisterExperiment = (parent, io) => {
  parent
    .command('compression-combine')
    .description(
      'Join finished `experiment compression` runs of the same data (same SOAP parameters, spectra counts, seed) into one ' +
        'results.json with every method, the figures MSE vs h_e and accuracy vs h_e with all methods, and report.html with ' +
        "the paper's claims checked on the union. Use it when PCA / linear AE and each deep-AE depth (--hm) ran in their own folders.",
    )
    .argument('<runs...>', 'folders of finished compression runs (or their results.json files), at least 2')
    .requiredOption('--out <dir>', 'output folder, created if missing (required; not one of the runs)')
    .option('--no-figures', 'write results.json and report.html without rendering figures')
    .action(async (runs: string[], o: CombineOpts) => {
      const { combineCompressionResults, readCompressionResults, readSourceCorrelation } =
        await import('../experiments/compression-combine.js');
      const { writeCompressionFigures, writeCompressionReport } = await import('../experiments/compression-report.js');
      const { recordedCommand } = await import('../experiments/command-line.js');
      const { writeFileAtomic } = await import('../util/atomic-file.js');
      const out = path.resolve(o.out);
      for (const r of runs) {
        const dir = path.resolve(r.endsWith('.json') ? path.dirname(r) : r);
        if (dir === out) throw new UsageError(`--out ${o.out} is one of the runs; give a folder of its own`);
      }
      if (await holdsRunResults(out)) {
        throw new UsageError(
          `${path.join(o.out, 'results.json')} exists and is not a combination; give --out a folder of its own`,
        );
      }
      const read = await Promise.all(runs.map(async (p) => ({ path: p, results: await readCompressionResults(p) })));
      const combined = combineCompressionResults(read, recordedCommand(), (l) => void io.stderr.write(l + '\n'));
      await mkdir(out, { recursive: true });
      if (o.figures) {
        const corr = await readSourceCorrelation(runs);
        combined.figures = await writeCompressionFigures(o.out, combined, corr?.values ?? null, combined.features);
      }
      await writeFileAtomic(path.join(o.out, 'results.json'), JSON.stringify(combined, null, 2) + '\n');
      await writeCompressionReport(o.out, combined);
      const methods = [...new Set(combined.points.map((p) => p.method))];
      io.stdout.write(
        `${combined.points.length} points (${methods.join(', ')}) from ${runs.length} runs\n` +
          combined.claims
            .map((c) => `${c.holds === null ? 'not tested' : c.holds ? 'holds' : 'does not hold'}: ${c.claim}`)
            .join('\n') +
          `\nwrote ${[path.join(o.out, 'results.json'), path.join(o.out, 'report.html'), ...combined.figures.map((f) => path.join(o.out, f))].join(', ')}\n`,
      );
    });
};
