// The browsable API reference at /api/docs: Swagger UI over the OpenAPI document, its scripts and
// styles served from this gateway (@fastify/swagger-ui ships them), never a CDN: a self-hosted
// gateway may have no internet. The page needs no exception to the Content-Security-Policy
// (security-headers.ts): its scripts and stylesheets are files of this origin, its inline styles are
// set through the DOM, its logo is a data: image, and the online validator badge is off.
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';
import { API_DOCS_PREFIX, OPENAPI_INFO } from '../../openapi-document.js';
import { sharedPlugin } from '../shared-plugin.js';

const apiDocs: FastifyPluginAsync = async (app) => {
  await app.register(fastifySwaggerUi, {
    routePrefix: API_DOCS_PREFIX,
    theme: { title: OPENAPI_INFO.title },
    validatorUrl: false,
    uiConfig: { docExpansion: 'list', deepLinking: true, displayRequestDuration: true },
  });
};

export default sharedPlugin('api-docs', apiDocs);
