// Per-service PostgreSQL roles on a real server: each service migrates and works in its own schema
// through its own role, and is refused the other's.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bootstrapServiceRoles,
  createPool,
  roleDatabaseUrl,
  runMigrations,
  startThrowawayPostgres,
  type PausablePostgres,
} from '../src/postgres/index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MIGRATIONS = { auth: path.join(repo, 'services/auth/migrations'), chat: path.join(repo, 'services/chat/migrations') };
const roles = [
  { role: 'freechat_auth', schema: 'auth', password: 'auth-password-0123456789' },
  { role: 'freechat_chat', schema: 'chat', password: 'chat-password-0123456789' },
];

let server: PausablePostgres;
const pools: pg.Pool[] = [];
const poolAs = (role: string, password: string): pg.Pool => {
  const pool = createPool({ url: roleDatabaseUrl(server.url, role, password), applicationName: 'roles-test', max: 2 });
  pools.push(pool);
  return pool;
};

beforeAll(async () => {
  server = await startThrowawayPostgres();
  // A database from before roles existed: auth already migrated by the administrator.
  const admin = createPool({ url: server.url, applicationName: 'roles-test' });
  await runMigrations(admin, { schema: 'auth', directory: MIGRATIONS.auth });
  await admin.end();
  await bootstrapServiceRoles({ adminUrl: server.url, roles });
  // Twice: the bootstrap is idempotent (a Kubernetes Job may run again).
  await bootstrapServiceRoles({ adminUrl: server.url, roles });
}, 120_000);
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await server?.stop();
});

describe('per-service database roles', () => {
  it('each role migrates and writes its own schema, including tables the administrator created before', async () => {
    const auth = poolAs('freechat_auth', roles[0]!.password);
    const chat = poolAs('freechat_chat', roles[1]!.password);
    expect(await runMigrations(auth, { schema: 'auth', directory: MIGRATIONS.auth })).toEqual([]);
    // Every chat migration runs as chat's role (none ran before the roles existed).
    const chatVersions = readdirSync(MIGRATIONS.chat)
      .filter((name) => /^\d{4}_.*\.sql$/.test(name))
      .map((name) => Number(name.slice(0, 4)))
      .sort((a, b) => a - b);
    expect(chatVersions.length).toBeGreaterThan(0);
    expect(await runMigrations(chat, { schema: 'chat', directory: MIGRATIONS.chat })).toEqual(chatVersions);
    const user = await auth.query<{ id: string }>(`INSERT INTO auth.users (username, password_hash) VALUES ('ada', 'x') RETURNING id`);
    const session = await chat.query(`INSERT INTO chat.sessions (id, owner_id, title) VALUES (gen_random_uuid(), $1, 'hi') RETURNING id`, [user.rows[0]!.id]);
    expect(session.rowCount).toBe(1);
    expect((await chat.query(`INSERT INTO chat.outbox (id, type, session_id, user_id, payload) VALUES (gen_random_uuid(), 't', gen_random_uuid(), gen_random_uuid(), '{}') RETURNING seq`)).rowCount).toBe(1);
  });

  it("chat's role is refused auth.users and auth's role is refused chat's tables", async () => {
    const auth = poolAs('freechat_auth', roles[0]!.password);
    const chat = poolAs('freechat_chat', roles[1]!.password);
    await expect(chat.query('SELECT * FROM auth.users')).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/permission denied for schema auth/) });
    await expect(chat.query('SELECT * FROM auth.refresh_tokens')).rejects.toMatchObject({ code: '42501' });
    await expect(auth.query('SELECT * FROM chat.sessions')).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/permission denied for schema chat/) });
    await expect(auth.query('CREATE SCHEMA intruder')).rejects.toMatchObject({ code: '42501' });
    await expect(auth.query('CREATE ROLE sneaky')).rejects.toMatchObject({ code: '42501' });
  });

  it('a wrong password is refused, and a password reset by a second bootstrap takes effect', async () => {
    await bootstrapServiceRoles({ adminUrl: server.url, roles: [{ ...roles[1]!, password: 'rotated-password-0123456789' }] });
    await expect(poolAs('freechat_chat', roles[1]!.password).query('SELECT 1')).rejects.toMatchObject({ code: '28P01' });
    expect((await poolAs('freechat_chat', 'rotated-password-0123456789').query('SELECT count(*) FROM chat.sessions')).rowCount).toBe(1);
    await bootstrapServiceRoles({ adminUrl: server.url, roles });
  });

  it('refuses a short password before touching the database', async () => {
    await expect(bootstrapServiceRoles({ adminUrl: server.url, roles: [{ ...roles[0]!, password: 'short' }] })).rejects.toThrow(/at least 16/);
  });
});
