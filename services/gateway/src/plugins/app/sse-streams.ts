// Open event streams, ended politely before the server stops waiting for connections to close:
// clients reconnect with Last-Event-ID (to another instance, or to this one once it is back).
import type { FastifyPluginAsync } from 'fastify';
import type { GatewayMetrics } from '../../metrics.js';
import { SseRegistry } from '../../sse.js';
import { sharedPlugin } from '../shared-plugin.js';

declare module 'fastify' {
  interface FastifyInstance {
    sseStreams: SseRegistry;
  }
}

export interface SseStreamsPluginOptions extends Record<string, unknown> {
  readonly heartbeatMs: number;
  readonly metrics?: GatewayMetrics;
}

const sseStreams: FastifyPluginAsync<SseStreamsPluginOptions> = async (app, options) => {
  const registry = new SseRegistry(options.heartbeatMs, options.metrics);
  app.decorate('sseStreams', registry);
  // preClose runs before fastify closes the listening server, which would otherwise wait for them.
  app.addHook('preClose', async () => {
    if (registry.size > 0) app.log.info({ streams: registry.size }, 'ending event streams for shutdown');
    registry.endAll();
  });
};

export default sharedPlugin('sse-streams', sseStreams);
