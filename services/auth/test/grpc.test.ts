// AuthService end to end: real PostgreSQL, a real gRPC server on 127.0.0.1:0 and a real client.
import jwt from 'jsonwebtoken';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { status as Status } from '@grpc/grpc-js';
import { AuthServiceClient } from '@freechat/proto/freechat/auth/v1/auth';
import { checkGrpcHealth, ConfigError, createLogger, freePort } from '@freechat/shared';
import { createPool, runMigrations, startEmbeddedPostgres, startThrowawayPostgres, type RunningPostgres } from '@freechat/shared/postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAccessToken } from '../../shared/src/access-tokens.js';
import { MIGRATIONS_DIR } from '../src/database.js';
import { startAuthServer, type AuthServerHandle } from '../src/server.js';
import { authClient, refusal, type AuthApi } from './support/auth-client.js';
import { testConfig } from './support/config.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const logger = createLogger({ service: 'auth-test', level: 'silent' });
const SERVICE = AuthServiceClient.serviceName;
const DAY_MS = 24 * 3600 * 1000;
/** config/auth.yaml's auth.refreshReuseGraceSeconds. */
const GRACE_MS = 10_000;
let postgres: RunningPostgres;
let db: pg.Pool;
let userCount = 0;
const newUsername = (): string => `user_${++userCount}_${process.pid}`;

beforeAll(async () => {
  postgres = await startThrowawayPostgres();
  db = createPool({ url: postgres.url, applicationName: 'auth-test' });
});
afterAll(async () => {
  await db?.end();
  await postgres?.stop();
});

