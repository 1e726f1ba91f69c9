// Workspace packages resolve to their TypeScript sources under the "freechat-source" condition (a name
// of our own: some dependencies publish a "source" condition pointing at TypeScript they never compile).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests never need a prior build.
  resolve: { conditions: ['freechat-source'] },
  ssr: { resolve: { conditions: ['freechat-source'] } },
  test: {
    include: ['test/**/*.test.ts', 'web-ui/src/**/*.test.ts', 'services/**/test/**/*.test.ts', 'services/**/src/**/*.test.ts', 'scripts/**/*.test.ts', 'operator/test/**/*.test.ts', 'operator/src/**/*.test.ts'],
    // The container tests and the real-node tests run on their own (make test-compose, make test-k8s-node).
    exclude: ['**/node_modules/**', 'test/compose/**', 'test/k8s-node/**'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Real Redis, Consul and RocketMQ, started once for the whole run.
    globalSetup: ['test/infra/global-setup.ts'],
  },
});
