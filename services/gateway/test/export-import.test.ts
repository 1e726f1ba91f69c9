// Export and import on the real stack: a conversation with a regenerated answer (two branches)
// exported as JSON (the whole tree) and Markdown (the branch shown), everything of a user's, and
// imported back (ours and ChatGPT's conversations.json) with its branches; another user's session
// is 404; a file that is not an export is a clear 400 that creates nothing.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, regenerate, sendMessage, type Turn } from './support/conversation.js';
import { jsonRequest, registerUser, type TestUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';

const chatGptFile: unknown = JSON.parse(readFileSync(new URL('./fixtures/chatgpt-conversations.json', import.meta.url), 'utf8'));

let stack: Stack;
let alice: TestUser;
let sessionId: string;
let first: Turn;
let second: Turn;

beforeAll(async () => {
  stack = await startStack({ generatedTitles: false });
  alice = await registerUser(stack.url, 'alice');
  sessionId = await createSession(stack.url, alice, 'Arithmetic: 2 + 2');
  first = await sendMessage(stack.url, alice, sessionId, 'What is 2 + 2?', 1);
  second = await regenerate(stack.url, alice, sessionId, 2);
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const branchOf = async (user: TestUser, id: string) =>
  (await jsonRequest(stack.url, `/api/sessions/${id}/messages`, { token: user.accessToken })).body.messages as {
    id: string;
    role: string;
    content: string;
    reasoning: string;
    status: string;
    siblingIds: string[];
  }[];

async function sessionTitles(user: TestUser): Promise<string[]> {
  return (await jsonRequest(stack.url, '/api/sessions', { token: user.accessToken })).body.sessions.map((s: { title: string }) => s.title);
}

describe('export', () => {
  it('JSON: the whole tree with both answers, the current leaf, as a download named after the title', async () => {
    const response = await jsonRequest(stack.url, `/api/sessions/${sessionId}/export`, { token: alice.accessToken });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="Arithmetic-2-2.json"; filename*=UTF-8''Arithmetic%202%20%2B%202.json`);
    const document = response.body;
    expect(document).toMatchObject({ format: 'freechat.conversation', version: 1, title: 'Arithmetic: 2 + 2', currentLeafId: second.assistantMessageId });
    expect(document.messages.map((m: { id: string; parentId: string | null; role: string; status: string }) => [m.id, m.parentId, m.role, m.status])).toEqual([
      [first.userMessageId, null, 'user', 'complete'],
      [first.assistantMessageId, first.userMessageId, 'assistant', 'complete'],
      [second.assistantMessageId, first.userMessageId, 'assistant', 'complete'],
    ]);
    expect(document.messages[2]).toMatchObject({ content: second.content, thinking: '', finishReason: expect.any(String), createdAt: expect.any(String) });
    expect(document.messages[2].timings.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('Markdown: the branch shown, readable, as a .md download', async () => {
    const response = await fetch(`${stack.url}/api/sessions/${sessionId}/export?format=markdown`, { headers: { authorization: `Bearer ${alice.accessToken}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="Arithmetic-2-2\.md"/);
    const markdown = await response.text();
    expect(markdown.startsWith('# Arithmetic: 2 + 2\n')).toBe(true);
    expect(markdown).toContain('**You**\n\nWhat is 2 + 2?');
    expect(markdown).toContain(`**Assistant**\n\n${second.content.trimEnd()}`);
    if (first.content.trim() !== second.content.trim()) expect(markdown).not.toContain(first.content.trim());
  });

  it('everything of the caller: every conversation like a single export, and the username', async () => {
    const other = await createSession(stack.url, alice, 'Empty one');
    const response = await jsonRequest(stack.url, '/api/me/export', { token: alice.accessToken });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="freechat-export-\d{4}-\d{2}-\d{2}\.json"$/);
    expect(response.body).toMatchObject({ format: 'freechat.export', version: 1, user: { username: alice.username } });
    const titles = response.body.conversations.map((c: { title: string }) => c.title);
    expect(titles).toEqual(['Arithmetic: 2 + 2', 'Empty one']);
    expect(response.body.conversations[0].messages).toHaveLength(3);
    await jsonRequest(stack.url, `/api/sessions/${other}`, { method: 'DELETE', token: alice.accessToken });
  });

  it("another user's session is 404 in both formats, like a missing one", async () => {
    const bob = await registerUser(stack.url, 'bob');
    for (const query of ['', '?format=markdown']) {
      const theirs = await jsonRequest(stack.url, `/api/sessions/${sessionId}/export${query}`, { token: bob.accessToken });
      const missing = await jsonRequest(stack.url, `/api/sessions/00000000-0000-4000-8000-000000000000/export${query}`, { token: bob.accessToken });
      expect(theirs.status).toBe(404);
      expect(theirs.body).toEqual(missing.body);
    }
    expect((await jsonRequest(stack.url, `/api/sessions/${sessionId}/export`)).status).toBe(401);
    expect((await jsonRequest(stack.url, '/api/me/export')).status).toBe(401);
  });
});

describe('import', () => {
  it("our export imported by another user: a new session with new ids and the same two branches", async () => {
    const file = (await jsonRequest(stack.url, '/api/me/export', { token: alice.accessToken })).body;
    const carol = await registerUser(stack.url, 'carol');
    const response = await jsonRequest(stack.url, '/api/import', { method: 'POST', token: carol.accessToken, body: file });
    expect(response.status).toBe(201);
    expect(response.body.imported).toEqual([{ sessionId: expect.any(String), title: 'Arithmetic: 2 + 2', messages: 3 }]);
    const imported = response.body.imported[0].sessionId;
    expect(imported).not.toBe(sessionId);

    const branch = await branchOf(carol, imported);
    expect(branch.map((m) => [m.role, m.content])).toEqual([
      ['user', 'What is 2 + 2?'],
      ['assistant', second.content],
    ]);
    expect(branch.map((m) => m.id)).not.toContain(second.assistantMessageId);
    // Both answers are there: the shown one is the second of two siblings.
    expect(branch[1]!.siblingIds).toHaveLength(2);
    expect(branch[1]!.siblingIds[1]).toBe(branch[1]!.id);
    const siblings = await jsonRequest(stack.url, `/api/sessions/${imported}/branch`, { method: 'POST', token: carol.accessToken, body: { messageId: branch[1]!.siblingIds[0] } });
    expect(siblings.status).toBe(200);
    expect((await branchOf(carol, imported))[1]!.content).toBe(first.content);
    // Still Alice's only: her conversation is untouched and Carol's import is not hers.
    expect((await jsonRequest(stack.url, `/api/sessions/${imported}`, { token: alice.accessToken })).status).toBe(404);
    expect(await sessionTitles(carol)).toEqual(['Arithmetic: 2 + 2']);
  });

  it("ChatGPT's conversations.json: the edited question is a branch, the current node is shown, and it can go on", async () => {
    const dave = await registerUser(stack.url, 'dave');
    const response = await jsonRequest(stack.url, '/api/import', { method: 'POST', token: dave.accessToken, body: chatGptFile });
    expect(response.status).toBe(201);
    expect(response.body.imported.map((s: { title: string; messages: number }) => [s.title, s.messages])).toEqual([
      ['Sourdough starter help', 6],
      ['Imported chat', 2],
    ]);
    const sourdough = response.body.imported[0].sessionId;
    const branch = await branchOf(dave, sourdough);
    expect(branch.map((m) => [m.role, m.content])).toEqual([
      ['user', 'How often should I feed a sourdough starter?'],
      ['assistant', 'Once a day at room temperature, or once a week if it lives in the fridge.'],
      ['user', 'What flour is best for a **rye** starter?'],
      ['assistant', 'For rye, use **whole rye flour**:\n\n- it ferments quickly\n- it needs more water'],
    ]);
    expect(branch[2]!.siblingIds).toHaveLength(2);
    expect(branch[2]!.siblingIds[1]).toBe(branch[2]!.id);
    // A reasoning model's thoughts arrive as the answer's thinking.
    const untitled = await branchOf(dave, response.body.imported[1].sessionId);
    expect(untitled.map((m) => [m.role, m.content, m.reasoning])).toEqual([
      ['user', 'Say hi', ''],
      ['assistant', 'Hi!', 'Greeting\n\nA short, friendly greeting is enough.'],
    ]);
    // Sessions sort by their last activity in the file: the newer conversation first.
    expect(await sessionTitles(dave)).toEqual(['Imported chat', 'Sourdough starter help']);

    const next = await sendMessage(stack.url, dave, sourdough, 'And how warm should it be?');
    const after = await branchOf(dave, sourdough);
    expect(after.map((m) => m.id).slice(-2)).toEqual([next.userMessageId, next.assistantMessageId]);
    expect(after.at(-3)!.id).toBe(branch.at(-1)!.id);
  });

  it('a file that is not an export is a clear 400 and creates nothing', async () => {
    const erin = await registerUser(stack.url, 'erin');
    const post = (body: string) =>
      fetch(`${stack.url}/api/import`, { method: 'POST', headers: { authorization: `Bearer ${erin.accessToken}`, 'content-type': 'application/json' }, body }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as { error: { code: string; message: string } } }),
      );
    const goodConversation = (await jsonRequest(stack.url, `/api/sessions/${sessionId}/export`, { token: alice.accessToken })).body;
    const cases: [string, RegExp][] = [
      ['{"format": "freechat.export", ', /JSON/],
      ['{"hello": "world"}', /^unknown file format: expected a Free Chat export/],
      ['"just a string"', /body/],
      ['[]', /the file holds no conversation/],
      [JSON.stringify([{ title: 'x', mapping: 'nope' }]), /^not a valid ChatGPT export: \[0\]\.mapping: must be an object of nodes$/],
      [JSON.stringify({ ...goodConversation, messages: [{ ...goodConversation.messages[0], role: 'system' }] }), /^not a valid freechat\.conversation file: \/messages\/0\/role/],
      [JSON.stringify({ ...goodConversation, messages: goodConversation.messages.slice(1) }), /parent_ref: ".*" is not a message of the conversation/],
      [JSON.stringify({ ...goodConversation, messages: [{ ...goodConversation.messages[0], content: 'x'.repeat(200_001) }] }), /at most 200000 characters/],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      expect(response.status, body.slice(0, 60)).toBe(400);
      expect(response.body.error.message, body.slice(0, 60)).toMatch(message);
    }
    expect(await sessionTitles(erin)).toEqual([]);
  });

  it('takes files far above the usual body limit, up to 20 MB', async () => {
    const frank = await registerUser(stack.url, 'frank');
    const conversations = Array.from({ length: 40 }, (_, i) => ({
      title: `Long ${i}`,
      create_time: 1714550400 + i,
      mapping: { r: { id: 'r', parent: null, children: ['q'], message: { author: { role: 'user' }, content: { content_type: 'text', parts: ['y'.repeat(100_000)] } } }, q: { id: 'q', parent: 'r', children: [], message: null } },
      current_node: 'r',
    }));
    const accepted = await jsonRequest(stack.url, '/api/import', { method: 'POST', token: frank.accessToken, body: conversations });
    expect(accepted.status).toBe(201);
    expect(accepted.body.imported).toHaveLength(40);
    const tooBig = await jsonRequest(stack.url, '/api/import', { method: 'POST', token: frank.accessToken, body: [{ title: 'x', mapping: {}, pad: 'z'.repeat(21 * 1024 * 1024) }] });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('payload_too_large');
    // Other routes keep the usual limit.
    const elsewhere = await jsonRequest(stack.url, '/api/sessions', { method: 'POST', token: frank.accessToken, body: { title: 'x'.repeat(100_000) } });
    expect(elsewhere.status).toBe(413);
  });
});
