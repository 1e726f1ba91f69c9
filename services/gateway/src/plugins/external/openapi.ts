// The OpenAPI 3.1 document, collected by @fastify/swagger from the schemas the routes validate with,
// and served at GET /api/openapi.json (public: it describes the API, it holds no data). Shared (not
// encapsulated) and registered before the route plugins, so its onRoute hook sees every route.
import fastifySwagger from '@fastify/swagger';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { BEARER_SCHEME, describeResponsesByStatus, hoistNamedSchemas, OPENAPI_INFO, OPENAPI_PATH, requiresAuthentication, SECURITY_SCHEMES } from '../../openapi-document.js';
import { NAMED_SCHEMAS } from '../../schemas.js';
import { sharedPlugin } from '../shared-plugin.js';

const openapi: FastifyPluginAsync = async (app) => {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { ...OPENAPI_INFO },
      components: { securitySchemes: structuredClone(SECURITY_SCHEMES), schemas: structuredClone(NAMED_SCHEMAS) },
    },
    // 3.1 is JSON Schema: `const` stays `const`.
    convertConstToEnum: false,
    // Called when the document is built (after ready), when every onRoute hook has run: a route
    // that authenticates (its own onRequest, see authenticateEveryRoute) requires the bearer token.
    transform: ({ schema, url, route }) => ({
      url,
      schema: requiresAuthentication(route.onRequest, app.authenticate) ? { ...schema, security: [{ [BEARER_SCHEME]: [] }] } : schema,
    }),
    transformObject: (document) => ('openapiObject' in document ? hoistNamedSchemas(describeResponsesByStatus(document.openapiObject)) : document.swaggerObject),
  });

  let body: string | undefined;
  app.get(
    OPENAPI_PATH,
    {
      schema: {
        summary: 'This document (OpenAPI 3.1)',
        tags: ['Reference'],
        response: { 200: Type.Object({}, { additionalProperties: true, description: 'An OpenAPI 3.1 document' }) },
      },
    },
    async (_request, reply) => {
      body ??= JSON.stringify(app.swagger());
      // It changes only when the gateway is upgraded.
      return reply.type('application/json; charset=utf-8').header('cache-control', 'public, max-age=300').send(body);
    },
  );
};

export default sharedPlugin('openapi', openapi);
