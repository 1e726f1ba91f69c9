// `make run` when things break, on real processes and real signals: a service killed with SIGKILL
// is restarted and serves again; one that keeps failing is given up on while the rest serves; a
// planned port already taken is refused before anything starts; and a supervisor killed with
// SIGKILL takes its services with it, leaving their ports free.
// Runs the built services (services/*/dist): `make test` builds first.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killLeftovers, launchMakeRun, prepareMakeRun, startMakeRun, stopMakeRun, type MakeRunSetup } from './support/make-run.js';
import { eventually } from './support/eventually.js';

let setup: MakeRunSetup;
const api: MakeRunSetup['api'] = (...args) => setup.api(...args);
const launch = (extraEnv?: Record<string, string>) => launchMakeRun(setup.env, extraEnv);
const startStack = (extraEnv?: Record<string, string>) => startMakeRun(setup.env, extraEnv);

/** Alive and not a zombie (a re-parented child may wait a moment to be reaped). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function listen(port: number): Promise<Server | undefined> {
  const server = createServer((socket) => socket.destroy());
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function portFree(port: number): Promise<boolean> {
  const server = await listen(port);
  if (!server) return false;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return true;
}

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

/** Sends a message and returns the last SSE event's name ('done' when the answer completed). */
async function chatOnce(token: string, sessionId: string): Promise<string | undefined> {
  const response = await fetch(`${setup.baseUrl}/api/sessions/${sessionId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ content: 'Are you back?', params: { maxNewTokens: 4, temperature: 0 } }),
  });
  const text = await response.text();
  if (response.status !== 200) return undefined;
  return [...text.matchAll(/^event: ?(.*)$/gm)].at(-1)?.[1];
}

beforeAll(async () => {
  setup = await prepareMakeRun('faults');
});

afterAll(async () => {
  killLeftovers();
  // A supervisor killed with SIGKILL leaves embedded PostgreSQL running: stop it here.
  const postmaster = await readFile(path.join(setup.dataDir, 'postgres/pgdata/postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(postmaster?.split('\n')[0]);
  if (pid && alive(pid)) {
    process.kill(pid, 'SIGINT');
    await eventually('PostgreSQL stopped', () => (alive(pid) ? undefined : true), { timeoutMs: 30_000 }).catch(() => process.kill(pid, 'SIGKILL'));
  }
  await setup?.cleanup();
});

describe('make run, faults', () => {
  it('refuses to start, naming the process and address, when a planned port is already taken', async () => {
    const squatter = (await listen(portOf(setup.env['FREECHAT_CHAT_ADDRESS']!)))!;
    try {
      const stack = launch();
      const [code] = await once(stack.child, 'exit');
      expect(code).toBe(1);
      expect(stack.output()).toContain(`${setup.env['FREECHAT_CHAT_ADDRESS']} (chat) is already in use by another process`);
      expect(stack.output()).not.toContain('starting embedded PostgreSQL');
    } finally {
      squatter.close();
    }
  });

  it('restarts a service killed with SIGKILL, and gives up on one that keeps failing while the rest serves', async () => {
    const stack = await startStack({ FREECHAT_RESTART_DELAY_MS: '1000', FREECHAT_RESTART_LIMIT: '2', FREECHAT_RESTART_WINDOW_MS: '120000' });
    let squatter: Server | undefined;
    try {
      const first = stack.pids();
      expect(Object.keys(first).sort()).toEqual(['auth', 'chat', 'gateway', 'inference']);
      const registered = await api('POST', '/api/auth/register', { username: 'restarted_rita', password: 'correct horse battery' });
      expect(registered.status).toBe(201);
      const token = registered.json.accessToken as string;
      const session = await api('POST', '/api/sessions', {}, token);

      // Inference dies: restarted after the first backoff, and answers stream again.
      process.kill(first['inference']!, 'SIGKILL');
      await stack.waitFor(/inference exited unexpectedly \(SIGKILL\); restart 1 in 1000 ms/);
      await stack.waitFor(/inference is ready again/);
      expect(stack.pids()['inference']).not.toBe(first['inference']);
      await eventually('an answer after inference restarted', async () => ((await chatOnce(token, session.json.id)) === 'done' ? true : undefined));

      // Chat dies and its port is taken by another process: every restart fails, and past the
      // limit chat is given up on, saying why; the other services keep running.
      const chatPort = portOf(setup.env['FREECHAT_CHAT_ADDRESS']!);
      process.kill(first['chat']!, 'SIGKILL');
      squatter = await eventually('the chat port', () => listen(chatPort), { timeoutMs: 2_000, intervalMs: 200 });
      const gaveUp = await stack.waitFor(/giving up on chat exited 3 times within 120 s \(exit codes: SIGKILL, 1, 1\); the limit is 2 restarts/);
      expect(gaveUp[0]).toBeTruthy();
      for (const name of ['auth', 'inference', 'gateway']) expect(alive(stack.pids()[name]!), name).toBe(true);
      expect(stack.child.exitCode).toBeNull();
      expect((await api('GET', '/healthz')).status).toBe(200);
      const ready = await api('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.json).toMatchObject({ error: { code: 'service_unavailable' }, status: 'unavailable', upstreams: { auth: 'SERVING', chat: 'UNREACHABLE', inference: 'SERVING' } });
      expect((await api('POST', '/api/auth/login', { username: 'restarted_rita', password: 'correct horse battery' })).status).toBe(200);
      const sessions = await api('GET', '/api/sessions', undefined, token);
      expect(sessions.status).toBe(503);
      expect(sessions.json.error.code).toBe('service_unavailable');
      // No restart after giving up.
      await sleep(2_500);
      expect(stack.output().match(/started chat \(pid/g)).toHaveLength(3);
    } finally {
      squatter?.close();
      expect(await stopMakeRun(stack.child)).toBe(0);
    }
  }, 300_000);

  it('takes every service down within seconds when the supervisor is killed with SIGKILL, leaving the ports free', async () => {
    const stack = await startStack();
    const pids = stack.pids();
    expect(Object.keys(pids).sort()).toEqual(['auth', 'chat', 'gateway', 'inference']);
    stack.child.kill('SIGKILL');
    await once(stack.child, 'exit');
    const killedAt = Date.now();
    await eventually('every service process gone', () => (Object.values(pids).every((pid) => !alive(pid)) ? true : undefined), { timeoutMs: 15_000 });
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    const ports = [portOf(setup.baseUrl), ...['FREECHAT_AUTH_ADDRESS', 'FREECHAT_CHAT_ADDRESS', 'FREECHAT_INFERENCE_ADDRESS'].map((v) => portOf(setup.env[v]!))];
    for (const port of ports) expect(await portFree(port), `port ${port}`).toBe(true);

    // The next `make run` starts and answers on the same data directory (the killed run's embedded
    // PostgreSQL, still running, gives way to the new one).
    const again = await startStack();
    const registered = await api('POST', '/api/auth/register', { username: 'returning_rosa', password: 'correct horse battery' });
    expect(registered.status).toBe(201);
    const token = registered.json.accessToken as string;
    const session = await api('POST', '/api/sessions', {}, token);
    expect(session.status).toBe(201);
    expect(await chatOnce(token, session.json.id)).toBe('done');
    expect(await stopMakeRun(again.child)).toBe(0);
  }, 300_000);
});
