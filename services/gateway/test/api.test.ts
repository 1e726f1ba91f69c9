// The public API against the real backend (PostgreSQL, inference on the tiny model, auth, chat):
// request/response cases through app.inject(), streams through a listening server and fetch.
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInferenceConfig, startInferenceServer } from '@freechat/inference';
import { freePort } from '@freechat/shared';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonRequest, readSse, registerUser, type SseEventRecord, type TestUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';
import { loadGatewayConfig, startGatewayServer } from '../src/index.js';

let stack: Stack;
let app: FastifyInstance;

beforeAll(async () => {
  // The placeholder page, whether or not web-ui/dist has been built in this tree.
  stack = await startStack({ gateway: { http: { trustProxy: true }, sse: { heartbeatMs: 50 }, webUi: { dir: path.join(tmpdir(), 'freechat-no-ui-built') } } });
  app = stack.gateway.app;
});
afterAll(async () => {
  await stack?.close();
});

const auth = (user: TestUser) => ({ authorization: `Bearer ${user.accessToken}` });
const MISSING_ID = '00000000-0000-4000-8000-000000000000';

function expectError(response: { statusCode: number; json(): any }, status: number, code: string): void {
  expect({ status: response.statusCode, code: response.json().error?.code }).toEqual({ status, code });
  expect(Object.keys(response.json())).toEqual(['error']);
  expect(typeof response.json().error.message).toBe('string');
}

