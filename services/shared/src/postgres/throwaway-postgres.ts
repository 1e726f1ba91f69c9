// A PostgreSQL server in a temporary directory, removed on stop: for tests and benchmarks.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type PausablePostgres } from './embedded-postgres.js';

export async function startThrowawayPostgres(): Promise<PausablePostgres> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'freechat-pg-'));
  // As root, PostgreSQL runs as the postgres user, which must be able to walk down to its data.
  await chmod(root, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: path.join(root, 'db') });
  return {
    url: server.url,
    pause: () => server.pause(),
    resume: () => server.resume(),
    stop: async () => {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
