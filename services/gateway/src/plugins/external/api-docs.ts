// The browsable API reference at /api/docs: Swagger UI over the OpenAPI document, its scripts and
// styles served from this gateway (@fastify/swagger-ui ships them), never a CDN: a self-hosted
// gateway may have no internet. It runs under the gateway's strict Content-Security-Policy
// (security-headers.ts), unrelaxed on purpose: the page holds a bearer token once a reader
// authorizes. Its scripts and stylesheets are files of this origin, its inline styles are set
// through the DOM, its logo is a data: image, the online validator badge is off. Two things it
// tries are refused without loss (test/browser/api-docs.test.ts): one inline <style> element and
// webpack's `new Function('return this')` probe, which falls back to `window`.
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';
import { API_DOCS_PREFIX, OPENAPI_INFO } from '../../openapi-document.js';
import { sharedPlugin } from '../shared-plugin.js';

const apiDocs: FastifyPluginAsync = async (app) => {
  await app.register(fastifySwaggerUi, {
    routePrefix: API_DOCS_PREFIX,
    theme: { title: OPENAPI_INFO.title },
    validatorUrl: false,
    // BaseLayout: without the stock top bar (a fastify logo and a box to explore other documents).
    uiConfig: { layout: 'BaseLayout', docExpansion: 'list', deepLinking: true, displayRequestDuration: true },
  });
};

export default sharedPlugin('api-docs', apiDocs);