async function createSession(user: TestUser, title?: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/api/sessions', headers: auth(user), payload: title === undefined ? {} : { title } });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

function seqOf(event: SseEventRecord): number {
  return Number(event.id!.split(':')[1]);
}

describe('accounts and tokens', () => {
  it('registers (201), refuses a taken name (409), logs in, and tells who I am', async () => {
    const username = `alice_${Date.now()}`;
    const registered = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username, password: 'long enough password' } });
    expect(registered.statusCode).toBe(201);
    const body = registered.json();
    expect(body).toMatchObject({ user: { username }, accessToken: expect.any(String) });
    // The refresh token is never where a page script could read it.
    expect(body).not.toHaveProperty('refreshToken');
    const cookie = registered.cookies.find((c) => c.name === 'freechat_refresh')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/auth' });
    expect(cookie.secure).toBeUndefined();
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Date(cookie.expires!).getTime()).toBeGreaterThan(Date.now() + 6 * 24 * 3600_000);
    expect(body.user.id).toMatch(/^[0-9a-f-]{36}$/);

    const again = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username, password: 'long enough password' } });
    expectError(again, 409, 'already_exists');

    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'long enough password' } });
    expect(login.statusCode).toBe(200);
    expect(login.json().user.id).toBe(body.user.id);

    const wrong = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'wrong password here' } });
    expectError(wrong, 401, 'unauthenticated');

    const me = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${login.json().accessToken}` } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ id: body.user.id, username, createdAt: expect.any(String) });
  });

  it('rotates the refresh cookie, keeps a racing tab signed in, and refuses the old token once the grace window is over', async () => {
    const user = await registerUser(stack.url);
    const refreshed = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: user.refreshCookie } });
    expect(refreshed.statusCode).toBe(200);
    const rotated = refreshed.cookies.find((c) => c.name === 'freechat_refresh')!;
    expect(`freechat_refresh=${rotated.value}`).not.toBe(user.refreshCookie);
    expect(refreshed.json().user.id).toBe(user.id);
    const me = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${refreshed.json().accessToken}` } });
    expect(me.statusCode).toBe(200);

    // Another tab sent the same cookie a moment later: an access token, and the cookie left alone.
    const racing = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: user.refreshCookie } });
    expect(racing.statusCode).toBe(200);
    expect(racing.cookies.find((c) => c.name === 'freechat_refresh')).toBeUndefined();
    expect((await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${racing.json().accessToken}` } })).statusCode).toBe(200);

    expectError(await app.inject({ method: 'POST', url: '/api/auth/refresh' }), 401, 'unauthenticated');
    expectError(await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: 'x' } }), 400, 'invalid_request');
  });

  it('sets the cookie Secure behind a TLS-terminating proxy', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/auth/register',
      headers: { 'x-forwarded-proto': 'https' },
      payload: { username: `tls_${Date.now()}`, password: 'long enough password' },
    });
    expect(response.statusCode).toBe(201);
    expect(response.cookies.find((c) => c.name === 'freechat_refresh')!.secure).toBe(true);
  });

  it('logs out (204): the refresh cookie is cleared and dead, and the access token is refused at once', async () => {
    const user = await registerUser(stack.url);
    expect((await app.inject({ method: 'GET', url: '/api/me', headers: auth(user) })).statusCode).toBe(200);
    const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { ...auth(user), cookie: user.refreshCookie } });
    expect(logout.statusCode).toBe(204);
    expect(logout.body).toBe('');
    expect(logout.cookies.find((c) => c.name === 'freechat_refresh')).toMatchObject({ value: '', path: '/api/auth' });
    expectError(await app.inject({ method: 'GET', url: '/api/me', headers: auth(user) }), 401, 'unauthenticated');
    expectError(await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: user.refreshCookie } }), 401, 'unauthenticated');
    // Logging out twice, or without a session, is still a logout.
    expect((await app.inject({ method: 'POST', url: '/api/auth/logout' })).statusCode).toBe(204);
  });

  it('refuses a refresh token used as an access token, tampered and expired tokens, and no token at all', async () => {
    const user = await registerUser(stack.url);
    const [header, payload, signature] = user.accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: MISSING_ID })).toString('base64url');
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
    for (const token of [user.refreshCookie.split('=')[1], `${header}.${forgedPayload}.${signature}`, `${header}.${payload}.${flipped}`, 'garbage', '']) {
      const response = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
      expectError(response, 401, 'unauthenticated');
    }
    expectError(await app.inject({ method: 'GET', url: '/api/sessions' }), 401, 'unauthenticated');
    expectError(await app.inject({ method: 'GET', url: '/api/sessions', headers: { authorization: `Basic ${user.accessToken}` } }), 401, 'unauthenticated');

    stack.advanceGatewayClock(16 * 60_000);
    try {
      expectError(await app.inject({ method: 'GET', url: '/api/me', headers: auth(user) }), 401, 'unauthenticated');
    } finally {
      stack.advanceGatewayClock(-16 * 60_000);
    }
    expect((await app.inject({ method: 'GET', url: '/api/me', headers: auth(user) })).statusCode).toBe(200);
  });
});

describe('sessions', () => {
  it('creates, lists with pages, reads, renames and deletes', async () => {
    const user = await registerUser(stack.url);
    const first = await createSession(user, 'First');
    const second = await createSession(user);

    const page1 = await app.inject({ method: 'GET', url: '/api/sessions?pageSize=1', headers: auth(user) });
    expect(page1.statusCode).toBe(200);
    expect(page1.json().sessions).toHaveLength(1);
    expect(page1.json().nextPageToken).toEqual(expect.any(String));
    const page2 = await app.inject({
      method: 'GET',
      url: `/api/sessions?pageSize=1&pageToken=${encodeURIComponent(page1.json().nextPageToken)}`,
      headers: auth(user),
    });
    expect([...page1.json().sessions, ...page2.json().sessions].map((s: { id: string }) => s.id).sort()).toEqual([first, second].sort());

    const got = await app.inject({ method: 'GET', url: `/api/sessions/${first}`, headers: auth(user) });
    expect(got.json()).toEqual({
      id: first,
      title: 'First',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      currentLeafId: null,
      answering: false,
      pinned: false,
      tags: [],
      systemPrompt: '',
      model: '',
    });

    const renamed = await app.inject({ method: 'PATCH', url: `/api/sessions/${first}`, headers: auth(user), payload: { title: 'Renamed' } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().title).toBe('Renamed');

    const deleted = await app.inject({ method: 'DELETE', url: `/api/sessions/${first}`, headers: auth(user) });
    expect(deleted.statusCode).toBe(204);
    expectError(await app.inject({ method: 'GET', url: `/api/sessions/${first}`, headers: auth(user) }), 404, 'not_found');
    expectError(await app.inject({ method: 'GET', url: `/api/sessions/${MISSING_ID}`, headers: auth(user) }), 404, 'not_found');
  });
});

describe('streaming a message', () => {
  it('streams run, deltas and done with ids <runId>:<seq> increasing by 1, and stores the answer', async () => {
    const user = await registerUser(stack.url);
    const sessionId = await createSession(user);
    const result = await readSse(stack.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'Hello there', params: { maxNewTokens: 300, seed: 7, temperature: 1 } },
    });
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { events } = result;
    expect(events[0]!.event).toBe('run');
    const { runId, userMessageId, assistantMessageId } = events[0]!.data;
    expect(events.at(-1)!.event).toBe('done');
    expect(events.at(-1)!.data).toMatchObject({ finishReason: expect.stringMatching(/^(stop|length)$/), messageId: assistantMessageId });
    expect(events.at(-1)!.data.usage.completionTokens).toBeGreaterThan(0);
    events.forEach((event, i) => expect(event.id).toBe(`${runId}:${i + 1}`));
    const middle = events.slice(1, -1);
    expect(middle.length).toBeGreaterThan(0);
    expect(middle.every((e) => (e.event === 'content' || e.event === 'reasoning') && typeof e.data.delta === 'string')).toBe(true);
    // A 300-token answer takes longer than a 50 ms heartbeat.
    expect(result.comments).toContain('ping');

    const messages = await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/messages`, headers: auth(user) });
    expect(messages.statusCode).toBe(200);
    const [question, answer] = messages.json().messages;
    expect(question).toMatchObject({ id: userMessageId, role: 'user', content: 'Hello there', status: 'complete' });
    expect(answer).toMatchObject({ id: assistantMessageId, role: 'assistant', status: 'complete' });
    expect(answer.content).toBe(middle.filter((e) => e.event === 'content').map((e) => e.data.delta).join(''));
    // The answer's timings, in the done event and stored with it; a question has none.
    const { timings } = events.at(-1)!.data;
    expect(timings).toEqual({ timeToFirstTokenMs: expect.any(Number), durationMs: expect.any(Number) });
    expect(timings.durationMs).toBeGreaterThanOrEqual(timings.timeToFirstTokenMs);
    expect(answer.timings).toEqual(timings);
    expect(question.timings).toBeNull();
  });

  it('resumes after a dropped connection with no gap and no duplicate, and the final message is stored', async () => {
    const user = await registerUser(stack.url);
    const sessionId = await createSession(user);
    const firstPart = await readSse(stack.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'Tell me a long story', params: { maxNewTokens: 400, seed: 3, temperature: 1 } },
      until: (_event, events) => events.length === 4,
    });
    expect(firstPart.stoppedEarly).toBe(true);
    const runId: string = firstPart.events[0]!.data.runId;
    const lastId = firstPart.events.at(-1)!.id!;

    const rest = await readSse(stack.url, `/api/runs/${runId}/events`, { token: user.accessToken, headers: { 'last-event-id': lastId } });
    expect(rest.status).toBe(200);
    const all = [...firstPart.events, ...rest.events];
    expect(all.map(seqOf)).toEqual(all.map((_e, i) => i + 1));
    expect(all.at(-1)!.event).toBe('done');

    const messages = await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/messages`, headers: auth(user) });
    const answer = messages.json().messages[1];
    expect(answer.status).toBe('complete');
    expect(answer.content).toBe(all.filter((e) => e.event === 'content').map((e) => e.data.delta).join(''));

    // The query parameter serves clients that cannot set headers.
    const fromQuery = await readSse(stack.url, `/api/runs/${runId}/events?lastEventId=${encodeURIComponent(`${runId}:2`)}`, { token: user.accessToken });
    expect(fromQuery.events.map(seqOf)).toEqual(all.slice(2).map(seqOf));
    // Nothing after the last event of a finished run: 204, so EventSource stops reconnecting.
    const nothingLeft = await fetch(`${stack.url}/api/runs/${runId}/events`, {
      headers: { authorization: `Bearer ${user.accessToken}`, 'last-event-id': all.at(-1)!.id! },
    });
    expect(nothingLeft.status).toBe(204);
  });

  it('stops a run on request; what was generated is stored as stopped', async () => {
    const user = await registerUser(stack.url);
    const sessionId = await createSession(user);
    const start = await readSse(stack.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'Go on forever', params: { maxNewTokens: 2000, seed: 5, temperature: 1 } },
      until: (_event, events) => events.length === 3,
    });
    const runId: string = start.events[0]!.data.runId;
    const stop = await app.inject({ method: 'POST', url: `/api/runs/${runId}/stop`, headers: auth(user) });
    expect(stop.statusCode).toBe(204);

    let answer: any;
    for (let i = 0; i < 100; i++) {
      answer = (await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/messages`, headers: auth(user) })).json().messages[1];
      if (answer.status !== 'streaming') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(answer.status).toBe('stopped');
    expect(answer.content.length).toBeGreaterThan(0);
  });
});

