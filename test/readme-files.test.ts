/**
 * The README shows some repository files verbatim (the Slurm job script that CI runs), between
 * `<!-- file: PATH ... -->` and `<!-- end of file -->` around one fenced code block. Each copy must
 * equal the file, so the README cannot drift from what scripts/slurm-ci.sh tests.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

interface IncludedFile {
  file: string;
  body: string;
}

/** Every `<!-- file: PATH -->` block of `text`: the path and the content of its code fence. */
function includedFiles(text: string): IncludedFile[] {
  const out: IncludedFile[] = [];
  const re = /<!-- file: (\S+)[^\n]*-->\n```[^\n]*\n([\s\S]*?)```\n<!-- end of file -->/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ file: m[1]!, body: m[2]! });
  const opened = text.match(/<!-- file: /g)?.length ?? 0;
  if (opened !== out.length)
    throw new Error(`README: ${opened} '<!-- file:' markers but ${out.length} well-formed blocks`);
  return out;
}

describe('README copies of repository files', () => {
  const blocks = includedFiles(readme);

  it('include the Slurm job script that CI submits', () => {
    expect(blocks.map((b) => b.file)).toContain('scripts/slurm/featurize.sh');
    const ci = readFileSync(path.join(root, 'scripts', 'slurm-ci.sh'), 'utf8');
    expect(ci).toContain('scripts/slurm/featurize.sh "$sharded"');
    const ciRun = readFileSync(path.join(root, '.ci', 'run'), 'utf8');
    expect(ciRun).toMatch(/bash scripts\/slurm-ci\.sh/);
  });

  it.each(blocks.map((b) => [b.file, b] as const))('%s equals the file', (_file, b) => {
    expect(b.body).toBe(readFileSync(path.join(root, b.file), 'utf8'));
  });

  it('the job script splits into as many shards as its array has tasks, and slurm-ci.sh agrees', () => {
    const script = readFileSync(path.join(root, 'scripts', 'slurm', 'featurize.sh'), 'utf8');
    const array = /^#SBATCH --array=1-(\d+)$/m.exec(script);
    const shards = /^shards=(\d+)\b/m.exec(script);
    expect(array !== null && shards !== null, 'featurize.sh needs "#SBATCH --array=1-N" and "shards=N"').toBe(true);
    expect(shards![1]).toBe(array![1]);
    const ci = readFileSync(path.join(root, 'scripts', 'slurm-ci.sh'), 'utf8');
    expect(/^shards=(\d+)\b/m.exec(ci)?.[1]).toBe(array![1]);
  });

  it('a changed copy is caught', () => {
    const text = '<!-- file: a.sh -->\n```sh\necho 1\n```\n<!-- end of file -->\n';
    expect(includedFiles(text)).toEqual([{ file: 'a.sh', body: 'echo 1\n' }]);
    expect(() => includedFiles('<!-- file: a.sh -->\n```sh\necho 1\n```\n')).toThrow(/1 '<!-- file:' markers but 0/);
  });
});
