// The bus over RocketMQ 5 (the gRPC proxy): a Producer publishes each event as a FIFO message whose
// group is the session id, with the event id as key and id and type as properties; a SimpleConsumer
// per subscription receives, hands each event to the handler and acknowledges it, or, when the
// handler fails, makes it visible again after `retryDelayMs` (its session waits meanwhile).
// Nothing here ever blocks on an unreachable RocketMQ for long: clients start with a timeout and are
// recreated, with backoff, until it answers.
import { Producer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import type { Logger } from '../logger.js';
import { backoffDelay, failureSummary, pause } from './backoff.js';
import type { EventBus, EventHandler, EventSubscription, SubscribeOptions } from './bus.js';
import { decodeEvent, encodeEvent, MalformedEventError } from './domain-event.js';

export interface RocketMQBusOptions {
  /** The proxy's gRPC endpoint(s), `host:port[;host:port]`. */
  readonly endpoints: string;
  readonly topic: string;
  readonly logger: Logger;
  /** Wait before a failed event is delivered again. */
  readonly retryDelayMs: number;
  /** An event in hand longer than this is delivered again (to this or another replica). */
  readonly invisibleMs?: number;
  /** A client that has not started by then is given up and tried again later. */
  readonly startupTimeoutMs?: number;
  readonly maxBackoffMs?: number;
  /** Long-poll time of one receive. */
  readonly awaitMs?: number;
}

/** Event ids and types ride as message properties too, for tools that look at the topic. */
export const EVENT_ID_PROPERTY = 'eventId';
export const EVENT_TYPE_PROPERTY = 'eventType';

export function createRocketMQBus(options: RocketMQBusOptions): EventBus {
  const { endpoints, topic, logger } = options;
  const startupTimeoutMs = options.startupTimeoutMs ?? 10_000;
  const backoff = { baseMs: 500, maxMs: options.maxBackoffMs ?? 10_000 };
  const clientLogger = quietLogger(logger);
  const subscriptions = new Set<RocketMQSubscription>();
  let producer: Promise<Producer> | undefined;

  const startProducer = (): Promise<Producer> => {
    producer ??= (async () => {
      const p = new Producer({ namespace: '', endpoints, topics: [topic], logger: clientLogger });
      try {
        await withTimeout(p.startup(), startupTimeoutMs, 'RocketMQ producer startup');
        return p;
      } catch (error) {
        void shutdownQuietly(p, startupTimeoutMs);
        throw error;
      }
    })();
    producer.catch(() => (producer = undefined));
    return producer;
  };

  return {
    mode: 'rocketmq',
    async publish(event) {
      const p = await startProducer();
      await p.send({
        topic,
        body: encodeEvent(event),
        messageGroup: event.sessionId,
        keys: [event.id],
        properties: new Map([
          [EVENT_ID_PROPERTY, event.id],
          [EVENT_TYPE_PROPERTY, event.type],
        ]),
      });
    },
    subscribe({ group, handler }: SubscribeOptions): EventSubscription {
      const subscription = new RocketMQSubscription({
        endpoints,
        topic,
        group,
        handler,
        logger,
        clientLogger,
        startupTimeoutMs,
        backoff,
        retryDelayMs: options.retryDelayMs,
        invisibleMs: options.invisibleMs ?? 30_000,
        // 3 s is verified; 2 s is refused by the proxy ("deadline time remaining is not enough for polling").
        awaitMs: options.awaitMs ?? 3_000,
      });
      subscriptions.add(subscription);
      return {
        close: async () => {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },
    async close() {
      await Promise.all([...subscriptions].map((s) => s.close()));
      subscriptions.clear();
      const p = await producer?.catch(() => undefined);
      producer = undefined;
      if (p) await shutdownQuietly(p, startupTimeoutMs);
    },
  };
}

interface SubscriptionOptions {
  readonly endpoints: string;
  readonly topic: string;
  readonly group: string;
  readonly handler: EventHandler;
  readonly logger: Logger;
  readonly clientLogger: ClientLogger;
  readonly startupTimeoutMs: number;
  readonly backoff: { baseMs: number; maxMs: number };
  readonly retryDelayMs: number;
  readonly invisibleMs: number;
  readonly awaitMs: number;
}

class RocketMQSubscription {
  private readonly stopped = new AbortController();
  private readonly loop: Promise<void>;

  constructor(private readonly options: SubscriptionOptions) {
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.stopped.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger, group, backoff } = this.options;
    const signal = this.stopped.signal;
    let consumer: SimpleConsumer | undefined;
    let failures = 0;
    while (!signal.aborted) {
      try {
        consumer ??= await this.startConsumer();
        const messages = await consumer.receive(16, this.options.invisibleMs);
        if (failures > 0) logger.info({ group }, 'receiving events again');
        failures = 0;
        // A batch can hold several of one session's events. After one fails, the rest of its group
        // must wait: RocketMQ delivers the whole group again, from the failed one, in order.
        const blocked = new Set<string>();
        for (const message of messages) {
          if (signal.aborted) break;
          const group = message.messageGroup ?? '';
          if (blocked.has(group)) continue;
          if (!(await this.handle(consumer, message))) blocked.add(group);
        }
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        // Once per outage at warn; the retries after it at debug.
        logger[failures === 1 ? 'warn' : 'debug']({ failure: failureSummary(error), group, failures }, 'RocketMQ receive failed; retrying');
        // A fresh client after a failure: the proxy may have restarted with new sessions.
        if (consumer) void shutdownQuietly(consumer, this.options.startupTimeoutMs);
        consumer = undefined;
        await pause(backoffDelay(failures, backoff), signal);
      }
    }
    if (consumer) await shutdownQuietly(consumer, this.options.startupTimeoutMs);
  }

  private async startConsumer(): Promise<SimpleConsumer> {
    const { endpoints, topic, group, clientLogger, startupTimeoutMs, awaitMs } = this.options;
    const consumer = new SimpleConsumer({
      namespace: '',
      endpoints,
      consumerGroup: group,
      subscriptions: new Map([[topic, '*']]),
      awaitDuration: awaitMs,
      logger: clientLogger,
    });
    try {
      // A missing group makes startup wait forever.
      await withTimeout(consumer.startup(), startupTimeoutMs, `RocketMQ consumer startup (group ${group})`);
      return consumer;
    } catch (error) {
      void shutdownQuietly(consumer, startupTimeoutMs);
      throw error;
    }
  }

  /** False when the handler failed (the message comes again after retryDelayMs). */
  private async handle(consumer: SimpleConsumer, message: MessageView): Promise<boolean> {
    const { logger, handler, group } = this.options;
    let event;
    try {
      event = decodeEvent(message.body);
    } catch (error) {
      if (!(error instanceof MalformedEventError)) throw error;
      // Nothing to hand anyone, and it would block its group forever.
      logger.error({ failure: failureSummary(error), messageId: message.messageId, group }, 'dropping a message that is not an event');
      await consumer.ack(message);
      return true;
    }
    try {
      await handler(event, { attempt: message.deliveryAttempt ?? 1 });
    } catch (error) {
      logger.warn({ failure: failureSummary(error), eventId: event.id, type: event.type, attempt: message.deliveryAttempt, group }, 'event handler failed; it will come again');
      await consumer.changeInvisibleDuration(message, this.options.retryDelayMs);
      return false;
    }
    await consumer.ack(message);
    return true;
  }
}

interface ClientLogger {
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/**
 * The client's own logger writes to ~/logs/rocketmq and throws on a second shutdown; its messages
 * are printf-style and noisy (every retry is an error), so they go to our log at debug level.
 */
function quietLogger(logger: Logger): ClientLogger {
  const child = logger.child({ component: 'rocketmq-client' });
  const log = (...args: unknown[]): void => child.debug({ detail: args.map(String).join(' ') }, 'rocketmq client');
  return { info: () => {}, debug: () => {}, warn: log, error: log };
}

async function shutdownQuietly(client: { shutdown(): Promise<unknown> }, timeoutMs: number): Promise<void> {
  await withTimeout(client.shutdown(), timeoutMs, 'RocketMQ client shutdown').catch(() => {});
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
