// The bus when no RocketMQ is configured (`make run`, tests): events go straight to this process's
// subscribers, each through its own queue, one at a time in publishing order, a failed event retried
// (with a growing attempt number) before the next. Nothing survives a restart: the outbox rows are
// already marked published by then.
import { pause } from './backoff.js';
import type { EventBus, EventHandler, EventSubscription, SubscribeOptions } from './bus.js';
import type { DomainEvent } from './domain-event.js';

export interface InProcessBusOptions {
  /** Wait before delivering a failed event again. */
  readonly retryDelayMs: number;
}

export function createInProcessBus(options: InProcessBusOptions): EventBus {
  const subscriptions = new Set<Queue>();
  return {
    mode: 'in-process',
    async publish(event) {
      for (const queue of subscriptions) queue.push(event);
    },
    subscribe({ handler }: SubscribeOptions): EventSubscription {
      const queue = new Queue(handler, options.retryDelayMs);
      subscriptions.add(queue);
      return {
        close: async () => {
          subscriptions.delete(queue);
          await queue.close();
        },
      };
    },
    async close() {
      await Promise.all([...subscriptions].map((q) => q.close()));
      subscriptions.clear();
    },
  };
}

class Queue {
  private readonly events: DomainEvent[] = [];
  private attempt = 0;
  private running: Promise<void> | undefined;
  private readonly stopped = new AbortController();

  constructor(
    private readonly handler: EventHandler,
    private readonly retryDelayMs: number,
  ) {}

  push(event: DomainEvent): void {
    this.events.push(event);
    this.running ??= this.drain();
  }

  async close(): Promise<void> {
    this.stopped.abort();
    await this.running;
  }

  private async drain(): Promise<void> {
    try {
      for (let event = this.events[0]; event && !this.stopped.signal.aborted; event = this.events[0]) {
        this.attempt++;
        try {
          await this.handler(event, { attempt: this.attempt });
          this.events.shift();
          this.attempt = 0;
        } catch {
          await pause(this.retryDelayMs, this.stopped.signal);
        }
      }
    } finally {
      // In the same turn as the last look at the queue: a `.finally()` on the promise would run a
      // microtask later, and an event pushed in between would wait for the next push.
      this.running = undefined;
    }
  }
}
