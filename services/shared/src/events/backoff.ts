// How long to wait after `failures` failures in a row: doubling from `baseMs`, capped. Pure.
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
}

export function backoffDelay(failures: number, options: BackoffOptions): number {
  if (failures <= 0) return 0;
  return Math.min(options.maxMs, options.baseMs * 2 ** Math.min(failures - 1, 30));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