describe('ownership', () => {
  it('answers 404 to user B on every route for user A\'s session, messages, run events and stop', async () => {
    const alice = await registerUser(stack.url, 'alice');
    const bob = await registerUser(stack.url, 'bob');
    const sessionId = await createSession(alice, 'Private');
    const start = await readSse(stack.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: alice.accessToken,
      body: { content: 'secret', params: { maxNewTokens: 2000, seed: 1, temperature: 1 } },
      until: (_event, events) => events.length === 2,
    });
    const runId: string = start.events[0]!.data.runId;

    const attempts = [
      { method: 'GET', url: `/api/sessions/${sessionId}` },
      { method: 'PATCH', url: `/api/sessions/${sessionId}`, payload: { title: 'mine now' } },
      { method: 'DELETE', url: `/api/sessions/${sessionId}` },
      { method: 'GET', url: `/api/sessions/${sessionId}/messages` },
      { method: 'POST', url: `/api/sessions/${sessionId}/messages`, payload: { content: 'hi' } },
      // Checked before run_in_progress: Alice's answer is streaming, and Bob must not learn that.
      { method: 'POST', url: `/api/sessions/${sessionId}/regenerate`, payload: {} },
      { method: 'POST', url: `/api/sessions/${sessionId}/regenerate`, payload: { content: 'edited by bob' } },
      { method: 'POST', url: `/api/sessions/${sessionId}/regenerate`, payload: { messageId: start.events[0]!.data.userMessageId } },
      { method: 'POST', url: `/api/sessions/${sessionId}/branch`, payload: { messageId: start.events[0]!.data.userMessageId } },
      { method: 'POST', url: `/api/sessions/${sessionId}/continue`, payload: { messageId: start.events[0]!.data.assistantMessageId } },
      { method: 'GET', url: `/api/runs/${runId}/events` },
      { method: 'POST', url: `/api/runs/${runId}/stop` },
    ] as const;
    for (const attempt of attempts) {
      const response = await app.inject({ ...attempt, headers: auth(bob) });
      expectError(response, 404, 'not_found');
    }
    const listed = await app.inject({ method: 'GET', url: '/api/sessions', headers: auth(bob) });
    expect(listed.json().sessions).toEqual([]);

    // Alice's session and run are untouched.
    expect((await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}`, headers: auth(alice) })).json().title).toBe('Private');
    expect((await app.inject({ method: 'POST', url: `/api/runs/${runId}/stop`, headers: auth(alice) })).statusCode).toBe(204);
  });
});

describe('bad input is a 4xx with the error shape, never a 500', () => {
  let user: TestUser;
  let sessionId: string;
  beforeAll(async () => {
    user = await registerUser(stack.url);
    sessionId = await createSession(user);
  });

  it.each([
    ['malformed JSON', 'POST', '/api/auth/login', '{"username": "a",', 'application/json', 400, 'invalid_json'],
    ['an empty JSON body', 'POST', '/api/auth/login', '', 'application/json', 400, 'invalid_json'],
    ['a wrong content type', 'POST', '/api/auth/login', 'username=a&password=b', 'application/x-www-form-urlencoded', 415, 'unsupported_media_type'],
    ['text/plain', 'POST', '/api/auth/register', 'hello', 'text/plain', 415, 'unsupported_media_type'],
  ])('%s', async (_name, method, url, payload, contentType, status, code) => {
    expectError(await app.inject({ method: method as 'POST', url, payload, headers: { 'content-type': contentType } }), status, code);
  });

  it('refuses an oversize body with 413', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/api/sessions/${sessionId}/messages`,
      headers: auth(user),
      payload: { content: 'x'.repeat(70 * 1024) },
    });
    expectError(response, 413, 'payload_too_large');
  });

  const bodies: [string, string, string, unknown][] = [
    ['an unknown field at login', 'POST', '/api/auth/login', { username: 'a', password: 'b', admin: true }],
    ['a missing password', 'POST', '/api/auth/register', { username: 'someone' }],
    ['a number as username', 'POST', '/api/auth/register', { username: 12345, password: 'long enough password' }],
    ['a body field on refresh (the cookie is the credential)', 'POST', '/api/auth/refresh', { refreshToken: 'x' }],
    ['a JSON array body', 'POST', '/api/auth/login', [1, 2]],
  ];
  it.each(bodies)('unauthenticated route: %s → 400', async (_name, method, url, payload) => {
    expectError(await app.inject({ method: method as 'POST', url, payload: payload as object }), 400, 'invalid_request');
  });

  it('authenticated routes: unknown fields, missing fields, wrong types, bad uuids, bad queries → 400', async () => {
    const cases: { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: unknown; headers?: Record<string, string> }[] = [
      { method: 'POST', url: '/api/sessions', payload: { title: 'ok', color: 'red' } },
      { method: 'POST', url: '/api/sessions', payload: { title: 42 } },
      { method: 'PATCH', url: `/api/sessions/${sessionId}`, payload: {} },
      { method: 'PATCH', url: `/api/sessions/${sessionId}`, payload: { title: '' } },
      { method: 'PATCH', url: `/api/sessions/${sessionId}`, payload: { title: ['a'] } },
      { method: 'POST', url: `/api/sessions/${sessionId}/messages`, payload: {} },
      { method: 'POST', url: `/api/sessions/${sessionId}/messages`, payload: { content: 5 } },
      { method: 'POST', url: `/api/sessions/${sessionId}/messages`, payload: { content: 'hi', enableThinking: 'yes' } },
      { method: 'POST', url: `/api/sessions/${sessionId}/messages`, payload: { content: 'hi', params: { temperature: 'hot' } } },
      { method: 'POST', url: `/api/sessions/${sessionId}/messages`, payload: { content: 'hi', params: { maxNewTokens: 1.5 } } },
      { method: 'POST', url: `/api/sessions/${sessionId}/messages`, payload: { content: 'hi', params: { nucleus: 1 } } },
      { method: 'POST', url: `/api/sessions/${sessionId}/messages`, payload: { content: 'hi', extra: 1 } },
      { method: 'POST', url: `/api/sessions/${sessionId}/regenerate`, payload: { content: '' } },
      { method: 'POST', url: `/api/sessions/${sessionId}/regenerate`, payload: { content: 5 } },
      { method: 'POST', url: `/api/sessions/${sessionId}/regenerate`, payload: { content: 'x'.repeat(32_001) } },
      { method: 'POST', url: `/api/sessions/${sessionId}/regenerate`, payload: { enableThinking: 1 } },
      { method: 'POST', url: `/api/sessions/${sessionId}/regenerate`, payload: { params: { topP: 0 } } },
      { method: 'POST', url: `/api/sessions/${sessionId}/regenerate`, payload: { extra: 1 } },
      { method: 'POST', url: '/api/sessions/not-a-uuid/regenerate', payload: {} },
      { method: 'POST', url: `/api/sessions/${sessionId}/regenerate`, payload: { messageId: 'not-a-uuid' } },
      { method: 'POST', url: `/api/sessions/${sessionId}/continue`, payload: {} },
      { method: 'POST', url: `/api/sessions/${sessionId}/continue`, payload: { messageId: 'x' } },
      { method: 'POST', url: `/api/sessions/${sessionId}/continue`, payload: { messageId: MISSING_ID, params: { maxNewTokens: 0 } } },
      { method: 'POST', url: `/api/sessions/${sessionId}/branch`, payload: {} },
      { method: 'POST', url: `/api/sessions/${sessionId}/branch`, payload: { messageId: 'x' } },
      { method: 'POST', url: `/api/sessions/${sessionId}/branch`, payload: { messageId: MISSING_ID, extra: 1 } },
      { method: 'GET', url: '/api/sessions/not-a-uuid' },
      { method: 'DELETE', url: '/api/sessions/123' },
      { method: 'GET', url: '/api/sessions/not-a-uuid/messages' },
      { method: 'GET', url: '/api/runs/not-a-uuid/events' },
      { method: 'POST', url: '/api/runs/not-a-uuid/stop' },
      { method: 'GET', url: `/api/runs/${MISSING_ID}/events`, headers: { 'last-event-id': 'nonsense' } },
      { method: 'GET', url: `/api/runs/${MISSING_ID}/events?lastEventId=${MISSING_ID}:x` },
      { method: 'GET', url: '/api/sessions?pageSize=0' },
      { method: 'GET', url: '/api/sessions?pageSize=abc' },
      { method: 'GET', url: '/api/sessions?pageSize=1000' },
      { method: 'GET', url: '/api/sessions?color=red' },
    ];
    for (const c of cases) {
      const response = await app.inject({ method: c.method, url: c.url, headers: { ...auth(user), ...c.headers }, ...(c.payload !== undefined && { payload: c.payload as object }) });
      expect({ ...c, status: response.statusCode, code: response.json().error?.code }).toEqual({ ...c, status: 400, code: 'invalid_request' });
    }
  });

  it('answers unknown API routes with a JSON 404 and page loads with the UI page', async () => {
    expectError(await app.inject({ method: 'GET', url: '/api/nothing-here' }), 404, 'not_found');
    expectError(await app.inject({ method: 'POST', url: '/api/sessions/x/y/z', headers: auth(user) }), 404, 'not_found');
    for (const url of ['/', '/c/some-chat']) {
      const page = await app.inject({ method: 'GET', url });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('/api/sessions');
    }
  });
});

