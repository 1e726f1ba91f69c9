// One bus subscription, several consumers: each event goes to every consumer that wants it. A
// consumer that already applied it is skipped; one that fails is retried by redelivery (the others,
// done, skip it then) until the event's attempt reaches maxAttempts, when the event goes to the
// dead-letter table for that consumer and stops blocking its session.
import type { Logger } from '@freechat/shared';
import type { Delivery, DomainEvent, EventHandler } from '@freechat/shared/events';
import type { ConsumerStore } from './consumer-store.js';

export interface EventConsumer {
  /** Stable: processed events and dead letters are recorded under it. */
  readonly name: string;
  wants(event: DomainEvent): boolean;
  /** Applies the event (through `store.applyOnce`, so twice is once). Throws to be retried. */
  handle(event: DomainEvent): Promise<void>;
}

export interface DispatcherOptions {
  readonly consumers: readonly EventConsumer[];
  readonly store: ConsumerStore;
  readonly maxAttempts: number;
  readonly logger: Logger;
}

/** Pure: after a failure on this attempt, give up (dead-letter) or let the event come again. */
export function failureAction(attempt: number, maxAttempts: number): 'retry' | 'dead_letter' {
  return attempt >= maxAttempts ? 'dead_letter' : 'retry';
}

export function createDispatcher(options: DispatcherOptions): EventHandler {
  const { consumers, store, maxAttempts, logger } = options;
  return async (event: DomainEvent, delivery: Delivery) => {
    const failures: { consumer: string; error: unknown }[] = [];
    for (const consumer of consumers) {
      if (!consumer.wants(event)) continue;
      if (await store.isProcessed(consumer.name, event.id)) continue;
      try {
        await consumer.handle(event);
      } catch (error) {
        const context = { err: error, consumer: consumer.name, eventId: event.id, type: event.type, attempt: delivery.attempt };
        if (failureAction(delivery.attempt, maxAttempts) === 'dead_letter') {
          logger.error(context, 'event failed too often; dead-lettered');
          await store.deadLetter(consumer.name, event, delivery.attempt, reasonOf(error));
        } else {
          logger.warn(context, 'event failed; it will be retried');
          failures.push({ consumer: consumer.name, error });
        }
      }
    }
    if (failures.length > 0) {
      throw new AggregateError(
        failures.map((f) => f.error),
        `${failures.map((f) => f.consumer).join(', ')} failed on ${event.type} ${event.id}`,
      );
    }
  };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
