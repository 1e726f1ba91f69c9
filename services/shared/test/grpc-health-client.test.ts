// checkGrpcHealth, and the container probe built on it, against a real server from createGrpcServer.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
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

describe('the container health probe (healthcheck.js, as a HEALTHCHECK runs it)', () => {
  const run = (target: string) =>
    new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../src/healthcheck.ts', import.meta.url)), target], { stdio: 'ignore' });
      child.on('exit', (code) => resolve(code ?? -1));
    });

  it('exits 0 only for a SERVING gRPC server or a 2xx answer, 1 otherwise, 2 for a target it cannot read', async () => {
    const logger = createLogger({ service: 'health-test', level: 'silent' });
    const server = createGrpcServer({ logger, services: [] });
    const port = await server.listen('127.0.0.1:0');
    expect(await run(`grpc://127.0.0.1:${port}`)).toBe(1);
    server.setServing(true);
    expect(await run(`grpc://127.0.0.1:${port}`)).toBe(0);
    await server.shutdown({ drain: async () => {}, graceMs: 1000 });

    const http = createServer((request, response) => response.writeHead(request.url === '/readyz' ? 200 : 503).end());
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const httpPort = (http.address() as AddressInfo).port;
    expect(await run(`http://127.0.0.1:${httpPort}/readyz`)).toBe(0);
    expect(await run(`http://127.0.0.1:${httpPort}/other`)).toBe(1);
    await new Promise((resolve) => http.close(resolve));
    expect(await run(`http://127.0.0.1:${httpPort}/readyz`)).toBe(1);
    expect(await run('127.0.0.1:1')).toBe(2);
  });
});
