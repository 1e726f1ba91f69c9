// Every metric the auth service defines, built over a Registry so tests read their shapes. Labels
// are bounded outcomes; never a user name or id. (Rate-limited requests are refused by the gateway
// before auth sees them: freechat_gateway_rate_limited_total{limit}.)
import { Counter, type Registry } from '@freechat/shared';

export const LOGIN_OUTCOMES = ['success', 'invalid_credentials', 'invalid_argument', 'error'] as const;
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];

export const REFRESH_OUTCOMES = ['rotated', 'grace', 'invalid', 'reuse_detected', 'error'] as const;
export type RefreshOutcome = (typeof REFRESH_OUTCOMES)[number];

export const REGISTER_OUTCOMES = ['success', 'username_taken', 'invalid_argument', 'error'] as const;
export type RegisterOutcome = (typeof REGISTER_OUTCOMES)[number];

export interface AuthMetrics {
  readonly logins: Counter<'outcome'>;
  readonly registrations: Counter<'outcome'>;
  readonly refreshes: Counter<'outcome'>;
  readonly refreshTokenReuseDetected: Counter<never>;
}

export function authMetrics(registry: Registry): AuthMetrics {
  const registers = [registry];
  const logins = new Counter({ name: 'freechat_auth_logins_total', help: 'Login attempts, by outcome (success, invalid_credentials, invalid_argument, error).', labelNames: ['outcome'], registers });
  const registrations = new Counter({ name: 'freechat_auth_registrations_total', help: 'Registrations, by outcome (success, username_taken, invalid_argument, error).', labelNames: ['outcome'], registers });
  const refreshes = new Counter({ name: 'freechat_auth_refreshes_total', help: 'Refresh-token exchanges, by outcome (rotated, grace, invalid, reuse_detected, error).', labelNames: ['outcome'], registers });
  const refreshTokenReuseDetected = new Counter({ name: 'freechat_auth_refresh_token_reuse_detected_total', help: 'Rotated refresh tokens presented again after the grace window: each revoked its whole token family.', registers });
  for (const outcome of LOGIN_OUTCOMES) logins.inc({ outcome }, 0);
  for (const outcome of REGISTER_OUTCOMES) registrations.inc({ outcome }, 0);
  for (const outcome of REFRESH_OUTCOMES) refreshes.inc({ outcome }, 0);
  return { logins, registrations, refreshes, refreshTokenReuseDetected };
}
