// Accounts and tokens: register, login, refresh, logout, and the current user. The refresh token
// travels only in an HttpOnly cookie scoped to /api/auth, so page scripts never see it; the access
// token is in the response body, for the client to keep in memory.
import cookie from '@fastify/cookie';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuthResponse } from '@freechat/proto/freechat/auth/v1/auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { refreshCookieOptions, REFRESH_COOKIE, REFRESH_COOKIE_PATH } from '../auth/refresh-cookie.js';
import { ApiError, classifyError } from '../errors.js';
import { toAuthResultJson, toUserJson } from '../mapping.js';
import { requireUser } from '../plugins/app/authenticate.js';
import { tagRoutes } from '../openapi-document.js';
import { callerMetadata, unaryCall } from '../rpc.js';
import { AuthResultSchema, errorResponses, UserSchema } from '../schemas.js';

const closed = { additionalProperties: false } as const;
// Generous bounds: the auth service owns the real rules and names the field that breaks them.
const Credentials = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  closed,
);
// Refresh and logout carry nothing in the body: the cookie is the credential.
// fastify hands a route without a body `null`.
const NoBody = Type.Union([Type.Object({}, closed), Type.Null()]);

const auth: FastifyPluginAsyncTypebox = async (app) => {
  const { clients, callTimeoutMs } = app.upstreams;
  // Encapsulated here: no other route reads or sets cookies.
  await app.register(cookie);
  app.addHook('onRoute', tagRoutes('Auth'));

  /** Sets the rotated refresh token, if auth issued one (not when another tab already rotated it). */
  const answer = (request: FastifyRequest, reply: FastifyReply, response: AuthResponse) => {
    const tokens = response.tokens;
    if (tokens?.refreshToken) {
      reply.setCookie(REFRESH_COOKIE, tokens.refreshToken, refreshCookieOptions(request.protocol === 'https', tokens.refreshTokenExpiresAt));
    }
    return toAuthResultJson(response);
  };
  const presentedRefreshToken = (request: FastifyRequest): string => {
    const token = request.cookies[REFRESH_COOKIE];
    if (!token) throw new ApiError('unauthenticated', 'no refresh token: sign in again');
    return token;
  };

  app.post(
    '/api/auth/register',
    { schema: { summary: 'Create an account and sign in', body: Credentials, response: { 201: AuthResultSchema, ...errorResponses } } },
    async (request, reply) => {
      const response = await unaryCall(clients.auth, 'register', request.body, callTimeoutMs);
      return reply.code(201).send(answer(request, reply, response));
    },
  );

  app.post('/api/auth/login', { schema: { summary: 'Sign in', body: Credentials, response: { 200: AuthResultSchema, ...errorResponses } } }, async (request, reply) =>
    answer(request, reply, await unaryCall(clients.auth, 'login', request.body, callTimeoutMs)),
  );

  app.post('/api/auth/refresh', { schema: { summary: 'New access token from the refresh cookie', body: NoBody, response: { 200: AuthResultSchema, ...errorResponses } } }, async (request, reply) => {
    const refreshToken = presentedRefreshToken(request);
    try {
      return answer(request, reply, await unaryCall(clients.auth, 'refresh', { refreshToken }, callTimeoutMs));
    } catch (error) {
      // A refused token is dead for good: drop the cookie so the browser stops sending it.
      if (classifyError(error).apiError.status === 401) reply.clearCookie(REFRESH_COOKIE, { path: REFRESH_COOKIE_PATH });
      throw error;
    }
  });

  // Ends the session: the refresh token's family and, when the request carries one, the access
  // token too (until it would have expired), on every gateway replica.
  app.post('/api/auth/logout', { schema: { summary: 'Sign out (revokes the refresh cookie and the access token)', body: NoBody, response: { 204: Type.Null(), ...errorResponses } } }, async (request, reply) => {
    const refreshToken = request.cookies[REFRESH_COOKIE];
    if (request.headers.authorization) {
      // Only a valid token is worth revoking; an expired or forged one is refused already.
      await app.authenticate(request).catch(() => undefined);
      if (request.user) await app.revokedTokens.revoke(request.user.tokenId, request.user.expiresAtMs);
    }
    if (refreshToken) await unaryCall(clients.auth, 'logout', { refreshToken }, callTimeoutMs);
    reply.clearCookie(REFRESH_COOKIE, { path: REFRESH_COOKIE_PATH });
    return reply.code(204).send(null);
  });

  app.get(
    '/api/me',
    { onRequest: app.authenticate, schema: { summary: 'The signed-in user', response: { 200: UserSchema, ...errorResponses } } },
    async (request) => toUserJson(await unaryCall(clients.auth, 'getUser', {}, callTimeoutMs, callerMetadata(request))),
  );
};

export default auth;
