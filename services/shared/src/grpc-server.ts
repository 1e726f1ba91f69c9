// A grpc-js server that always carries grpc.health.v1.Health and shuts down in a fixed order.
// With mutual TLS it also serves its health as plain HTTP on a second port: Consul's gRPC check
// (and a kubelet probe) cannot present a client certificate, so they could not reach grpc.health.
import { createServer, type Server as HttpServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Logger } from 'pino';
import type { HealthCheckSpec } from './discovery/registration.js';
import { createGrpcTransport, type GrpcTransport } from './grpc-transport.js';
import { traceGrpcImplementation } from './telemetry/grpc-tracing.js';
import type { GrpcMetrics } from './telemetry/grpc-metrics.js';

export interface GrpcServiceRegistration {
  /** Fully-qualified name reported by the health service, e.g. `freechat.inference.v1.InferenceService`. */
  readonly name: string;
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

export interface ShutdownOptions {
  /** Runs after health reports NOT_SERVING, before the server stops accepting calls. */
  readonly drain?: () => Promise<void>;
  /** After this long, draining is abandoned and open calls are cut. */
  readonly graceMs: number;
}

export interface GrpcServerHandle {
  readonly server: grpc.Server;
  /** Binds `host:port` (port 0 picks a free one) and returns the bound port. */
  listen(address: string): Promise<number>;
  setServing(serving: boolean): void;
  shutdown(options: ShutdownOptions): Promise<void>;
  /**
   * How Consul should check this server, known once listening: grpc.health in plaintext; with
   * mTLS, `GET /readyz` on the HTTP health port (200 SERVING, 503 NOT_SERVING).
   */
  healthCheck(): HealthCheckSpec;
  /** Bound port of the HTTP health endpoint; undefined when there is none. */
  healthPort(): number | undefined;
}

export interface CreateGrpcServerOptions {
  readonly services: readonly GrpcServiceRegistration[];
  readonly logger: Logger;
  readonly serverOptions?: grpc.ServerOptions;
  /** Credentials and message size limits (from the `grpc` config section). Default: plaintext, 4 MiB both ways. */
  readonly transport?: GrpcTransport;
  /** Counts and times every handled call (freechat_grpc_server_*); from startServiceMetrics. */
  readonly metrics?: GrpcMetrics;
}

export function createGrpcServer(options: CreateGrpcServerOptions): GrpcServerHandle {
  const { logger } = options;
  const transport = options.transport ?? createGrpcTransport();
  const metricsInterceptors = options.metrics ? [options.metrics.serverInterceptor(options.services.map((s) => s.name))] : [];
  const server = new grpc.Server({
    ...transport.serverOptions,
    ...options.serverOptions,
    interceptors: [...metricsInterceptors, ...(options.serverOptions?.interceptors ?? [])],
  });
  let servingNow = false;
  let http: HttpServer | undefined;
  let httpPort: number | undefined;
  const names = ['', ...options.services.map((s) => s.name)];
  // Not serving until the owner says so: load balancers must not route to a server without a model.
  const health = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING' as ServingStatus])));
  health.addToServer(server);
  for (const service of options.services) server.addService(service.definition, traceGrpcImplementation(service.definition, service.implementation));

  const setServing = (serving: boolean): void => {
    const status: ServingStatus = serving ? 'SERVING' : 'NOT_SERVING';
    servingNow = serving;
    for (const name of names) health.setStatus(name, status);
    logger.info({ health: status }, 'health status changed');
  };

  const listenHttp = async (grpcAddress: string): Promise<void> => {
    const address = transport.healthAddress || `${grpcAddress.slice(0, grpcAddress.lastIndexOf(':'))}:0`;
    const separator = address.lastIndexOf(':');
    // Only health, never data: nothing here needs the caller's identity.
    http = createServer((request, response) => {
      const ok = request.url === '/healthz' || (request.url === '/readyz' && servingNow);
      const known = request.url === '/healthz' || request.url === '/readyz';
      response.writeHead(known ? (ok ? 200 : 503) : 404, { 'content-type': 'text/plain' });
      response.end(known ? (ok ? 'ok\n' : 'not serving\n') : 'not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      http!.once('error', (error) => reject(new Error(`cannot listen on ${address} (health): ${error.message}`, { cause: error })));
      http!.listen(Number(address.slice(separator + 1)), address.slice(0, separator).replace(/^\[(.*)\]$/, '$1'), () => resolve());
    });
    httpPort = (http.address() as { port: number }).port;
  };

  const listen = async (address: string): Promise<number> => {
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, transport.serverCredentials(), (error, port) => {
        if (error) reject(new Error(`cannot listen on ${address}: ${error.message}`, { cause: error }));
        else resolve(port);
      });
    });
    if (transport.mode === 'mtls' || transport.healthAddress) {
      try {
        await listenHttp(address);
      } catch (error) {
        server.forceShutdown();
        throw error;
      }
    }
    logger.info({ ...transport.summary, ...(httpPort !== undefined && { healthPort: httpPort }) }, `gRPC server: ${transport.mode === 'mtls' ? 'mutual TLS (client certificates required)' : 'plaintext'}`);
    return port;
  };

  const shutdown = async ({ drain, graceMs }: ShutdownOptions): Promise<void> => {
    setServing(false);
    let timer: NodeJS.Timeout | undefined;
    const graceExpired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), graceMs);
    });
    const orderly = (async () => {
      await drain?.();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      return 'done' as const;
    })();
    try {
      if ((await Promise.race([orderly, graceExpired])) === 'expired') {
        logger.warn({ graceMs }, 'graceful shutdown timed out; cutting open calls');
        server.forceShutdown();
      }
    } finally {
      clearTimeout(timer);
      http?.closeAllConnections();
      await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    }
  };

  const healthCheck = (): HealthCheckSpec =>
    httpPort === undefined ? { kind: 'grpc' } : { kind: 'http', path: '/readyz', port: httpPort };

  return { server, listen, setServing, shutdown, healthCheck, healthPort: () => httpPort };
}

/**
 * Binds `listenAddress` (port 0: a free one) and returns the bound port and `host:port`. If binding
 * fails, `release` frees what the caller opened before it (pool, metrics endpoint) and the error
 * goes on: a service that cannot listen must not leave a half-started process behind.
 */
export async function bindGrpcServer(
  server: Pick<GrpcServerHandle, 'listen'>,
  listenAddress: string,
  release: () => Promise<unknown>,
): Promise<{ port: number; address: string }> {
  let port: number;
  try {
    port = await server.listen(listenAddress);
  } catch (error) {
    await release();
    throw error;
  }
  return { port, address: `${listenAddress.slice(0, listenAddress.lastIndexOf(':'))}:${port}` };
}
