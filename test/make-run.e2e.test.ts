// `make run` for real: embedded PostgreSQL and four service processes, a browser's HTTP calls,
// then Ctrl-C and a second start that still has the user, the session and the messages.
// Runs the built services (services/*/dist): `make test` builds first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killLeftovers, prepareMakeRun, startMakeRun, stopMakeRun, type MakeRunSetup } from './support/make-run.js';

let setup: MakeRunSetup;
const api: MakeRunSetup['api'] = (...args) => setup.api(...args);

/** Reads a whole SSE response into [event, data] pairs. */
async function readEvents(response: Response): Promise<{ event: string; data: any }[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((frame) => /^event:/m.test(frame))
    .map((frame) => ({
      event: /^event: ?(.*)$/m.exec(frame)![1]!,
      data: JSON.parse(/^data: ?(.*)$/m.exec(frame)![1]!),
    }));
}

beforeAll(async () => {
  setup = await prepareMakeRun('run');
});

afterAll(async () => {
  killLeftovers();
  await setup?.cleanup();
});

describe('make run', () => {
  it('serves a chat, stops cleanly on Ctrl-C, and keeps everything across a restart', async () => {
    let stack = (await startMakeRun(setup.env)).child;
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
});
