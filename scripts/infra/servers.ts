// The three real servers Free Chat uses beyond PostgreSQL, started side by side: what the test suite
// (test/infra/global-setup.ts) and `make infra-up` (cli.ts) both start.
import path from 'node:path';
import { startConsul, type ConsulServer } from './consul.js';
import type { ManagedProcess } from './managed-process.js';
import { startRedis, type RedisServer } from './redis.js';
import { FREECHAT_ROCKETMQ, startRocketMQ, type RocketMQServer } from './rocketmq.js';

export interface InfraServers {
  readonly redis: RedisServer;
  readonly consul: ConsulServer;
  readonly rocketmq: RocketMQServer;
  /** What a Free Chat service needs to use them, as environment variables. */
  readonly env: { readonly REDIS_URL: string; readonly CONSUL_HTTP_ADDR: string; readonly ROCKETMQ_ENDPOINTS: string };
  /** Every process, in start order. */
  readonly processes: readonly ManagedProcess[];
  stop(): Promise<void>;
}

export interface StartInfraOptions {
  /** Each server gets a subdirectory for its data and logs. */
  readonly dataDir: string;
  /** Outlive this process (`make infra-up`). */
  readonly keepAlive?: boolean;
}

/** Starts Redis, Consul and RocketMQ at once; on any failure stops the others and throws. */
export async function startInfra(options: StartInfraOptions): Promise<InfraServers> {
  const keepAlive = options.keepAlive ?? false;
  const settled = await Promise.allSettled([
    startRedis({ dataDir: path.join(options.dataDir, 'redis'), keepAlive }),
    startConsul({ dataDir: path.join(options.dataDir, 'consul'), keepAlive }),
    startRocketMQ({ dataDir: path.join(options.dataDir, 'rocketmq'), keepAlive, ...FREECHAT_ROCKETMQ }),
  ] as const);
  const [redis, consul, rocketmq] = settled;
  if (redis.status === 'rejected' || consul.status === 'rejected' || rocketmq.status === 'rejected') {
    await Promise.all(settled.map((result) => (result.status === 'fulfilled' ? result.value.stop().catch(() => {}) : undefined)));
    const reasons = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason instanceof Error ? result.reason.message : String(result.reason)] : []));
    throw new Error(`could not start the servers:\n${reasons.join('\n')}`);
  }
  return {
    redis: redis.value,
    consul: consul.value,
    rocketmq: rocketmq.value,
    env: { REDIS_URL: redis.value.url, CONSUL_HTTP_ADDR: consul.value.address, ROCKETMQ_ENDPOINTS: rocketmq.value.endpoints },
    processes: [redis.value.process, consul.value.process, rocketmq.value.namesrv, rocketmq.value.proxy],
    async stop() {
      await Promise.all([rocketmq.value.stop(), consul.value.stop(), redis.value.stop()].map((p) => p.catch(() => {})));
    },
  };
}
