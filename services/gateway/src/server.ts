// Composition of the gateway: the app, listening on config.http, with an orderly close.
import { startServiceMetrics, type Logger } from '@freechat/shared';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { GatewayConfig } from './config.js';

export interface StartGatewayServerOptions {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  /** Milliseconds since the epoch, for token expiry; default Date.now. */
  readonly now?: () => number;
}

export interface GatewayServerHandle {
  /** `http://host:port` actually bound (port 0 in config becomes a real port). */
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  /** `http://host:port/metrics` (a separate listener, never the public port), or undefined when metrics.address is empty. */
  readonly metricsUrl: string | undefined;
  /** Leaves Consul, drains keep-alive connections (http.drainMs), stops accepting, ends event streams (clients resume elsewhere), waits up to shutdown.graceMs for requests, closes upstream clients. */
  close(): Promise<void>;
}

export async function startGatewayServer(options: StartGatewayServerOptions): Promise<GatewayServerHandle> {
  const { config, logger } = options;
  const metrics = await startServiceMetrics({ service: 'gateway', config: config.metrics, logger });
  const app = buildApp({ config, logger, metrics, ...(options.now && { now: options.now }) });
  try {
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    await metrics.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  const url = `http://${host}:${port}`;
  logger.info({ url }, 'gateway listening');
  // /healthz, not /readyz: an auth or chat outage must not make Consul drop every gateway.
  const { discovery } = app.upstreams;
  await discovery.register({ listenAddress: `${config.http.host}:${port}`, check: { kind: 'http', path: '/healthz' } });

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      // Out of the catalog first, so load balancers stop sending here while it still answers.
      await discovery.deregister();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'expired'>((resolve) => {
        timer = setTimeout(() => resolve('expired'), config.shutdown.graceMs);
      });
      // Within the grace period, not on top of it.
      await app.drainConnections(Math.min(config.http.drainMs, config.shutdown.graceMs));
      const closing = app.close();
      try {
        if ((await Promise.race([closing.then(() => 'done' as const), grace])) === 'expired') {
          logger.warn({ graceMs: config.shutdown.graceMs }, 'graceful shutdown timed out; cutting open connections');
          app.server.closeAllConnections();
          await closing;
        }
      } finally {
        clearTimeout(timer);
        await metrics.close();
      }
    })();
    return closed;
  };

  return { url, port, app, metricsUrl: metrics.url, close };
}
