// GET and PATCH /api/me/settings on the whole stack: the auth service keeps each person's settings,
// so a second login (another browser) finds what the first one saved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonRequest, registerUser, type TestUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

const DEFAULTS = { thinking: true, temperature: 0.7, maxTokens: 1024, theme: 'system', language: null };
const settingsOf = (user: TestUser) => jsonRequest(stack.url, '/api/me/settings', { token: user.accessToken });
const patch = (user: TestUser, body: unknown) => jsonRequest(stack.url, '/api/me/settings', { method: 'PATCH', token: user.accessToken, body });

describe('/api/me/settings', () => {
  it('requires a signed-in user', async () => {
    for (const method of ['GET', 'PATCH']) {
      const response = await jsonRequest(stack.url, '/api/me/settings', { method, ...(method === 'PATCH' && { body: { thinking: false } }) });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
    }
  });

  it('answers the defaults to someone who never saved any', async () => {
    const user = await registerUser(stack.url);
    const response = await settingsOf(user);
    expect(response.status).toBe(200);
    expect(response.body).toEqual(DEFAULTS);
  });

  it('changes only the fields given, and a new login finds them', async () => {
    const user = await registerUser(stack.url);
    const first = await patch(user, { temperature: 1.3, theme: 'dark' });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ ...DEFAULTS, temperature: 1.3, theme: 'dark' });
    const second = await patch(user, { thinking: false, maxTokens: 300, language: 'zh-cn' });
    const saved = { thinking: false, temperature: 1.3, maxTokens: 300, theme: 'dark', language: 'zh-CN' };
    expect(second.body).toEqual(saved);
    // Another browser: a fresh login, a new token.
    const login = await jsonRequest(stack.url, '/api/auth/login', { method: 'POST', body: { username: user.username, password: user.password } });
    expect((await jsonRequest(stack.url, '/api/me/settings', { token: login.body.accessToken })).body).toEqual(saved);
    // null forgets the language.
    expect((await patch(user, { language: null })).body).toEqual({ ...saved, language: null });
  });

  it('refuses bad input with 400 and the error shape, and keeps what was saved', async () => {
    const user = await registerUser(stack.url);
    await patch(user, { temperature: 0.2 });
    const bad: [unknown, RegExp][] = [
      [{}, /fewer than 1 properties/],
      [{ temperature: 2.5 }, /temperature/],
      [{ temperature: -0.1 }, /temperature/],
      [{ temperature: '1' }, /temperature/],
      [{ maxTokens: 0 }, /maxTokens/],
      [{ maxTokens: 32_769 }, /maxTokens/],
      [{ maxTokens: 12.5 }, /maxTokens/],
      [{ theme: 'sepia' }, /theme/],
      [{ thinking: 'yes' }, /thinking/],
      [{ language: 'Klingon please' }, /^language: must be a language tag such as "en" or "zh-CN"$/],
      [{ language: '' }, /language/],
      [{ fontSize: 14 }, /additional properties/i],
      [{ thinking: false, maxTokens: 0 }, /maxTokens/],
    ];
    for (const [body, message] of bad) {
      const response = await patch(user, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toEqual({ error: { code: 'invalid_request', message: expect.stringMatching(message) } });
    }
    expect((await settingsOf(user)).body).toEqual({ ...DEFAULTS, temperature: 0.2 });
  });

  it('keeps one person’s settings from everyone else', async () => {
    const ada = await registerUser(stack.url, 'ada');
    const bob = await registerUser(stack.url, 'bob');
    await patch(ada, { theme: 'light', temperature: 0.1, language: 'fr' });
    expect((await settingsOf(bob)).body).toEqual(DEFAULTS);
    await patch(bob, { theme: 'dark', maxTokens: 64 });
    expect((await settingsOf(ada)).body).toEqual({ ...DEFAULTS, theme: 'light', temperature: 0.1, language: 'fr' });
    expect((await settingsOf(bob)).body).toEqual({ ...DEFAULTS, theme: 'dark', maxTokens: 64 });
  });
});
