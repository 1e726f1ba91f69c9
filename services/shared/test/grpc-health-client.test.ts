// checkGrpcHealth against a real server from createGrpcServer.
import { describe, expect, it } from 'vitest';
import { checkGrpcHealth, createGrpcServer, createLogger, freePort } from '../src/index.js';

describe('checkGrpcHealth', () => {
  it('follows NOT_SERVING → SERVING and reports a closed port as UNREACHABLE', async () => {
    const logger = createLogger({ service: 'health-test', level: 'silent' });
    const server = createGrpcServer({ logger, services: [] });
    const port = await server.listen('127.0.0.1:0');
    const address = `127.0.0.1:${port}`;
    expect(await checkGrpcHealth(address)).toBe('NOT_SERVING');
    server.setServing(true);
    expect(await checkGrpcHealth(address)).toBe('SERVING');
    await server.shutdown({ drain: async () => {}, graceMs: 1000 });
    expect(await checkGrpcHealth(`127.0.0.1:${await freePort()}`, { timeoutMs: 500 })).toBe('UNREACHABLE');
  });
});
