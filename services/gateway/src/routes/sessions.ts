// Chat sessions of the signed-in user. Another user's session is 404, exactly like a missing one
// (the chat service decides; the gateway passes the verified user id).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toSessionJson } from '../mapping.js';
import { tagRoutes } from '../openapi-document.js';
import { authenticateEveryRoute } from '../plugins/app/authenticate.js';
import { callerMetadata, unaryCall } from '../rpc.js';
import { errorResponses, SessionSchema, StorableText, Tag, Uuid } from '../schemas.js';

const closed = { additionalProperties: false } as const;
export const SessionParams = Type.Object({ id: Uuid }, closed);
const Title = StorableText({ minLength: 1, maxLength: 200 });

/** Any of a session's editable fields, at least one; the chat service trims and normalises (tags). */
const SessionUpdate = Type.Object(
  {
    title: Type.Optional(Title),
    pinned: Type.Optional(Type.Boolean()),
    // Replaces them all; [] clears them.
    tags: Type.Optional(Type.Array(Tag, { maxItems: 10 })),
    systemPrompt: Type.Optional(StorableText({ maxLength: 8000 })),
    model: Type.Optional(StorableText({ maxLength: 200 })),
  },
  { ...closed, minProperties: 1 },
);

const sessions: FastifyPluginAsyncTypebox = async (app) => {
  const { clients, callTimeoutMs } = app.upstreams;
  authenticateEveryRoute(app);
  app.addHook('onRoute', tagRoutes('Sessions'));

  app.get(
    '/api/sessions',
    {
      schema: {
        summary: 'List sessions, newest first',
        querystring: Type.Object(
          {
            pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
            pageToken: Type.Optional(Type.String({ maxLength: 512 })),
            // Only the sessions with this tag.
            tag: Type.Optional(Tag),
          },
          closed,
        ),
        response: {
          200: Type.Object({ sessions: Type.Array(SessionSchema), nextPageToken: Type.Union([Type.String(), Type.Null()]) }, closed),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const response = await unaryCall(
        clients.chat,
        'listSessions',
        {
          pageSize: request.query.pageSize ?? 0,
          pageToken: request.query.pageToken ?? '',
          ...(request.query.tag !== undefined && { tag: request.query.tag }),
        },
        callTimeoutMs,
        callerMetadata(request),
      );
      return { sessions: response.sessions.map(toSessionJson), nextPageToken: response.nextPageToken || null };
    },
  );

  app.post(
    '/api/sessions',
    {
      schema: {
        summary: 'Create a session',
        // Empty or absent: the chat service names it ("New chat", then after the first message).
        body: Type.Optional(Type.Object({ title: Type.Optional(StorableText({ maxLength: 200 })) }, closed)),
        response: { 201: SessionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const session = await unaryCall(
        clients.chat,
        'createSession',
        { title: request.body?.title ?? '' },
        callTimeoutMs,
        callerMetadata(request),
      );
      return reply.code(201).send(toSessionJson(session));
    },
  );

  app.get('/api/sessions/:id', { schema: { summary: 'Get a session', params: SessionParams, response: { 200: SessionSchema, ...errorResponses } } }, async (request) =>
    toSessionJson(await unaryCall(clients.chat, 'getSession', { sessionId: request.params.id }, callTimeoutMs, callerMetadata(request))),
  );

  app.patch(
    '/api/sessions/:id',
    { schema: { summary: 'Update a session (title, pin, tags, system prompt, model)', params: SessionParams, body: SessionUpdate, response: { 200: SessionSchema, ...errorResponses } } },
    async (request) => {
      const { tags, ...fields } = request.body;
      const update = { sessionId: request.params.id, ...fields, tags: tags === undefined ? undefined : { tags } };
      return toSessionJson(await unaryCall(clients.chat, 'updateSession', update, callTimeoutMs, callerMetadata(request)));
    },
  );

  app.delete(
    '/api/sessions/:id',
    { schema: { summary: 'Delete a session', params: SessionParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await unaryCall(clients.chat, 'deleteSession', { sessionId: request.params.id }, callTimeoutMs, callerMetadata(request));
      return reply.code(204).send(null);
    },
  );
};

export default sessions;
