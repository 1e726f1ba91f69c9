// Least privilege in PostgreSQL: one login role per service, owning only that service's schema, so
// chat's connection cannot read auth.users and auth's cannot read chat's tables. Run once per
// installation with an administrator's URL (`make run` does it for embedded PostgreSQL; on
// Kubernetes a Job runs scripts/db/bootstrap.ts), then give each service its own URL.
import pg from 'pg';

/** The services that own a schema, and its name. */
export const SERVICE_SCHEMAS = { auth: 'auth', chat: 'chat' } as const;
export type SchemaOwningService = keyof typeof SERVICE_SCHEMAS;

export interface ServiceRole {
  readonly schema: string;
  /** Login role name, e.g. freechat_chat. */
  readonly role: string;
  readonly password: string;
}

export const serviceRoleName = (service: SchemaOwningService, prefix = 'freechat'): string => `${prefix}_${service}`;

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Idempotent: creates each role (or resets its password and attributes), creates its schema owned
 * by it, and hands over whatever already sits in that schema (a database migrated before roles
 * existed). The admin must be a superuser, or hold CREATEROLE and membership in the roles.
 */
export async function bootstrapServiceRoles(options: { readonly adminUrl: string; readonly roles: readonly ServiceRole[] }): Promise<void> {
  for (const { role, schema, password } of options.roles) {
    if (!IDENTIFIER.test(role) || !IDENTIFIER.test(schema)) throw new Error(`invalid role or schema name: ${role} / ${schema}`);
    if (password.length < 16) throw new Error(`the password of ${role} must be at least 16 characters`);
  }
  const client = new pg.Client({ connectionString: options.adminUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('BEGIN');
    // Two bootstraps at once (a Job retried while the first still runs) take turns.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('freechat.bootstrap-roles'))`);
    const database = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
    for (const { role, schema, password } of options.roles) {
      const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
      // The password only ever travels inside the statement, never into a log line of ours.
      const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD ${client.escapeLiteral(password)}`;
      await client.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${role} WITH ${attributes}`);
      await client.query(`GRANT CONNECT ON DATABASE ${client.escapeIdentifier(database)} TO ${role}`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${role}`);
      await client.query(`ALTER SCHEMA ${schema} OWNER TO ${role}`);
      await client.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
      // Tables, views and standalone sequences created by someone else (an identity or serial
      // sequence follows its table).
      const { rows } = await client.query<{ name: string; kind: string }>(
        `SELECT c.relname AS name, c.relkind AS kind FROM pg_class c
          WHERE c.relnamespace = $1::regnamespace AND c.relowner <> $2::regrole
            AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
            AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))`,
        [schema, role],
      );
      for (const { name, kind } of rows) {
        const what = kind === 'S' ? 'SEQUENCE' : kind === 'v' ? 'VIEW' : kind === 'm' ? 'MATERIALIZED VIEW' : kind === 'f' ? 'FOREIGN TABLE' : 'TABLE';
        await client.query(`ALTER ${what} ${schema}.${client.escapeIdentifier(name)} OWNER TO ${role}`);
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

/** The admin URL with another user and password (same host, port, database and parameters). */
export function roleDatabaseUrl(adminUrl: string, role: string, password: string): string {
  const url = new URL(adminUrl);
  url.username = encodeURIComponent(role);
  url.password = encodeURIComponent(password);
  return url.toString();
}
