// A session's messages (the branch it shows), sending one, answering any question again (optionally
// edited), and switching branches: answers stream back as Server-Sent Events.
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ApiError } from '../errors.js';
import { toMessageJson, toSessionJson } from '../mapping.js';
import { tagRoutes } from '../openapi-document.js';
import { authenticateEveryRoute } from '../plugins/app/authenticate.js';
import { callerMetadata, unaryCall } from '../rpc.js';
import { errorResponses, EventStreamResponse, MessageSchema, SessionSchema, StorableText, Uuid } from '../schemas.js';
import { awaitStreamStart, relayRun } from '../sse.js';
import { SessionParams } from './sessions.js';

const closed = { additionalProperties: false } as const;

const Content = StorableText({ minLength: 1, maxLength: 32_000 });
const RunOptions = {
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
};
const SendMessageBody = Type.Object({ content: Content, ...RunOptions }, closed);
// messageId: the question to answer again, or an answer to replace (absent: the branch's last
// question); content: the question edited first (added beside it, the original kept).
const RegenerateBody = Type.Object({ messageId: Type.Optional(Uuid), content: Type.Optional(Content), ...RunOptions }, closed);
const BranchBody = Type.Object({ messageId: Uuid }, closed);
const ContinueBody = Type.Object({ messageId: Uuid, ...RunOptions }, closed);

const messages: FastifyPluginAsyncTypebox = async (app) => {
  const { clients, callTimeoutMs } = app.upstreams;
  authenticateEveryRoute(app);
  app.addHook('onRoute', tagRoutes('Messages'));

  /** Answers with the event stream of a run just started by `call` (SendMessage or RegenerateMessage). */
  const relayNewRun = async (call: ClientReadableStream<RunEvent>, request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // The first event is RunStarted, sent once the user message is committed: wait for it (or
    // the refusal) so validation, not-found and conflict answers keep their status codes.
    const start = await awaitStreamStart(call, undefined);
    if (start.kind === 'error') throw start.error;
    if (start.kind !== 'event') throw new ApiError('service_unavailable', 'the run ended before it started');
    reply.hijack();
    await relayRun({
      raw: reply.raw,
      call,
      first: start.event,
      reattach: (runId, afterSeq) => clients.chat.attachRun({ runId, afterSeq }, callerMetadata(request)),
      registry: app.sseStreams,
      headers: reply.getHeaders(),
      logger: request.log,
    });
  };

  // Pages go back in time, newest page first; each page reads top to bottom (oldest to newest), so
  // `messages.at(-1)` of the first page is the latest message. A cursor of the wrong shape is refused
  // here; one that only looks right is refused by chat (INVALID_ARGUMENT naming `before`): 400 either way.
  app.get(
    '/api/sessions/:id/messages',
    {
      schema: {
        summary: "A page of the session's shown branch",
        params: SessionParams,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
            before: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
          },
          closed,
        ),
        response: { 200: Type.Object({ messages: Type.Array(MessageSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }, closed), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, before } = request.query;
      const response = await unaryCall(
        clients.chat,
        'listMessages',
        { sessionId: request.params.id, ...(limit !== undefined && { limit }), ...(before !== undefined && { before }) },
        callTimeoutMs,
        callerMetadata(request),
      );
      return { messages: response.messages.map(toMessageJson), nextCursor: response.nextCursor ?? null };
    },
  );

  app.post(
    '/api/sessions/:id/messages',
    // 200 is text/event-stream, written by relayRun; only errors before it are JSON.
    { schema: { summary: 'Send a message; the answer streams back', params: SessionParams, body: SendMessageBody, response: { 200: EventStreamResponse, ...errorResponses } } },
    async (request, reply) => {
      const { content, enableThinking, params } = request.body;
      const call = clients.chat.sendMessage({
        sessionId: request.params.id,
        content,
        ...(enableThinking !== undefined && { enableThinking }),
        params: params ?? undefined,
      }, callerMetadata(request));
      await relayNewRun(call, request, reply);
    },
  );

  app.post(
    '/api/sessions/:id/regenerate',
    // The same stream as sending; 409 run_in_progress / nothing_to_regenerate come from chat.
    { schema: { summary: 'Answer again (optionally an edited question)', params: SessionParams, body: RegenerateBody, response: { 200: EventStreamResponse, ...errorResponses } } },
    async (request, reply) => {
      const { messageId, content, enableThinking, params } = request.body;
      const call = clients.chat.regenerateMessage({
        sessionId: request.params.id,
        ...(messageId !== undefined && { messageId }),
        ...(content !== undefined && { content }),
        ...(enableThinking !== undefined && { enableThinking }),
        params: params ?? undefined,
      }, callerMetadata(request));
      await relayNewRun(call, request, reply);
    },
  );

  // A new conversation from the branch ending at a message (copied; the source is untouched).
  app.post(
    '/api/sessions/:id/fork',
    { schema: { summary: 'Fork: a new conversation with the branch up to a message', params: SessionParams, body: BranchBody, response: { 201: SessionSchema, ...errorResponses } } },
    async (request, reply) => {
      const session = await unaryCall(clients.chat, 'forkSession', { sessionId: request.params.id, messageId: request.body.messageId }, callTimeoutMs, callerMetadata(request));
      return reply.code(201).send(toSessionJson(session));
    },
  );

  // Goes on with an answer the token limit cut (its done event said finishReason "length"): the same
  // message grows. The stream starts with the answer so far; 409 not_continuable for any other answer.
  app.post(
    '/api/sessions/:id/continue',
    { schema: { summary: 'Continue an answer cut at the token limit; it streams on', params: SessionParams, body: ContinueBody, response: { 200: EventStreamResponse, ...errorResponses } } },
    async (request, reply) => {
      const { messageId, enableThinking, params } = request.body;
      const call = clients.chat.continueMessage({
        sessionId: request.params.id,
        messageId,
        ...(enableThinking !== undefined && { enableThinking }),
        params: params ?? undefined,
      }, callerMetadata(request));
      await relayNewRun(call, request, reply);
    },
  );

  // Shows the branch through a message (a sibling picked with ‹ ›): the session's current leaf
  // becomes the newest message under it. 404 for a message outside the session.
  app.post(
    '/api/sessions/:id/branch',
    { schema: { summary: 'Show the branch through a message', params: SessionParams, body: BranchBody, response: { 200: SessionSchema, ...errorResponses } } },
    async (request) =>
      toSessionJson(
        await unaryCall(
          clients.chat,
          'selectBranch',
          { sessionId: request.params.id, messageId: request.body.messageId },
          callTimeoutMs,
          callerMetadata(request),
        ),
      ),
  );
};

export default messages;
