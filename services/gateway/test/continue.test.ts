// Continue through the public API on the real backend (PostgreSQL, inference on the tiny model, auth,
// chat): an answer cut at the token limit says so in its done event and grows in place.
import path from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonRequest, readSse, registerUser, type SseEventRecord, type TestUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ gateway: { webUi: { dir: path.join(tmpdir(), 'freechat-no-ui-built') } } });
});
afterAll(async () => {
  await stack?.close();
});

const contentOf = (events: readonly SseEventRecord[]) => events.filter((e) => e.event === 'content').map((e) => e.data.delta).join('');

async function cutAnswer(user: TestUser) {
  const session = await jsonRequest(stack.url, '/api/sessions', { method: 'POST', token: user.accessToken, body: {} });
  const sessionId: string = session.body.id;
  const { events } = await readSse(stack.url, `/api/sessions/${sessionId}/messages`, {
    method: 'POST',
    token: user.accessToken,
    body: { content: 'Tell me everything', enableThinking: false, params: { maxNewTokens: 5, temperature: 0 } },
  });
  return { sessionId, events, answerId: events[0]!.data.assistantMessageId as string };
}

describe('POST /api/sessions/:id/continue', () => {
  it('goes on with an answer cut at the token limit: the same message, the stream starting with the text so far', async () => {
    const user = await registerUser(stack.url, 'continuer');
    const { sessionId, events, answerId } = await cutAnswer(user);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finishReason: 'length', messageId: answerId } });

    const more = await readSse(stack.url, `/api/sessions/${sessionId}/continue`, {
      method: 'POST',
      token: user.accessToken,
      body: { messageId: answerId, enableThinking: false, params: { maxNewTokens: 4, temperature: 0 } },
    });
    expect(more.status).toBe(200);
    expect(more.events[0]).toMatchObject({ event: 'run', data: { assistantMessageId: answerId } });
    const whole = contentOf(more.events);
    expect(whole.startsWith(contentOf(events))).toBe(true);
    expect(more.events.at(-1)).toMatchObject({ event: 'done', data: { finishReason: 'length', usage: { completionTokens: 9 } } });

    const stored = await jsonRequest(stack.url, `/api/sessions/${sessionId}/messages`, { token: user.accessToken });
    expect(stored.body.messages.map((m: { id: string; content: string }) => [m.id, m.content])).toEqual([
      [events[0]!.data.userMessageId, 'Tell me everything'],
      [answerId, whole],
    ]);
  });

  it('answers 409 not_continuable for an answer with a question after it, and 404 for another user', async () => {
    const user = await registerUser(stack.url, 'continuer');
    const { sessionId, answerId } = await cutAnswer(user);
    await readSse(stack.url, `/api/sessions/${sessionId}/messages`, { method: 'POST', token: user.accessToken, body: { content: 'Next', params: { maxNewTokens: 2 } } });
    const refused = await jsonRequest(stack.url, `/api/sessions/${sessionId}/continue`, { method: 'POST', token: user.accessToken, body: { messageId: answerId } });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'not_continuable']);

    const other = await registerUser(stack.url, 'stranger');
    const hidden = await jsonRequest(stack.url, `/api/sessions/${sessionId}/continue`, { method: 'POST', token: other.accessToken, body: { messageId: answerId } });
    expect([hidden.status, hidden.body.error.code]).toEqual([404, 'not_found']);
  });
});
