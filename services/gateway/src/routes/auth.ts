// Accounts and tokens: register, login, refresh, logout, and the current user.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toAuthResultJson, toUserJson } from '../mapping.js';
import { requireUser } from '../plugins/app/authenticate.js';
import { unaryCall } from '../rpc.js';
import { AuthResultSchema, errorResponses, UserSchema } from '../schemas.js';

const closed = { additionalProperties: false } as const;
// Generous bounds: the auth service owns the real rules and names the field that breaks them.
const Credentials = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  closed,
);
const RefreshTokenBody = Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 1024 }) }, closed);

const auth: FastifyPluginAsyncTypebox = async (app) => {
  const { clients, callTimeoutMs } = app.upstreams;

  app.post(
    '/api/auth/register',
    { schema: { body: Credentials, response: { 201: AuthResultSchema, ...errorResponses } } },
    async (request, reply) => {
      const response = await unaryCall(clients.auth, 'register', request.body, callTimeoutMs);
      return reply.code(201).send(toAuthResultJson(response));
    },
  );

  app.post('/api/auth/login', { schema: { body: Credentials, response: { 200: AuthResultSchema, ...errorResponses } } }, async (request) =>
    toAuthResultJson(await unaryCall(clients.auth, 'login', request.body, callTimeoutMs)),
  );

  app.post(
    '/api/auth/refresh',
    { schema: { body: RefreshTokenBody, response: { 200: AuthResultSchema, ...errorResponses } } },
    async (request) => toAuthResultJson(await unaryCall(clients.auth, 'refresh', { refreshToken: request.body.refreshToken }, callTimeoutMs)),
  );

  app.post(
    '/api/auth/logout',
    { schema: { body: RefreshTokenBody, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await unaryCall(clients.auth, 'logout', { refreshToken: request.body.refreshToken }, callTimeoutMs);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/me',
    { onRequest: app.authenticate, schema: { response: { 200: UserSchema, ...errorResponses } } },
    async (request) => toUserJson(await unaryCall(clients.auth, 'getUser', { userId: requireUser(request).userId }, callTimeoutMs)),
  );
};

export default auth;
