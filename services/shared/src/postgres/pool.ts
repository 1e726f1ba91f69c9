// One pg pool per service, closed by whoever opened it.
import { readFileSync } from 'node:fs';
import pg from 'pg';

export interface PoolOptions {
  readonly url: string;
  readonly max?: number;
  readonly applicationName: string;
  /**
   * A file holding the password (a mounted Docker or Kubernetes secret), so it never sits in an
   * environment variable or a URL. Overrides the URL's password. Read once, at start.
   */
  readonly passwordFile?: string;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    // pg lets the connection string win over a `password` field, so the secret goes into the URL.
    connectionString: options.passwordFile ? withPassword(options.url, readPasswordFile(options.passwordFile)) : options.url,
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

/** The secret in `file` without its trailing newline; a missing or empty file stops the start. */
export function readPasswordFile(file: string): string {
  let password: string;
  try {
    password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new Error(`cannot read the database password file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  if (password === '') throw new Error(`the database password file ${file} is empty`);
  return password;
}

function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}
