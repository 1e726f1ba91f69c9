// Verifies Free Chat access tokens (ES256 JWTs from the auth service) against its JWKS.
// Written on node:crypto alone and strict by construction: the algorithm is fixed to ES256 before
// the header is trusted, so `alg: none` and HS256-with-the-public-key tricks cannot apply.
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';

export const ACCESS_TOKEN_ISSUER = 'freechat-auth';
export const ACCESS_TOKEN_AUDIENCE = 'freechat';
export const ACCESS_TOKEN_TYPE = 'access';

export interface AccessTokenSubject {
  readonly userId: string;
  readonly username: string;
  /** The token's `jti`: what logout revokes. */
  readonly tokenId: string;
  /** Its `exp` in ms since the epoch: a revocation need not outlive it. */
  readonly expiresAtMs: number;
}

/** The members read from a JWK; anything else in it is ignored. */
export interface JsonWebKeyMembers {
  readonly kty?: unknown;
  readonly crv?: unknown;
  readonly x?: unknown;
  readonly y?: unknown;
  readonly kid?: unknown;
  readonly alg?: unknown;
  readonly use?: unknown;
}

export interface JsonWebKeySet {
  readonly keys: readonly JsonWebKeyMembers[];
}

export const ACCESS_TOKEN_ERROR_REASONS = [
  'malformed',
  'unsupported-algorithm',
  'unknown-key',
  'bad-signature',
  'expired',
  'not-yet-valid',
  'wrong-issuer',
  'wrong-audience',
  'wrong-type',
  'invalid-claims',
] as const;

export type AccessTokenErrorReason = (typeof ACCESS_TOKEN_ERROR_REASONS)[number];

/** Every refusal; callers answer 401/UNAUTHENTICATED alike and may log `reason`, never the token. */
export class AccessTokenError extends Error {
  override readonly name = 'AccessTokenError';
  constructor(readonly reason: AccessTokenErrorReason) {
    super(`access token refused: ${reason}`);
  }
}

export interface VerifyAccessTokenOptions {
  /** Milliseconds since the epoch; default Date.now(). */
  readonly now?: number;
  /** Allowed clock difference between auth and this service, in seconds; default 30. */
  readonly clockToleranceSeconds?: number;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const importedKeys = new WeakMap<JsonWebKeySet, Map<string, KeyObject>>();

/**
 * Returns the token's subject, or throws AccessTokenError. Checks: three base64url segments,
 * `alg` ES256 exactly, `kid` present in `jwks`, the P-256 signature, `iss`, `aud`, `typ: access`,
 * `exp` (and `nbf`/`iat` when present), `sub`, `username` and `jti`. `jwks` may be the JSON text from
 * GetPublicKeys or its parsed object (parsed objects cache their imported keys).
 */
export function verifyAccessToken(token: string, jwks: JsonWebKeySet | string, options: VerifyAccessTokenOptions = {}): AccessTokenSubject {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) throw new AccessTokenError('malformed');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJsonSegment(headerPart);
  if (header['alg'] !== 'ES256') throw new AccessTokenError('unsupported-algorithm');
  // Extensions we do not understand must not be ignored (RFC 7515 §4.1.11).
  if (header['crit'] !== undefined) throw new AccessTokenError('malformed');
  const kid = header['kid'];
  if (typeof kid !== 'string') throw new AccessTokenError('unknown-key');
  const key = keysOf(typeof jwks === 'string' ? parseJwks(jwks) : jwks).get(kid);
  if (!key) throw new AccessTokenError('unknown-key');

  const signature = Buffer.from(signaturePart, 'base64url');
  const signed = Buffer.from(`${headerPart}.${payloadPart}`, 'ascii');
  // JWS carries ECDSA signatures as r||s (64 bytes for P-256), not DER.
  if (signature.length !== 64 || !verifySignature('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, signature)) {
    throw new AccessTokenError('bad-signature');
  }

  const claims = decodeJsonSegment(payloadPart);
  const nowSeconds = (options.now ?? Date.now()) / 1000;
  const tolerance = options.clockToleranceSeconds ?? 30;
  if (claims['iss'] !== ACCESS_TOKEN_ISSUER) throw new AccessTokenError('wrong-issuer');
  const aud = claims['aud'];
  if (!(aud === ACCESS_TOKEN_AUDIENCE || (Array.isArray(aud) && aud.includes(ACCESS_TOKEN_AUDIENCE)))) {
    throw new AccessTokenError('wrong-audience');
  }
  if (claims['typ'] !== ACCESS_TOKEN_TYPE) throw new AccessTokenError('wrong-type');
  const { exp, nbf, iat, sub, username, jti } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new AccessTokenError('invalid-claims');
  if (nowSeconds >= exp + tolerance) throw new AccessTokenError('expired');
  if (nbf !== undefined && (typeof nbf !== 'number' || nowSeconds + tolerance < nbf)) throw new AccessTokenError('not-yet-valid');
  if (iat !== undefined && (typeof iat !== 'number' || nowSeconds + tolerance < iat)) throw new AccessTokenError('not-yet-valid');
  if (typeof sub !== 'string' || sub === '' || typeof username !== 'string') throw new AccessTokenError('invalid-claims');
  if (typeof jti !== 'string' || jti === '' || jti.length > 128) throw new AccessTokenError('invalid-claims');
  return { userId: sub, username, tokenId: jti, expiresAtMs: exp * 1000 };
}

/** Parses GetPublicKeys' `jwks_json`; throws AccessTokenError('malformed') on anything but `{keys: [...]}`. */
export function parseJwks(json: string): JsonWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new AccessTokenError('malformed');
  }
  if (!isObject(parsed) || !Array.isArray(parsed['keys']) || !parsed['keys'].every(isObject)) throw new AccessTokenError('malformed');
  return parsed as unknown as JsonWebKeySet;
}

/** Only P-256 signing keys with a kid are usable; others in the set are skipped, not trusted. */
function keysOf(jwks: JsonWebKeySet): Map<string, KeyObject> {
  const cached = importedKeys.get(jwks);
  if (cached) return cached;
  const keys = new Map<string, KeyObject>();
  for (const jwk of jwks.keys) {
    const { kty, crv, x, y, kid, alg, use } = jwk;
    if (kty !== 'EC' || crv !== 'P-256' || typeof kid !== 'string' || typeof x !== 'string' || typeof y !== 'string') continue;
    if ((alg !== undefined && alg !== 'ES256') || (use !== undefined && use !== 'sig')) continue;
    try {
      keys.set(kid, createPublicKey({ key: { kty, crv, x, y }, format: 'jwk' }));
    } catch {
      // A point not on the curve: unusable, so unknown.
    }
  }
  importedKeys.set(jwks, keys);
  return keys;
}

function decodeJsonSegment(segment: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new AccessTokenError('malformed');
  }
  if (!isObject(parsed)) throw new AccessTokenError('malformed');
  return parsed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
