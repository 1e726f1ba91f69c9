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

/**
 * What went wrong, for a log line. The RocketMQ client's gRPC errors carry circular metadata that
 * pino cannot serialise (it logs "[unable to serialize]" instead of the cause).
 */
export function failureSummary(error: unknown): { message: string; code?: unknown } {
  if (error instanceof Error) return { message: error.message.slice(0, 500), ...((error as { code?: unknown }).code !== undefined && { code: (error as { code?: unknown }).code }) };
  return { message: String(error).slice(0, 500) };
}
