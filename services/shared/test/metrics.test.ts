// The shared metrics setup: config validated at start, /metrics served on its own port with the
// default runtime metrics labelled by service, and gRPC call metrics counted through a real server
// and the channel provider.
import { makeGenericClientConstructor } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  createChannelProvider,
  createGrpcServer,
  createLogger,
  defineStreamMetrics,
  loadConfig,
  metricsConfig,
  metricsEnv,
  startServiceMetrics,
  createMetricsRegistry,
} from '../src/index.js';
import { createStaticSource } from '../src/discovery/instance-source.js';

const HealthClient = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');
const logger = createLogger({ service: 'test', level: 'silent' });
const schema = z.strictObject({ ...metricsConfig });

describe('metrics config', () => {
  const load = (env: Record<string, string>) => loadConfig(schema, { service: 'chat', env, configDir: '/nonexistent', envOverrides: metricsEnv('chat'), computedDefaults: { metrics: { address: '127.0.0.1:0' } } });

  it('takes FREECHAT_<SERVICE>_METRICS_ADDRESS; empty there keeps the default, off turns it off', () => {
    expect(metricsEnv('inference')).toEqual({ FREECHAT_INFERENCE_METRICS_ADDRESS: 'metrics.address' });
    expect(load({ FREECHAT_CHAT_METRICS_ADDRESS: '0.0.0.0:9464' }).metrics.address).toBe('0.0.0.0:9464');
    expect(load({}).metrics.address).toBe('127.0.0.1:0');
    // Empty in the environment counts as unset; `off` is how the environment turns metrics off.
    expect(load({ FREECHAT_CHAT_METRICS_ADDRESS: 'off' }).metrics.address).toBe('');
  });

  it('refuses an address that is not host:port, naming the key and the variable', () => {
    for (const bad of ['9464', 'localhost', 'host:99999']) {
      const error = (() => {
        try {
          load({ FREECHAT_CHAT_METRICS_ADDRESS: bad });
        } catch (e) {
          return e;
        }
      })();
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain('metrics.address');
      expect((error as ConfigError).message).toContain('FREECHAT_CHAT_METRICS_ADDRESS');
    }
  });
});

describe('startServiceMetrics', () => {
  it('serves GET /metrics on a free port with process metrics labelled by service, and nothing else', async () => {
    const metrics = await startServiceMetrics({ service: 'auth', config: { address: '127.0.0.1:0' }, logger });
    try {
      expect(metrics.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const response = await fetch(metrics.url!);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      expect(text).toMatch(/^process_cpu_user_seconds_total\{service="auth"\} /m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="auth"\} /m);
      expect((await fetch(metrics.url!.replace('/metrics', '/'))).status).toBe(404);
    } finally {
      await metrics.close();
    }
    await expect(fetch(metrics.url!)).rejects.toThrow();
  });

  it('with an empty address keeps a registry but serves nothing', async () => {
    const metrics = await startServiceMetrics({ service: 'chat', config: { address: '' }, logger });
    expect(metrics.url).toBeUndefined();
    expect(await metrics.registry.getSingleMetric('freechat_grpc_server_handled_total')).toBeDefined();
    await metrics.close();
  });

  it('says which address it could not listen on', async () => {
    const first = await startServiceMetrics({ service: 'chat', config: { address: '127.0.0.1:0' }, logger });
    try {
      const taken = new URL(first.url!).host;
      await expect(startServiceMetrics({ service: 'chat', config: { address: taken }, logger })).rejects.toThrow(`cannot listen on ${taken} (metrics)`);
    } finally {
      await first.close();
    }
  });
});

describe('gRPC metrics', () => {
  it('counts and times calls on the server and on the client by service, method, type and code', async () => {
    const server = await startServiceMetrics({ service: 'auth', config: { address: '' }, logger });
    const client = await startServiceMetrics({ service: 'gateway', config: { address: '' }, logger });
    const grpcServer = createGrpcServer({ services: [], logger, metrics: server.grpc });
    const port = await grpcServer.listen('127.0.0.1:0');
    grpcServer.setServing(true);
    const channels = createChannelProvider({ source: createStaticSource({ auth: `127.0.0.1:${port}` }), logger, metrics: client.grpc });
    try {
      await channels.synced('auth');
      const health = channels.client('auth', HealthClient) as unknown as { check(request: object, callback: (error: Error | null) => void): void };
      await new Promise<void>((resolve, reject) => health.check({ service: '' }, (error) => (error ? reject(error) : resolve())));
      await new Promise<void>((resolve) => health.check({ service: 'no.such.Service' }, () => resolve()));
      const labels = { grpc_service: 'grpc.health.v1.Health', grpc_method: 'Check', grpc_type: 'unary' };
      for (const [metrics, name] of [[server, 'freechat_grpc_server_handled_total'], [client, 'freechat_grpc_client_handled_total']] as const) {
        const values = (await metrics.registry.getSingleMetric(name)!.get()).values;
        expect(values.find((v) => v.labels['grpc_code'] === 'OK' && Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value, name).toBe(1);
        expect(values.find((v) => v.labels['grpc_code'] === 'NOT_FOUND')?.value, name).toBe(1);
      }
      const histogram = await server.registry.getSingleMetric('freechat_grpc_server_handling_seconds')!.get();
      expect(histogram.type).toBe('histogram');
      expect(histogram.values.filter((v) => (v as { metricName?: string }).metricName === 'freechat_grpc_server_handling_seconds_count').reduce((sum, v) => sum + v.value, 0)).toBe(2);
    } finally {
      channels.close();
      await grpcServer.shutdown({ graceMs: 1_000 });
    }
  });
});

describe('stream metrics', () => {
  it('observes hops only from a real stamp and never below zero (clock skew)', async () => {
    const registry = createMetricsRegistry('chat');
    const stream = defineStreamMetrics(registry);
    stream.observeHop('inference_to_chat', undefined, Date.now());
    stream.observeHop('inference_to_chat', 0, Date.now());
    stream.observeHop('inference_to_chat', Date.now() + 5_000, Date.now());
    const { values } = await stream.hopSeconds.get();
    expect(values.find((v) => v.metricName === 'freechat_stream_hop_seconds_count')?.value).toBe(1);
    expect(values.find((v) => v.metricName === 'freechat_stream_hop_seconds_sum')?.value).toBe(0);
  });
});
