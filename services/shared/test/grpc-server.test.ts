import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { bindGrpcServer, createGrpcServer, type GrpcServerHandle } from '../src/index.js';
import { echoService } from './support/echo-service.js';

const logger = pino({ level: 'silent' });
const HealthClient = grpc.makeClientConstructor(healthService, 'grpc.health.v1.Health');
const echoImplementation: grpc.UntypedServiceImplementation = {
  echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request),
};

function check(port: number, service: string): Promise<string> {
  const client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check(req: { service: string }, cb: (e: grpc.ServiceError | null, r: { status: string }) => void): void;
  };
  return new Promise<string>((resolve, reject) => {
    client.check({ service }, (e, r) => (e ? reject(e) : resolve(r.status)));
  }).finally(() => client.close());
}

describe('createGrpcServer', () => {
  let handle: GrpcServerHandle | undefined;
  afterEach(() => handle?.server.forceShutdown());

  it('binds port 0 to a real port and reports NOT_SERVING until told otherwise, for the server and each service', async () => {
    handle = createGrpcServer({ logger, services: [{ name: 'test.v1.Echo', definition: echoService, implementation: echoImplementation }] });
    const port = await handle.listen('127.0.0.1:0');
    expect(port).toBeGreaterThan(0);
    expect(await check(port, '')).toBe('NOT_SERVING');
    expect(await check(port, 'test.v1.Echo')).toBe('NOT_SERVING');
    handle.setServing(true);
    expect(await check(port, '')).toBe('SERVING');
    expect(await check(port, 'test.v1.Echo')).toBe('SERVING');
  });

  it('flips health to NOT_SERVING before draining, then stops', async () => {
    handle = createGrpcServer({ logger, services: [] });
    const port = await handle.listen('127.0.0.1:0');
    handle.setServing(true);
    let seenDuringDrain = '';
    await handle.shutdown({ graceMs: 5_000, drain: async () => void (seenDuringDrain = await check(port, '')) });
    expect(seenDuringDrain).toBe('NOT_SERVING');
    await expect(check(port, '')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('cuts everything off after graceMs when draining hangs', async () => {
    handle = createGrpcServer({ logger, services: [] });
    await handle.listen('127.0.0.1:0');
    const started = Date.now();
    await handle.shutdown({ graceMs: 200, drain: () => new Promise(() => {}) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('bindGrpcServer gives the bound host:port, and on a taken port releases what the caller opened and fails', async () => {
    handle = createGrpcServer({ logger, services: [] });
    const { port, address } = await bindGrpcServer(handle, '127.0.0.1:0', async () => {});
    expect(address).toBe(`127.0.0.1:${port}`);
    const second = createGrpcServer({ logger, services: [] });
    let released = false;
    await expect(
      bindGrpcServer(second, address, async () => {
        released = true;
      }),
    ).rejects.toThrow();
    expect(released).toBe(true);
    second.server.forceShutdown();
  });
});
