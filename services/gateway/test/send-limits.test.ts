// What a send is refused for, through the public API on the real stack (PostgreSQL, inference on the
// tiny model, auth, chat): text PostgreSQL cannot store (400 naming the field), max_new_tokens above
// the model's limit (400, nothing stored), a send while the conversation answers (409
// run_in_progress) and more running answers than a user may have (429 too_many_runs).
import path from 'node:path';
import { tmpdir } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser, type TestUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await startStack({ generatedTitles: false, gateway: { webUi: { dir: path.join(tmpdir(), 'freechat-no-ui-built') } } });
  app = stack.gateway.app;
});
afterAll(async () => {
  await stack?.close();
});

const auth = (user: TestUser) => ({ authorization: `Bearer ${user.accessToken}` });

function expectError(response: { statusCode: number; json(): any }, status: number, code: string): { code: string; message: string } {
  expect({ status: response.statusCode, code: response.json().error?.code }).toEqual({ status, code });
  expect(Object.keys(response.json())).toEqual(['error']);
  return response.json().error;
}

async function createSession(user: TestUser): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/api/sessions', headers: auth(user), payload: {} });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

const messagesOf = async (user: TestUser, sessionId: string) =>
  (await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/messages`, headers: auth(user) })).json().messages as { role: string }[];

/** A long answer started over real HTTP, read up to its `run` event; `stop()` stops it and drops the stream. */
async function running(user: TestUser, sessionId: string) {
  const controller = new AbortController();
  const response = await fetch(`${stack.url}/api/sessions/${sessionId}/messages`, {
    method: 'POST',
    headers: { ...auth(user), 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ content: 'Keep talking', params: { seed: 3, temperature: 1, maxNewTokens: 2000 } }),
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  let text = '';
  while (!/^id: [0-9a-f-]{36}:1$/m.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  const runId = /^id: ([0-9a-f-]{36}):1$/m.exec(text)![1]!;
  return {
    stop: async () => {
      expect((await app.inject({ method: 'POST', url: `/api/runs/${runId}/stop`, headers: auth(user) })).statusCode).toBe(204);
      controller.abort();
    },
  };
}

describe('text PostgreSQL cannot store is a 400 naming the field', () => {
  it('NUL or an unpaired surrogate in content, an edit, a new title or a rename; nothing is stored', async () => {
    const user = await registerUser(stack.url);
    const sessionId = await createSession(user);
    // Raw JSON: "\u0000" and "\ud800" are valid JSON escapes.
    const cases: [string, string, string, string][] = [
      ['POST', `/api/sessions/${sessionId}/messages`, '{"content":"a\\u0000b"}', 'body/content'],
      ['POST', `/api/sessions/${sessionId}/messages`, '{"content":"half an emoji \\ud83d"}', 'body/content'],
      ['POST', `/api/sessions/${sessionId}/regenerate`, '{"content":"edit\\u0000"}', 'body/content'],
      ['POST', '/api/sessions', '{"title":"t\\u0000"}', 'body/title'],
      ['PATCH', `/api/sessions/${sessionId}`, '{"title":"\\udc00 low"}', 'body/title'],
      ['PATCH', `/api/sessions/${sessionId}`, '{"title":"nul\\u0000"}', 'body/title'],
    ];
    for (const [method, url, payload, field] of cases) {
      const response = await app.inject({ method: method as 'POST', url, payload, headers: { ...auth(user), 'content-type': 'application/json' } });
      const error = expectError(response, 400, 'invalid_request');
      expect(error.message).toBe(`${field} must not contain NUL characters or unpaired surrogates`);
    }
    expect(await messagesOf(user, sessionId)).toEqual([]);
    // A whole emoji (a surrogate pair) is fine.
    const renamed = await app.inject({ method: 'PATCH', url: `/api/sessions/${sessionId}`, payload: { title: 'ok 😀' }, headers: auth(user) });
    expect(renamed.json().title).toBe('ok 😀');
  });
});

describe("max_new_tokens above the model's limit", () => {
  it('is a 400 naming the field before anything is stored, on send and regenerate', async () => {
    const user = await registerUser(stack.url);
    const models = await app.inject({ method: 'GET', url: '/api/models', headers: auth(user) });
    const limit: number = models.json().models[0].maxNewTokensLimit;
    const sessionId = await createSession(user);
    for (const route of ['messages', 'regenerate']) {
      const response = await app.inject({
        method: 'POST',
        url: `/api/sessions/${sessionId}/${route}`,
        headers: auth(user),
        payload: { content: 'hello', params: { maxNewTokens: limit + 1 } },
      });
      const error = expectError(response, 400, 'invalid_request');
      expect(error.message).toBe(`params.max_new_tokens: must be at most ${limit}, the model's limit`);
    }
    expect(await messagesOf(user, sessionId)).toEqual([]);
  });
});

describe('running answers', () => {
  it('409 run_in_progress for a send while the conversation answers; 429 too_many_runs for a third running answer', async () => {
    const user = await registerUser(stack.url);
    const first = await createSession(user);
    const a = await running(user, first);
    const again = await app.inject({ method: 'POST', url: `/api/sessions/${first}/messages`, headers: auth(user), payload: { content: 'more' } });
    expectError(again, 409, 'run_in_progress');
    expect((await messagesOf(user, first)).map((m) => m.role)).toEqual(['user', 'assistant']);

    const b = await running(user, await createSession(user));
    const third = await createSession(user);
    const refused = await app.inject({ method: 'POST', url: `/api/sessions/${third}/messages`, headers: auth(user), payload: { content: 'one more' } });
    expectError(refused, 429, 'too_many_runs');
    expect(await messagesOf(user, third)).toEqual([]);

    await a.stop();
    const c = await running(user, third);
    await Promise.all([b.stop(), c.stop()]);
  });
});
