// A run's numbered events, readable by any number of callers, live or after the fact.
// The interface is what a shared store (Redis Streams) can honour too: nothing here assumes one process.
import { NotFoundError, UnavailableError } from './errors.js';
import { isTerminal, type RunEvent, type RunEventBody } from './run-events.js';

/** An append after the run's terminal event: someone else (a stop, an orphan sweep) already ended it. */
export class RunEndedError extends Error {
  override readonly name = 'RunEndedError';
  constructor(runId: string) {
    super(`run ${runId} has already ended`);
  }
}

/** The shared store is unreachable or lost the run's events; the run itself may still be going. */
export class RunLogUnavailableError extends UnavailableError {
  override readonly name = 'RunLogUnavailableError';
}

export interface SubscribeOptions {
  /** Ends the iteration early (the caller went away); the run itself is unaffected. */
  readonly signal?: AbortSignal;
}

export interface RunLog {
  /**
   * Numbers the event (seq 1, 2, …) and stores it. After the terminal event: RunEndedError (only one
   * party ever ends a run). RunLogUnavailableError when the store is away or lost the run's events.
   */
  append(runId: string, event: RunEventBody): Promise<RunEvent>;
  /** Stored events with seq > afterSeq; undefined when the run is unknown or its log has expired. */
  read(runId: string, afterSeq: number): Promise<RunEvent[] | undefined>;
  /**
   * Every event with seq > afterSeq exactly once: stored ones, then live ones as they are appended.
   * Ends after the terminal event. Throws NotFoundError (on the first pull) for an unknown or expired run.
   */
  subscribe(runId: string, afterSeq: number, options?: SubscribeOptions): AsyncIterable<RunEvent>;
  /** Whether the run's terminal event is in the log; undefined when the run is unknown or expired. */
  ended(runId: string): Promise<boolean | undefined>;
  close(): Promise<void>;
}

export interface MemoryRunLogOptions {
  /** How long a finished run stays readable. */
  readonly retentionMs: number;
}

interface StoredRun {
  readonly events: RunEvent[];
  finished: boolean;
  /** Resolves the waiting subscribers on the next append; replaced after each. */
  wake: () => void;
  changed: Promise<void>;
}

/** One process's run log: runs live in memory and finished ones are dropped after the retention. */
export class MemoryRunLog implements RunLog {
  private readonly runs = new Map<string, StoredRun>();
  private readonly expiries = new Set<NodeJS.Timeout>();

  constructor(private readonly options: MemoryRunLogOptions) {}

  /** Runs held (live, or finished within retention) and their events: the log's size, for metrics. */
  get size(): { readonly runs: number; readonly events: number } {
    let events = 0;
    for (const run of this.runs.values()) events += run.events.length;
    return { runs: this.runs.size, events };
  }

  append(runId: string, body: RunEventBody): Promise<RunEvent> {
    const run = this.runs.get(runId) ?? this.open(runId);
    if (run.finished) return Promise.reject(new RunEndedError(runId));
    const event: RunEvent = { runId, seq: run.events.length + 1, event: body };
    run.events.push(event);
    if (isTerminal(body)) {
      run.finished = true;
      this.expireLater(runId);
    }
    const wake = run.wake;
    run.changed = new Promise((resolve) => (run.wake = resolve));
    wake();
    return Promise.resolve(event);
  }

  read(runId: string, afterSeq: number): Promise<RunEvent[] | undefined> {
    return Promise.resolve(this.runs.get(runId)?.events.slice(Math.max(0, afterSeq)));
  }

  async *subscribe(runId: string, afterSeq: number, options: SubscribeOptions = {}): AsyncIterable<RunEvent> {
    const { signal } = options;
    const stop = aborted(signal);
    let next = Math.max(0, afterSeq);
    for (let first = true; ; first = false) {
      const run = this.runs.get(runId);
      // Unknown at the start is NOT_FOUND; expiring while a reader catches up ends its stream.
      if (!run) {
        if (first) throw new NotFoundError('run');
        return;
      }
      while (next < run.events.length) {
        const event = run.events[next++]!;
        yield event;
        if (isTerminal(event.event)) return;
      }
      if (run.finished || signal?.aborted) return;
      await Promise.race([run.changed, stop]);
      if (signal?.aborted) return;
    }
  }

  ended(runId: string): Promise<boolean | undefined> {
    return Promise.resolve(this.runs.get(runId)?.finished);
  }

  close(): Promise<void> {
    for (const timer of this.expiries) clearTimeout(timer);
    this.expiries.clear();
    this.runs.clear();
    return Promise.resolve();
  }

  private open(runId: string): StoredRun {
    const run: StoredRun = { events: [], finished: false, wake: () => {}, changed: Promise.resolve() };
    run.changed = new Promise((resolve) => (run.wake = resolve));
    this.runs.set(runId, run);
    return run;
  }

  private expireLater(runId: string): void {
    const timer = setTimeout(() => {
      this.expiries.delete(timer);
      this.runs.delete(runId);
    }, this.options.retentionMs);
    // Retention must never keep a process alive that has nothing else to do.
    timer.unref();
    this.expiries.add(timer);
  }
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
