// Waiting for something a test cannot be told about (a health check, a scrape, a log line): polls a
// probe until it returns a value, or fails naming what it waited for and what it last saw.
import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/** `probe` returning undefined or throwing means "not yet"; the error it last threw is in the failure. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, options: EventuallyOptions = {}): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 250 } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(intervalMs);
  }
}
