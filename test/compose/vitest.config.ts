// The compose test runs on its own, after the main suite (make test): it builds images and runs a
// whole platform in containers, which would starve the timing-sensitive tests of the 2 cores.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.js';

export default mergeConfig(
  { ...base, test: { ...base.test, include: [], exclude: ['**/node_modules/**'], globalSetup: [] } },
  defineConfig({
    test: {
      root: new URL('../..', import.meta.url).pathname,
      include: ['test/compose/**/*.test.ts'],
      testTimeout: 10 * 60_000,
      // One file at a time: each starts the Docker engine if none answers and stops what it started.
      fileParallelism: false,
    },
  }),
);