describe('AuthService', () => {
  let server: AuthServerHandle;
  let client: AuthApi;
  let jwksJson: string;
  let clockOffsetMs = 0;
  const now = (): Date => new Date(Date.now() + clockOffsetMs);

  beforeAll(async () => {
    server = await startAuthServer({ config: testConfig({ databaseUrl: postgres.url }), logger, now });
    await server.ready;
    client = authClient(server.address);
    jwksJson = (await client.getPublicKeys()).jwksJson;
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('registers a user and returns tokens that verify with the published JWKS', async () => {
    const before = Date.now();
    const username = newUsername();
    const { user, tokens } = await client.register(username, 'correct horse battery');
    expect(user?.username).toBe(username);
    expect(user?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(verifyAccessToken(tokens!.accessToken, jwksJson)).toMatchObject({ userId: user!.id, username, tokenId: expect.any(String) });
    expect(JSON.parse(jwksJson)).toEqual({ keys: [server.signingKey.jwk] });
    expect(tokens!.accessTokenExpiresAt!.seconds * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
    expect(tokens!.accessTokenExpiresAt!.seconds * 1000).toBeLessThanOrEqual(Date.now() + 900_000);
    expect(tokens!.refreshTokenExpiresAt!.seconds * 1000).toBeGreaterThanOrEqual(before + 7 * DAY_MS - 1000);
    // Opaque, never a JWT, stored only as its SHA-256.
    expect(tokens!.refreshToken!).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { rows } = await db.query<{ token_hash: Buffer }>('SELECT token_hash FROM auth.refresh_tokens WHERE user_id = $1', [user!.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash.equals(createHash('sha256').update(tokens!.refreshToken!).digest())).toBe(true);
    const { rows: stored } = await db.query<{ password_hash: string }>('SELECT password_hash FROM auth.users WHERE id = $1', [user!.id]);
    expect(stored[0]!.password_hash).toMatch(/^\$argon2id\$/);

    expect(await client.getUser(tokens!.accessToken)).toEqual(user);
    const login = await client.login(username.toUpperCase(), 'correct horse battery');
    expect(login.user).toEqual(user);
  });

  it('refuses a username taken in any case with ALREADY_EXISTS', async () => {
    const username = newUsername();
    await client.register(username, 'password-one');
    for (const again of [username, username.toUpperCase()]) {
      expect(await refusal(client.register(again, 'password-two'))).toEqual({ code: Status.ALREADY_EXISTS, details: 'username is already taken' });
    }
  });

  it('answers INVALID_ARGUMENT naming the field that breaks a rule', async () => {
    for (const username of ['ab', 'x'.repeat(33), 'white space', '']) {
      const { code, details } = await refusal(client.register(username, 'long enough'));
      expect(code).toBe(Status.INVALID_ARGUMENT);
      expect(details).toMatch(/^username: /);
    }
    for (const password of ['short', ' '.repeat(10), 'x'.repeat(257)]) {
      const { code, details } = await refusal(client.register(newUsername(), password));
      expect(code).toBe(Status.INVALID_ARGUMENT);
      expect(details).toMatch(/^password: /);
    }
  });

  it('gives an unknown user and a wrong password the same status and message', async () => {
    const username = newUsername();
    await client.register(username, 'the real one');
    const wrongPassword = await refusal(client.login(username, 'not the real one'));
    const unknownUser = await refusal(client.login(`${username}_nobody`, 'the real one'));
    expect(wrongPassword).toEqual({ code: Status.UNAUTHENTICATED, details: 'invalid username or password' });
    expect(unknownUser).toEqual(wrongPassword);
  });

  it('rotates the refresh token: the new one works, the old one no longer does', async () => {
    const first = await client.register(newUsername(), 'rotate me please');
    const second = await client.refresh(first.tokens!.refreshToken!);
    expect(second.user).toEqual(first.user);
    expect(second.tokens!.refreshToken!).not.toBe(first.tokens!.refreshToken!);
    expect(verifyAccessToken(second.tokens!.accessToken, jwksJson).userId).toBe(first.user!.id);
    const third = await client.refresh(second.tokens!.refreshToken!);
    clockOffsetMs = GRACE_MS;
    try {
      expect(await refusal(client.refresh(second.tokens!.refreshToken!))).toEqual({
        code: Status.UNAUTHENTICATED,
        details: 'invalid or expired refresh token',
      });
    } finally {
      clockOffsetMs = 0;
    }
    expect(third.tokens!.refreshToken!).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('revokes the whole family when a rotated token is presented again, and only that family', async () => {
    const username = newUsername();
    const stolen = await client.register(username, 'family matters');
    const otherDevice = await client.login(username, 'family matters');
    const legit = await client.refresh(stolen.tokens!.refreshToken!);
    // Replayed after the grace window: no longer a racing tab.
    clockOffsetMs = GRACE_MS;
    try {
      expect((await refusal(client.refresh(stolen.tokens!.refreshToken!))).code).toBe(Status.UNAUTHENTICATED);
    } finally {
      clockOffsetMs = 0;
    }
    // The newest token of that family is dead too...
    expect((await refusal(client.refresh(legit.tokens!.refreshToken!))).code).toBe(Status.UNAUTHENTICATED);
    const { rows } = await db.query<{ live: string }>(
      'SELECT count(*) FILTER (WHERE revoked_at IS NULL) AS live FROM auth.refresh_tokens WHERE user_id = $1 AND family_id <> (SELECT family_id FROM auth.refresh_tokens WHERE token_hash = $2)',
      [stolen.user!.id, createHash('sha256').update(otherDevice.tokens!.refreshToken!).digest()],
    );
    expect(rows[0]!.live).toBe('0');
    // ...while the session on the other device goes on.
    await client.refresh(otherDevice.tokens!.refreshToken!);
  });

  it('keeps two tabs refreshing with the same token at once signed in: one rotates, the other gets an access token only', async () => {
    for (let round = 0; round < 5; round++) {
      const { user, tokens } = await client.register(newUsername(), 'race condition');
      const results = await Promise.all([client.refresh(tokens!.refreshToken!), client.refresh(tokens!.refreshToken!)]);
      const rotated = results.filter((r) => r.tokens!.refreshToken! !== undefined);
      expect(rotated).toHaveLength(1);
      for (const result of results) expect(verifyAccessToken(result.tokens!.accessToken, jwksJson).userId).toBe(user!.id);
      // The family is alive: the winner's new token goes on working.
      await client.refresh(rotated[0]!.tokens!.refreshToken!);
    }
  });

  it('treats a rotated token presented after the grace window as stolen: the family is revoked', async () => {
    const { tokens } = await client.register(newUsername(), 'race condition');
    const winner = await client.refresh(tokens!.refreshToken!);
    clockOffsetMs = GRACE_MS - 1_000;
    try {
      expect((await client.refresh(tokens!.refreshToken!)).tokens!.refreshToken!).toBeUndefined();
      clockOffsetMs = GRACE_MS;
      expect((await refusal(client.refresh(tokens!.refreshToken!))).code).toBe(Status.UNAUTHENTICATED);
    } finally {
      clockOffsetMs = 0;
    }
    expect((await refusal(client.refresh(winner.tokens!.refreshToken!))).code).toBe(Status.UNAUTHENTICATED);
  });

  it('refuses an expired refresh token', async () => {
    const { tokens } = await client.register(newUsername(), 'time flies by');
    clockOffsetMs = 7 * DAY_MS - 60_000;
    try {
      const still = await client.refresh(tokens!.refreshToken!);
      clockOffsetMs += 7 * DAY_MS;
      expect(await refusal(client.refresh(still.tokens!.refreshToken!))).toEqual({
        code: Status.UNAUTHENTICATED,
        details: 'invalid or expired refresh token',
      });
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('logs out by revoking the family, idempotently', async () => {
    const username = newUsername();
    const session = await client.register(username, 'see you later');
    const rotated = await client.refresh(session.tokens!.refreshToken!);
    expect(await client.logout(rotated.tokens!.refreshToken!)).toEqual({});
    expect((await refusal(client.refresh(rotated.tokens!.refreshToken!))).code).toBe(Status.UNAUTHENTICATED);
    expect(await client.logout(rotated.tokens!.refreshToken!)).toEqual({});
    expect(await client.logout(session.tokens!.refreshToken!)).toEqual({});
    expect(await client.logout('A'.repeat(43))).toEqual({});
    expect(await client.logout('not-even-a-token')).toEqual({});
    expect((await refusal(client.logout(''))).code).toBe(Status.INVALID_ARGUMENT);
    // Logging in again starts a new family.
    await client.refresh((await client.login(username, 'see you later')).tokens!.refreshToken!);
  });

  it('never accepts an access token as a refresh token', async () => {
    const { tokens } = await client.register(newUsername(), 'wrong kind of token');
    expect(await refusal(client.refresh(tokens!.accessToken))).toEqual({
      code: Status.UNAUTHENTICATED,
      details: 'invalid or expired refresh token',
    });
    expect((await refusal(client.refresh(''))).code).toBe(Status.INVALID_ARGUMENT);
    // The refresh token still works: a refused attempt with another token does not touch it.
    await client.refresh(tokens!.refreshToken!);
  });

  it('tells GetUser who is asking only by a valid access token, never by a field', async () => {
    const { tokens } = await client.register(newUsername(), 'who am i really');
    const [header, payload] = tokens!.accessToken.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: randomUUID() })).toString('base64url')}.${tokens!.accessToken.split('.')[2]}`;
    for (const token of [undefined, 'garbage', forged]) {
      expect(await refusal(client.getUser(token))).toEqual({ code: Status.UNAUTHENTICATED, details: 'a valid access token is required in the call metadata' });
    }
    // A genuine token of a user that no longer exists.
    const ghost = jwt.sign(
      { sub: randomUUID(), username: 'ghost', typ: 'access', iss: 'freechat-auth', aud: 'freechat', jti: randomUUID() },
      server.signingKey.privateKey,
      { algorithm: 'ES256', keyid: server.signingKey.kid, expiresIn: 60 },
    );
    expect((await refusal(client.getUser(ghost))).code).toBe(Status.NOT_FOUND);
  });
});

describe('schema', () => {
  it('has an index for every query the service makes', async () => {
    await runMigrations(db, { schema: 'auth', directory: MIGRATIONS_DIR });
    const client = await db.connect();
    try {
      // Tiny test tables make a sequential scan cheapest; forbid it to see whether an index exists.
      await client.query('SET enable_seqscan = off');
      const hash = "'\\x" + '00'.repeat(32) + "'::bytea";
      const id = "'00000000-0000-0000-0000-000000000000'::uuid";
      const queries = [
        "SELECT id FROM auth.users WHERE lower(username) = lower('Alice')",
        `SELECT id FROM auth.users WHERE id = ${id}`,
        `SELECT t.id FROM auth.refresh_tokens t JOIN auth.users u ON u.id = t.user_id WHERE t.token_hash = ${hash} FOR UPDATE OF t`,
        `UPDATE auth.refresh_tokens SET used_at = now() WHERE id = ${id}`,
        `UPDATE auth.refresh_tokens SET revoked_at = now() WHERE family_id = ${id} AND revoked_at IS NULL`,
        `UPDATE auth.refresh_tokens SET revoked_at = now() WHERE family_id = (SELECT family_id FROM auth.refresh_tokens WHERE token_hash = ${hash}) AND revoked_at IS NULL`,
        `DELETE FROM auth.refresh_tokens WHERE user_id = ${id}`,
      ];
      for (const query of queries) {
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query}`);
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan, query).not.toMatch(/Seq Scan/);
      }
    } finally {
      client.release(true);
    }
  });
});

describe('starting and restarting', () => {
  it('keeps the generated signing key and the users across a restart with the same data dir', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'freechat-auth-restart-'));
    const config = testConfig({ databaseUrl: postgres.url, dataDir });
    const first = await startAuthServer({ config, logger });
    await first.ready;
    let client = authClient(first.address);
    const username = newUsername();
    const session = await client.register(username, 'survive restarts');
    client.close();
    await first.close();

    const second = await startAuthServer({ config, logger });
    try {
      await second.ready;
      expect(second.signingKey.kid).toBe(first.signingKey.kid);
      client = authClient(second.address);
      const { jwksJson } = await client.getPublicKeys();
      expect(verifyAccessToken(session.tokens!.accessToken, jwksJson).username).toBe(username);
      expect((await client.login(username, 'survive restarts')).user).toEqual(session.user);
      await client.refresh(session.tokens!.refreshToken!);
      client.close();
    } finally {
      await second.close();
    }
  });

  it('refuses to start in production without a signing key file, naming the key, and uses the file it is given', async () => {
    const config = testConfig({ databaseUrl: postgres.url });
    const production = { ...config, env: 'production' as const };
    const refused = startAuthServer({ config: production, logger });
    await expect(refused).rejects.toThrow(ConfigError);
    await expect(refused).rejects.toThrow(/auth\.signingKeyFile/);

    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'freechat-auth-keyfile-')), 'key.pem');
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    chmodSync(keyFile, 0o600);
    const server = await startAuthServer({ config: { ...production, auth: { ...production.auth, signingKeyFile: keyFile } }, logger });
    try {
      await server.ready;
      const client = authClient(server.address);
      const { tokens } = await client.register(newUsername(), 'production ready');
      const { jwksJson } = await client.getPublicKeys();
      expect(JSON.parse(jwksJson).keys[0].kid).toBe(server.signingKey.kid);
      expect(verifyAccessToken(tokens!.accessToken, jwksJson).userId).toBeTruthy();
      client.close();
    } finally {
      await server.close();
    }
  });

  it('main exits 1 with a message naming the key when production has none', async () => {
    const child = spawn(process.execPath, ['--conditions=freechat-source', '--import', 'tsx', 'services/auth/src/main.ts'], {
      cwd: repoRoot,
      env: { ...process.env, FREECHAT_ENV: 'production', DATABASE_URL: postgres.url, FREECHAT_AUTH_SIGNING_KEY_FILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(stderr).toMatch(/auth\.signingKeyFile: required in production/);
  });

  it('main drains on SIGTERM and exits 0', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'freechat-auth-main-'));
    const child = spawn(process.execPath, ['--conditions=freechat-source', '--import', 'tsx', 'services/auth/src/main.ts'], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: postgres.url, FREECHAT_AUTH_ADDRESS: `127.0.0.1:${port}`, FREECHAT_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await expect.poll(() => checkGrpcHealth(`127.0.0.1:${port}`), { timeout: 30_000, interval: 200 }).toBe('SERVING');
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(0);
      expect(output).toContain('shutdown complete');
    } finally {
      child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('reports NOT_SERVING until the database is reachable and migrated, then SERVING', async () => {
    // The embedded server reads its superuser password from its data dir: fix it, so the URL is known before it runs.
    const root = mkdtempSync(path.join(tmpdir(), 'freechat-auth-late-pg-'));
    chmodSync(root, 0o755);
    mkdirSync(path.join(root, 'db'), { recursive: true });
    writeFileSync(path.join(root, 'db', 'superuser-password'), 'late-password\n', { mode: 0o600 });
    const port = await freePort();
    const url = `postgres://freechat:late-password@127.0.0.1:${port}/freechat`;
    const server = await startAuthServer({ config: testConfig({ databaseUrl: url }), logger, retryDelayMs: () => 100 });
    const client = authClient(server.address);
    let late: RunningPostgres | undefined;
    try {
      expect(await checkGrpcHealth(server.address)).toBe('NOT_SERVING');
      expect(await checkGrpcHealth(server.address, { service: SERVICE })).toBe('NOT_SERVING');
      expect((await refusal(client.login('nobody', 'whatever1'))).code).toBe(Status.UNAVAILABLE);
      // The public keys need no database.
      expect(JSON.parse((await client.getPublicKeys()).jwksJson).keys).toHaveLength(1);

      late = await startEmbeddedPostgres({ dataDir: path.join(root, 'db'), port });
      expect(late.url).toBe(url);
      await server.ready;
      expect(await checkGrpcHealth(server.address)).toBe('SERVING');
      expect(await checkGrpcHealth(server.address, { service: SERVICE })).toBe('SERVING');
      expect((await client.register(newUsername(), 'worth the wait')).user?.id).toBeTruthy();
    } finally {
      client.close();
      await server.close();
      await late?.stop();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('stops waiting for an unreachable database when closed', async () => {
    const url = `postgres://freechat:x@127.0.0.1:${await freePort()}/freechat`;
    const server = await startAuthServer({ config: testConfig({ databaseUrl: url }), logger, retryDelayMs: () => 60_000 });
    const started = Date.now();
    await server.close();
    await expect(server.ready).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await checkGrpcHealth(server.address, { timeoutMs: 500 })).toBe('UNREACHABLE');
  });
});
