// Registration and the channel provider against a real Consul agent (the suite's, or one of this
// file's own where Consul itself must go away). Every test uses its own catalog name prefix, so test
// files sharing the agent never see each other's instances.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Consul from 'consul';
import { afterEach, describe, expect, it } from 'vitest';
import { startConsul } from '../../../scripts/infra/consul.js';
import { infraEndpoints } from '../../../test/infra/endpoints.js';
import {
  catalogName,
  checkServiceHealth,
  createChannelProvider,
  createConsulClient,
  createConsulSource,
  createGrpcServer,
  createLogger,
  registerService,
  type ChannelProvider,
  type GrpcServerHandle,
  type ServiceName,
} from '../src/index.js';

const logger = createLogger({ service: 'discovery-test', level: 'silent' });
const CHECK_INTERVAL_MS = 300;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function consulAddress(): string {
  const address = infraEndpoints().consulAddress;
  if (!address) throw new Error('the test infrastructure started no Consul');
  return address;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function grpcInstance(): Promise<{ server: GrpcServerHandle; port: number }> {
  const server = createGrpcServer({ logger, services: [] });
  const port = await server.listen('127.0.0.1:0');
  cleanups.push(() => server.server.forceShutdown());
  return { server, port };
}

function provider(address: string, namePrefix: string): ChannelProvider {
  const channels = createChannelProvider({
    source: createConsulSource({ consul: createConsulClient(address), address, logger, namePrefix }),
    logger,
  });
  cleanups.push(() => channels.close());
  return channels;
}

async function register(options: { consul: Consul; namePrefix: string; service: ServiceName; port: number; reassertIntervalMs?: number }) {
  const registration = await registerService({
    consul: options.consul,
    namePrefix: options.namePrefix,
    service: options.service,
    host: '127.0.0.1',
    port: options.port,
    check: { kind: 'grpc' },
    checkIntervalMs: CHECK_INTERVAL_MS,
    deregisterCriticalAfterMs: 60_000,
    tags: ['grpc', 'test'],
    version: '9.9.9',
    logger,
    ...(options.reassertIntervalMs !== undefined && { reassertIntervalMs: options.reassertIntervalMs }),
  });
  cleanups.push(() => registration.deregister());
  return registration;
}

const prefix = (): string => `t${randomUUID().slice(0, 8)}`;

describe('Consul registration and discovery', () => {
  it('registers with name, tags, version and a gRPC check; callers see the instance only while it is SERVING; deregistering removes it at once', async () => {
    const consul = createConsulClient(consulAddress());
    const namePrefix = prefix();
    const { server, port } = await grpcInstance();
    const registration = await register({ consul, namePrefix, service: 'auth', port });

    const entry = (await consul.agent.service.list())[registration.id] as Record<string, unknown>;
    expect(entry).toMatchObject({ Service: catalogName('auth', namePrefix), Address: '127.0.0.1', Port: port, Tags: ['grpc', 'test'], Meta: { version: '9.9.9' } });
    const checks = (await consul.agent.check.list()) as Record<string, { ServiceID: string; Type: string }>;
    expect(Object.values(checks).find((check) => check.ServiceID === registration.id)?.Type).toBe('grpc');

    const channels = provider(consulAddress(), namePrefix);
    await channels.synced('auth');
    // NOT_SERVING is critical to Consul: not offered to callers.
    await new Promise((resolve) => setTimeout(resolve, CHECK_INTERVAL_MS * 3));
    expect(channels.instances('auth')).toEqual([]);
    expect(await checkServiceHealth(channels, 'auth', { timeoutMs: 500 })).toBe('UNREACHABLE');

    server.setServing(true);
    await until('instance offered', () => (channels.instances('auth').length === 1 ? true : undefined), 5_000);
    expect(channels.instances('auth')[0]).toMatchObject({ id: registration.id, address: `127.0.0.1:${port}` });
    expect(await checkServiceHealth(channels, 'auth')).toBe('SERVING');

    const started = Date.now();
    await registration.deregister();
    await until('instance withdrawn', () => (channels.instances('auth').length === 0 ? true : undefined), 2_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await consul.agent.service.list())[registration.id]).toBeUndefined();
  });

  it('takes a crashed instance out of rotation within seconds, and Consul removes it after deregister-after', { timeout: 210_000 }, async () => {
    const consul = createConsulClient(consulAddress());
    const namePrefix = prefix();
    const { server, port } = await grpcInstance();
    server.setServing(true);
    const registration = await register({ consul, namePrefix, service: 'chat', port });
    const channels = provider(consulAddress(), namePrefix);
    await until('instance offered', () => (channels.instances('chat').length === 1 ? true : undefined), 5_000);

    // A crash: connections cut, nothing deregistered.
    server.server.forceShutdown();
    const crashedAt = Date.now();
    await until('crashed instance withdrawn', () => (channels.instances('chat').length === 0 ? true : undefined), 5_000);
    logger.info({ ms: Date.now() - crashedAt }, 'withdrawn');
    expect((await consul.agent.service.list())[registration.id]).toBeDefined();

    // Consul's agent floors deregister_critical_service_after at one minute and reaps every 30 s;
    // a loaded agent (the whole suite shares it) has been seen past two minutes.
    await until('crashed instance deregistered', async () => ((await consul.agent.service.list())[registration.id] ? undefined : true), 180_000);
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(60_000);
  });

  it('registers again when the agent has forgotten the instance', async () => {
    const consul = createConsulClient(consulAddress());
    const namePrefix = prefix();
    const { server, port } = await grpcInstance();
    server.setServing(true);
    const registration = await register({ consul, namePrefix, service: 'gateway', port, reassertIntervalMs: 200 });
    await consul.agent.service.deregister(registration.id);
    expect((await consul.agent.service.list())[registration.id]).toBeUndefined();
    await until('registered again', async () => ((await consul.agent.service.list())[registration.id] ? true : undefined), 5_000);
  });

  it('keeps calling the known instances while Consul is unreachable', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'freechat-consul-outage-'));
    const own = await startConsul({ dataDir });
    cleanups.push(async () => {
      await own.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const consul = createConsulClient(own.address);
    const namePrefix = prefix();
    const { server, port } = await grpcInstance();
    server.setServing(true);
    const registration = await register({ consul, namePrefix, service: 'inference', port });
    const channels = provider(own.address, namePrefix);
    await until('instance offered', () => (channels.instances('inference').length === 1 ? true : undefined), 5_000);

    await own.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(channels.instances('inference').map((instance) => instance.id)).toEqual([registration.id]);
    expect(await checkServiceHealth(channels, 'inference')).toBe('SERVING');
  });
});
