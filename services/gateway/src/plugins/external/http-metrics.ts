// HTTP request metrics for every request (routes, the web UI, 404s): duration by method, route
// template and status, observed when the response finishes (for an event stream, when it ends).
import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { GatewayMetrics } from '../../metrics.js';
import { sharedPlugin } from '../shared-plugin.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatewayMetrics;
  }
}

/** When each request arrived (performance.now()), for the SSE relay's time to first token. */
export const requestArrivals = new WeakMap<IncomingMessage, number>();

export interface HttpMetricsPluginOptions extends Record<string, unknown> {
  readonly metrics: GatewayMetrics;
}

const httpMetrics: FastifyPluginAsync<HttpMetricsPluginOptions> = async (app, { metrics }) => {
  app.decorate('metrics', metrics);
  app.addHook('onRequest', async (request) => {
    requestArrivals.set(request.raw, performance.now());
  });
  // routeOptions.url is the template (`/api/sessions/:id`), never the path with its ids.
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  });
};

export default sharedPlugin('http-metrics', httpMetrics);