describe('regenerating an answer', () => {
  async function ask(user: TestUser, sessionId: string, content: string): Promise<SseEventRecord[]> {
    const result = await readSse(stack.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content, params: { maxNewTokens: 16, seed: 4, temperature: 1 } },
    });
    expect(result.events.at(-1)!.event).toBe('done');
    return result.events;
  }
  const regenerate = (user: TestUser, sessionId: string, body: object) =>
    readSse(stack.url, `/api/sessions/${sessionId}/regenerate`, { method: 'POST', token: user.accessToken, body });

  it('streams a new answer like sending does, beside the first: the conversation shows the new one, `2/2`', async () => {
    const user = await registerUser(stack.url);
    const sessionId = await createSession(user);
    const first = await ask(user, sessionId, 'Hello there');
    const result = await regenerate(user, sessionId, { params: { maxNewTokens: 16, seed: 5, temperature: 1 } });
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { events } = result;
    const { runId, userMessageId, assistantMessageId } = events[0]!.data;
    expect(events[0]!.event).toBe('run');
    expect(userMessageId).toBe(first[0]!.data.userMessageId);
    expect(assistantMessageId).not.toBe(first[0]!.data.assistantMessageId);
    events.forEach((event, i) => expect(event.id).toBe(`${runId}:${i + 1}`));
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { messageId: assistantMessageId } });

    const messages = (await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/messages`, headers: auth(user) })).json().messages;
    expect(messages.map((m: { id: string; role: string }) => [m.role, m.id])).toEqual([
      ['user', userMessageId],
      ['assistant', assistantMessageId],
    ]);
    expect(messages[0]).toMatchObject({ content: 'Hello there', parentId: null, siblingIds: [userMessageId] });
    expect(messages[1]).toMatchObject({
      status: 'complete',
      content: events.filter((e) => e.event === 'content').map((e) => e.data.delta).join(''),
      parentId: userMessageId,
      siblingIds: [first[0]!.data.assistantMessageId, assistantMessageId],
    });
    const session = (await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}`, headers: auth(user) })).json();
    expect(session.currentLeafId).toBe(assistantMessageId);
  });

  it('answers any answer again and switches between the versions: POST /branch shows the newest messages under the one chosen', async () => {
    const user = await registerUser(stack.url);
    const sessionId = await createSession(user);
    const one = (await ask(user, sessionId, 'One'))[0]!.data;
    const two = (await ask(user, sessionId, 'Two'))[0]!.data;
    const again = await regenerate(user, sessionId, { messageId: one.assistantMessageId, params: { maxNewTokens: 8 } });
    expect(again.events.at(-1)!.event).toBe('done');
    const newer = again.events[0]!.data.assistantMessageId;
    const ids = async () =>
      (await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/messages`, headers: auth(user) })).json().messages.map((m: { id: string }) => m.id);
    expect(await ids()).toEqual([one.userMessageId, newer]);

    const switched = await app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/branch`, headers: auth(user), payload: { messageId: one.assistantMessageId } });
    expect(switched.statusCode).toBe(200);
    expect(switched.json()).toMatchObject({ id: sessionId, currentLeafId: two.assistantMessageId });
    expect(await ids()).toEqual([one.userMessageId, one.assistantMessageId, two.userMessageId, two.assistantMessageId]);

    const elsewhere = await createSession(user);
    expectError(await app.inject({ method: 'POST', url: `/api/sessions/${elsewhere}/branch`, headers: auth(user), payload: { messageId: newer } }), 404, 'not_found');
    expectError(await app.inject({ method: 'POST', url: `/api/sessions/${elsewhere}/regenerate`, headers: auth(user), payload: { messageId: newer } }), 404, 'not_found');
  });

  it('edit and resend: the edit is stored beside the question and the model answers the new text', async () => {
    const user = await registerUser(stack.url);
    const sessionId = await createSession(user);
    const first = await ask(user, sessionId, 'Hi');
    const edited = 'Hi! Please tell me, in a few sentences, why the sky looks blue at noon and red at sunset.';
    const { events } = await regenerate(user, sessionId, { content: edited, enableThinking: false, params: { maxNewTokens: 16 } });
    expect(events.at(-1)!.event).toBe('done');
    expect(events[0]!.data.userMessageId).not.toBe(first[0]!.data.userMessageId);
    // The prompt the model saw is the edited one: many more tokens.
    expect(events.at(-1)!.data.usage.promptTokens).toBeGreaterThan(first.at(-1)!.data.usage.promptTokens + 10);
    const messages = (await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/messages`, headers: auth(user) })).json().messages;
    expect(messages.map((m: { role: string; content: string }) => [m.role, m.content])).toEqual([
      ['user', edited],
      ['assistant', events.filter((e) => e.event === 'content').map((e) => e.data.delta).join('')],
    ]);
    expect(messages[0].siblingIds).toEqual([first[0]!.data.userMessageId, events[0]!.data.userMessageId]);
  });

  it('409 run_in_progress while an answer streams, 409 nothing_to_regenerate without a user message, 404 for a missing session', async () => {
    const user = await registerUser(stack.url);
    const empty = await createSession(user);
    expectError(await app.inject({ method: 'POST', url: `/api/sessions/${empty}/regenerate`, headers: auth(user), payload: {} }), 409, 'nothing_to_regenerate');

    const sessionId = await createSession(user);
    const start = await readSse(stack.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'Keep going', params: { maxNewTokens: 2000, seed: 6, temperature: 1 } },
      until: (_event, events) => events.length === 2,
    });
    const runId: string = start.events[0]!.data.runId;
    const busy = await app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/regenerate`, headers: auth(user), payload: { content: 'other' } });
    expectError(busy, 409, 'run_in_progress');
    expect(busy.json().error.message).toMatch(/still being generated/);
    await app.inject({ method: 'POST', url: `/api/runs/${runId}/stop`, headers: auth(user) });
    // Stopped: now it may be regenerated, and the edit from the refused call was never applied.
    const again = await regenerate(user, sessionId, { params: { maxNewTokens: 4 } });
    expect(again.events.at(-1)!.event).toBe('done');
    const messages = (await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/messages`, headers: auth(user) })).json().messages;
    expect(messages.map((m: { content: string; status: string }) => m.status)).toEqual(['complete', 'complete']);
    expect(messages[0].content).toBe('Keep going');

    expectError(await app.inject({ method: 'POST', url: `/api/sessions/${MISSING_ID}/regenerate`, headers: auth(user), payload: {} }), 404, 'not_found');
    expectError(await app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/regenerate`, payload: {} }), 401, 'unauthenticated');
  });
});

