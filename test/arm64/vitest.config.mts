import type { ViteUserConfig } from 'vitest/config' with { 'resolution-mode': 'import' };

/** The arm64 check (scripts/check-arm64.sh): only test/arm64/, from the repository root. */
const config: ViteUserConfig = {
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/arm64/**/*.test.ts'],
    testTimeout: 1_600_000,
  },
};

export default config;
