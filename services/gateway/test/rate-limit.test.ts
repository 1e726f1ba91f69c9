// Rate limits on the real stack (PostgreSQL, inference on the tiny model, auth, chat): per client
// IP on login, per user on sends, the per-username login backoff whatever the IP; and, on the bare
// app, the default per-IP limit, counters shared by two gateways through the suite's real Redis, and
// failing open (never a 500) when a Redis of our own is stopped.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@freechat/shared';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis } from '../../../scripts/infra/redis.js';
import { infraEndpoints } from '../../../test/infra/endpoints.js';
import { buildApp, loadGatewayConfig, type GatewayConfig } from '../src/index.js';
import { lockoutMs } from '../src/rate-limit/policy.js';
import { registerUser, type TestUser } from './support/http.js';
import { GENEROUS_RATE_LIMITS, startStack, type Stack } from './support/stack.js';

type InjectResponse = Awaited<ReturnType<FastifyInstance['inject']>>;

function expectRateLimited(response: InjectResponse): void {
  expect({ status: response.statusCode, body: response.json() }).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
  expect(Object.keys(response.json())).toEqual(['error']);
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  expect(response.headers['ratelimit-remaining']).toBe('0');
  expect(response.headers['ratelimit-limit']).toMatch(/^\d+$/);
  expect(response.headers['ratelimit-reset']).toMatch(/^\d+$/);
}

describe('rate limits on the real stack', () => {
  let stack: Stack;
  let app: FastifyInstance;
  const backoff = { maxFailures: 3, failureWindowMs: 60_000, baseLockoutMs: 2_000, maxLockoutMs: 10_000 };

  beforeAll(async () => {
    stack = await startStack({
      generatedTitles: false,
      gateway: {
        webUi: { dir: path.join(tmpdir(), 'freechat-no-ui-built') },
        rateLimit: {
          ...GENEROUS_RATE_LIMITS,
          login: { perIp: { max: 3, windowMs: 60_000 } },
          send: { perIp: { max: 1000, windowMs: 60_000 }, perUser: { max: 2, windowMs: 60_000 } },
          loginBackoff: backoff,
        },
      },
    });
    app = stack.gateway.app;
  });
  afterAll(async () => {
    await stack?.close();
  });

  const login = (username: string, password: string, remoteAddress: string) =>
    app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, remoteAddress });

  it('refuses the fourth login from one IP within the window with 429, Retry-After and RateLimit-* headers; another IP is unaffected', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await login(`nobody_${i}`, 'wrong password', '10.0.0.1');
      expect(response.statusCode).toBe(401);
      expect(response.headers['ratelimit-remaining']).toBe(String(2 - i));
    }
    expectRateLimited(await login('nobody_3', 'wrong password', '10.0.0.1'));
    expect((await login('nobody_3', 'wrong password', '10.0.0.2')).statusCode).toBe(401);
  });

  it('locks a username out after repeated failures, whatever the IP, for a growing interval; success clears it', async () => {
    const user = await registerUser(stack.url, 'backoff');
    let ip = 0;
    const next = () => `10.1.0.${++ip}`;
    for (let i = 0; i < 3; i++) expect((await login(user.username, 'wrong password', next())).statusCode).toBe(401);
    // Locked: even the right password, from a fresh IP, and with the username's case changed.
    const locked = await login(user.username.toUpperCase(), user.password, next());
    expectRateLimited(locked);
    expect(Number(locked.headers['retry-after'])).toBe(2);
    stack.advanceGatewayClock(2_100);
    // One more failure after the lockout: twice as long.
    expect((await login(user.username, 'wrong password', next())).statusCode).toBe(401);
    expect(lockoutMs(backoff, 4)).toBe(4_000);
    stack.advanceGatewayClock(2_100);
    const stillLocked = await login(user.username, user.password, next());
    expectRateLimited(stillLocked);
    expect(Number(stillLocked.headers['retry-after'])).toBe(2);
    stack.advanceGatewayClock(2_000);
    expect((await login(user.username, user.password, next())).statusCode).toBe(200);
    // Cleared: the next failure starts from one.
    expect((await login(user.username, 'wrong password', next())).statusCode).toBe(401);
    expect((await login(user.username, user.password, next())).statusCode).toBe(200);
  });

  it('limits message sends per user, whatever the IP, and leaves other users alone', async () => {
    const [alice, bob] = [await registerUser(stack.url, 'sender'), await registerUser(stack.url, 'other')];
    const send = async (user: TestUser, remoteAddress: string) => {
      const headers = { authorization: `Bearer ${user.accessToken}` };
      const session = await app.inject({ method: 'POST', url: '/api/sessions', headers, payload: {} });
      return app.inject({
        method: 'POST',
        url: `/api/sessions/${session.json().id}/messages`,
        headers,
        payload: { content: 'hi', params: { maxNewTokens: 2 } },
        remoteAddress,
      });
    };
    expect((await send(alice, '10.2.0.1')).statusCode).toBe(200);
    expect((await send(alice, '10.2.0.2')).statusCode).toBe(200);
    expectRateLimited(await send(alice, '10.2.0.3'));
    expect((await send(bob, '10.2.0.3')).statusCode).toBe(200);
  });
});

