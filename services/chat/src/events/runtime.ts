// The events machinery of one chat process: the bus (RocketMQ, or in-process without endpoints), the
// relay draining the outbox onto it, and the consumers (title writer, usage) behind one subscription.
import type { Logger } from '@freechat/shared';
import { createEventBus, type EventBusMode } from '@freechat/shared/events';
import type pg from 'pg';
import type { ChatConfig } from '../config.js';
import type { InferenceGateway } from '../inference-client.js';
import { ConsumerStore } from './consumer-store.js';
import { createDispatcher } from './dispatcher.js';
import { OutboxStore } from './outbox.js';
import { OutboxRelay } from './relay.js';
import { createTitleWriter } from './title-writer.js';
import { createUsageConsumer, UsageStore } from './usage.js';

export interface DomainEventsOptions {
  readonly config: ChatConfig['events'];
  readonly db: pg.Pool;
  readonly inference: InferenceGateway;
  readonly logger: Logger;
}

export interface DomainEvents {
  readonly mode: EventBusMode;
  readonly usage: UsageStore;
  readonly outbox: OutboxStore;
  /** Subscribes the consumers, then starts the relay (in-process, nothing is published to no one). */
  start(): void;
  /** The relay first (nothing new is published), then the consumers, then the bus. */
  close(): Promise<void>;
}

export function createDomainEvents(options: DomainEventsOptions): DomainEvents {
  const { config, db, inference } = options;
  const logger = options.logger.child({ component: 'events' });
  const bus = createEventBus({
    endpoints: config.endpoints,
    topic: config.topic,
    retryDelayMs: config.retryDelayMs,
    maxBackoffMs: config.relay.maxBackoffMs,
    logger,
  });
  if (bus.mode === 'rocketmq') logger.info({ endpoints: config.endpoints, topic: config.topic, group: config.consumerGroup }, 'domain events: RocketMQ');
  else logger.info('domain events: in this process (set ROCKETMQ_ENDPOINTS to publish them to RocketMQ)');
  const outbox = new OutboxStore(db);
  const store = new ConsumerStore(db);
  const usage = new UsageStore(db);
  const consumers = [
    createUsageConsumer({ store, usage }),
    ...(config.titles.enabled
      ? [createTitleWriter({ db, store, inference, maxNewTokens: config.titles.maxNewTokens, timeoutMs: config.titles.timeoutMs })]
      : []),
  ];
  const relay = new OutboxRelay({
    store: outbox,
    publisher: bus,
    batchSize: config.relay.batchSize,
    pollIntervalMs: config.relay.pollIntervalMs,
    maxBackoffMs: config.relay.maxBackoffMs,
    logger,
  });
  let subscription: { close(): Promise<void> } | undefined;
  return {
    mode: bus.mode,
    usage,
    outbox,
    start() {
      subscription ??= bus.subscribe({
        group: config.consumerGroup,
        handler: createDispatcher({ consumers, store, maxAttempts: config.maxAttempts, logger }),
      });
      relay.start();
    },
    async close() {
      await relay.stop();
      await subscription?.close();
      await bus.close();
    },
  };
}
