// The built web UI through @fastify/static, with the single-page-app fallback: any GET outside
// /api that matches no file answers index.html, so client-side routes survive a reload. Until the
// UI is built, a small page says so and lists the API. Everything else unknown is a JSON 404.
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../errors.js';
import { sharedPlugin } from '../shared-plugin.js';

export interface WebUiPluginOptions extends Record<string, unknown> {
  readonly dir: string;
}

// No inline styles or scripts: the Content-Security-Policy (style-src/script-src 'self') refuses them.
export const PLACEHOLDER_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Free Chat</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Free Chat</h1>
<p>The gateway is running, but the web UI is not built yet (no <code>web-ui/dist</code>).</p>
<h2>API</h2>
<ul>
<li><code>POST /api/auth/register</code>, <code>POST /api/auth/login</code>, <code>POST /api/auth/refresh</code>, <code>POST /api/auth/logout</code>, <code>GET /api/me</code></li>
<li><code>GET|PATCH /api/me/settings</code></li>
<li><code>GET|POST /api/sessions</code>, <code>GET|PATCH|DELETE /api/sessions/:id</code></li>
<li><code>GET /api/sessions/:id/messages</code>, <code>POST /api/sessions/:id/messages</code>, <code>POST /api/sessions/:id/regenerate</code>, <code>POST /api/sessions/:id/continue</code> (Server-Sent Events)</li>
<li><code>GET /api/runs/:runId/events</code> (Server-Sent Events, resumes from <code>Last-Event-ID</code>), <code>POST /api/runs/:runId/stop</code></li>
<li><code>GET /api/sessions/:id/export</code>, <code>GET /api/me/export</code>, <code>POST /api/import</code></li>
<li><code>POST|GET|DELETE /api/sessions/:id/share</code>, <code>GET /api/shared/:token</code></li>
<li><code>GET /api/models</code></li>
<li><code>GET /healthz</code>, <code>GET /readyz</code></li>
</ul>
<p>The whole API: <a href="/api/docs">reference</a>, <a href="/api/openapi.json">OpenAPI 3.1 document</a>.</p>
</body>
</html>
`;

/** Pure: whether an unmatched request is a page load the UI should answer. */
export function isUiNavigation(method: string, url: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const pathname = url.split('?')[0] ?? '';
  return !(pathname === '/api' || pathname.startsWith('/api/'));
}

const webUi: FastifyPluginAsync<WebUiPluginOptions> = async (app, options) => {
  const built = existsSync(path.join(options.dir, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, { root: options.dir, prefix: '/', wildcard: true, index: ['index.html'] });
  } else {
    app.log.warn({ dir: options.dir }, 'web UI not built; serving a placeholder page');
  }
  const sendUi = (reply: FastifyReply) =>
    built ? reply.type('text/html; charset=utf-8').sendFile('index.html') : reply.type('text/html; charset=utf-8').send(PLACEHOLDER_PAGE);

  if (!built) app.get('/', async (_request, reply) => sendUi(reply));
  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    if (isUiNavigation(request.method, request.url)) return sendUi(reply);
    const error = new ApiError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(error.status).send(error.toBody());
  });
};

export default sharedPlugin('web-ui', webUi);
