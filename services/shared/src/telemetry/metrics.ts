// Prometheus metrics, set up the same way by every service: one prom-client Registry per service
// instance (so a test running all four services in one process keeps them apart) with the default
// process/runtime metrics and a `service` label, served as GET /metrics on a separate metrics
// address (never a public port). Metric definitions live in each service's metrics.ts.
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { defineGrpcMetrics, type GrpcMetrics } from './grpc-metrics.js';

export type { Registry } from 'prom-client';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):\d{1,5}$/, 'expected host:port (port 0: a free port), or empty to turn metrics off')
  .refine((value) => Number(value.slice(value.lastIndexOf(':') + 1)) <= 65535, 'port above 65535');

/** Spread into serviceConfigBase: every service has `metrics.address`. */
export const metricsConfig = {
  metrics: z.strictObject({
    /**
     * host:port of the /metrics endpoint; port 0 picks a free port (logged); '' or `off` turns the
     * endpoint off (`off` because an empty environment variable counts as unset).
     */
    address: z.preprocess((value) => (value === 'off' ? '' : value), z.union([z.literal(''), hostPort])),
  }),
};

export type MetricsConfig = z.output<(typeof metricsConfig)['metrics']>;

/** `FREECHAT_<SERVICE>_METRICS_ADDRESS` → metrics.address, for a service's env overrides. */
export function metricsEnv<S extends string>(service: S): Record<`FREECHAT_${Uppercase<S>}_METRICS_ADDRESS`, 'metrics.address'> {
  return { [`FREECHAT_${service.toUpperCase()}_METRICS_ADDRESS`]: 'metrics.address' } as Record<`FREECHAT_${Uppercase<S>}_METRICS_ADDRESS`, 'metrics.address'>;
}

/** A registry with the default process/runtime metrics, every series labelled `service`. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  /** gRPC server and client call metrics: pass to createGrpcServer and createDiscovery / the channel provider. */
  readonly grpc: GrpcMetrics;
  /** `http://host:port/metrics`, or undefined when metrics.address is empty. */
  readonly url: string | undefined;
  /** Stops the /metrics server. */
  close(): Promise<void>;
}

export interface StartServiceMetricsOptions {
  readonly service: string;
  readonly config: MetricsConfig;
  readonly logger: Logger;
}

/** The one way a service starts its metrics: registry, gRPC metrics, and the /metrics endpoint. */
export async function startServiceMetrics(options: StartServiceMetricsOptions): Promise<ServiceMetrics> {
  const registry = createMetricsRegistry(options.service);
  const grpc = defineGrpcMetrics(registry);
  if (!options.config.address) {
    options.logger.info('metrics: no endpoint (metrics.address is empty)');
    return { registry, grpc, url: undefined, close: async () => {} };
  }
  const server = await serveMetrics(registry, options.config.address);
  const { port } = server.address() as { port: number };
  const host = options.config.address.slice(0, options.config.address.lastIndexOf(':'));
  const url = `http://${host}:${port}/metrics`;
  options.logger.info({ metricsUrl: url }, `metrics at ${url}`);
  return {
    registry,
    grpc,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** GET /metrics in the Prometheus text format; anything else 404. */
async function serveMetrics(registry: Registry, address: string): Promise<Server> {
  const separator = address.lastIndexOf(':');
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot listen on ${address} (metrics): ${error.message}`, { cause: error })));
    server.listen(Number(address.slice(separator + 1)), address.slice(0, separator).replace(/^\[(.*)\]$/, '$1'), () => resolve());
  });
  return server;
}

/** Seconds since `start` (from performance.now()), for histograms. */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
