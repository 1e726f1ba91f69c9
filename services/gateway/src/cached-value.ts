// A value fetched from an upstream and kept for a while: callers at the same moment share one fetch,
// and a failed fetch is not kept (the next caller tries again).

export interface CachedValueOptions<T> {
  readonly load: () => Promise<T>;
  readonly ttlMs: number;
  /** False for an answer not worth keeping (e.g. "still loading"). Default: keep every answer. */
  readonly keep?: (value: T) => boolean;
  /** Milliseconds since the epoch; default Date.now. */
  readonly now?: () => number;
}

/** Pure: whether a value stored at `storedAt` may still be served at `now`. */
export function isFresh(storedAt: number, now: number, ttlMs: number): boolean {
  return now - storedAt < ttlMs;
}

export class CachedValue<T> {
  private stored: { value: T; at: number } | undefined;
  private inFlight: Promise<T> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: CachedValueOptions<T>) {
    this.now = options.now ?? Date.now;
  }

  get(): Promise<T> {
    const stored = this.stored;
    if (stored && isFresh(stored.at, this.now(), this.options.ttlMs)) return Promise.resolve(stored.value);
    this.inFlight ??= this.options
      .load()
      .then((value) => {
        this.stored = (this.options.keep?.(value) ?? true) ? { value, at: this.now() } : undefined;
        return value;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
