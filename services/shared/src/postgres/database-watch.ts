// Whether the database answers, asked every second or so: a service whose database is gone reports
// NOT_SERVING (so readiness probes and load balancers see it) and SERVING again once it is back.
import type pg from 'pg';
import type { Logger } from '../logger.js';

export interface DatabaseWatchOptions {
  readonly pool: Pick<pg.Pool, 'query'>;
  /** Called on every change (never twice with the same value); the watch starts from "reachable". */
  readonly onChange: (reachable: boolean) => void;
  readonly logger: Logger;
  /** Default 1 s. */
  readonly intervalMs?: number;
  /** A ping slower than this counts as a failure. Default 1 s. */
  readonly timeoutMs?: number;
}

export interface DatabaseWatch {
  readonly reachable: boolean;
  stop(): void;
}

/** Pings with `SELECT 1`; one ping at a time, so a hung connection never piles up pings. */
export function watchDatabase(options: DatabaseWatchOptions): DatabaseWatch {
  const { pool, onChange, logger, intervalMs = 1_000, timeoutMs = 1_000 } = options;
  let reachable = true;
  let pinging = false;
  let stopped = false;
  const settle = (now: boolean, error?: unknown): void => {
    if (stopped || now === reachable) return;
    reachable = now;
    if (now) logger.info('database reachable again');
    else logger.error({ err: error }, 'database unreachable');
    onChange(now);
  };
  const ping = async (): Promise<void> => {
    if (pinging) return;
    pinging = true;
    let timer: NodeJS.Timeout | undefined;
    const query = pool.query('SELECT 1');
    // The query may settle after the timeout; its result is then only observed here.
    query.catch(() => {});
    try {
      await Promise.race([
        query,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      settle(true);
    } catch (error) {
      settle(false, error);
    } finally {
      clearTimeout(timer);
      // A hung query keeps this ping open until it settles, and no other starts meanwhile.
      await query.catch(() => {});
      pinging = false;
    }
  };
  const timer = setInterval(() => void ping(), intervalMs);
  timer.unref();
  return {
    get reachable() {
      return reachable;
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
