// The one way a service connects to Redis. Commands fail fast while Redis is away instead of queueing
// without bound (after one failed reconnect, or a 2 s timeout): every caller has a documented
// fallback, and a hang is worse than an error.
import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import type { Logger } from './logger.js';

/** The `redis` section of a service's config. An empty URL: the service's in-process equivalent. */
export const redisConfigSchema = z.strictObject({
  url: z.string().refine((url) => url === '' || /^rediss?:\/\//.test(url), 'expected redis://host:port (or empty for in-process)'),
});
export const REDIS_ENV = { REDIS_URL: 'redis.url' } as const;

/** How a URL appears in logs: without its password. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

export interface CreateRedisClientOptions {
  readonly url: string;
  readonly logger: Logger;
  /** Appears in Redis' CLIENT LIST and in our logs. */
  readonly name: string;
  /** Subscriber connections must not time out while idle. */
  readonly overrides?: RedisOptions;
}

export function createRedisClient(options: CreateRedisClientOptions): Redis {
  const client = new Redis(options.url, {
    connectionName: options.name,
    // Commands wait for the first connection, and for one reconnect attempt during an outage.
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    // Reconnect forever, backing off to 1 s: Redis coming back is the normal end of an outage.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    lazyConnect: false,
    ...options.overrides,
  });
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    options.logger.warn({ err: error, client: options.name }, 'redis unreachable; retrying');
  });
  client.on('ready', () => {
    if (down) options.logger.info({ client: options.name }, 'redis reachable again');
    down = false;
  });
  return client;
}

/** Resolves once the client is connected, or rejects after `timeoutMs` (a wrong URL fails the start). */
export async function redisReady(client: Redis, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`redis not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}

export type { Redis } from 'ioredis';
