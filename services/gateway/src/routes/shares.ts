// Read-only share links: the owner creates (a snapshot of the branch the session shows), lists and
// revokes them; anyone with a link reads its snapshot without signing in. An unknown or revoked
// token is the same 404.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ShareLink } from '@freechat/proto/freechat/chat/v1/chat';
import { Type } from 'typebox';
import { toIsoTime, toSharedConversationJson } from '../mapping.js';
import { tagRoutes } from '../openapi-document.js';
import { callerMetadata, unaryCall } from '../rpc.js';
import { errorResponses, SharedConversationSchema, ShareLinkSchema, type ShareLinkJson } from '../schemas.js';
import { SessionParams } from './sessions.js';

const closed = { additionalProperties: false } as const;
// A token is 22 base64url characters; anything up to 64 that is not a live token is the same 404 (chat checks the shape).
const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 64 }) }, closed);

/** Where the web UI shows a shared conversation. */
export const sharePath = (token: string): string => `/s/${token}`;

const toShareLinkJson = (link: ShareLink): ShareLinkJson => ({ token: link.token, url: sharePath(link.token), createdAt: toIsoTime(link.createdAt) });

const shares: FastifyPluginAsyncTypebox = async (app) => {
  const { clients, callTimeoutMs } = app.upstreams;
  app.addHook('onRoute', tagRoutes('Sharing'));

  app.post(
    '/api/sessions/:id/share',
    { onRequest: app.authenticate, schema: { summary: 'Share a read-only snapshot by link', params: SessionParams, response: { 201: ShareLinkSchema, ...errorResponses } } },
    async (request, reply) => {
      const link = await unaryCall(clients.chat, 'createShareLink', { sessionId: request.params.id }, callTimeoutMs, callerMetadata(request));
      return reply.code(201).send(toShareLinkJson(link));
    },
  );

  app.get(
    '/api/sessions/:id/share',
    {
      onRequest: app.authenticate,
      schema: { summary: "A conversation's active share links", params: SessionParams, response: { 200: Type.Object({ links: Type.Array(ShareLinkSchema) }, closed), ...errorResponses } },
    },
    async (request) => {
      const response = await unaryCall(clients.chat, 'listShareLinks', { sessionId: request.params.id }, callTimeoutMs, callerMetadata(request));
      return { links: response.links.map(toShareLinkJson) };
    },
  );

  app.delete(
    '/api/sessions/:id/share',
    { onRequest: app.authenticate, schema: { summary: "Revoke a conversation's share links", params: SessionParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await unaryCall(clients.chat, 'revokeShareLinks', { sessionId: request.params.id }, callTimeoutMs, callerMetadata(request));
      return reply.code(204).send(null);
    },
  );

  // No authentication: the token is the permission.
  app.get(
    '/api/shared/:token',
    { schema: { summary: 'A shared conversation (no login)', params: TokenParams, response: { 200: SharedConversationSchema, ...errorResponses } } },
    async (request) => toSharedConversationJson(await unaryCall(clients.chat, 'getSharedConversation', { token: request.params.token }, callTimeoutMs)),
  );
};

export default shares;
