// Who a gRPC call acts for. The gateway forwards the user's access token in the call's metadata
// and every service that acts for a user verifies it itself against auth's public keys: a request
// field naming a user is never believed, so a caller that reaches a service past the gateway gets
// nothing it could not get through it.
import { Metadata } from '@grpc/grpc-js';
import { AccessTokenError, verifyAccessToken, type AccessTokenSubject, type JsonWebKeySet } from './access-tokens.js';
import { peekKid } from './jwks-cache.js';

/** The standard header name, so gRPC tooling (grpcurl -H) can act as a user too. */
export const CALLER_TOKEN_KEY = 'authorization';

export function callerMetadata(accessToken: string, metadata = new Metadata()): Metadata {
  metadata.set(CALLER_TOKEN_KEY, `Bearer ${accessToken}`);
  return metadata;
}

/** Pure: the token of an `Authorization: Bearer <token>` value (HTTP header or gRPC metadata). */
export function parseBearer(value: string | undefined): string | undefined {
  return value === undefined ? undefined : /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(value)?.[1];
}

/** Pure: the bearer token a call carries, if exactly one well-formed one. */
export function bearerTokenOf(metadata: Metadata): string | undefined {
  const values = metadata.get(CALLER_TOKEN_KEY);
  if (values.length !== 1 || typeof values[0] !== 'string') return undefined;
  return parseBearer(values[0]);
}

/** Thrown when a call carries no valid access token; every service answers UNAUTHENTICATED. */
export class UnauthenticatedCallerError extends Error {
  override readonly name = 'UnauthenticatedCallerError';
  constructor(readonly reason: string) {
    super('a valid access token is required in the call metadata');
  }
}

/** The keys to verify a caller could not be fetched; every service answers UNAVAILABLE. */
export class CallerKeysUnavailableError extends Error {
  override readonly name = 'CallerKeysUnavailableError';
  constructor(cause: unknown) {
    super('the keys that verify access tokens are unavailable; retry shortly', { cause });
  }
}

export interface CallerVerifierOptions {
  /** The key set for a token's `kid` (a JwksCache fetching from auth, or auth's own keys). */
  readonly keysFor: (kid: string | undefined) => Promise<JsonWebKeySet | string>;
  readonly now?: () => number;
}

export type CallerVerifier = (metadata: Metadata) => Promise<AccessTokenSubject>;

export function createCallerVerifier(options: CallerVerifierOptions): CallerVerifier {
  const now = options.now ?? Date.now;
  return async (metadata) => {
    const token = bearerTokenOf(metadata);
    if (!token) throw new UnauthenticatedCallerError('missing');
    let keys: JsonWebKeySet | string;
    try {
      keys = await options.keysFor(peekKid(token));
    } catch (error) {
      // Auth being unreachable is not the caller's fault: UNAVAILABLE, so they retry.
      throw new CallerKeysUnavailableError(error);
    }
    try {
      return verifyAccessToken(token, keys, { now: now() });
    } catch (error) {
      if (error instanceof AccessTokenError) throw new UnauthenticatedCallerError(error.reason);
      throw error;
    }
  };
}
