/**
 * Packaging: the npm tarball installs into an empty folder with no compile step (the prebuilt
 * binary loads) and works from CommonJS, ES modules and TypeScript. The work is done by
 * scripts/pack-smoke.sh (also run by .ci/run); this test runs it and checks its report.
 * Needs dist/ (built by `npm install` / `npm ci` through `prepare`) and prebuilds/linux-x64/*.node.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const run = promisify(execFile);
const prebuildDir = path.join(root, 'prebuilds', 'linux-x64');
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';

describe('package', () => {
  it('declares the files the tarball needs and a loader install step', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      files: string[];
      main: string;
      types: string;
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
      binary?: { napi_versions?: number[] };
    };
    for (const f of ['dist/', 'native/', 'prebuilds/', 'binding.gyp']) expect(pkg.files).toContain(f);
    expect(pkg.main).toBe('dist/index.js');
    expect(pkg.types).toBe('dist/index.d.ts');
    expect(pkg.scripts['install']).toBe('node-gyp-build');
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(['node-gyp-build', 'node-addon-api']));
    expect(pkg.binary?.napi_versions).toEqual([8]);
  });

  it.runIf(onLinuxX64)('ships a portable prebuilt linux-x64 binary', () => {
    const files = existsSync(prebuildDir) ? readdirSync(prebuildDir).filter((f) => f.endsWith('.node')) : [];
    expect(files.length, 'no prebuilt binary: run `npm run prebuild`').toBeGreaterThan(0);
    // An ELF x86-64 shared object.
    const head = readFileSync(path.join(prebuildDir, files[0]!)).subarray(0, 20);
    expect(head.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(head.readUInt16LE(18)).toBe(62); // EM_X86_64
  });

  it.runIf(onLinuxX64)(
    'npm pack -> npm install in an empty folder -> require / import / tsc, with nothing compiled',
    async () => {
      const { stdout } = await run('bash', [path.join(root, 'scripts', 'pack-smoke.sh')], {
        cwd: root,
        env: { ...process.env },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 590_000, // a loaded machine can take minutes (npm pack + install + tsc)
      });
      expect(stdout).toMatch(/require: \d+ x \d+ features from node_modules\/soapix\/prebuilds\/linux-x64\//);
      expect(stdout).toContain('pack-smoke: import:');
      expect(stdout).toContain('pack-smoke: ok');
    },
    600_000,
  );
});
