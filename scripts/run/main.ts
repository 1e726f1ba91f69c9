// `make run`: embedded PostgreSQL (unless DATABASE_URL is set) and the four services as separate
// processes, ready when each says so; a service that exits on its own is restarted (the restart
// plan); Ctrl-C stops everything in order.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres, type RunningPostgres } from '@freechat/shared/postgres';
import { planStack } from './plan.js';
import { restartPolicyFromEnv } from './restart-plan.js';
import { assertPortsFree, Supervisor } from './supervisor.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const log = (message: string) => process.stderr.write(`[make run] ${message}\n`);

async function main(): Promise<void> {
  let postgres: RunningPostgres | undefined;
  let databaseUrl = process.env['DATABASE_URL'];
  // Everything that can be refused is refused before anything starts.
  const restartPolicy = restartPolicyFromEnv(process.env);
  await assertPortsFree(planStack({ env: process.env, databaseUrl: '', repoRoot }).processes);
  const dataDir = process.env['FREECHAT_DATA_DIR'] || path.join(repoRoot, '.data');
  if (!databaseUrl) {
    log(`starting embedded PostgreSQL (data in ${path.join(dataDir, 'postgres')})`);
    postgres = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres') });
    databaseUrl = postgres.url;
  }
  const plan = planStack({ env: process.env, databaseUrl, repoRoot });
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (code: number) => {
    shuttingDown ??= (async () => {
      log('stopping');
      await supervisor.stopAll();
      await postgres?.stop();
      log('stopped');
      process.exit(code);
    })();
    return shuttingDown;
  };
  const supervisor = new Supervisor({
    readyTimeoutMs: Number(process.env['FREECHAT_READY_TIMEOUT_MS'] || 30 * 60_000),
    stopGraceMs: 40_000,
    restartPolicy,
    log,
  });
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  try {
    for (const spec of plan.processes) await supervisor.start(spec);
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    await shutdown(1);
    return;
  }
  log(`Free Chat is ready at ${plan.publicUrl}`);
  process.stdout.write(`Free Chat is ready at ${plan.publicUrl}\n`);
}

await main().catch((error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
