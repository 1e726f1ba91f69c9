// Publishing and consuming domain events, the same way whether RocketMQ or this process carries them.
import type { DomainEvent } from './domain-event.js';

export interface Delivery {
  /** 1 on the first delivery; more when an earlier attempt failed (or was never acknowledged). */
  readonly attempt: number;
}

/**
 * Resolving acknowledges the event; throwing leaves it unacknowledged, so it comes again later (after
 * `retryDelayMs`) and, in its session, before anything that followed it.
 */
export type EventHandler = (event: DomainEvent, delivery: Delivery) => Promise<void>;

export interface EventPublisher {
  /** Resolves once the bus holds the event; throws when it cannot (the caller retries). */
  publish(event: DomainEvent): Promise<void>;
}

export interface EventSubscription {
  /** Stops receiving; resolves once the event in hand (if any) has been handled. */
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** Consumers of one group share the events; each group gets every event. */
  readonly group: string;
  readonly handler: EventHandler;
}

export type EventBusMode = 'rocketmq' | 'in-process';

export interface EventBus extends EventPublisher {
  readonly mode: EventBusMode;
  /** Returns at once: connecting (and reconnecting) happens in the background. */
  subscribe(options: SubscribeOptions): EventSubscription;
  /** Closes subscriptions and the producer. */
  close(): Promise<void>;
}
