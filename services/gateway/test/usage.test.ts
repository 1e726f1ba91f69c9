// GET /api/me/usage on the whole stack, with domain events in-process (no ROCKETMQ_ENDPOINTS, as in
// `make run`): the same outbox → relay → consumers path titles conversations and counts usage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCRIPTED_TITLE, scriptedTitles } from '../../chat/test/support/events.js';
import { jsonRequest, readSse, registerUser, type TestUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ engineFactory: scriptedTitles });
});

afterAll(async () => {
  await stack?.close();
});

// Usage is counted from run.completed events through the outbox: seconds on a quiet machine, more on a loaded one.
async function until(condition: () => Promise<boolean>, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function converse(user: TestUser, content: string): Promise<{ sessionId: string; usage: { promptTokens: number; completionTokens: number } }> {
  const session = await jsonRequest(stack.url, '/api/sessions', { method: 'POST', token: user.accessToken, body: {} });
  const { events } = await readSse(stack.url, `/api/sessions/${session.body.id}/messages`, {
    method: 'POST',
    token: user.accessToken,
    body: { content, params: { maxNewTokens: 8, seed: 2 } },
  });
  const done = events.at(-1)!;
  expect(done.event).toBe('done');
  return { sessionId: session.body.id, usage: done.data.usage };
}

const usageOf = (user: TestUser, query = '') => jsonRequest(stack.url, `/api/me/usage${query}`, { token: user.accessToken });

describe('GET /api/me/usage', () => {
  it('counts the signed-in user’s answers and tokens per UTC day, and titles the conversation', async () => {
    const user = await registerUser(stack.url);
    const first = await converse(user, 'What do cats dream about?');
    await until(async () => (await usageOf(user)).body.total.requests === 1);
    const response = await usageOf(user, '?days=7');
    expect(response.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(response.body).toEqual({
      days: [{ date: today, requests: 1, ...first.usage }],
      total: { requests: 1, ...first.usage },
      from: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
    });
    // The window: 7 days, today included.
    expect(Date.parse(today) - Date.parse(response.body.from)).toBe(6 * 86_400_000);
    // The sidebar's list carries the generated title.
    await until(async () => (await jsonRequest(stack.url, `/api/sessions/${first.sessionId}`, { token: user.accessToken })).body.title === SCRIPTED_TITLE);
  });

  it('shows nobody else’s usage', async () => {
    const busy = await registerUser(stack.url, 'busy');
    const idle = await registerUser(stack.url, 'idle');
    await converse(busy, 'Hello');
    let seen: unknown;
    await until(async () => {
      const body = (await usageOf(busy)).body;
      seen = body;
      return body.total.requests === 1;
    }).catch((error: Error) => {
      throw new Error(`${error.message}; last usage ${JSON.stringify(seen)}`);
    });
    expect((await usageOf(idle)).body).toMatchObject({ days: [], total: { requests: 0, promptTokens: 0, completionTokens: 0 } });
  });

  it('requires a token and a sensible days', async () => {
    const anonymous = await jsonRequest(stack.url, '/api/me/usage');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
    const user = await registerUser(stack.url);
    for (const query of ['?days=0', '?days=367', '?days=abc', '?since=yesterday']) {
      const response = await usageOf(user, query);
      expect(response.status, query).toBe(400);
      expect(response.body, query).toEqual({ error: { code: 'invalid_request', message: expect.any(String) } });
    }
  });
});
