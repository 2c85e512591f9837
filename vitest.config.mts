import type { ViteUserConfig } from 'vitest/config' with { 'resolution-mode': 'import' };

/**
 * Vitest settings: tests under test/, generous timeout for MNIST-sized work. test/arm64/ needs an
 * emulated arm64 Node and runs from scripts/check-arm64.sh with its own config.
 */
const config: ViteUserConfig = {
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/arm64/**', '**/node_modules/**'],
    testTimeout: 120000,
  },
};

export default config;
