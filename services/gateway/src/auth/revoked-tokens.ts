// Access tokens revoked before they expire (logout), by token id. In Redis when configured, so every
// gateway replica refuses a token one of them revoked; in this process otherwise. An entry lives
// exactly as long as the token it names could still verify.
import type { Redis } from '@freechat/shared';

export interface RevokedTokens {
  revoke(tokenId: string, expiresAtMs: number): Promise<void>;
  isRevoked(tokenId: string): Promise<boolean>;
}

/** Pure: how long a revocation must be remembered; the verifier's clock tolerance included. */
export function revocationTtlMs(expiresAtMs: number, nowMs: number, clockToleranceMs = 30_000): number {
  return Math.max(1, Math.ceil(expiresAtMs + clockToleranceMs - nowMs));
}

export class MemoryRevokedTokens implements RevokedTokens {
  private readonly until = new Map<string, number>();
  constructor(private readonly now: () => number = Date.now) {}

  async revoke(tokenId: string, expiresAtMs: number): Promise<void> {
    const now = this.now();
    // Forgetting the expired ones here keeps the map as small as the live revocations.
    for (const [id, until] of this.until) if (until <= now) this.until.delete(id);
    this.until.set(tokenId, now + revocationTtlMs(expiresAtMs, now));
  }

  async isRevoked(tokenId: string): Promise<boolean> {
    const until = this.until.get(tokenId);
    return until !== undefined && until > this.now();
  }
}

export class RedisRevokedTokens implements RevokedTokens {
  constructor(
    private readonly redis: Redis,
    private readonly now: () => number = Date.now,
    private readonly prefix = 'freechat:gateway:revoked:',
  ) {}

  async revoke(tokenId: string, expiresAtMs: number): Promise<void> {
    await this.redis.set(this.prefix + tokenId, '1', 'PX', revocationTtlMs(expiresAtMs, this.now()));
  }

  async isRevoked(tokenId: string): Promise<boolean> {
    // Not queued behind a reconnect: the caller decides what an unreachable store means.
    if (this.redis.status !== 'ready') throw new Error(`redis ${this.redis.status}`);
    return (await this.redis.exists(this.prefix + tokenId)) === 1;
  }
}
