// How long is too long, end to end on the real stack (PostgreSQL, inference on the tiny model, auth,
// chat, gateway): the model's prompt limit in tokens is served by GET /api/models, and a message
// over it ends its run with the SSE `error` `prompt_too_long` naming the limit and the prompt's count.
import path from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, registerUser, type TestUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ generatedTitles: false, gateway: { webUi: { dir: path.join(tmpdir(), 'freechat-no-ui-built') } } });
});
afterAll(async () => {
  await stack?.close();
});

const auth = (user: TestUser) => ({ authorization: `Bearer ${user.accessToken}` });

async function createSession(user: TestUser): Promise<string> {
  const response = await stack.gateway.app.inject({ method: 'POST', url: '/api/sessions', headers: auth(user), payload: {} });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

describe('a prompt over the model token limit', () => {
  it('is refused with prompt_too_long naming the limit served by /api/models and the actual count; a short one then runs', async () => {
    const user = await registerUser(stack.url);
    const models = await stack.gateway.app.inject({ method: 'GET', url: '/api/models', headers: auth(user) });
    const limit: number = models.json().models[0].maxPromptTokens;
    expect(limit).toBeGreaterThan(0);

    const sessionId = await createSession(user);
    // Within the gateway's 32,000 characters, but about 3 tokens per 13 characters: over the limit.
    const content = 'tell me more '.repeat(2_400);
    const sent = await readSse(stack.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content, params: { maxNewTokens: 4 } },
    });
    expect(sent.status).toBe(200);
    const last = sent.events.at(-1)!;
    expect(last.event).toBe('error');
    expect(last.data.code).toBe('prompt_too_long');
    const counts = /the prompt is (\d+) tokens; the model accepts at most (\d+) prompt tokens$/.exec(last.data.message);
    expect(last.data.message, 'names both counts').toMatch(/^the conversation is too long for the model: /);
    expect(Number(counts![2])).toBe(limit);
    expect(Number(counts![1])).toBeGreaterThan(limit);

    // The conversation is not stuck: the next short message drops the huge turn and is answered.
    const next = await readSse(stack.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'A short one', params: { maxNewTokens: 4 } },
    });
    expect(next.events.at(-1)!.event).toBe('done');
  });
});
