// The real-node test runs on its own (`make test-k8s-node`, not part of `make test` yet): it needs
// root, changes the machine's networking while it runs, and takes minutes.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.js';

export default mergeConfig(
  { ...base, test: { ...base.test, include: [], exclude: ['**/node_modules/**'], globalSetup: [] } },
  defineConfig({
    test: {
      root: new URL('../..', import.meta.url).pathname,
      include: ['test/k8s-node/**/*.test.ts'],
      testTimeout: 15 * 60_000,
      hookTimeout: 15 * 60_000,
      fileParallelism: false,
    },
  }),
);
