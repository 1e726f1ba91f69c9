// The events rebuilt from a stored answer when a run's log is gone: pure, no servers.
import { describe, expect, it } from 'vitest';
import { FinishReason } from '../src/run-events.js';
import { storedRunEvents, type StoredRun } from '../src/stored-run-events.js';

const run: StoredRun = {
  runId: 'r',
  userMessageId: 'u',
  assistantMessageId: 'a',
  content: 'Hello there',
  reasoning: 'hmm',
  status: 'complete',
  finishReason: 'stop',
  promptTokens: 12,
  completionTokens: 5,
  timings: { firstTokenMs: 120, durationMs: 900 },
  error: null,
};

describe('storedRunEvents', () => {
  it('replays a finished run from the start in one go, numbered 1..n', () => {
    expect(storedRunEvents(run, 0)).toEqual([
      { runId: 'r', seq: 1, event: { $case: 'started', started: { runId: 'r', userMessageId: 'u', assistantMessageId: 'a' } } },
      { runId: 'r', seq: 2, event: { $case: 'reasoning', reasoning: { text: 'hmm' } } },
      { runId: 'r', seq: 3, event: { $case: 'content', content: { text: 'Hello there' } } },
      {
        runId: 'r',
        seq: 4,
        event: { $case: 'done', done: { finishReason: FinishReason.FINISH_REASON_STOP, messageId: 'a', usage: { promptTokens: 12, completionTokens: 5 }, timings: { timeToFirstTokenMs: 120, durationMs: 900 } } },
      },
    ]);
  });

  it('leaves out empty channels', () => {
    const events = storedRunEvents({ ...run, reasoning: '', content: '' }, 0);
    expect(events.map((e) => e.event?.$case)).toEqual(['started', 'done']);
    expect(events.map((e) => e.seq)).toEqual([1, 2]);
  });

  it('gives a reader part-way only the terminal event, right after what it has', () => {
    const events = storedRunEvents({ ...run, status: 'stopped', finishReason: 'cancelled' }, 7);
    expect(events).toHaveLength(1);
    expect(events[0]!.seq).toBe(8);
    expect(events[0]!.event).toMatchObject({ $case: 'done', done: { finishReason: FinishReason.FINISH_REASON_CANCELLED } });
  });

  it('ends an answer stored as failed with the error it ended with, as live readers saw it', () => {
    const failed = { ...run, status: 'error', finishReason: 'error', promptTokens: null } as const;
    const stored = { code: 'inference_unavailable', message: 'the model is not reachable; try again shortly' };
    for (const afterSeq of [0, 3]) {
      expect(storedRunEvents({ ...failed, error: stored }, afterSeq).at(-1)!.event).toEqual({ $case: 'error', error: stored });
    }
    // A code this version does not know reads as an interruption.
    expect(storedRunEvents({ ...failed, error: { code: 'from_the_future' } }, 0).at(-1)!.event).toMatchObject({ error: { code: 'interrupted' } });
  });

  it('ends an answer stored as failed without an error (reaped, owner died) with error interrupted', () => {
    for (const afterSeq of [0, 3]) {
      const events = storedRunEvents({ ...run, status: 'error', finishReason: 'error', promptTokens: null }, afterSeq);
      expect(events.at(-1)!.event).toMatchObject({ $case: 'error', error: { code: 'interrupted' } });
    }
  });
});
