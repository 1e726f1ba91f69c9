// Composition of the chat service: gRPC + health first, then the database, then SERVING.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChatServiceClient, ChatServiceService } from '@freechat/proto/freechat/chat/v1/chat';
import { randomUUID } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';
import { hostname } from 'node:os';
import {
  createCallerVerifier,
  createDiscovery,
  bindGrpcServer,
  createGrpcServer,
  JwksCache,
  createGrpcTransport,
  createRedisClient,
  redactRedisUrl,
  redisReady,
  startServiceMetrics,
  type ChannelProvider,
  type JsonWebKeySet,
  type Logger,
} from '@freechat/shared';
import { AuthServiceClient } from '@freechat/proto/freechat/auth/v1/auth';
import { createPool, runMigrations, watchDatabase, type DatabaseWatch } from '@freechat/shared/postgres';
import type { ChatConfig } from './config.js';
import { createDomainEvents } from './events/runtime.js';
import { createChatHandlers } from './grpc-handlers.js';
import { createInferenceGateway } from './inference-client.js';
import { chatMetrics } from './metrics.js';
import { ModelLimits } from './model-limits.js';
import { MessagesRepository } from './messages-repository.js';
import { createReaper } from './reaper.js';
import { RunManager } from './run-manager.js';
import { MemoryRunControl, type RunControl } from './run-control.js';
import { RedisChannels } from './redis-channels.js';
import { RedisRunControl } from './redis-run-control.js';
import { RedisRunLog } from './redis-run-log.js';
import { MemoryRunLog, type RunLog } from './run-log.js';
import { SearchRepository } from './search-repository.js';
import { SessionsRepository } from './sessions-repository.js';
import { ConversationsRepository } from './conversations-repository.js';
import { SharesRepository } from './shares-repository.js';

/** `services/chat/migrations`, from src/ (tests, tsx) and from dist/ alike. */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

export interface StartChatServerOptions {
  readonly config: ChatConfig;
  readonly logger: Logger;
  /** How inference is reached. Default: per config.discovery, Consul or the static address in config.upstreams. */
  readonly channels?: ChannelProvider;
  /** Default: Redis Streams when redis.url is set, else in memory; finished runs kept for runs.logRetentionSeconds. */
  readonly runLog?: RunLog;
  /** The keys that verify callers' access tokens. Default: auth's, fetched through discovery (GetPublicKeys). */
  readonly accessTokenKeys?: (kid: string | undefined) => Promise<JsonWebKeySet | string>;
}

export interface ChatServerHandle {
  /** `host:port` actually bound (port 0 in config becomes a real port). */
  readonly address: string;
  readonly port: number;
  /** Resolves once migrations ran, stale runs were reaped and health reports SERVING; rejects if that failed. */
  readonly ready: Promise<void>;
  /** `http://host:port/metrics`, or undefined when metrics.address is empty. */
  readonly metricsUrl: string | undefined;
  /** NOT_SERVING, let running runs finish (up to shutdown.graceMs), interrupt the rest, close everything. */
  close(): Promise<void>;
}

/** Time, beyond the grace period, for interrupted runs to store what they had. */
const INTERRUPT_MARGIN_MS = 5_000;

export async function startChatServer(options: StartChatServerOptions): Promise<ChatServerHandle> {
  const { config, logger } = options;
  const pool = createPool({ url: config.database.url, passwordFile: config.database.passwordFile, max: config.database.poolSize, applicationName: 'freechat-chat' });
  const transport = createGrpcTransport(config.grpc, 'chat');
  const metrics = await startServiceMetrics({ service: 'chat', config: config.metrics, logger });
  const discovery = createDiscovery({ config: config.discovery, service: 'chat', logger, transport, metrics: metrics.grpc, staticAddresses: { inference: config.upstreams.inference, auth: config.upstreams.auth } });
  const inference = createInferenceGateway({ channels: options.channels ?? discovery.channels });
  const shared = createRunSharing(config, logger, options.runLog);
  const { runLog, control } = shared;
  const sessions = new SessionsRepository(pool);
  const messages = new MessagesRepository(pool);
  const modelLimits = new ModelLimits({ inference, ttlMs: 60_000, timeoutMs: 2_000, logger });
  const observed = chatMetrics(metrics.registry, {
    ...(runLog instanceof MemoryRunLog && { runLogSize: () => runLog.size }),
    outboxPending: () => countPendingOutbox(pool),
  });
  const runs = new RunManager({ messages, runLog, control, inference, modelLimits, runs: config.runs, logger: logger.child({ component: 'runs' }), metrics: observed });
  const reaper = createReaper({ store: messages, staleAfterMs: config.runs.staleAfterSeconds * 1000, logger });
  const events = createDomainEvents({ config: config.events, db: pool, inference, logger });
  const callerOf = createCallerVerifier({ keysFor: options.accessTokenKeys ?? authKeys(discovery.channels, config.auth.jwksRefetchMinIntervalMs) });
  let serving = false;

  const grpc = createGrpcServer({
    logger,
    transport,
    metrics: metrics.grpc,
    services: [
      {
        name: ChatServiceClient.serviceName,
        definition: ChatServiceService,
        implementation: createChatHandlers({ sessions, search: new SearchRepository(pool), messages, conversations: new ConversationsRepository(pool), shares: new SharesRepository(pool), runs, usage: events.usage, models: modelLimits, logger, isReady: () => serving, callerOf }),
      },
    ],
  });
  const { port, address } = await bindGrpcServer(grpc, config.listen.address, async () => {
    await pool.end();
    await metrics.close();
  });
  logger.info({ address }, 'listening; NOT_SERVING until the database is ready');

  let closing = false;
  let watch: DatabaseWatch | undefined;
  const ready = (async () => {
    await shared.ready();
    await runMigrations(pool, { schema: 'chat', directory: MIGRATIONS_DIR, logger });
    await reaper.sweep();
    if (closing) return;
    reaper.start();
    events.start();
    serving = true;
    grpc.setServing(true);
    logger.info('database ready; SERVING');
    // From now on health follows the database: NOT_SERVING while it is away, SERVING once it is back.
    watch = watchDatabase({ pool, logger, onChange: (reachable) => grpc.setServing(reachable) });
    await discovery.register({ listenAddress: address, check: grpc.healthCheck() });
  })();
  // Callers await `ready`; this only keeps a failed start from also being an unhandled rejection.
  ready.catch(() => {});

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing = true;
    closed ??= (async () => {
      // Never end the pool under a migration still running.
      await ready.catch(() => {});
      // Before shutdown reports NOT_SERVING, so nothing turns it back to SERVING.
      watch?.stop();
      // Out of the catalog first, so the gateways stop picking this instance while it still answers.
      await discovery.deregister();
      const graceMs = config.shutdown.graceMs;
      await grpc.shutdown({ drain: () => runs.shutdown(graceMs), graceMs: graceMs + INTERRUPT_MARGIN_MS });
      // Runs interrupted by a cut call still store their state before the pool goes.
      await runs.shutdown(0);
      serving = false;
      await reaper.stop();
      await events.close();
      await shared.close();
      inference.close();
      discovery.close();
      await pool.end();
      await metrics.close();
    })();
    return closed;
  };

  return { address, port, ready, metricsUrl: metrics.url, close };
}

