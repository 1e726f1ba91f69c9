// Versioned SQL migrations, applied at start under an advisory lock so replicas starting together
// apply each file exactly once. Each service owns one schema and one directory of `NNNN_name.sql`.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { Logger } from '../logger.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export interface RunMigrationsOptions {
  /** PostgreSQL schema the service owns, e.g. `auth`; the bookkeeping table lives in it. */
  readonly schema: string;
  readonly directory: string;
  readonly logger?: Logger;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Pure: which files are migrations, in order; rejects gaps and duplicates so mistakes fail loudly. */
export function orderMigrations(files: readonly { name: string; sql: string }[]): Migration[] {
  const migrations = files
    .filter((f) => f.name.endsWith('.sql'))
    .map((f) => {
      const match = FILE_NAME.exec(f.name);
      if (!match) throw new Error(`migration file ${f.name} must be named NNNN_snake_case.sql`);
      return { version: Number(match[1]), name: match[2]!, sql: f.sql };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 1, 2, 3, ...: expected ${i + 1}, found ${m.version} (${m.name})`);
  });
  return migrations;
}

export async function runMigrations(pool: pg.Pool, options: RunMigrationsOptions): Promise<number[]> {
  const { schema } = options;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const names = await readdir(options.directory);
  const migrations = orderMigrations(
    await Promise.all(names.map(async (name) => ({ name, sql: await readFile(path.join(options.directory, name), 'utf8') }))),
  );
  const client = await pool.connect();
  try {
    // One lock per schema: services migrate their own schemas in parallel, replicas of one queue up.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`freechat.migrations.${schema}`]);
    // Only when missing: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
    // schema exists, which a service's own role (owning just its schema) does not have.
    if ((await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 0) {
      await client.query(`CREATE SCHEMA ${schema}`);
    }
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`);
    const applied = new Set(rows.map((r) => r.version));
    const newlyApplied: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL search_path TO ${schema}`);
        await client.query(m.sql);
        await client.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${schema}/${m.version}_${m.name} failed: ${(error as Error).message}`, { cause: error });
      }
      newlyApplied.push(m.version);
      options.logger?.info({ schema, version: m.version, name: m.name }, 'migration applied');
    }
    return newlyApplied;
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`freechat.migrations.${schema}`]).catch(() => {});
    client.release();
  }
}
