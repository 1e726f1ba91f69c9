// A session's messages, and sending one: the answer streams back as Server-Sent Events.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError } from '../errors.js';
import { toMessageJson } from '../mapping.js';
import { requireUser } from '../plugins/app/authenticate.js';
import { unaryCall } from '../rpc.js';
import { errorResponses, MessageSchema } from '../schemas.js';
import { awaitStreamStart, relayRun } from '../sse.js';
import { SessionParams } from './sessions.js';

const closed = { additionalProperties: false } as const;

const SendMessageBody = Type.Object(
  {
    content: Type.String({ minLength: 1, maxLength: 32_000 }),
    enableThinking: Type.Optional(Type.Boolean()),
    params: Type.Optional(
      Type.Object(
        {
          temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 10 })),
          topP: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
          topK: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
          maxNewTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
          seed: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
        },
        closed,
      ),
    ),
  },
  closed,
);

const messages: FastifyPluginAsyncTypebox = async (app) => {
  const { clients, callTimeoutMs } = app.upstreams;
  app.addHook('onRequest', app.authenticate);

  app.get(
    '/api/sessions/:id/messages',
    { schema: { params: SessionParams, response: { 200: Type.Object({ messages: Type.Array(MessageSchema) }, closed), ...errorResponses } } },
    async (request) => {
      const response = await unaryCall(clients.chat, 'listMessages', { userId: requireUser(request).userId, sessionId: request.params.id }, callTimeoutMs);
      return { messages: response.messages.map(toMessageJson) };
    },
  );

  app.post(
    '/api/sessions/:id/messages',
    // 200 is text/event-stream, written by relayRun; only errors before it are JSON.
    { schema: { params: SessionParams, body: SendMessageBody, response: errorResponses } },
    async (request, reply) => {
      const { content, enableThinking, params } = request.body;
      const call = clients.chat.sendMessage({
        userId: requireUser(request).userId,
        sessionId: request.params.id,
        content,
        ...(enableThinking !== undefined && { enableThinking }),
        params: params ?? undefined,
      });
      // The first event is RunStarted, sent once the user message is committed: wait for it (or
      // the refusal) so validation and not-found answers keep their status codes.
      const start = await awaitStreamStart(call, undefined);
      if (start.kind === 'error') throw start.error;
      if (start.kind !== 'event') throw new ApiError('service_unavailable', 'the run ended before it started');
      reply.hijack();
      await relayRun({
        raw: reply.raw,
        call,
        first: start.event,
        registry: app.sseStreams,
        headers: reply.getHeaders(),
        logger: request.log,
      });
    },
  );
};

export default messages;
