// GET /healthz (the process answers), /readyz (caches synced: leader or standby, it can take over
// at once) and /metrics, on one port that is never public.
import { createServer, type Server } from 'node:http';
import type { Registry } from '@freechat/shared';

export interface HttpEndpoints {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

export async function serveHttp(address: string, registry: Registry, ready: () => boolean): Promise<HttpEndpoints> {
  const server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    if (request.method !== 'GET') return void response.writeHead(405, { allow: 'GET' }).end();
    if (path === '/healthz') return void response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') {
      const ok = ready();
      return void response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'starting\n');
    }
    if (path === '/metrics') {
      return void registry.metrics().then(
        (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
      );
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  const separator = address.lastIndexOf(':');
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot listen on ${address}: ${error.message}`, { cause: error })));
    server.listen(Number(address.slice(separator + 1)), address.slice(0, separator).replace(/^\[(.*)\]$/, '$1'), () => resolve());
  });
  return {
    server,
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
