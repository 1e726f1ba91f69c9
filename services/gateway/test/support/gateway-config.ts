// The gateway configuration the test stack uses: generous rate limits, then a test's overrides, key
// by key. Apart from stack.ts so a gateway started in its own process (the streaming benchmark)
// gets the same settings without loading the other services.
import type { GatewayConfig } from '../../src/index.js';

/** Gateway settings to change, e.g. `{ sse: { heartbeatMs: 200 } }`. */
export type GatewayOverrides = { readonly [K in keyof GatewayConfig]?: Partial<GatewayConfig[K]> };

// Suites register many users and send many messages from 127.0.0.1: limits they never reach.
// Rate-limit tests pass their own `gateway.rateLimit`.
const generous = { max: 1_000_000, windowMs: 60_000 };
export const GENEROUS_RATE_LIMITS: GatewayConfig['rateLimit'] = {
  enabled: true,
  default: { perIp: generous, perUser: generous },
  login: { perIp: generous },
  register: { perIp: generous },
  send: { perIp: generous, perUser: generous },
  loginBackoff: { maxFailures: 1_000_000, failureWindowMs: 60_000, baseLockoutMs: 1, maxLockoutMs: 1 },
};

/** `base` (from loadGatewayConfig) with generous rate limits and `overrides`, and a shutdown grace of at most 5 s. */
export function testGatewayConfig(base: GatewayConfig, overrides: GatewayOverrides = {}): GatewayConfig {
  const config = Object.fromEntries(
    Object.entries({ ...base, rateLimit: GENEROUS_RATE_LIMITS }).map(([key, value]) => [key, { ...value, ...overrides[key as keyof GatewayConfig] }]),
  ) as unknown as GatewayConfig;
  // A test's own fetch keeps idle keep-alive connections: a full drain would add seconds to every close.
  return {
    ...config,
    http: { ...config.http, drainMs: overrides.http?.drainMs ?? 300 },
    shutdown: { graceMs: config.shutdown.graceMs > 5_000 ? 5_000 : config.shutdown.graceMs },
  };
}
