// The signed-in user's usage: requests (answers generated) and tokens per UTC day, counted by the
// chat service from its run.completed events (so an answer shows up a moment after it ends).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toUsageReportJson } from '../mapping.js';
import { tagRoutes } from '../openapi-document.js';
import { callerMetadata, unaryCall } from '../rpc.js';
import { errorResponses, UsageReportSchema } from '../schemas.js';

const closed = { additionalProperties: false } as const;

const usage: FastifyPluginAsyncTypebox = async (app) => {
  const { clients, callTimeoutMs } = app.upstreams;
  app.addHook('onRoute', tagRoutes('Usage'));

  app.get(
    '/api/me/usage',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Requests and tokens per day',
        // Absent: the last 30 days (today included).
        querystring: Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 })) }, closed),
        response: { 200: UsageReportSchema, ...errorResponses },
      },
    },
    async (request) =>
      toUsageReportJson(
        await unaryCall(clients.chat, 'getUsage', { days: request.query.days ?? 0 }, callTimeoutMs, callerMetadata(request)),
      ),
  );
};

export default usage;