interface RunSharing {
  readonly runLog: RunLog;
  readonly control: RunControl;
  /** Resolves once the store is reachable (rejects if it is not, within a bound). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** Where runs are logged and controlled: Redis when configured (replicas share runs), else this process. */
function createRunSharing(config: ChatConfig, logger: Logger, runLogOverride: RunLog | undefined): RunSharing {
  const retentionMs = config.runs.logRetentionSeconds * 1000;
  if (!config.redis.url) {
    logger.info({ runLog: 'memory', runControl: 'memory' }, 'runs: in this process only (set REDIS_URL to share them between replicas)');
    const runLog = runLogOverride ?? new MemoryRunLog({ retentionMs });
    const control = new MemoryRunControl();
    return { runLog, control, ready: async () => {}, close: async () => Promise.all([runLog.close(), control.close()]).then(() => {}) };
  }
  const redisLogger = logger.child({ component: 'redis' });
  const redis = createRedisClient({ url: config.redis.url, logger: redisLogger, name: 'freechat-chat' });
  const subscriber = createRedisClient({ url: config.redis.url, logger: redisLogger, name: 'freechat-chat-sub', overrides: { commandTimeout: undefined } });
  const channels = new RedisChannels(subscriber, redisLogger);
  const runLog =
    runLogOverride ??
    new RedisRunLog({ redis, channels, retentionMs, idleExpiryMs: Math.max(retentionMs, 3_600_000), logger: redisLogger });
  const control = new RedisRunControl({
    redis,
    channels,
    replicaId: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    leaseMs: config.runs.ownerLeaseMs,
    logger: redisLogger,
  });
  logger.info({ runLog: 'redis', runControl: 'redis', redis: redactRedisUrl(config.redis.url) }, 'runs: shared through Redis');
  return {
    runLog,
    control,
    async ready() {
      await Promise.all([redisReady(redis, 30_000), redisReady(subscriber, 30_000)]);
      await control.start();
    },
    async close() {
      await Promise.all([runLog.close(), control.close()]);
      subscriber.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Outbox rows not yet relayed, read at scrape time; undefined when the database does not answer within 1 s. */
async function countPendingOutbox(pool: ReturnType<typeof createPool>): Promise<number | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 1_000)));
  const count = pool
    .query<{ pending: string }>('SELECT count(*) AS pending FROM chat.outbox WHERE published_at IS NULL')
    .then((result) => Number(result.rows[0]?.pending ?? 0))
    .catch(() => undefined);
  try {
    return await Promise.race([count, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Auth's public keys, kept and refetched only for a kid not seen yet (auth rotated its key). */
function authKeys(channels: ChannelProvider, minRefetchIntervalMs: number): (kid: string | undefined) => Promise<JsonWebKeySet> {
  const auth = channels.client('auth', AuthServiceClient);
  const cache = new JwksCache({
    minRefetchIntervalMs,
    fetchJwks: () =>
      new Promise((resolve, reject) =>
        auth.getPublicKeys({}, new Metadata(), { deadline: Date.now() + 5_000 }, (error, response) => (error ? reject(error) : resolve(response.jwksJson))),
      ),
  });
  return (kid) => cache.forKid(kid);
}
