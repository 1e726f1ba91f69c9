// Issues access tokens: ES256 JWTs that every other service verifies with the JWKS alone
// (verifyAccessToken in services/shared/src/access-tokens.ts). Issuing needs the private key,
// which only this service has.
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { SigningKey } from './signing-keys.js';

// Must equal ACCESS_TOKEN_ISSUER/AUDIENCE/TYPE in services/shared/src/access-tokens.ts; the
// round-trip tests verify every issued token with that verifier.
export const ISSUER = 'freechat-auth';
export const AUDIENCE = 'freechat';
export const ACCESS_TYPE = 'access';

export interface AccessTokenIssuer {
  issue(subject: { userId: string; username: string }, now: Date): { token: string; expiresAt: Date };
}

export function createAccessTokenIssuer(options: { key: SigningKey; ttlSeconds: number }): AccessTokenIssuer {
  const { key, ttlSeconds } = options;
  return {
    issue: ({ userId, username }, now) => {
      // Whole seconds, from the injected clock rather than jsonwebtoken's own Date.now().
      const iat = Math.floor(now.getTime() / 1000);
      const exp = iat + ttlSeconds;
      // `jti` names this token so logout can revoke it before it expires.
      const token = jwt.sign({ sub: userId, typ: ACCESS_TYPE, username, iat, exp, iss: ISSUER, aud: AUDIENCE, jti: randomUUID() }, key.privateKey, {
        algorithm: 'ES256',
        keyid: key.kid,
      });
      return { token, expiresAt: new Date(exp * 1000) };
    },
  };
}
