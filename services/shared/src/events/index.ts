// Domain events over RocketMQ, or in this process when no endpoints are configured: one interface.
import type { Logger } from '../logger.js';
import type { EventBus } from './bus.js';
import { createInProcessBus } from './in-process.js';
import { createRocketMQBus } from './rocketmq.js';

export type { Delivery, EventBus, EventBusMode, EventHandler, EventPublisher, EventSubscription, SubscribeOptions } from './bus.js';
export { decodeEvent, encodeEvent, MalformedEventError, type DomainEvent } from './domain-event.js';
export { backoffDelay, failureSummary, pause, type BackoffOptions } from './backoff.js';
export { createInProcessBus, type InProcessBusOptions } from './in-process.js';
export { createRocketMQBus, EVENT_ID_PROPERTY, EVENT_TYPE_PROPERTY, type RocketMQBusOptions } from './rocketmq.js';

export interface CreateEventBusOptions {
  /** RocketMQ proxy endpoint(s); empty: the in-process bus. */
  readonly endpoints: string;
  readonly topic: string;
  readonly retryDelayMs: number;
  /** Longest wait between reconnection attempts while RocketMQ is away. */
  readonly maxBackoffMs?: number;
  readonly logger: Logger;
}

export function createEventBus(options: CreateEventBusOptions): EventBus {
  if (options.endpoints.trim() === '') return createInProcessBus({ retryDelayMs: options.retryDelayMs });
  return createRocketMQBus({
    endpoints: options.endpoints.trim(),
    topic: options.topic,
    retryDelayMs: options.retryDelayMs,
    logger: options.logger,
    ...(options.maxBackoffMs !== undefined && { maxBackoffMs: options.maxBackoffMs }),
  });
}
