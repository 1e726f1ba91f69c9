// Verifies `Authorization: Bearer <access token>` against the auth service's public keys and puts
// the subject on request.user. Route plugins opt in with `onRequest: app.authenticate`; nothing
// is skipped by matching URLs.
import { AccessTokenError, verifyAccessToken, type AccessTokenSubject } from '@freechat/shared';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ApiError } from '../../errors.js';
import { JwksCache } from '../../jwks-cache.js';
import { unaryCall } from '../../rpc.js';
import { sharedPlugin } from '../shared-plugin.js';

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    /** Set by `authenticate`; null on routes that do not require it. */
    user: AccessTokenSubject | null;
  }
}

export interface AuthenticatePluginOptions extends Record<string, unknown> {
  readonly jwksRefetchMinIntervalMs: number;
  readonly now?: () => number;
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i;

/** Pure: the `kid` of a JWT header, if it has one; never throws. */
export function peekKid(token: string): string | undefined {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
    const kid = (header as { kid?: unknown } | null)?.kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

/** The user a verified request acts for; routes call it after `authenticate` ran. */
export function requireUser(request: FastifyRequest): AccessTokenSubject {
  if (!request.user) throw new ApiError('unauthenticated');
  return request.user;
}

const authenticate: FastifyPluginAsync<AuthenticatePluginOptions> = async (app, options) => {
  const now = options.now ?? Date.now;
  const keys = new JwksCache({
    fetchJwks: async () => {
      const { clients, callTimeoutMs } = app.upstreams;
      return (await unaryCall(clients.auth, 'getPublicKeys', {}, callTimeoutMs)).jwksJson;
    },
    minRefetchIntervalMs: options.jwksRefetchMinIntervalMs,
    now,
  });

  app.decorateRequest('user', null);
  app.decorate('authenticate', async (request: FastifyRequest) => {
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match?.[1]) throw new ApiError('unauthenticated', 'missing bearer access token');
    const token = match[1];
    // A failure to get the keys is auth being unreachable (503), not the caller's fault.
    const jwks = await keys.forKid(peekKid(token));
    try {
      request.user = verifyAccessToken(token, jwks, { now: now() });
    } catch (error) {
      if (!(error instanceof AccessTokenError)) throw error;
      request.log.info({ reason: error.reason }, 'access token refused');
      throw new ApiError('unauthenticated', 'invalid or expired access token');
    }
  });
};

export default sharedPlugin('authenticate', authenticate);
