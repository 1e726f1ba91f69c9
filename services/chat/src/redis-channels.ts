// One Redis subscriber connection per process, shared by everything that waits on a channel:
// run-log readers (one channel per run, subscribed while anyone reads it) and run control.
import type { Logger, Redis } from '@freechat/shared';

export interface ChannelListener {
  /** Resolves on the next message since the previous call (at once if one came meanwhile), after `timeoutMs`, or on abort. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  close(): void;
}

interface Waiters {
  readonly listeners: Set<ListenerState>;
  subscribed: Promise<unknown>;
}

interface ListenerState {
  pending: boolean;
  wake: (() => void) | undefined;
}

export class RedisChannels {
  private readonly channels = new Map<string, Waiters>();
  private readonly handlers = new Map<string, Set<(message: string) => void>>();

  constructor(
    private readonly subscriber: Redis,
    private readonly logger: Logger,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      const waiters = this.channels.get(channel);
      if (waiters) {
        for (const state of waiters.listeners) {
          state.pending = true;
          state.wake?.();
        }
      }
      for (const handler of this.handlers.get(channel) ?? []) handler(message);
    });
  }

  /** Wake-ups for one channel; subscribed (once per process) before this resolves. */
  async listen(channel: string): Promise<ChannelListener> {
    let waiters = this.channels.get(channel);
    if (!waiters) {
      waiters = { listeners: new Set(), subscribed: this.subscriber.subscribe(channel) };
      this.channels.set(channel, waiters);
    }
    const state: ListenerState = { pending: false, wake: undefined };
    waiters.listeners.add(state);
    // A subscribe that fails (Redis down) only costs latency: readers poll as well.
    await waiters.subscribed.catch(() => {});
    const owner = waiters;
    return {
      next: (timeoutMs, signal) =>
        new Promise<void>((resolve) => {
          if (state.pending || signal?.aborted) {
            state.pending = false;
            return resolve();
          }
          const done = (): void => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            state.wake = undefined;
            state.pending = false;
            resolve();
          };
          const timer = setTimeout(done, timeoutMs);
          signal?.addEventListener('abort', done, { once: true });
          state.wake = done;
        }),
      close: () => {
        state.wake?.();
        owner.listeners.delete(state);
        if (owner.listeners.size === 0 && this.channels.get(channel) === owner) {
          this.channels.delete(channel);
          this.subscriber.unsubscribe(channel).catch((error: unknown) => this.logger.debug({ err: error, channel }, 'unsubscribe failed'));
        }
      },
    };
  }

  /** Calls `handler` with every message on `channel` for as long as the process runs. */
  async handle(channel: string, handler: (message: string) => void): Promise<void> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await this.subscriber.subscribe(channel);
    }
    set.add(handler);
  }
}
