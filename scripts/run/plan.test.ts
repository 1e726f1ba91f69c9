import { describe, expect, it } from 'vitest';
import { planStack } from './plan.js';

describe('make run plan', () => {
  const plan = (env: Record<string, string> = {}) => planStack({ env, databaseUrl: 'postgres://x', repoRoot: '/repo' });

  it('starts the gateway last so it is ready only when everything behind it is', () => {
    expect(plan().processes.map((p) => p.name)).toEqual(['inference', 'auth', 'chat', 'gateway']);
    expect(plan().processes.at(-1)!.readiness).toEqual({ kind: 'http', url: 'http://127.0.0.1:3000/readyz' });
  });

  it('uses the documented default addresses and honours overrides', () => {
    const env = plan().processes[0]!.env;
    expect(env).toMatchObject({
      DATABASE_URL: 'postgres://x',
      FREECHAT_AUTH_ADDRESS: '127.0.0.1:50051',
      FREECHAT_CHAT_ADDRESS: '127.0.0.1:50052',
      FREECHAT_INFERENCE_ADDRESS: '127.0.0.1:50053',
      FREECHAT_DATA_DIR: '/repo/.data',
      FREECHAT_WEB_UI_DIR: '/repo/web-ui/dist',
    });
    const custom = plan({ PORT: '8080', FREECHAT_CHAT_ADDRESS: '127.0.0.1:6000' });
    expect(custom.publicUrl).toBe('http://localhost:8080');
    expect(custom.processes.find((p) => p.name === 'chat')!.readiness).toEqual({ kind: 'grpc', address: '127.0.0.1:6000' });
  });
});

describe('make run plan: metrics endpoints', () => {
  const ports = { inference: 9101, auth: 9102, chat: 9103, gateway: 9104 };

  it('gives each process its planned free port as FREECHAT_<SERVICE>_METRICS_ADDRESS and knows the URL', () => {
    const processes = planStack({ env: {}, databaseUrl: 'postgres://x', repoRoot: '/repo', metricsPorts: ports }).processes;
    expect(processes.map((p) => [p.name, p.env[`FREECHAT_${p.service.toUpperCase()}_METRICS_ADDRESS`], p.metricsUrl])).toEqual([
      ['inference', '127.0.0.1:9101', 'http://127.0.0.1:9101/metrics'],
      ['auth', '127.0.0.1:9102', 'http://127.0.0.1:9102/metrics'],
      ['chat', '127.0.0.1:9103', 'http://127.0.0.1:9103/metrics'],
      ['gateway', '127.0.0.1:9104', 'http://127.0.0.1:9104/metrics'],
    ]);
  });

  it('lets the environment choose an address (replicas shift by 100) or turn metrics off', () => {
    const env = { CONSUL_HTTP_ADDR: '127.0.0.1:8500', FREECHAT_CHAT_REPLICAS: '2', FREECHAT_CHAT_METRICS_ADDRESS: '127.0.0.1:9300', FREECHAT_AUTH_METRICS_ADDRESS: '' };
    const processes = planStack({ env, databaseUrl: 'postgres://x', repoRoot: '/repo', metricsPorts: { ...ports, 'chat-1': 1, 'chat-2': 2 } }).processes;
    expect(processes.filter((p) => p.service === 'chat').map((p) => p.metricsUrl)).toEqual(['http://127.0.0.1:9300/metrics', 'http://127.0.0.1:9400/metrics']);
    const auth = processes.find((p) => p.name === 'auth')!;
    expect(auth.metricsUrl).toBeUndefined();
    expect(auth.env['FREECHAT_AUTH_METRICS_ADDRESS']).toBe('');
  });
});

describe('make run-infra plan (replicas)', () => {
  const plan = (env: Record<string, string>) => planStack({ env, databaseUrl: 'postgres://x', repoRoot: '/repo' });

  it('starts two chat and two inference replicas on their own ports, found through Consul', () => {
    const processes = plan({ CONSUL_HTTP_ADDR: '127.0.0.1:8500', FREECHAT_CHAT_REPLICAS: '2', FREECHAT_INFERENCE_REPLICAS: '2' }).processes;
    expect(processes.map((p) => p.name)).toEqual(['inference-1', 'inference-2', 'auth', 'chat-1', 'chat-2', 'gateway']);
    const chats = processes.filter((p) => p.service === 'chat');
    expect(chats.map((p) => p.env['FREECHAT_CHAT_ADDRESS'])).toEqual(['127.0.0.1:50052', '127.0.0.1:50152']);
    expect(chats.map((p) => p.readiness)).toEqual([
      { kind: 'grpc', address: '127.0.0.1:50052' },
      { kind: 'grpc', address: '127.0.0.1:50152' },
    ]);
    expect(processes.find((p) => p.name === 'inference-2')!.env['FREECHAT_INFERENCE_ADDRESS']).toBe('127.0.0.1:50153');
  });

  it('refuses replicas without discovery, and nonsense counts, with the variable named', () => {
    expect(() => plan({ FREECHAT_CHAT_REPLICAS: '2' })).toThrow(/CONSUL_HTTP_ADDR/);
    expect(() => plan({ CONSUL_HTTP_ADDR: 'x:1', FREECHAT_INFERENCE_REPLICAS: 'two' })).toThrow(/FREECHAT_INFERENCE_REPLICAS/);
  });
});

describe('make run plan (trust between services)', () => {
  const tls = {
    caFile: '/d/tls/ca.crt',
    identities: Object.fromEntries(['auth', 'chat', 'inference', 'gateway'].map((s) => [s, { certFile: `/d/tls/${s}.crt`, keyFile: `/d/tls/${s}.key` }])) as never,
  };
  const plan = planStack({ env: {}, databaseUrl: 'postgres://admin@h/db', databaseUrls: { auth: 'postgres://freechat_auth@h/db', chat: 'postgres://freechat_chat@h/db' }, tls, repoRoot: '/repo' });
  const envOf = (name: string) => plan.processes.find((p) => p.name === name)!.env;

  it('gives each service its own certificate, and auth and chat their own database role', () => {
    for (const service of ['auth', 'chat', 'inference', 'gateway']) {
      expect(envOf(service)).toMatchObject({ FREECHAT_TLS_CA_FILE: '/d/tls/ca.crt', FREECHAT_TLS_CERT_FILE: `/d/tls/${service}.crt`, FREECHAT_TLS_KEY_FILE: `/d/tls/${service}.key` });
    }
    expect(envOf('auth')['DATABASE_URL']).toBe('postgres://freechat_auth@h/db');
    expect(envOf('chat')['DATABASE_URL']).toBe('postgres://freechat_chat@h/db');
  });
});
