// The rate-limit decisions as pure functions: which counters a request takes from, how long a
// username stays locked, and the headers a client sees.
import { describe, expect, it } from 'vitest';
import { ipCheck, lockoutMs, rateLimitHeaders, routeClass, tighter, userCheck, usernameKey } from '../src/rate-limit/policy.js';
import { loadGatewayConfig } from '../src/config.js';

const config = loadGatewayConfig({ env: {} }).rateLimit;

describe('rate-limit policy', () => {
  it('classes requests by route template; probes are exempt; unmatched routes take the default', () => {
    expect(routeClass('POST', '/api/auth/login')).toBe('login');
    expect(routeClass('POST', '/api/auth/register')).toBe('register');
    expect(routeClass('POST', '/api/sessions/:id/messages')).toBe('send');
    expect(routeClass('POST', '/api/sessions/:id/regenerate')).toBe('send');
    expect(routeClass('GET', '/api/sessions/:id/messages')).toBe('default');
    expect(routeClass('GET', '/healthz')).toBe('exempt');
    expect(routeClass('GET', undefined)).toBe('default');
    expect(ipCheck(config, 'exempt', '1.2.3.4')).toBeUndefined();
    expect(ipCheck(config, 'login', '1.2.3.4')).toEqual({ key: 'ip:login:1.2.3.4', max: 20, windowMs: 60_000 });
    expect(userCheck(config, 'login', 'u1')).toBeUndefined();
    expect(userCheck(config, 'send', 'u1')).toEqual({ key: 'user:send:u1', max: 20, windowMs: 60_000 });
  });

  it('locks a username from the fifth failure, doubling to the cap', () => {
    const backoff = config.loginBackoff;
    expect([4, 5, 6, 7, 12, 100].map((failures) => lockoutMs(backoff, failures))).toEqual([0, 60_000, 120_000, 240_000, 3_600_000, 3_600_000]);
    expect(usernameKey(' Alice ')).toBe(usernameKey('alice'));
  });

  it('writes draft headers for the tightest counter, with Retry-After only when refused', () => {
    const loose = { max: 600, remaining: 500, resetMs: 30_000, exceeded: false };
    const tight = { max: 20, remaining: 3, resetMs: 1_500, exceeded: false };
    expect(tighter(tighter(undefined, loose), tight)).toBe(tight);
    expect(rateLimitHeaders(tight)).toEqual({ 'ratelimit-limit': '20', 'ratelimit-remaining': '3', 'ratelimit-reset': '2' });
    const refused = { ...loose, exceeded: true };
    expect(tighter(tight, refused)).toBe(refused);
    expect(rateLimitHeaders(refused)).toEqual({ 'ratelimit-limit': '600', 'ratelimit-remaining': '0', 'ratelimit-reset': '30', 'retry-after': '30' });
  });
});
