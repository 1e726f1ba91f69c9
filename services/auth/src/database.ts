// Opens the pool and migrates schema `auth`, waiting for a database that is not up yet (compose and
// Kubernetes start services in any order). Only connection failures are retried; a bad migration fails.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@freechat/shared';
import { runMigrations } from '@freechat/shared/postgres';
import type pg from 'pg';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

export interface MigrateWhenReachableOptions {
  readonly pool: pg.Pool;
  readonly logger: Logger;
  /** Aborted by close(): stop waiting. */
  readonly signal: AbortSignal;
  /** Delay before attempt n+1 (n from 1); default doubles from 250 ms up to 5 s. */
  readonly retryDelayMs?: (attempt: number) => number;
}

export const defaultRetryDelayMs = (attempt: number): number => Math.min(5_000, 250 * 2 ** (attempt - 1));

export async function migrateWhenReachable(options: MigrateWhenReachableOptions): Promise<void> {
  const { pool, logger, signal } = options;
  const delay = options.retryDelayMs ?? defaultRetryDelayMs;
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    try {
      await runMigrations(pool, { schema: 'auth', directory: MIGRATIONS_DIR, logger });
      return;
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      const waitMs = delay(attempt);
      logger.warn({ attempt, waitMs, reason: (error as Error).message }, 'database not reachable yet; retrying');
      await sleep(waitMs, undefined, { signal });
    }
  }
}

// 08: connection exceptions; 57P03: cannot_connect_now (starting up); 53300: too_many_connections;
// 3D000: the database does not exist yet (a server that creates it after it starts listening).
const RETRIED_SQLSTATES = /^(08...|57P03|53300|3D000)$/;
const RETRIED_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Pure: is this a database that is not there (yet), rather than one that refused our SQL? */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (RETRIED_ERRNOS.has(code) || RETRIED_SQLSTATES.test(code))) return true;
  // pg's own connect timeout and a socket closed during startup carry no code.
  return /timeout exceeded when trying to connect|Connection terminated/i.test(error.message);
}
