// Share links on the real stack: the owner shares the branch a conversation shows; anyone reads it
// without signing in; it stays as it was when the conversation goes on; revoking, or deleting the
// conversation, turns it into the same 404 as an unknown token; nobody else can share or revoke.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, regenerate, sendMessage } from './support/conversation.js';
import { jsonRequest, registerUser, type TestUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
let alice: TestUser;

beforeAll(async () => {
  stack = await startStack({ generatedTitles: false });
  alice = await registerUser(stack.url, 'alice');
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const share = (user: TestUser, sessionId: string) => jsonRequest(stack.url, `/api/sessions/${sessionId}/share`, { method: 'POST', token: user.accessToken });
const readShared = (token: string) => jsonRequest(stack.url, `/api/shared/${token}`);

describe('share links', () => {
  it('anyone with the link reads the branch as it was shared, without signing in; it does not follow the conversation', async () => {
    const sessionId = await createSession(stack.url, alice, 'Trip to Lisbon');
    await sendMessage(stack.url, alice, sessionId, 'Where should I eat in Lisbon?', 1);
    const shown = await regenerate(stack.url, alice, sessionId, 2);

    const created = await share(alice, sessionId);
    expect(created.status).toBe(201);
    const { token, url } = created.body;
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(url).toBe(`/s/${token}`);

    const read = await readShared(token);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ title: 'Trip to Lisbon', sharedAt: expect.any(String) });
    expect(read.body.messages.map((m: { role: string; content: string }) => [m.role, m.content])).toEqual([
      ['user', 'Where should I eat in Lisbon?'],
      ['assistant', shown.content],
    ]);
    expect(read.body.messages[0]).toEqual({ role: 'user', content: 'Where should I eat in Lisbon?', thinking: '', createdAt: expect.any(String) });

    // The conversation goes on and is renamed: the link still shows what was shared.
    await sendMessage(stack.url, alice, sessionId, 'And for dessert?', 3);
    await jsonRequest(stack.url, `/api/sessions/${sessionId}`, { method: 'PATCH', token: alice.accessToken, body: { title: 'Renamed' } });
    expect((await readShared(token)).body).toEqual(read.body);

    // A new link shares the conversation as it is now; both are listed, newest first.
    const later = await share(alice, sessionId);
    expect(later.body.token).not.toBe(token);
    const laterRead = await readShared(later.body.token);
    expect(laterRead.body.title).toBe('Renamed');
    expect(laterRead.body.messages).toHaveLength(4);
    const listed = await jsonRequest(stack.url, `/api/sessions/${sessionId}/share`, { token: alice.accessToken });
    expect(listed.body.links.map((l: { token: string }) => l.token)).toEqual([later.body.token, token]);

    // The web UI answers the link's page without a login.
    const page = await fetch(`${stack.url}${url}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('revoking ends every link of the conversation: the same 404 as a token that never existed', async () => {
    const sessionId = await createSession(stack.url, alice, 'To revoke');
    await sendMessage(stack.url, alice, sessionId, 'Hello');
    const one = (await share(alice, sessionId)).body.token;
    const two = (await share(alice, sessionId)).body.token;
    expect((await readShared(one)).status).toBe(200);

    const revoked = await jsonRequest(stack.url, `/api/sessions/${sessionId}/share`, { method: 'DELETE', token: alice.accessToken });
    expect(revoked.status).toBe(204);
    const unknown = await readShared('AAAAAAAAAAAAAAAAAAAAAA');
    expect(unknown.status).toBe(404);
    for (const token of [one, two]) {
      const gone = await readShared(token);
      expect(gone.status).toBe(404);
      expect(gone.body).toEqual(unknown.body);
    }
    expect((await readShared('not-a-token')).body).toEqual(unknown.body);
    expect((await jsonRequest(stack.url, `/api/sessions/${sessionId}/share`, { token: alice.accessToken })).body.links).toEqual([]);
    // Sharing again works and makes a new link.
    expect((await readShared((await share(alice, sessionId)).body.token)).status).toBe(200);
  });

  it('deleting the conversation revokes its links', async () => {
    const sessionId = await createSession(stack.url, alice, 'To delete');
    await sendMessage(stack.url, alice, sessionId, 'Hello');
    const token = (await share(alice, sessionId)).body.token;
    expect((await readShared(token)).status).toBe(200);
    expect((await jsonRequest(stack.url, `/api/sessions/${sessionId}`, { method: 'DELETE', token: alice.accessToken })).status).toBe(204);
    expect((await readShared(token)).status).toBe(404);
  });

  it("another user's conversation cannot be shared, listed or revoked: 404 like a missing one; signing in is required", async () => {
    const sessionId = await createSession(stack.url, alice, 'Private');
    await sendMessage(stack.url, alice, sessionId, 'Secret plans');
    const token = (await share(alice, sessionId)).body.token;
    const bob = await registerUser(stack.url, 'bob');
    const missing = await share(bob, '00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    for (const method of ['POST', 'GET', 'DELETE']) {
      const response = await jsonRequest(stack.url, `/api/sessions/${sessionId}/share`, { method, token: bob.accessToken });
      expect(response.status, method).toBe(404);
      expect(response.body, method).toEqual(missing.body);
      expect((await jsonRequest(stack.url, `/api/sessions/${sessionId}/share`, { method })).status, method).toBe(401);
    }
    // Bob's DELETE revoked nothing.
    expect((await readShared(token)).status).toBe(200);
  });
});
