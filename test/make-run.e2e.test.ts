// `make run` for real: embedded PostgreSQL and four service processes, a browser's HTTP calls,
// then Ctrl-C and a second start that still has the user, the session and the messages.
// Runs the built services (services/*/dist): `make test` builds first.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkGrpcHealth, createGrpcTransport, PLAINTEXT_TRANSPORT_CONFIG } from '../services/shared/src/index.js';
import { readEvents } from './support/sse.js';
import { killLeftovers, prepareMakeRun, startMakeRun, stopMakeRun, type MakeRunSetup } from './support/make-run.js';

let setup: MakeRunSetup;
const api: MakeRunSetup['api'] = (...args) => setup.api(...args);

beforeAll(async () => {
  setup = await prepareMakeRun('run');
});

afterAll(async () => {
  killLeftovers();
  await setup?.cleanup();
});

describe('make run', () => {
  it('serves a chat, stops cleanly on Ctrl-C, and keeps everything across a restart', async () => {
    const first = await startMakeRun(setup.env);
    let stack = first.child;
    // The built web UI is what a browser gets at /, not the placeholder page.
    const home = await fetch(`${setup.baseUrl}/`);
    expect(home.headers.get('content-type')).toContain('text/html');
    const html = await home.text();
    expect(html).toContain('<div id="app"></div>');
    expect(html).toMatch(/src="\/assets\/index-[\w-]+\.js"/);
    const registered = await api('POST', '/api/auth/register', { username: 'persistent_pat', password: 'correct horse battery' });
    expect(registered.status).toBe(201);
    const token = registered.json.accessToken as string;
    const session = await api('POST', '/api/sessions', { title: 'Kept' }, token);
    expect(session.status).toBe(201);
    const streamed = await fetch(`${setup.baseUrl}/api/sessions/${session.json.id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ content: 'Hello there', params: { maxNewTokens: 8, temperature: 0 } }),
    });
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    const events = await readEvents(streamed);
    expect(events[0]!.event).toBe('run');
    expect(events.at(-1)!.event).toBe('done');
    const answer = events.filter((e) => e.event === 'content').map((e) => e.data.delta).join('');
    // One `metrics <service> <url>` line per service, none on the public port; the gateway's counts this chat.
    const metrics = first.metricsUrls();
    expect(Object.keys(metrics).sort()).toEqual(['auth', 'chat', 'gateway', 'inference']);
    expect(Object.values(metrics).every((url) => !url.startsWith(setup.baseUrl))).toBe(true);
    const scraped = await (await fetch(metrics['gateway']!)).text();
    expect(scraped).toMatch(/^freechat_http_request_duration_seconds_count\{[^}]*route="\/api\/sessions\/:id\/messages"[^}]*\} [1-9]/m);
    expect(await (await fetch(metrics['inference']!)).text()).toMatch(/^freechat_inference_time_to_first_token_seconds_count\{[^}]*\} [1-9]/m);
    expect(await stopMakeRun(stack)).toBe(0);

    stack = (await startMakeRun(setup.env)).child;
    try {
      const login = await api('POST', '/api/auth/login', { username: 'persistent_pat', password: 'correct horse battery' });
      expect(login.status).toBe(200);
      const sessions = await api('GET', '/api/sessions', undefined, login.json.accessToken);
      expect(sessions.json.sessions.map((s: { title: string }) => s.title)).toEqual(['Kept']);
      const messages = await api('GET', `/api/sessions/${session.json.id}/messages`, undefined, login.json.accessToken);
      expect(messages.json.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
      expect(messages.json.messages[0].content).toBe('Hello there');
      expect(messages.json.messages[1].content).toBe(answer);
      expect(messages.json.messages[1].status).toBe('complete');
    } finally {
      expect(await stopMakeRun(stack)).toBe(0);
    }
  }, 300_000);

  it('runs the services with mutual TLS from a development CA and each database service as its own role', async () => {
    const run = await startMakeRun(setup.env);
    try {
      const tls = path.join(setup.dataDir, 'tls');
      const withCertificate = createGrpcTransport({ ...PLAINTEXT_TRANSPORT_CONFIG, tls: { caFile: `${tls}/ca.crt`, certFile: `${tls}/supervisor.crt`, keyFile: `${tls}/supervisor.key` } });
      for (const variable of ['FREECHAT_AUTH_ADDRESS', 'FREECHAT_CHAT_ADDRESS', 'FREECHAT_INFERENCE_ADDRESS']) {
        const address = setup.env[variable]!;
        // A caller without a certificate from the CA gets nothing, not even health.
        expect(await checkGrpcHealth(address, { timeoutMs: 1_000 })).toBe('UNREACHABLE');
        expect(await checkGrpcHealth(address, { credentials: withCertificate.channelCredentials() })).toBe('SERVING');
      }
      expect(statSync(`${tls}/gateway.key`).mode & 0o077).toBe(0);

      const rolesFile = path.join(setup.dataDir, 'postgres', 'service-roles.json');
      expect(statSync(rolesFile).mode & 0o077).toBe(0);
      const passwords = JSON.parse(readFileSync(rolesFile, 'utf8')) as Record<'auth' | 'chat', string>;
      for (const password of Object.values(passwords)) expect(run.output()).not.toContain(password);
      // Line 4 of postmaster.pid is the port embedded PostgreSQL listens on.
      const port = readFileSync(path.join(setup.dataDir, 'postgres', 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[3];
      const chat = new pg.Client({ connectionString: `postgres://freechat_chat:${encodeURIComponent(passwords.chat)}@127.0.0.1:${port}/freechat` });
      await chat.connect();
      try {
        await expect(chat.query('SELECT count(*) FROM auth.users')).rejects.toMatchObject({ code: '42501' });
        expect((await chat.query('SELECT count(*) FROM chat.sessions')).rowCount).toBe(1);
      } finally {
        await chat.end();
      }
    } finally {
      expect(await stopMakeRun(run.child)).toBe(0);
    }
  }, 300_000);
});
