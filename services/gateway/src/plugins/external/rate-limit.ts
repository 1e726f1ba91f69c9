// Rate limits through @fastify/rate-limit's limiters and stores (its Redis store when a Redis URL is
// configured, so every replica counts together; its in-process store otherwise): per client IP
// before anything else runs, per user once the access token is verified, and the per-username login
// backoff. Over a limit: 429 rate_limited with Retry-After; every limited response carries the draft
// RateLimit-* headers of its tightest counter. A store that fails lets requests through (fail open).
import fastifyRateLimit from '@fastify/rate-limit';
import { createRedisClient, redactRedisUrl, type Logger, type Redis } from '@freechat/shared';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../errors.js';
import type { GatewayMetrics } from '../../metrics.js';
import { LoginBackoff, MemoryFailureStore, RedisFailureStore } from '../../rate-limit/login-backoff.js';
import {
  ipCheck,
  rateLimitHeaders,
  routeClass,
  tighter,
  userCheck,
  type LimitState,
  type RateLimitCheck,
  type RateLimitConfig,
  type RouteClass,
} from '../../rate-limit/policy.js';
import { sharedPlugin } from '../shared-plugin.js';

export interface RateLimitPluginOptions extends Record<string, unknown> {
  readonly config: RateLimitConfig;
  /** Empty: counters live in this process. */
  readonly redisUrl: string;
  readonly logger: Logger;
  readonly now?: () => number;
  /** freechat_gateway_rate_limited_total{limit}. */
  readonly metrics?: GatewayMetrics;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The tightest rate-limit counter seen so far for this request. */
    rateLimitState: LimitState | null;
  }
}

/** How often a store outage is logged again while it lasts. */
const OUTAGE_LOG_INTERVAL_MS = 30_000;

type Limiter = (request: FastifyRequest) => Promise<{ isAllowed: true } | { isAllowed: false; max: number; remaining: number; ttl: number; isExceeded: boolean }>;

const rateLimit: FastifyPluginAsync<RateLimitPluginOptions> = async (app, options) => {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  if (!config.enabled) {
    logger.warn('rate limits: disabled (rateLimit.enabled is false)');
    return;
  }
  let redis: Redis | undefined;
  if (options.redisUrl) {
    redis = createRedisClient({ url: options.redisUrl, logger, name: 'gateway-rate-limit' });
    app.addHook('onClose', async () => {
      await redis!.quit().catch(() => redis!.disconnect());
    });
  }
  logger.info(
    redis ? { store: 'redis', redis: redactRedisUrl(options.redisUrl) } : { store: 'memory' },
    redis ? 'rate limits: counted in Redis (shared by every gateway replica)' : 'rate limits: counted in this process',
  );

  // Limiters only (global: false): which counters apply is decided below, per request.
  await app.register(fastifyRateLimit, { global: false, ...(redis && { redis, nameSpace: 'freechat:gateway:rl:' }), skipOnError: false });
  const backoff = new LoginBackoff(redis ? new RedisFailureStore(redis) : new MemoryFailureStore(now), config.loginBackoff, now);

  // One limiter per distinct counter: the key is computed by the policy and handed over per call.
  const limiters = new Map<string, Limiter>();
  const pendingKey = Symbol('rate-limit key');
  type Keyed = FastifyRequest & { [pendingKey]?: string };
  const limiterFor = (check: RateLimitCheck): Limiter => {
    const id = `${check.max}/${check.windowMs}`;
    let limiter = limiters.get(id);
    if (!limiter) {
      limiter = app.createRateLimit({ max: check.max, timeWindow: check.windowMs, keyGenerator: (request) => (request as Keyed)[pendingKey] ?? 'unkeyed' }) as Limiter;
      limiters.set(id, limiter);
    }
    return limiter;
  };

  let lastOutageLogMs = -Infinity;
  const storeFailed = (request: FastifyRequest, error: unknown): void => {
    if (now() - lastOutageLogMs < OUTAGE_LOG_INTERVAL_MS) return;
    lastOutageLogMs = now();
    request.log.warn({ err: error }, 'rate limits: store unavailable; letting requests through');
  };
  /** Runs `work` against the store, or skips it (fail open) while Redis is away. */
  const guarded = async <T>(request: FastifyRequest, work: () => Promise<T>): Promise<T | undefined> => {
    if (redis && redis.status !== 'ready') {
      storeFailed(request, new Error(`redis ${redis.status}`));
      return undefined;
    }
    try {
      return await work();
    } catch (error) {
      storeFailed(request, error);
      return undefined;
    }
  };

  const refuse = (reply: FastifyReply, state: LimitState, message: string): never => {
    reply.headers(rateLimitHeaders(state));
    throw new ApiError('rate_limited', message);
  };
  const retryIn = (ms: number) => `too many requests; try again in ${Math.max(1, Math.ceil(ms / 1000))} s`;

  const take = async (request: FastifyRequest, reply: FastifyReply, check: RateLimitCheck | undefined, cls: RouteClass): Promise<void> => {
    if (!check) return;
    const result = await guarded(request, () => {
      (request as Keyed)[pendingKey] = check.key;
      return limiterFor(check)(request);
    });
    if (!result || result.isAllowed) return;
    const state: LimitState = { max: result.max, remaining: result.remaining, resetMs: result.ttl, exceeded: result.isExceeded };
    request.rateLimitState = tighter(request.rateLimitState ?? undefined, state);
    if (state.exceeded) {
      request.log.info({ key: check.key.replace(/:[^:]*$/, ''), max: check.max, windowMs: check.windowMs }, 'rate limited');
      if (cls !== 'exempt') options.metrics?.rateLimited.inc({ limit: cls });
      refuse(reply, state, retryIn(state.resetMs));
    }
    reply.headers(rateLimitHeaders(request.rateLimitState));
  };

  const classOf = (request: FastifyRequest): RouteClass => routeClass(request.method, request.routeOptions.url);
  const usernameOf = (request: FastifyRequest): string | undefined => {
    const username = (request.body as { username?: unknown } | undefined)?.username;
    return typeof username === 'string' ? username : undefined;
  };

  app.decorateRequest('rateLimitState', null);
  // Per IP first: cheap, and before bodies are parsed or tokens verified.
  app.addHook('onRequest', async (request, reply) => {
    const cls = classOf(request);
    return take(request, reply, ipCheck(config, cls, request.ip), cls);
  });
  // Per user once route-level authentication has run; the username lockout once the body is parsed.
  app.addHook('preHandler', async (request, reply) => {
    const cls = classOf(request);
    if (request.user) await take(request, reply, userCheck(config, cls, request.user.userId), cls);
    const username = cls === 'login' ? usernameOf(request) : undefined;
    if (username === undefined) return;
    const waitMs = (await guarded(request, () => backoff.retryAfterMs(username))) ?? 0;
    if (waitMs > 0) {
      request.log.info({ retryAfterMs: waitMs }, 'login refused: too many failed attempts for this username');
      options.metrics?.rateLimited.inc({ limit: 'login_backoff' });
      refuse(reply, { max: config.loginBackoff.maxFailures, remaining: 0, resetMs: waitMs, exceeded: true }, `too many failed logins for this username; try again in ${Math.ceil(waitMs / 1000)} s`);
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    if (classOf(request) !== 'login') return;
    const username = usernameOf(request);
    if (username === undefined) return;
    if (reply.statusCode === 401) await guarded(request, () => backoff.recordFailure(username));
    else if (reply.statusCode === 200) await guarded(request, () => backoff.recordSuccess(username));
  });
};

export default sharedPlugin('rate-limit', rateLimit);
