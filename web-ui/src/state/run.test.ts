import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../api/run-events';
import { applyRunEvents, initialRun } from './run';

const run: RunEvent = { type: 'run', seq: 1, runId: 'r', userMessageId: 'u', assistantMessageId: 'a' };

describe('applyRunEvents', () => {
  it('accumulates reasoning then content, and measures thinking', () => {
    let s = applyRunEvents(initialRun(), [run, { type: 'reasoning', seq: 2, delta: 'hm' }], 1_000);
    expect(s.phase).toBe('thinking');
    s = applyRunEvents(s, [{ type: 'reasoning', seq: 3, delta: 'm' }], 2_000);
    expect(s.reasoning).toBe('hmm');
    expect(s.thinkingMs).toBeNull();
    s = applyRunEvents(s, [{ type: 'content', seq: 4, delta: 'Hi' }, { type: 'content', seq: 5, delta: '!' }], 4_500);
    expect(s).toMatchObject({ phase: 'answering', content: 'Hi!', thinkingMs: 3_500, lastSeq: 5, runId: 'r' });
    s = applyRunEvents(s, [{ type: 'done', seq: 6, finishReason: 'stop', usage: null, messageId: 'a', timings: null }], 5_000);
    expect(s).toMatchObject({ phase: 'finished', finishReason: 'stop', thinkingMs: 3_500 });
  });

  it('ignores replayed events (seq at or below the last applied)', () => {
    const events: RunEvent[] = [run, { type: 'content', seq: 2, delta: 'a' }, { type: 'content', seq: 3, delta: 'b' }];
    const once = applyRunEvents(initialRun(), events, 0);
    const twice = applyRunEvents(once, events, 0);
    expect(twice).toBe(once);
    expect(twice.content).toBe('ab');
  });

  it('keeps content and reasoning order within one batch', () => {
    const s = applyRunEvents(
      initialRun(),
      [run, { type: 'reasoning', seq: 2, delta: 'x' }, { type: 'content', seq: 3, delta: '1' }, { type: 'content', seq: 4, delta: '2' }],
      10,
    );
    expect(s).toMatchObject({ reasoning: 'x', content: '12', thinkingMs: 0 });
  });

  it('records an error and finishes', () => {
    const s = applyRunEvents(initialRun(), [run, { type: 'error', seq: 2, code: 'unavailable', message: 'down' }], 0);
    expect(s).toMatchObject({ phase: 'finished', finishReason: 'error', error: { code: 'unavailable', message: 'down' } });
  });
});
