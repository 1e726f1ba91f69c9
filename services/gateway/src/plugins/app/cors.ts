// Cross-origin access for an explicit allow-list only; with none (the default) the browser's
// same-origin rule stands, which is all the web UI served from here needs. Never `*`.
import type { FastifyPluginAsync } from 'fastify';
import { sharedPlugin } from '../shared-plugin.js';

export interface CorsPluginOptions extends Record<string, unknown> {
  readonly allowedOrigins: readonly string[];
}

const ALLOWED_METHODS = 'GET, POST, PATCH, DELETE';
const ALLOWED_HEADERS = 'authorization, content-type, last-event-id';

const cors: FastifyPluginAsync<CorsPluginOptions> = async (app, options) => {
  const allowed = new Set(options.allowedOrigins);
  if (allowed.size === 0) return;
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    reply.header('vary', 'origin');
    if (!origin || !allowed.has(origin)) return;
    reply.header('access-control-allow-origin', origin);
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
      reply
        .header('access-control-allow-methods', ALLOWED_METHODS)
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', '600')
        .code(204)
        .send();
    }
  });
  // Preflights need a route to land on; the hook above answers them.
  app.options('/api/*', async (_request, reply) => reply.code(204).send());
};

export default sharedPlugin('cors', cors);
