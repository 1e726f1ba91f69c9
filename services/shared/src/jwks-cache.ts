// The auth service's public keys, fetched once and kept; a token signed by a key we have not seen
// (auth rotated its key) triggers a refetch, at most once per interval so forged kids cannot make
// the gateway hammer auth.
import { parseJwks, type JsonWebKeySet } from './access-tokens.js';

export interface JwksState {
  /** The kids the last fetched set holds. */
  readonly kids: ReadonlySet<string>;
  /** When it was fetched (ms), or undefined before the first fetch. */
  readonly fetchedAt: number | undefined;
}

export type JwksDecision = 'use' | 'fetch' | 'unknown-key';

/** Pure: use the cached set, fetch a new one, or refuse the kid without asking auth. */
export function decideJwks(state: JwksState, kid: string | undefined, now: number, minRefetchIntervalMs: number): JwksDecision {
  // A token without a kid fails verification whatever the set holds: no reason to ask auth.
  if (kid === undefined) return 'use';
  if (state.fetchedAt === undefined) return 'fetch';
  if (state.kids.has(kid)) return 'use';
  return now - state.fetchedAt >= minRefetchIntervalMs ? 'fetch' : 'unknown-key';
}

export interface JwksCacheOptions {
  /** Returns GetPublicKeys' `jwks_json`. */
  readonly fetchJwks: () => Promise<string>;
  readonly minRefetchIntervalMs: number;
  readonly now?: () => number;
}

export class JwksCache {
  // One object per fetch: the verifier caches imported keys per set object.
  private jwks: JsonWebKeySet = { keys: [] };
  private state: JwksState = { kids: new Set(), fetchedAt: undefined };
  private inFlight: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: JwksCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The key set to verify a token with `kid`; fetch failures reject (auth unreachable is not the token's fault). */
  async forKid(kid: string | undefined): Promise<JsonWebKeySet> {
    if (decideJwks(this.state, kid, this.now(), this.options.minRefetchIntervalMs) === 'fetch') {
      // Concurrent requests with the same new kid share one fetch.
      this.inFlight ??= this.refresh().finally(() => {
        this.inFlight = undefined;
      });
      await this.inFlight;
    }
    return this.jwks;
  }

  private async refresh(): Promise<void> {
    const jwks = parseJwks(await this.options.fetchJwks());
    this.jwks = jwks;
    this.state = { kids: new Set(jwks.keys.flatMap((k) => (typeof k['kid'] === 'string' ? [k['kid']] : []))), fetchedAt: this.now() };
  }
}

/** Pure: the `kid` of a JWT header, if it has one; never throws. */
export function peekKid(token: string): string | undefined {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
    const kid = (header as { kid?: unknown } | null)?.kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}
