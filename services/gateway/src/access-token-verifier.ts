// Access-token verification for the gateway. The same checks as verifyAccessToken in
// services/shared/src/access-tokens.ts (ES256 only, kid in the auth service's JWKS, iss, aud,
// typ "access", exp required, sub and username), which @freechat/shared does not export yet;
// replace this file with that export once it does.
import { createPublicKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const ACCESS_TOKEN_ISSUER = 'freechat-auth';
export const ACCESS_TOKEN_AUDIENCE = 'freechat';

export interface AccessTokenSubject {
  readonly userId: string;
  readonly username: string;
}

export interface JsonWebKeySet {
  readonly keys: readonly Readonly<Record<string, unknown>>[];
}

/** Every refusal; answered as 401 alike. `reason` may be logged, the token never. */
export class AccessTokenError extends Error {
  override readonly name = 'AccessTokenError';
  constructor(readonly reason: string) {
    super(`access token refused: ${reason}`);
  }
}

/** Throws AccessTokenError unless `json` is `{keys: [...]}`. */
export function parseJwks(json: string): JsonWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new AccessTokenError('malformed-jwks');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'object' && k !== null)) throw new AccessTokenError('malformed-jwks');
  return parsed as JsonWebKeySet;
}

const importedKeys = new WeakMap<JsonWebKeySet, Map<string, KeyObject>>();

/** Only P-256 signature keys with a kid are usable; anything else in the set is skipped. */
function keysOf(jwks: JsonWebKeySet): Map<string, KeyObject> {
  const cached = importedKeys.get(jwks);
  if (cached) return cached;
  const keys = new Map<string, KeyObject>();
  for (const { kty, crv, x, y, kid, alg, use } of jwks.keys) {
    if (kty !== 'EC' || crv !== 'P-256' || typeof kid !== 'string' || typeof x !== 'string' || typeof y !== 'string') continue;
    if ((alg !== undefined && alg !== 'ES256') || (use !== undefined && use !== 'sig')) continue;
    try {
      keys.set(kid, createPublicKey({ key: { kty, crv, x, y }, format: 'jwk' }));
    } catch {
      // Not a point on the curve: unusable, hence unknown.
    }
  }
  importedKeys.set(jwks, keys);
  return keys;
}

export interface VerifyAccessTokenOptions {
  /** Milliseconds since the epoch; default Date.now(). */
  readonly now?: number;
  readonly clockToleranceSeconds?: number;
}

export function verifyAccessToken(token: string, jwks: JsonWebKeySet, options: VerifyAccessTokenOptions = {}): AccessTokenSubject {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') throw new AccessTokenError('malformed');
  // The algorithm is fixed before the header is trusted: no `none`, no HS256 with the public key.
  if (decoded.header.alg !== 'ES256') throw new AccessTokenError('unsupported-algorithm');
  const key = decoded.header.kid === undefined ? undefined : keysOf(jwks).get(decoded.header.kid);
  if (!key) throw new AccessTokenError('unknown-key');
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(token, key, {
      algorithms: ['ES256'],
      issuer: ACCESS_TOKEN_ISSUER,
      audience: ACCESS_TOKEN_AUDIENCE,
      clockTimestamp: Math.floor((options.now ?? Date.now()) / 1000),
      clockTolerance: options.clockToleranceSeconds ?? 30,
    }) as jwt.JwtPayload;
  } catch (error) {
    throw new AccessTokenError(error instanceof jwt.TokenExpiredError ? 'expired' : 'invalid');
  }
  // jsonwebtoken accepts a token without exp; an access token must have one.
  if (typeof claims.exp !== 'number') throw new AccessTokenError('invalid-claims');
  if (claims['typ'] !== 'access') throw new AccessTokenError('wrong-type');
  const { sub, username } = claims as { sub?: unknown; username?: unknown };
  if (typeof sub !== 'string' || sub === '' || typeof username !== 'string') throw new AccessTokenError('invalid-claims');
  return { userId: sub, username };
}
