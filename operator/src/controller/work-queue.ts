// A rate-limited work queue in the manner of client-go's: a key is queued at most once however
// often it is added; a key being processed is never processed twice at once (added meanwhile, it
// runs again after); failures are retried with exponential backoff and jitter; at most
// `concurrency` keys are processed at a time.

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Delay before retry number `failures` (1 = first retry): base·2^(n-1), capped, with ±50 % jitter so retries do not synchronise. */
export function retryDelay(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exponential * (0.5 + random()));
}

export interface WorkQueueOptions {
  readonly concurrency: number;
  readonly backoff: BackoffPolicy;
  /** Processes one key; a rejection schedules a retry. */
  readonly process: (key: string) => Promise<void>;
  readonly onError?: (key: string, error: unknown, retryInMs: number) => void;
  readonly random?: () => number;
}

export class WorkQueue {
  /** Keys waiting for a worker, in order, each once. */
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  /** Added while processing: run again when that finishes. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: WorkQueueOptions) {}

  /** Keys waiting (not counting those being processed or waiting for a retry). */
  get depth(): number {
    return this.queue.length;
  }

  get active(): number {
    return this.processing.size;
  }

  start(): void {
    this.running = true;
    this.pump();
  }

  add(key: string): void {
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    // An explicit add supersedes a pending retry.
    const timer = this.timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.timers.has(key) || this.queued.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Stops taking keys, cancels retries, and waits for keys being processed. */
  async shutdown(): Promise<void> {
    this.running = false;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (this.processing.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running && this.processing.size < this.options.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.options.process(key);
      this.failures.delete(key);
    } catch (error) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const delay = retryDelay(failures, this.options.backoff, this.options.random);
      this.options.onError?.(key, error, delay);
      if (this.running && !this.dirty.has(key)) this.addAfter(key, delay);
    } finally {
      this.processing.delete(key);
      if (this.dirty.delete(key) && this.running) this.add(key);
      if (this.processing.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      this.pump();
    }
  }
}
