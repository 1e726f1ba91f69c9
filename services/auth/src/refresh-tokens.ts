// Pure parts of refresh tokens: making one, hashing it, and deciding what presenting one means.
import { createHash, randomBytes } from 'node:crypto';

export const REFRESH_TOKEN_BYTES = 32;
/** 32 bytes in base64url without padding. A JWT (with dots) can never match, so it is refused unseen. */
const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function generateRefreshToken(): string {
  return randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
}

/** What is stored and looked up: the token itself never reaches the database or the logs. */
export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function looksLikeRefreshToken(token: string): boolean {
  return REFRESH_TOKEN_SHAPE.test(token);
}

/** The stored state of a presented token that the decision reads. */
export interface RefreshTokenState {
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
  readonly revokedAt: Date | null;
}

export type RefreshDecision = 'rotate' | 'grace' | 'reuse-detected' | 'expired' | 'revoked' | 'unknown';

/**
 * A revoked family stays revoked. A token rotated less than `graceMs` ago is another tab that lost
 * the race to the same cookie: it gets a new access token but no new refresh token (the winner's
 * is already in the shared cookie). Later, a rotated token is being replayed, by a thief or a
 * client that kept a stale copy, so its whole family goes, expired or not. Only then does expiry count.
 */
export function decideRefresh(state: RefreshTokenState | undefined, now: Date, graceMs = 0): RefreshDecision {
  if (!state) return 'unknown';
  if (state.revokedAt) return 'revoked';
  if (state.usedAt) return now.getTime() - state.usedAt.getTime() < graceMs ? 'grace' : 'reuse-detected';
  if (now.getTime() >= state.expiresAt.getTime()) return 'expired';
  return 'rotate';
}