describe('models', () => {
  it('describes the built-in tiny model to a signed-in user; 401 without a token', async () => {
    const user = await registerUser(stack.url);
    const response = await app.inject({ method: 'GET', url: '/api/models', headers: auth(user) });
    expect(response.statusCode).toBe(200);
    const { state, models } = response.json();
    expect(state).toBe('ready');
    expect(models).toHaveLength(1);
    expect(models[0]).toEqual({
      id: expect.any(String),
      source: 'built-in',
      builtIn: true,
      maxContextTokens: expect.any(Number),
      maxNewTokensLimit: expect.any(Number),
      maxPromptTokens: expect.any(Number),
    });
    expect(models[0].maxContextTokens).toBeGreaterThan(0);
    expect(models[0].maxPromptTokens).toBeLessThan(models[0].maxContextTokens);
    expect(models[0].maxNewTokensLimit).toBeGreaterThan(0);
    expectError(await app.inject({ method: 'GET', url: '/api/models' }), 401, 'unauthenticated');
  });

  /** A second gateway on the stack's auth and chat, with its own inference address. */
  async function gatewayWithInference(inferenceAddress: string) {
    const config = loadGatewayConfig({
      env: {
        PORT: '0',
        FREECHAT_AUTH_ADDRESS: stack.auth.address,
        FREECHAT_CHAT_ADDRESS: stack.chat.address,
        FREECHAT_INFERENCE_ADDRESS: inferenceAddress,
      },
    });
    return startGatewayServer({ config: { ...config, shutdown: { graceMs: 2_000 } }, logger: stack.logger });
  }

  it('503 upstream_unavailable with a fixed message when inference is down, while /readyz stays ready', async () => {
    const deadAddress = `127.0.0.1:${await freePort()}`;
    const gateway = await gatewayWithInference(deadAddress);
    try {
      const user = await registerUser(gateway.url);
      const response = await gateway.app.inject({ method: 'GET', url: '/api/models', headers: auth(user) });
      expectError(response, 503, 'upstream_unavailable');
      expect(response.json().error.message).toBe('the model service is unavailable; try again shortly');
      expect(response.body).not.toContain(deadAddress.split(':')[1]);
      // Chatting needs auth and chat; the model may still be loading or restarting.
      const ready = await gateway.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json().upstreams).toEqual({ auth: 'SERVING', chat: 'SERVING', inference: 'UNREACHABLE' });
    } finally {
      await gateway.close();
    }
  });

  it('says "loading" (not cached) while inference is up but its model is not loaded yet', async () => {
    let failLoad: (error: Error) => void = () => {};
    const loading = await startInferenceServer({
      config: loadInferenceConfig({ env: { FREECHAT_INFERENCE_ADDRESS: '127.0.0.1:0' } }),
      logger: stack.logger,
      modelResolver: () => new Promise((_resolve, reject) => (failLoad = reject)),
    });
    const gateway = await gatewayWithInference(loading.address);
    try {
      const user = await registerUser(gateway.url);
      for (let i = 0; i < 2; i++) {
        const response = await gateway.app.inject({ method: 'GET', url: '/api/models', headers: auth(user) });
        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual({ state: 'loading', models: [] });
      }
    } finally {
      await gateway.close();
      await loading.close();
      failLoad(new Error('test over'));
    }
  });
});

