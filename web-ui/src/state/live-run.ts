// Drives one answer being generated: reads its stream, buffers events and applies them once per
// animation frame, re-attaches after a dropped connection from the last event applied, and stops
// it on request, and says so when the server goes quiet (no event, no heartbeat) for a while. The
// run belongs to the server; `detach()` only stops listening.
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
  /** Silence (no byte, not even a heartbeat) this long on an open request says "not responding". */
  readonly stallTimeoutMs?: number;
}

export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

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
  private stallTimer: ReturnType<typeof setTimeout> | undefined;
  private stalled = false;

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
    this.quiet();
    this.abort.abort();
  }

  /** The server showed a sign of life: the silence clock starts again. */
  private alive = (): void => {
    clearTimeout(this.stallTimer);
    if (this.stalled) {
      this.stalled = false;
      this.options.onConnection(null);
    }
    this.stallTimer = setTimeout(() => {
      if (this.detached) return;
      // Still listening: the stream may resume, and Stop is a request of its own.
      this.stalled = true;
      this.options.onConnection(MESSAGES.stalled);
    }, this.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS);
  };

  /** No request open: nothing to wait for. */
  private quiet(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.stalled = false;
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
        this.alive();
        const response = first
          ? await this.options.open!(this.abort.signal)
          : await this.options.client.attach(this.state.runId!, this.state.lastSeq, this.abort.signal);
        if (attempt > 0) this.options.onConnection(null);
        attempt = 0;
        if (response) {
          this.alive();
          await readRunEvents(response, this.receive, this.alive);
        }
        const wasStalled = this.stalled;
        this.quiet();
        if (wasStalled && !this.detached) this.options.onConnection(null);
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
        const wasStalled = this.stalled;
        this.quiet();
        if (this.detached) return;
        if (wasStalled) this.options.onConnection(null);
        this.flush();
        const retriable = !(error instanceof ApiError) || error.status >= 500 || error.status === 429;
        // Before the run exists there is nothing to re-attach to: resending could double the message.
        if (this.state.runId === null || !retriable || attempt >= RETRY_DELAYS_MS.length) {
          if (attempt > 0) this.options.onConnection(null);
          this.options.onFail(describeError(error), this.state);
          return;
        }
        this.options.onConnection(MESSAGES.reconnecting);
        await this.delay(RETRY_DELAYS_MS[attempt]!);
        attempt++;
        first = false;
      }
    }
  }
}
