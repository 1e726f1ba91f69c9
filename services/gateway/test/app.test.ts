// The app without a backend: the web UI (built and not), CORS, readiness with upstreams down, and
// that an unreachable upstream is a 503 with the error shape, never internals.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, freePort } from '@freechat/shared';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadGatewayConfig, type GatewayConfig } from '../src/config.js';

const logger = createLogger({ service: 'gateway-test', level: 'silent' });
let deadAddress: string;
let app: FastifyInstance | undefined;

beforeAll(async () => {
  deadAddress = `127.0.0.1:${await freePort()}`;
});
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function config(env: Record<string, string> = {}): GatewayConfig {
  return loadGatewayConfig({
    env: { FREECHAT_AUTH_ADDRESS: deadAddress, FREECHAT_CHAT_ADDRESS: deadAddress, FREECHAT_INFERENCE_ADDRESS: deadAddress, ...env },
  });
}

describe('web UI', () => {
  it('serves the built UI, its assets, and index.html for client-side routes; /api stays JSON', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'freechat-ui-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>UI</title><div id="app"></div>');
    writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log("ui")');
    app = buildApp({ config: config({ FREECHAT_WEB_UI_DIR: dir }), logger });

    const index = await app.inject({ method: 'GET', url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain('id="app"');
    const asset = await app.inject({ method: 'GET', url: '/assets/app.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    const route = await app.inject({ method: 'GET', url: '/c/1234?x=1' });
    expect(route.statusCode).toBe(200);
    expect(route.body).toContain('id="app"');
    const api = await app.inject({ method: 'GET', url: '/api/unknown' });
    expect(api.statusCode).toBe(404);
    expect(api.json().error.code).toBe('not_found');
    const post = await app.inject({ method: 'POST', url: '/c/1234', payload: {} });
    expect(post.statusCode).toBe(404);
    expect(post.json().error.code).toBe('not_found');
  });

  it('serves a placeholder page listing the API when the UI is not built', async () => {
    app = buildApp({ config: config({ FREECHAT_WEB_UI_DIR: path.join(tmpdir(), 'no-such-ui-dir') }), logger });
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('not built');
    expect(page.body).toContain('/api/runs/:runId/events');
  });
});

describe('upstreams down', () => {
  it('is alive but not ready, naming which upstream', async () => {
    app = buildApp({ config: config(), logger });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({
      error: { code: 'service_unavailable', message: 'not ready: auth UNREACHABLE, chat UNREACHABLE' },
      status: 'unavailable',
      upstreams: { auth: 'UNREACHABLE', chat: 'UNREACHABLE', inference: 'UNREACHABLE' },
    });
  });

  it('answers 503 without transport details when auth cannot be reached', async () => {
    app = buildApp({ config: config(), logger });
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'a', password: 'b' } });
    expect(login.statusCode).toBe(503);
    expect(login.json()).toEqual({ error: { code: 'service_unavailable', message: 'service temporarily unavailable' } });
    expect(login.body).not.toContain(deadAddress);
    // A token whose keys cannot be fetched is auth's outage, not the caller's fault.
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'k' })).toString('base64url');
    const me = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${header}.e30.c2ln` } });
    expect(me.statusCode).toBe(503);
  });
});

describe('CORS', () => {
  it('sends no CORS headers by default', async () => {
    app = buildApp({ config: config(), logger });
    const response = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://evil.example' } });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allows listed origins only, with preflight', async () => {
    app = buildApp({ config: config({ FREECHAT_CORS_ORIGINS: 'https://chat.example' }), logger });
    const allowed = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://chat.example' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://chat.example');
    const other = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/api/sessions',
      headers: { origin: 'https://chat.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
  });
});
