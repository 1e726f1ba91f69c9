// One server span per HTTP request, named by method and route template (`POST /api/sessions/:id/messages`),
// the root of a message's trace: chat's and inference's spans join it through gRPC metadata.
// Hook-based rather than the http instrumentation, which cannot patch our ESM imports. Ends when the
// response closes, which also covers event streams after `reply.hijack()`.
import type { IncomingMessage } from 'node:http';
import { extractHttpTraceContext, SpanKind, startSpan, tracingEnabled, withContext, type SpanHandle } from '@freechat/shared';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { sharedPlugin } from '../shared-plugin.js';

const spans = new WeakMap<IncomingMessage, SpanHandle>();

/** The span of `request`; undefined when tracing is off. */
export function requestSpan(request: FastifyRequest): SpanHandle | undefined {
  return spans.get(request.raw);
}

const httpTracing: FastifyPluginAsync = async (app) => {
  if (!tracingEnabled()) return;
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    // Attributes name the route, never the query string (resume ids, tokens put there by mistake) or a body.
    const handle = startSpan(route ? `${request.method} ${route}` : request.method, {
      kind: SpanKind.SERVER,
      parent: extractHttpTraceContext(request.headers),
      attributes: {
        'http.request.method': request.method,
        'url.path': request.url.split('?')[0]!,
        ...(route && { 'http.route': route }),
      },
    });
    spans.set(request.raw, handle);
    reply.raw.once('close', () => {
      const status = reply.raw.statusCode;
      handle.span.setAttribute('http.response.status_code', status);
      if (!reply.raw.writableFinished) handle.event('http.client_closed');
      handle.end(status >= 500 ? `HTTP ${status}` : undefined);
    });
    withContext(handle.context, done);
  });
  // The body is read between the hooks, outside the span's context: make it active again for the handler.
  app.addHook('preHandler', (request, _reply, done) => {
    const handle = spans.get(request.raw);
    if (handle) withContext(handle.context, done);
    else done();
  });
};

export default sharedPlugin('http-tracing', httpTracing);
