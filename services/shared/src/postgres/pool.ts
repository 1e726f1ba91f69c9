// One pg pool per service, closed by whoever opened it.
import pg from 'pg';

export interface PoolOptions {
  readonly url: string;
  readonly max?: number;
  readonly applicationName: string;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName,
    // Fail a request rather than hang when the database is gone.
    connectionTimeoutMillis: 5_000,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // Nor may one checked out between two queries (a transaction awaiting its caller) when the database
  // goes away: the next query on it fails instead, and the pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}
