// The in-memory run log: numbering, exactly-once reads from any point, live tails, and expiry.
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../src/errors.js';
import { contentDelta, FinishReason, runDone, runStarted, type RunEvent } from '../src/run-events.js';
import { MemoryRunLog } from '../src/run-log.js';

async function drain(iterable: AsyncIterable<RunEvent>): Promise<number[]> {
  const seqs: number[] = [];
  for await (const event of iterable) seqs.push(event.seq);
  return seqs;
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('MemoryRunLog', () => {
  it('numbers events from 1 without gaps', async () => {
    const log = new MemoryRunLog({ retentionMs: 60_000 });
    const a = await log.append('r', runStarted('r', 'u', 'm'));
    const b = await log.append('r', contentDelta('x'));
    expect([a.seq, b.seq]).toEqual([1, 2]);
    expect(a.runId).toBe('r');
    expect((await log.read('r', 1))?.map((e) => e.seq)).toEqual([2]);
    await log.close();
  });

  it('gives a subscriber every event after its seq exactly once: stored, then live, then ends at the terminal event', async () => {
    const log = new MemoryRunLog({ retentionMs: 60_000 });
    await log.append('r', runStarted('r', 'u', 'm'));
    await log.append('r', contentDelta('a'));
    await log.append('r', contentDelta('b'));
    const fromTwo = drain(log.subscribe('r', 2));
    const fromZero = drain(log.subscribe('r', 0));
    for (const text of ['c', 'd', 'e']) {
      await tick();
      await log.append('r', contentDelta(text));
    }
    await log.append('r', runDone(FinishReason.FINISH_REASON_STOP, 'm', { promptTokens: 1, completionTokens: 5 }));
    expect(await fromTwo).toEqual([3, 4, 5, 6, 7]);
    expect(await fromZero).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // After the end: the stored tail, then the iteration ends at once.
    expect(await drain(log.subscribe('r', 5))).toEqual([6, 7]);
    expect(await drain(log.subscribe('r', 7))).toEqual([]);
    await log.close();
  });

  it('refuses events after the terminal one', async () => {
    const log = new MemoryRunLog({ retentionMs: 60_000 });
    await log.append('r', runDone(FinishReason.FINISH_REASON_STOP, 'm', { promptTokens: 0, completionTokens: 0 }));
    await expect(log.append('r', contentDelta('late'))).rejects.toThrow(/already ended/);
    await log.close();
  });

  it('treats an unknown run as not found', async () => {
    const log = new MemoryRunLog({ retentionMs: 60_000 });
    expect(await log.read('nope', 0)).toBeUndefined();
    await expect(drain(log.subscribe('nope', 0))).rejects.toBeInstanceOf(NotFoundError);
    await log.close();
  });

  it('drops a finished run after the retention, and keeps a running one', async () => {
    const log = new MemoryRunLog({ retentionMs: 30 });
    await log.append('done', runStarted('done', 'u', 'm'));
    await log.append('done', runDone(FinishReason.FINISH_REASON_STOP, 'm', { promptTokens: 0, completionTokens: 0 }));
    await log.append('running', runStarted('running', 'u', 'm2'));
    await new Promise((r) => setTimeout(r, 80));
    expect(await log.read('done', 0)).toBeUndefined();
    await expect(drain(log.subscribe('done', 0))).rejects.toBeInstanceOf(NotFoundError);
    expect(await log.read('running', 0)).toHaveLength(1);
    await log.close();
  });

  it('ends a subscription when its signal aborts, without touching the run', async () => {
    const log = new MemoryRunLog({ retentionMs: 60_000 });
    await log.append('r', runStarted('r', 'u', 'm'));
    const controller = new AbortController();
    const seqs = drain(log.subscribe('r', 0, { signal: controller.signal }));
    await tick();
    controller.abort();
    expect(await seqs).toEqual([1]);
    expect((await log.append('r', contentDelta('on'))).seq).toBe(2);
    await log.close();
  });
});
