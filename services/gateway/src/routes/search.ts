// Full-text search over the signed-in user's conversations (titles and messages). The chat service
// builds the query from the words and answers only the caller's own live sessions.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toSearchResultsJson } from '../mapping.js';
import { tagRoutes } from '../openapi-document.js';
import { callerMetadata, unaryCall } from '../rpc.js';
import { errorResponses, SearchResultsSchema, StorableText } from '../schemas.js';

const closed = { additionalProperties: false } as const;

const search: FastifyPluginAsyncTypebox = async (app) => {
  const { clients, callTimeoutMs } = app.upstreams;
  app.addHook('onRoute', tagRoutes('Search'));

  app.get(
    '/api/search',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Search titles and message text (ranked, with highlighted snippets)',
        querystring: Type.Object(
          {
            // The last word also matches as a prefix while it is being typed (no trailing space).
            q: StorableText({ minLength: 1, maxLength: 200 }),
            // Absent: 20.
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
          },
          closed,
        ),
        response: { 200: SearchResultsSchema, ...errorResponses },
      },
    },
    async (request) =>
      toSearchResultsJson(
        await unaryCall(
          clients.chat,
          'searchSessions',
          { query: request.query.q, limit: request.query.limit ?? 0 },
          callTimeoutMs,
          callerMetadata(request),
        ),
      ),
  );
};

export default search;