describe('rate limits on the bare app', () => {
  const apps: FastifyInstance[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  function capture() {
    const lines: Record<string, any>[] = [];
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        callback();
      },
    });
    return { lines, logger: createLogger({ service: 'gateway', level: 'info', destination }) };
  }

  function makeApp(rateLimit: Partial<GatewayConfig['rateLimit']>, redisUrl = '') {
    const base = loadGatewayConfig({ env: { FREECHAT_WEB_UI_DIR: path.join(tmpdir(), 'freechat-no-ui-built') } });
    const { lines, logger } = capture();
    const app = buildApp({ config: { ...base, rateLimit: { ...base.rateLimit, ...rateLimit }, redis: { url: redisUrl } }, logger });
    apps.push(app);
    return { app, lines };
  }
  const tight = { perIp: { max: 3, windowMs: 60_000 }, perUser: { max: 3, windowMs: 60_000 } };

  it('applies the default per-IP limit to every route but the health probes, in process without Redis', async () => {
    const { app, lines } = makeApp({ default: tight });
    await app.ready();
    expect(lines.some((line) => line.msg === 'rate limits: counted in this process')).toBe(true);
    for (let i = 0; i < 3; i++) expect((await app.inject({ url: '/api/nothing-here' })).statusCode).toBe(404);
    expectRateLimited(await app.inject({ url: '/api/nothing-here' }));
    expectRateLimited(await app.inject({ url: '/' }));
    for (let i = 0; i < 5; i++) expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/nothing-here', remoteAddress: '10.3.0.1' })).statusCode).toBe(404);
  });

  it('counts in Redis when REDIS_URL is set: two gateways share one budget', async () => {
    const { redisUrl } = infraEndpoints();
    expect(loadGatewayConfig({ env: { REDIS_URL: redisUrl } }).redis.url).toBe(redisUrl);
    const one = makeApp({ default: tight }, redisUrl);
    const two = makeApp({ default: tight }, redisUrl);
    await Promise.all([one.app.ready(), two.app.ready()]);
    expect(one.lines.some((line) => line.msg === 'rate limits: counted in Redis (shared by every gateway replica)')).toBe(true);
    // A fresh address per run: the suite's Redis outlives this file.
    const remoteAddress = `10.4.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const get = (app: FastifyInstance) => app.inject({ url: '/api/nothing-here', remoteAddress });
    await waitForReady(one.app, remoteAddress);
    expect((await get(two.app)).statusCode).toBe(404);
    expect((await get(one.app)).statusCode).toBe(404);
    expectRateLimited(await get(two.app));
    expectRateLimited(await get(one.app));
  });

  /** First request once the client is connected (it connects in the background), counted as one. */
  async function waitForReady(app: FastifyInstance, remoteAddress: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const response = await app.inject({ url: '/api/nothing-here', remoteAddress });
      if (response.headers['ratelimit-limit']) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('redis store never answered');
  }

  it('fails open when Redis is down: requests pass (never a 500), a warning is logged, limits return with Redis', async () => {
    const redis = await startRedis({ dataDir: mkdtempSync(path.join(tmpdir(), 'freechat-rl-redis-')) });
    try {
      const { app, lines } = makeApp({ default: tight }, redis.url);
      await waitForReady(app, '10.5.0.1');
      await redis.stop();
      for (let i = 0; i < 6; i++) {
        const response = await app.inject({ url: '/api/nothing-here', remoteAddress: '10.5.0.1' });
        expect(response.statusCode).toBe(404);
        expect(response.headers['ratelimit-limit']).toBeUndefined();
      }
      const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'x', password: 'y' }, remoteAddress: '10.5.0.2' });
      expect(login.statusCode).not.toBe(500);
      expect(login.statusCode).not.toBe(429);
      expect(lines.some((line) => line.level === 'warn' && line.msg === 'rate limits: store unavailable; letting requests through')).toBe(true);
      await redis.restart();
      await waitForReady(app, '10.5.0.3');
      for (let i = 0; i < 2; i++) await app.inject({ url: '/api/nothing-here', remoteAddress: '10.5.0.3' });
      expectRateLimited(await app.inject({ url: '/api/nothing-here', remoteAddress: '10.5.0.3' }));
    } finally {
      await redis.stop();
    }
  });
});
