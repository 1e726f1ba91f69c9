// Drives one answer being generated: reads its stream, buffers events and applies them once per
// animation frame, re-attaches after a dropped connection from the last event applied, and stops
// it on request. The run belongs to the server; `detach()` only stops listening.
import type { ApiClient } from '../api/client';
import { ApiError, MESSAGES, describeError } from '../api/errors';
import type { RunEvent } from '../api/run-events';
import { readRunEvents } from '../api/stream';
import { applyRunEvents, finishRun, initialRun, type RunState } from './run';

export interface LiveRunOptions {
  readonly client: ApiClient;
  /** Opens the first stream (send, regenerate); absent when re-attaching to `runId`. */
  readonly open?: (signal: AbortSignal) => Promise<Response | null>;
  readonly runId?: string;
  /** The run's state, at most once per animation frame. */
  readonly onUpdate: (run: RunState) => void;
  /** The run finished (`done`, `error`, or nothing left to read). */
  readonly onEnd: (run: RunState) => void;
  /** Could not start or lost for good: a sentence for the user. */
  readonly onFail: (message: string, run: RunState) => void;
  /** The connection is down and being retried (message) or back (null). */
  readonly onConnection: (message: string | null) => void;
  readonly now?: () => number;
  readonly requestFrame?: (callback: () => void) => void;
  readonly delay?: (ms: number) => Promise<void>;
}

const RETRY_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000];

export class LiveRun {
  private state: RunState;
  private queue: RunEvent[] = [];
  private frameRequested = false;
  private readonly abort = new AbortController();
  private stopRequested = false;
  private stopSent = false;
  private detached = false;
  private readonly now: () => number;
  private readonly requestFrame: (callback: () => void) => void;
  private readonly delay: (ms: number) => Promise<void>;

  constructor(private readonly options: LiveRunOptions) {
    this.state = initialRun(options.runId ?? null);
    this.now = options.now ?? (() => Date.now());
    this.requestFrame = options.requestFrame ?? ((callback) => requestAnimationFrame(callback));
    this.delay = options.delay ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    void this.main();
  }

  get runId(): string | null {
    return this.state.runId;
  }

  /** Asks the server to stop; the stream then ends with `done` (cancelled). */
  stop(): void {
    this.stopRequested = true;
    this.sendStop();
  }

  detach(): void {
    this.detached = true;
    this.abort.abort();
  }

  private sendStop(): void {
    const runId = this.state.runId;
    if (!this.stopRequested || this.stopSent || !runId) return;
    this.stopSent = true;
    this.options.client.stopRun(runId).catch((error: unknown) => {
      this.stopSent = false;
      if (!this.detached) this.options.onConnection(describeError(error));
    });
  }

  private receive = (events: RunEvent[]): void => {
    if (this.detached) return;
    this.queue.push(...events);
    if (this.state.runId === null && events.some((e) => e.type === 'run')) {
      this.flush();
      this.sendStop();
    }
    if (!this.frameRequested) {
      this.frameRequested = true;
      this.requestFrame(this.onFrame);
    }
  };

  private onFrame = (): void => {
    this.frameRequested = false;
    if (!this.detached) this.flush();
  };

  private flush(): void {
    if (this.queue.length === 0) return;
    const events = this.queue;
    this.queue = [];
    const next = applyRunEvents(this.state, events, this.now());
    if (next === this.state) return;
    this.state = next;
    this.options.onUpdate(next);
  }

  private async main(): Promise<void> {
    let attempt = 0;
    let first = this.options.open !== undefined;
    while (!this.detached) {
      try {
        const response = first
          ? await this.options.open!(this.abort.signal)
          : await this.options.client.attach(this.state.runId!, this.state.lastSeq, this.abort.signal);
        if (attempt > 0) this.options.onConnection(null);
        attempt = 0;
        if (response) await readRunEvents(response, this.receive);
        this.flush();
        if (this.detached) return;
        if (!response || this.state.phase === 'finished') {
          this.state = finishRun(this.state, this.now());
          this.options.onEnd(this.state);
          return;
        }
        // The server ended the stream early (shutdown): re-attach from here.
        first = this.state.runId === null && first;
        if (first) throw new ApiError(500, 'internal', 'stream ended before the run started');
      } catch (error) {
        if (this.detached) return;
        this.flush();
        const retriable = !(error instanceof ApiError) || error.status >= 500 || error.status === 429;
        // Before the run exists there is nothing to re-attach to: resending could double the message.
        if (this.state.runId === null || !retriable || attempt >= RETRY_DELAYS_MS.length) {
          if (attempt > 0) this.options.onConnection(null);
          this.options.onFail(describeError(error), this.state);
          return;
        }
        this.options.onConnection(`${MESSAGES.network.split('.')[0]}. Reconnecting…`);
        await this.delay(RETRY_DELAYS_MS[attempt]!);
        attempt++;
        first = false;
      }
    }
  }
}
