// Persists a streaming answer: deltas are merged in memory and written at most once per interval,
// never on the token path and never awaited by it. The final write is awaited and retried.
import type { Logger } from '@freechat/shared';
import type { FinalState } from './messages-repository.js';

export interface MessageStore {
  saveProgress(id: string, content: string, reasoning: string): Promise<void>;
  finish(id: string, final: FinalState): Promise<void>;
}

export interface MessageWriterOptions {
  readonly store: MessageStore;
  readonly messageId: string;
  readonly flushIntervalMs: number;
  /** Touch the row at least this often even with nothing new, so the reaper knows the run is alive. */
  readonly heartbeatMs: number;
  readonly logger: Logger;
  /** Attempts for the final write (a brief database hiccup must not lose an answer). */
  readonly finalAttempts?: number;
  readonly retryDelayMs?: number;
}

export type Channel = 'reasoning' | 'content';

export class MessageWriter {
  private content = '';
  private reasoning = '';
  private dirty = false;
  private lastWriteAt = Date.now();
  private inFlight: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private finished = false;
  // The writer lives exactly as long as the run's generation: its timings are the run's.
  private readonly startedAt = new Date();
  private firstTokenAt: Date | null = null;

  constructor(private readonly options: MessageWriterOptions) {
    this.timer = setInterval(() => this.tick(), options.flushIntervalMs);
  }

  append(channel: Channel, text: string): void {
    this.firstTokenAt ??= new Date();
    if (channel === 'reasoning') this.reasoning += text;
    else this.content += text;
    this.dirty = true;
  }

  get text(): { readonly content: string; readonly reasoning: string } {
    return { content: this.content, reasoning: this.reasoning };
  }

  /** Stops periodic writes, waits for one in flight, then writes the final state. Throws only if every attempt failed. */
  async finish(final: Omit<FinalState, 'content' | 'reasoning'>): Promise<void> {
    this.finished = true;
    clearInterval(this.timer);
    await this.inFlight;
    const { store, messageId, logger, finalAttempts = 3, retryDelayMs = 200 } = this.options;
    const timings = { startedAt: this.startedAt, firstTokenAt: this.firstTokenAt, endedAt: new Date() };
    for (let attempt = 1; ; attempt++) {
      try {
        await store.finish(messageId, { ...final, content: this.content, reasoning: this.reasoning, timings });
        return;
      } catch (error) {
        if (attempt >= finalAttempts) throw error;
        logger.warn({ err: error, messageId, attempt }, 'final message write failed; retrying');
        await new Promise((r) => setTimeout(r, retryDelayMs * attempt));
      }
    }
  }

  private tick(): void {
    if (this.finished || this.inFlight) return;
    const heartbeatDue = Date.now() - this.lastWriteAt >= this.options.heartbeatMs;
    if (!this.dirty && !heartbeatDue) return;
    const { store, messageId, logger } = this.options;
    this.dirty = false;
    this.inFlight = store
      .saveProgress(messageId, this.content, this.reasoning)
      .then(
        () => {
          this.lastWriteAt = Date.now();
        },
        (error: unknown) => {
          // The next tick writes everything again: one failed write loses nothing.
          this.dirty = true;
          logger.warn({ err: error, messageId }, 'progress write failed');
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
  }
}
