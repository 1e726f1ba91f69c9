// Publishes the outbox to the bus: oldest first, stopping at the first failure so a session's events
// never overtake each other, at least once (a crash between publishing and marking publishes again;
// consumers skip what they have seen). Wakes every pollIntervalMs, at once after a full batch, and
// backs off while the bus is unreachable. Sending a message never waits for any of this.
import type { Logger } from '@freechat/shared';
import { backoffDelay, failureSummary, pause, type EventPublisher } from '@freechat/shared/events';
import type { OutboxStore, PendingEvent } from './outbox.js';

export interface OutboxRelayOptions {
  readonly store: OutboxStore;
  readonly publisher: EventPublisher;
  readonly batchSize: number;
  readonly pollIntervalMs: number;
  readonly maxBackoffMs: number;
  readonly logger: Logger;
}

export class OutboxRelay {
  private readonly stopped = new AbortController();
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: OutboxRelayOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Look now rather than at the next poll (a new row was just committed). */
  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { store, batchSize, pollIntervalMs, maxBackoffMs, logger } = this.options;
    const signal = this.stopped.signal;
    let failures = 0;
    while (!signal.aborted) {
      let delay = pollIntervalMs;
      try {
        const result = await store.publishBatch(batchSize, (pending) => this.publishInOrder(pending));
        if (result?.error !== undefined) {
          failures++;
          logger[failures === 1 ? 'warn' : 'debug']({ failure: failureSummary(result.error), published: result.published, failures }, 'publishing events failed; backing off');
          delay = backoffDelay(failures, { baseMs: pollIntervalMs, maxMs: maxBackoffMs });
        } else {
          if (failures > 0) logger.info({ published: result?.published }, 'publishing events again');
          failures = 0;
          if (result && result.published >= batchSize) delay = 0;
        }
      } catch (error) {
        failures++;
        logger.warn({ err: error, failures }, 'outbox relay failed; backing off');
        delay = backoffDelay(failures, { baseMs: pollIntervalMs, maxMs: maxBackoffMs });
      }
      if (delay > 0) await this.sleep(delay);
    }
  }

  private async publishInOrder(pending: readonly PendingEvent[]): Promise<{ published: number; error?: unknown }> {
    let published = 0;
    for (const { event } of pending) {
      if (this.stopped.signal.aborted) break;
      try {
        await this.options.publisher.publish(event);
      } catch (error) {
        return { published, error };
      }
      published++;
    }
    return { published };
  }

  private sleep(ms: number): Promise<void> {
    const woken = new AbortController();
    this.wakeUp = () => woken.abort();
    const both = AbortSignal.any([this.stopped.signal, woken.signal]);
    return pause(ms, both).finally(() => (this.wakeUp = undefined));
  }
}
