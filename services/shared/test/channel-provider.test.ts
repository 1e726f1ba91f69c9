// The channel provider over real gRPC servers, fed by a hand-driven instance source (the Consul one
// is tested against a real agent in discovery-consul.test.ts).
import { makeGenericClientConstructor, status, type ClientReadableStream } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkServiceHealth,
  createChannelProvider,
  createGrpcServer,
  createLogger,
  NoHealthyInstanceError,
  type ChannelProvider,
  type GrpcServerHandle,
  type InstanceSource,
  type ServiceInstance,
} from '../src/index.js';

const logger = createLogger({ service: 'channel-provider-test', level: 'silent' });
const HealthClient = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A source the test moves by hand. */
function manualSource(): InstanceSource & { set(instances: readonly ServiceInstance[]): void } {
  let listener: ((instances: readonly ServiceInstance[]) => void) | undefined;
  let current: readonly ServiceInstance[] = [];
  return {
    description: 'manual',
    subscribe(_service, onChange) {
      listener = onChange;
      onChange(current);
      return () => (listener = undefined);
    },
    set(instances) {
      current = instances;
      listener?.(instances);
    },
  };
}

async function server(): Promise<{ handle: GrpcServerHandle; instance: ServiceInstance }> {
  const handle = createGrpcServer({ logger, services: [] });
  const port = await handle.listen('127.0.0.1:0');
  handle.setServing(true);
  cleanups.push(() => handle.server.forceShutdown());
  return { handle, instance: { id: `health-${port}`, address: `127.0.0.1:${port}` } };
}

function provider(source: InstanceSource): ChannelProvider {
  const channels = createChannelProvider({ source, logger });
  cleanups.push(() => channels.close());
  return channels;
}

const started = (channels: ChannelProvider): Record<string, number> =>
  Object.fromEntries(channels.instances('auth').map((instance) => [instance.id, instance.started]));

describe('createChannelProvider', () => {
  it('fails a call at once with UNAVAILABLE when no instance is known', async () => {
    const channels = provider(manualSource());
    const client = channels.client('auth', HealthClient) as unknown as { check(request: object, callback: () => void): void };
    expect(() => client.check({ service: '' }, () => {})).toThrow(NoHealthyInstanceError);
    try {
      client.check({ service: '' }, () => {});
    } catch (error) {
      expect((error as NoHealthyInstanceError).code).toBe(status.UNAVAILABLE);
    }
    expect(await checkServiceHealth(channels, 'auth')).toBe('UNREACHABLE');
  });

  it('takes turns over the instances (round robin for auth) and follows the source as it changes', async () => {
    const [a, b] = [await server(), await server()];
    const source = manualSource();
    const channels = provider(source);
    source.set([a.instance, b.instance]);
    for (let i = 0; i < 6; i++) expect(await checkServiceHealth(channels, 'auth')).toBe('SERVING');
    expect(started(channels)).toEqual({ [a.instance.id]: 3, [b.instance.id]: 3 });

    source.set([b.instance]);
    for (let i = 0; i < 3; i++) expect(await checkServiceHealth(channels, 'auth')).toBe('SERVING');
    expect(started(channels)).toEqual({ [b.instance.id]: 6 });
  });

  it('lets a call running on an instance that left finish there', async () => {
    const { handle, instance } = await server();
    const source = manualSource();
    const channels = provider(source);
    source.set([instance]);
    const health = channels.client('auth', HealthClient) as unknown as { watch(request: object): ClientReadableStream<{ status: string }> };
    const stream = health.watch({ service: '' });
    const updates: string[] = [];
    stream.on('data', (update: { status: string }) => updates.push(String(update.status)));
    stream.on('error', () => {});
    await expect.poll(() => updates).toEqual(['SERVING']);

    source.set([]);
    expect(channels.instances('auth')).toEqual([]);
    // The stream still reaches its server: the instance's channel stays open while it runs.
    handle.setServing(false);
    await expect.poll(() => updates).toEqual(['SERVING', 'NOT_SERVING']);
    stream.cancel();
  });

  it('sends a call that could not reach a replica that just died to another one', async () => {
    const [alive, dying] = [await server(), await server()];
    const source = manualSource();
    const channels = provider(source);
    source.set([alive.instance, dying.instance]);
    for (let i = 0; i < 2; i++) expect(await checkServiceHealth(channels, 'auth')).toBe('SERVING');
    // Killed without leaving the source (Consul has not noticed yet): its channel still looks usable.
    dying.handle.server.forceShutdown();
    for (let i = 0; i < 6; i++) expect(await checkServiceHealth(channels, 'auth')).toBe('SERVING');
  });
});
