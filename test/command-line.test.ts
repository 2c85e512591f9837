// recordedCommand: results.json records the command as a user types it (issue 16, item 1).
import { describe, expect, it } from 'vitest';
import { recordedCommand } from '../lib/experiments/command-line';

describe('recordedCommand', () => {
  it('writes the CLI as `soapix` and absolute paths relative to the working directory', () => {
    const argv = [
      '/usr/bin/node',
      '/home/me/soapix/dist/cli.js',
      'experiment',
      'compression',
      '--out',
      '/home/me/runs/c1',
      '--data-dir=/home/me/data',
    ];
    expect(recordedCommand(argv, '/home/me')).toBe('soapix experiment compression --out runs/c1 --data-dir=data');
  });
  it('names a library caller script by its file name and quotes shell characters', () => {
    const argv = ['/usr/bin/node', '/tmp/x/my run.mjs', '--label', "it's", '/tmp/x'];
    expect(recordedCommand(argv, '/tmp/x')).toBe(`node 'my run.mjs' --label 'it'\\''s' .`);
  });
  it('accepts the soapix bin link', () => {
    expect(recordedCommand(['/usr/bin/node', '/usr/local/bin/soapix', 'featurize'], '/')).toBe('soapix featurize');
  });
});
