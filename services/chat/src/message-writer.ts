// Persists a streaming answer: deltas are merged in memory and written at most once per interval,
// never on the token path and never awaited by it. The final write is awaited and retried (an
// outage of the database up to a bound: the answer waits in memory meanwhile).
import type { Logger } from '@freechat/shared';
import { answerTimings, type AnswerTimings, type FinalState } from './messages-repository.js';

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
  /**
   * How long the final write is retried (a database outage must not lose an answer): from
   * `retryDelayMs`, doubling up to `maxRetryDelayMs`. Meanwhile the answer is held in memory.
   */
  readonly finalRetryForMs?: number;
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  /**
   * The answer this run goes on writing (Continue): its text is where the new text is appended, and
   * its timings carry on, so the stored ones cover every run that wrote the answer.
   */
  readonly continues?: { readonly content: string; readonly reasoning: string; readonly timings: AnswerTimings | null };
}

export type Channel = 'reasoning' | 'content';

export class MessageWriter {
  private content: string;
  private reasoning: string;
  private dirty = false;
  private lastWriteAt = Date.now();
  private inFlight: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private finished = false;
  // The writer lives exactly as long as the run's generation: its timings are the run's (a continued
  // answer's clock starts as far back as the runs before took, so durations add up).
  private readonly startedAt: Date;
  private firstTokenAt: Date | null;

  constructor(private readonly options: MessageWriterOptions) {
    const earlier = options.continues;
    this.content = earlier?.content ?? '';
    this.reasoning = earlier?.reasoning ?? '';
    this.startedAt = new Date(Date.now() - (earlier?.timings?.durationMs ?? 0));
    const firstMs = earlier?.timings?.firstTokenMs;
    this.firstTokenAt = firstMs == null ? null : new Date(this.startedAt.getTime() + firstMs);
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

  /**
   * Stops periodic writes, waits for one in flight, then writes the final state, retrying for up to
   * `finalRetryForMs`. Throws only if every attempt failed.
   */
  async finish(final: Omit<FinalState, 'content' | 'reasoning'>): Promise<AnswerTimings> {
    this.finished = true;
    clearInterval(this.timer);
    await this.inFlight;
    const { store, messageId, logger, finalRetryForMs = 1_000, retryDelayMs = 200, maxRetryDelayMs = 2_000 } = this.options;
    const timings = { startedAt: this.startedAt, firstTokenAt: this.firstTokenAt, endedAt: new Date() };
    const deadline = Date.now() + finalRetryForMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await store.finish(messageId, { ...final, content: this.content, reasoning: this.reasoning, timings });
        if (attempt > 1) logger.info({ messageId, attempt }, 'final message write succeeded after retries');
        return answerTimings(timings);
      } catch (error) {
        const delay = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** (attempt - 1), deadline - Date.now());
        if (delay <= 0) throw error;
        // Logged once, then only every tenth attempt: an outage must not flood the log.
        if (attempt === 1 || attempt % 10 === 0) logger.warn({ err: error, messageId, attempt }, 'final message write failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
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
