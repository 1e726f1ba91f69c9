// Failed logins per username, whatever the IP: a record of consecutive failures and the time of the
// last, in Redis (shared by replicas) or in this process. @fastify/rate-limit counts requests; this
// counts outcomes, which its stores cannot (a refused attempt must not extend the lockout forever).
import type { Redis } from '@freechat/shared';
import { failureMemoryMs, lockoutMs, usernameKey, type LoginBackoffConfig } from './policy.js';

export interface FailureRecord {
  readonly failures: number;
  readonly lastFailureMs: number;
}

export interface FailureStore {
  get(key: string): Promise<FailureRecord | undefined>;
  /** Adds a failure at `nowMs`; the record is forgotten `memoryMs(failures)` after it. */
  addFailure(key: string, nowMs: number, memoryMs: (failures: number) => number): Promise<FailureRecord>;
  clear(key: string): Promise<void>;
}

export class MemoryFailureStore implements FailureStore {
  readonly #records = new Map<string, FailureRecord & { readonly expiresMs: number }>();
  constructor(
    private readonly now: () => number,
    private readonly maxEntries = 10_000,
  ) {}

  async get(key: string): Promise<FailureRecord | undefined> {
    const record = this.#records.get(key);
    if (record && record.expiresMs <= this.now()) {
      this.#records.delete(key);
      return undefined;
    }
    return record;
  }

  async addFailure(key: string, nowMs: number, memoryMs: (failures: number) => number): Promise<FailureRecord> {
    const failures = ((await this.get(key))?.failures ?? 0) + 1;
    this.#records.delete(key);
    // Oldest first: bounded memory under a username-spraying attack.
    if (this.#records.size >= this.maxEntries) this.#records.delete(this.#records.keys().next().value!);
    const record = { failures, lastFailureMs: nowMs, expiresMs: nowMs + memoryMs(failures) };
    this.#records.set(key, record);
    return record;
  }

  async clear(key: string): Promise<void> {
    this.#records.delete(key);
  }
}

const PREFIX = 'freechat:gateway:';

export class RedisFailureStore implements FailureStore {
  constructor(private readonly redis: Redis) {}

  async get(key: string): Promise<FailureRecord | undefined> {
    const [failures, last] = await this.redis.hmget(PREFIX + key, 'failures', 'last');
    if (!failures || !last) return undefined;
    return { failures: Number(failures), lastFailureMs: Number(last) };
  }

  async addFailure(key: string, nowMs: number, memoryMs: (failures: number) => number): Promise<FailureRecord> {
    const [[, failures]] = (await this.redis.multi().hincrby(PREFIX + key, 'failures', 1).hset(PREFIX + key, 'last', nowMs).exec()) as [[Error | null, number]];
    await this.redis.pexpire(PREFIX + key, memoryMs(failures));
    return { failures, lastFailureMs: nowMs };
  }

  async clear(key: string): Promise<void> {
    await this.redis.del(PREFIX + key);
  }
}

/** Lockouts of usernames after repeated failed logins. */
export class LoginBackoff {
  constructor(
    private readonly store: FailureStore,
    private readonly config: LoginBackoffConfig,
    private readonly now: () => number,
  ) {}

  /** Milliseconds until `username` may try again; 0 when it may now. */
  async retryAfterMs(username: string): Promise<number> {
    const record = await this.store.get(usernameKey(username));
    if (!record) return 0;
    return Math.max(0, record.lastFailureMs + lockoutMs(this.config, record.failures) - this.now());
  }

  async recordFailure(username: string): Promise<void> {
    await this.store.addFailure(usernameKey(username), this.now(), (failures) => failureMemoryMs(this.config, failures));
  }

  async recordSuccess(username: string): Promise<void> {
    await this.store.clear(usernameKey(username));
  }
}
