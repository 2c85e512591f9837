import type { ViteUserConfig } from 'vitest/config' with { 'resolution-mode': 'import' };

/** Vitest settings: tests under test/, generous timeout for MNIST-sized work. */
const config: ViteUserConfig = {
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120000,
  },
};

export default config;
