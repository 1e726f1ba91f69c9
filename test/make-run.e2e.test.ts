// `make run` for real: embedded PostgreSQL and four service processes, a browser's HTTP calls,
// then Ctrl-C and a second start that still has the user, the session and the messages.
// Runs the built services (services/*/dist): `make test` builds first.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../services/shared/src/index.js';

const root = path.resolve(import.meta.dirname, '..');
let dataDir: string;
let env: Record<string, string>;
let baseUrl: string;

async function startStack(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/run/main.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Free Chat is ready at')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`make run exited with ${code} before it was ready:\n${output.slice(-4000)}`)));
  });
  return child;
}

async function stopStack(child: ChildProcess): Promise<number | null> {
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const [code] = await exited;
  return code as number | null;
}

async function api(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const response = await fetch(`${baseUrl}${url}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

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
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'freechat-run-'));
  await chmod(dataDir, 0o755);
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  env = {
    FREECHAT_DATA_DIR: dataDir,
    PORT: String(port),
    FREECHAT_AUTH_ADDRESS: `127.0.0.1:${await freePort()}`,
    FREECHAT_CHAT_ADDRESS: `127.0.0.1:${await freePort()}`,
    FREECHAT_INFERENCE_ADDRESS: `127.0.0.1:${await freePort()}`,
    FREECHAT_MODEL: 'tiny',
    FREECHAT_MODEL_CACHE: path.join(dataDir, 'models'),
    FREECHAT_LOG_LEVEL: 'warn',
  };
  delete process.env['DATABASE_URL'];
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('make run', () => {
  it('serves a chat, stops cleanly on Ctrl-C, and keeps everything across a restart', async () => {
    let stack = await startStack();
    // The built web UI is what a browser gets at /, not the placeholder page.
    const home = await fetch(`${baseUrl}/`);
    expect(home.headers.get('content-type')).toContain('text/html');
    const html = await home.text();
    expect(html).toContain('<div id="app"></div>');
    expect(html).toMatch(/src="\/assets\/index-[\w-]+\.js"/);
    const registered = await api('POST', '/api/auth/register', { username: 'persistent_pat', password: 'correct horse battery' });
    expect(registered.status).toBe(201);
    const token = registered.json.accessToken as string;
    const session = await api('POST', '/api/sessions', { title: 'Kept' }, token);
    expect(session.status).toBe(201);
    const streamed = await fetch(`${baseUrl}/api/sessions/${session.json.id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ content: 'Hello there', params: { maxNewTokens: 8, temperature: 0 } }),
    });
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    const events = await readEvents(streamed);
    expect(events[0]!.event).toBe('run');
    expect(events.at(-1)!.event).toBe('done');
    const answer = events.filter((e) => e.event === 'content').map((e) => e.data.delta).join('');
    expect(await stopStack(stack)).toBe(0);

    stack = await startStack();
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
      expect(await stopStack(stack)).toBe(0);
    }
  }, 300_000);
});
