// Fork through the public API on the real backend: a new conversation from the branch up to a message.
import path from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonRequest, readSse, registerUser, type TestUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ gateway: { webUi: { dir: path.join(tmpdir(), 'freechat-no-ui-built') } } });
});
afterAll(async () => {
  await stack?.close();
});

async function say(user: TestUser, sessionId: string, content: string) {
  const { events } = await readSse(stack.url, `/api/sessions/${sessionId}/messages`, { method: 'POST', token: user.accessToken, body: { content, params: { maxNewTokens: 3 } } });
  return { question: events[0]!.data.userMessageId as string, answer: events[0]!.data.assistantMessageId as string };
}

const branchOf = async (user: TestUser, sessionId: string) =>
  (await jsonRequest(stack.url, `/api/sessions/${sessionId}/messages`, { token: user.accessToken })).body.messages as { id: string; role: string; content: string; parentId: string | null }[];

describe('POST /api/sessions/:id/fork', () => {
  it('copies the branch up to the message into a new conversation, shown from there; the source is untouched', async () => {
    const user = await registerUser(stack.url, 'forker');
    const source = (await jsonRequest(stack.url, '/api/sessions', { method: 'POST', token: user.accessToken, body: { title: 'Planets' } })).body;
    const first = await say(user, source.id, 'Tell me about Mars');
    await say(user, source.id, 'And Venus?');
    const before = await branchOf(user, source.id);

    const forked = await jsonRequest(stack.url, `/api/sessions/${source.id}/fork`, { method: 'POST', token: user.accessToken, body: { messageId: first.answer } });
    expect(forked.status).toBe(201);
    expect(forked.body).toMatchObject({ title: 'Planets (fork)' });
    expect(forked.body.id).not.toBe(source.id);
    const copy = await branchOf(user, forked.body.id);
    // The first question and its answer, with the same text, under new ids linked as one branch.
    expect(copy.map((m) => [m.role, m.content])).toEqual(before.slice(0, 2).map((m) => [m.role, m.content]));
    expect(copy.map((m) => m.id)).not.toContain(first.question);
    expect(copy[1]!.parentId).toBe(copy[0]!.id);
    expect(forked.body.currentLeafId).toBe(copy[1]!.id);
    // The fork goes on by itself; the source keeps all four messages.
    await say(user, forked.body.id, 'What about Jupiter?');
    expect(await branchOf(user, forked.body.id)).toHaveLength(4);
    expect(await branchOf(user, source.id)).toEqual(before);
    const listed = (await jsonRequest(stack.url, '/api/sessions', { token: user.accessToken })).body.sessions.map((s: { title: string }) => s.title);
    expect(listed).toEqual(expect.arrayContaining(['Planets', 'Planets (fork)']));
  });

  it("answers 404 for another user's conversation or a message outside it, 400 for a bad id", async () => {
    const owner = await registerUser(stack.url, 'forker');
    const sessionId = (await jsonRequest(stack.url, '/api/sessions', { method: 'POST', token: owner.accessToken, body: {} })).body.id;
    const { answer } = await say(owner, sessionId, 'Mine');
    const other = await registerUser(stack.url, 'stranger');
    const stolen = await jsonRequest(stack.url, `/api/sessions/${sessionId}/fork`, { method: 'POST', token: other.accessToken, body: { messageId: answer } });
    expect([stolen.status, stolen.body.error.code]).toEqual([404, 'not_found']);
    const otherSession = (await jsonRequest(stack.url, '/api/sessions', { method: 'POST', token: other.accessToken, body: {} })).body.id;
    const outside = await jsonRequest(stack.url, `/api/sessions/${otherSession}/fork`, { method: 'POST', token: other.accessToken, body: { messageId: answer } });
    expect([outside.status, outside.body.error.code]).toEqual([404, 'not_found']);
    const bad = await jsonRequest(stack.url, `/api/sessions/${sessionId}/fork`, { method: 'POST', token: owner.accessToken, body: { messageId: 'nope' } });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_request']);
    expect((await jsonRequest(stack.url, '/api/sessions', { token: other.accessToken })).body.sessions).toHaveLength(1);
  });
});