describe('health', () => {
  it('is alive and ready when auth and chat serve', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', upstreams: { auth: 'SERVING', chat: 'SERVING', inference: 'SERVING' } });
  });

  it('is not ready while chat is down, naming chat, and chat calls are 503 with the error shape', async () => {
    const config = loadGatewayConfig({
      env: {
        PORT: '0',
        FREECHAT_AUTH_ADDRESS: stack.auth.address,
        FREECHAT_CHAT_ADDRESS: `127.0.0.1:${await freePort()}`,
        FREECHAT_INFERENCE_ADDRESS: stack.inference.address,
      },
    });
    const gateway = await startGatewayServer({ config: { ...config, shutdown: { graceMs: 2_000 } }, logger: stack.logger });
    try {
      const ready = await gateway.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({
        error: { code: 'service_unavailable', message: 'not ready: chat UNREACHABLE' },
        status: 'unavailable',
        upstreams: { auth: 'SERVING', chat: 'UNREACHABLE', inference: 'SERVING' },
      });
      const user = await registerUser(gateway.url);
      expectError(await gateway.app.inject({ method: 'GET', url: '/api/sessions', headers: auth(user) }), 503, 'service_unavailable');
    } finally {
      await gateway.close();
    }
  });
});

describe('shutdown', () => {
  it('drains keep-alive connections first: a client reusing its connection gets its answer and Connection: close', async () => {
    const config = loadGatewayConfig({
      env: { PORT: '0', FREECHAT_AUTH_ADDRESS: stack.auth.address, FREECHAT_CHAT_ADDRESS: stack.chat.address },
    });
    const second = await startGatewayServer({ config: { ...config, http: { ...config.http, drainMs: 4_000 }, shutdown: { graceMs: 5_000 } }, logger: stack.logger });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (): Promise<{ status: number; connection: string | undefined; socket: object }> =>
      new Promise((resolve, reject) => {
        http
          .get(`${second.url}/healthz`, { agent }, (response) => {
            const socket = response.socket;
            response.resume();
            response.on('end', () => resolve({ status: response.statusCode!, connection: response.headers.connection, socket }));
          })
          .on('error', reject);
      });
    try {
      const first = await get();
      expect(first.connection).toBe('keep-alive');
      const started = Date.now();
      const closing = second.close();
      // The server is closing but still draining: the kept connection is answered, and told to close.
      await new Promise((r) => setTimeout(r, 200));
      const during = await get();
      expect(during).toMatchObject({ status: 200, connection: 'close' });
      expect(during.socket).toBe(first.socket);
      await closing;
      // Done once that connection was dropped, well before the 4 s drain ran out.
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      agent.destroy();
      await second.close();
    }
  });

  it('ends open event streams politely and closes promptly', async () => {
    const config = loadGatewayConfig({
      env: { PORT: '0', FREECHAT_AUTH_ADDRESS: stack.auth.address, FREECHAT_CHAT_ADDRESS: stack.chat.address },
    });
    // This test's own idle keep-alive connections would hold the drain for all of it.
    const second = await startGatewayServer({ config: { ...config, http: { ...config.http, drainMs: 300 }, shutdown: { graceMs: 5_000 } }, logger: stack.logger });
    const user = await registerUser(second.url);
    const sessionId = (await jsonRequest(second.url, '/api/sessions', { method: 'POST', token: user.accessToken, body: {} })).body.id;
    const reading = readSse(second.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'keep talking', params: { maxNewTokens: 2000, seed: 2, temperature: 1 } },
    });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await second.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    const result = await reading;
    expect(result.events[0]!.event).toBe('run');
    expect(result.comments.some((c) => c.includes('shutting down'))).toBe(true);
    // The run goes on without this gateway; the stack's gateway can pick it up.
    const runId = result.events[0]!.data.runId;
    const resumed = await readSse(stack.url, `/api/runs/${runId}/events`, {
      token: user.accessToken,
      headers: { 'last-event-id': result.events.at(-1)!.id! },
      until: () => true,
    });
    expect(seqOf(resumed.events[0]!)).toBe(seqOf(result.events.at(-1)!) + 1);
    await jsonRequest(stack.url, `/api/runs/${runId}/stop`, { method: 'POST', token: user.accessToken });
  });
});
