// The reconcile queue: a key is queued once however often it changes, never processed twice at
// once, retried with growing (jittered) delays after failures, and bounded in concurrency.
import { describe, expect, it } from 'vitest';
import { retryDelay, WorkQueue } from '../src/controller/work-queue.js';

const until = async (check: () => boolean, timeoutMs = 2000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('retryDelay', () => {
  it('doubles from the base up to the cap, with the jitter within ±50 %', () => {
    const policy = { baseMs: 500, maxMs: 60_000 };
    expect([1, 2, 3, 4].map((n) => retryDelay(n, policy, () => 0.5))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelay(30, policy, () => 0.5)).toBe(60_000);
    expect(retryDelay(3, policy, () => 0)).toBe(1000);
    expect(retryDelay(3, policy, () => 0.999)).toBeLessThanOrEqual(3000);
  });
});

describe('WorkQueue', () => {
  it('processes a key added many times while queued once', async () => {
    const seen: string[] = [];
    const queue = new WorkQueue({ concurrency: 1, backoff: { baseMs: 10, maxMs: 10 }, process: async (key) => void seen.push(key) });
    for (let i = 0; i < 5; i++) queue.add('team/a');
    queue.add('team/b');
    queue.start();
    await until(() => seen.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(seen).toEqual(['team/a', 'team/b']);
    await queue.shutdown();
  });

  it('never processes one key twice at once, and runs it again when it changed meanwhile', async () => {
    let running = 0;
    let overlap = false;
    let runs = 0;
    let release!: () => void;
    const queue = new WorkQueue({
      concurrency: 4,
      backoff: { baseMs: 10, maxMs: 10 },
      process: async () => {
        running++;
        if (running > 1) overlap = true;
        runs++;
        if (runs === 1) await new Promise<void>((resolve) => (release = resolve));
        running--;
      },
    });
    queue.start();
    queue.add('team/a');
    await until(() => runs === 1);
    queue.add('team/a');
    queue.add('team/a');
    release();
    await until(() => runs === 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(runs).toBe(2);
    expect(overlap).toBe(false);
    await queue.shutdown();
  });

  it('retries a failing key with backoff until it succeeds, and reports each failure', async () => {
    const attempts: number[] = [];
    const errors: number[] = [];
    const queue = new WorkQueue({
      concurrency: 1,
      backoff: { baseMs: 20, maxMs: 1000 },
      random: () => 0.5,
      process: async () => {
        attempts.push(Date.now());
        if (attempts.length < 3) throw new Error('conflict');
      },
      onError: (_key, _error, retryInMs) => errors.push(retryInMs),
    });
    queue.start();
    queue.add('team/a');
    await until(() => attempts.length === 3);
    expect(errors).toEqual([20, 40]);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(35);
    await queue.shutdown();
  });

  it('processes at most `concurrency` keys at a time and waits for them on shutdown', async () => {
    let running = 0;
    let peak = 0;
    let done = 0;
    const queue = new WorkQueue({
      concurrency: 2,
      backoff: { baseMs: 10, maxMs: 10 },
      process: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running--;
        done++;
      },
    });
    queue.start();
    for (const key of ['a', 'b', 'c', 'd', 'e']) queue.add(`team/${key}`);
    await until(() => done === 5);
    expect(peak).toBe(2);
    queue.add('team/z');
    await queue.shutdown();
    expect(running).toBe(0);
  });
});
