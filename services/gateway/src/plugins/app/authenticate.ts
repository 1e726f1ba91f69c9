// Verifies `Authorization: Bearer <access token>` against the auth service's public keys and the
// revoked-token list, and puts the subject on request.user. Route plugins opt in with
// `onRequest: app.authenticate` on a route, or authenticateEveryRoute for all of theirs; nothing is
// skipped by matching URLs.
import { AccessTokenError, createRedisClient, JwksCache, parseBearer, peekKid, verifyAccessToken, type AccessTokenSubject, type Logger } from '@freechat/shared';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify';
import { ApiError } from '../../errors.js';
import { MemoryRevokedTokens, RedisRevokedTokens, type RevokedTokens } from '../../auth/revoked-tokens.js';
import { unaryCall } from '../../rpc.js';
import { sharedPlugin } from '../shared-plugin.js';

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<void>;
    /** Logout's deny-list: tokens refused until they expire. */
    revokedTokens: RevokedTokens;
  }
  interface FastifyRequest {
    /** Set by `authenticate`; null on routes that do not require it. */
    user: AccessTokenSubject | null;
    /** The bearer token `authenticate` verified, forwarded to upstream services as the caller's identity. */
    accessToken: string | null;
  }
}

export interface AuthenticatePluginOptions extends Record<string, unknown> {
  readonly jwksRefetchMinIntervalMs: number;
  /** Revocations in Redis (shared by every replica) when set; in this process otherwise. */
  readonly redisUrl: string;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** The user a verified request acts for; routes call it after `authenticate` ran. */
export function requireUser(request: FastifyRequest): AccessTokenSubject {
  if (!request.user) throw new ApiError('unauthenticated');
  return request.user;
}

/**
 * Every route the plugin `app` registers from now on authenticates first. Put on each route's own
 * onRequest (not a plugin-wide hook) so the OpenAPI document can tell it requires the bearer token.
 */
export function authenticateEveryRoute(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    route.onRequest = [app.authenticate, ...[route.onRequest ?? []].flat()];
  });
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

  let revoked: RevokedTokens = new MemoryRevokedTokens(now);
  if (options.redisUrl) {
    const redis = createRedisClient({ url: options.redisUrl, logger: options.logger, name: 'gateway-revoked-tokens' });
    app.addHook('onClose', async () => {
      await redis.quit().catch(() => redis.disconnect());
    });
    revoked = new RedisRevokedTokens(redis, now);
  }
  app.decorate('revokedTokens', revoked);

  /**
   * Fails open while Redis is away, like the rate limits: a logged-out token then works until it
   * expires (15 minutes at most), which beats refusing every signed-in user.
   */
  const isRevoked = async (request: FastifyRequest, tokenId: string): Promise<boolean> => {
    try {
      return await revoked.isRevoked(tokenId);
    } catch (error) {
      request.log.warn({ err: error }, 'revoked-token check skipped: store unreachable');
      return false;
    }
  };

  app.decorateRequest('user', null);
  app.decorateRequest('accessToken', null);
  app.decorate('authenticate', async (request: FastifyRequest) => {
    const token = parseBearer(request.headers.authorization);
    if (!token) throw new ApiError('unauthenticated', 'missing bearer access token');
    // A failure to get the keys is auth being unreachable (503), not the caller's fault.
    const jwks = await keys.forKid(peekKid(token));
    let user: AccessTokenSubject;
    try {
      user = verifyAccessToken(token, jwks, { now: now() });
    } catch (error) {
      if (!(error instanceof AccessTokenError)) throw error;
      request.log.info({ reason: error.reason }, 'access token refused');
      throw new ApiError('unauthenticated', 'invalid or expired access token');
    }
    if (await isRevoked(request, user.tokenId)) {
      request.log.info({ reason: 'revoked' }, 'access token refused');
      throw new ApiError('unauthenticated', 'invalid or expired access token');
    }
    request.user = user;
    request.accessToken = token;
  });
};

export default sharedPlugin('authenticate', authenticate);
