// What the gateway limits, as pure functions of the route and the config: which counters a request
// takes from, how long a username is locked out after failed logins, and the headers a client sees.
import type { GatewayConfig } from '../config.js';

export type RateLimitConfig = GatewayConfig['rateLimit'];
export type RouteClass = 'login' | 'register' | 'send' | 'default' | 'exempt';

/** One counter a request takes from: `key` is unique across classes and subjects. */
export interface RateLimitCheck {
  readonly key: string;
  readonly max: number;
  readonly windowMs: number;
}

const ROUTE_CLASSES: ReadonlyMap<string, RouteClass> = new Map([
  ['POST /api/auth/login', 'login'],
  ['POST /api/auth/register', 'register'],
  ['POST /api/sessions/:id/messages', 'send'],
  ['POST /api/sessions/:id/regenerate', 'send'],
  ['POST /api/sessions/:id/continue', 'send'],
  // Probes (load balancers, Consul, Kubernetes) call these often and must never be refused.
  ['GET /healthz', 'exempt'],
  ['GET /readyz', 'exempt'],
]);

/** Pure: the class of a request by its route template (`routeOptions.url`; undefined when no route matched). */
export function routeClass(method: string, routeUrl: string | undefined): RouteClass {
  return (routeUrl && ROUTE_CLASSES.get(`${method} ${routeUrl}`)) || 'default';
}

/** Pure: the per-IP counter of a request's class (checked before anything else runs). */
export function ipCheck(config: RateLimitConfig, cls: RouteClass, ip: string): RateLimitCheck | undefined {
  if (cls === 'exempt') return undefined;
  const { max, windowMs } = config[cls].perIp;
  return { key: `ip:${cls}:${ip}`, max, windowMs };
}

/** Pure: the per-user counter of a request's class, for a request with a verified user. */
export function userCheck(config: RateLimitConfig, cls: RouteClass, userId: string): RateLimitCheck | undefined {
  if (cls !== 'default' && cls !== 'send') return undefined;
  const { max, windowMs } = config[cls].perUser;
  return { key: `user:${cls}:${userId}`, max, windowMs };
}

export type LoginBackoffConfig = RateLimitConfig['loginBackoff'];

/** Pure: how long after the last failure a username stays locked, given its consecutive failures. */
export function lockoutMs(config: LoginBackoffConfig, failures: number): number {
  if (failures < config.maxFailures) return 0;
  return Math.min(config.baseLockoutMs * 2 ** Math.min(failures - config.maxFailures, 30), config.maxLockoutMs);
}

/** Pure: how long a failure record must be kept: the lockout it causes, then the failure window. */
export function failureMemoryMs(config: LoginBackoffConfig, failures: number): number {
  return lockoutMs(config, failures) + config.failureWindowMs;
}

/** Pure: usernames are compared as the auth service stores them (case-insensitively). */
export function usernameKey(username: string): string {
  return `login-failures:${username.trim().toLowerCase()}`;
}

/** What a counter said about a request. */
export interface LimitState {
  readonly max: number;
  readonly remaining: number;
  readonly resetMs: number;
  readonly exceeded: boolean;
}

/**
 * Pure: the IETF draft headers (draft-ietf-httpapi-ratelimit-headers, as @fastify/rate-limit's
 * `enableDraftSpec` writes them) for the tightest counter, plus Retry-After when refused.
 */
export function rateLimitHeaders(state: LimitState): Record<string, string> {
  const resetSeconds = String(Math.max(0, Math.ceil(state.resetMs / 1000)));
  const headers: Record<string, string> = {
    'ratelimit-limit': String(state.max),
    'ratelimit-remaining': String(state.exceeded ? 0 : state.remaining),
    'ratelimit-reset': resetSeconds,
  };
  if (state.exceeded) headers['retry-after'] = resetSeconds;
  return headers;
}

/** Pure: of two states, the one the client should be told about (refused, else fewest remaining). */
export function tighter(a: LimitState | undefined, b: LimitState): LimitState {
  if (!a) return b;
  if (a.exceeded !== b.exceeded) return a.exceeded ? a : b;
  return b.remaining < a.remaining ? b : a;
}
