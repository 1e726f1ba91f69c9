// The events' pure decisions: title cleaning, UTC day bucketing and windows, the usage days rule,
// retry vs dead letter, the run.completed payload.
import { describe, expect, it } from 'vitest';
import { failureAction } from '../src/events/dispatcher.js';
import { runCompletedPayload } from '../src/events/domain-events.js';
import { runCompletedEvent } from '../src/events/event-drafts.js';
import { cleanTitle, MAX_GENERATED_TITLE_CHARS, titlePrompt } from '../src/events/title.js';
import { usageDays, usageReport, utcDay, windowStart } from '../src/events/usage.js';
import { InvalidArgumentError } from '../src/errors.js';

describe('cleanTitle', () => {
  it.each([
    ['Cats and quantum physics', 'Cats and quantum physics'],
    ['"Cats and quantum physics."', 'Cats and quantum physics'],
    ['<think>\nhmm, cats\n</think>\n\nCats at dinner!', 'Cats at dinner'],
    ['<think>never closed, no title', undefined],
    ['**Title:** “Quantum cats”', 'Quantum cats'],
    ['# Dinner plans\nSecond line ignored', 'Dinner plans'],
    ['\n\n  \'Spaced   out\'  \n', 'Spaced out'],
    ['...', undefined],
    ['', undefined],
  ])('%j → %j', (raw, title) => {
    expect(cleanTitle(raw)).toBe(title);
  });

  it('caps the length at a word boundary', () => {
    const title = cleanTitle('word '.repeat(40))!;
    expect([...title].length).toBeLessThanOrEqual(MAX_GENERATED_TITLE_CHARS);
    expect(title.endsWith('word')).toBe(true);
    const unbroken = cleanTitle('x'.repeat(100))!;
    expect(unbroken).toHaveLength(MAX_GENERATED_TITLE_CHARS);
  });

  it('asks for 3-6 words about both sides of the exchange, excerpted', () => {
    const prompt = titlePrompt({ user: 'Q'.repeat(5000), assistant: 'The answer' });
    expect(prompt.user).toContain('3-6 word title');
    expect(prompt.user).toContain('The answer');
    expect(prompt.user.length).toBeLessThan(1500);
  });
});

describe('usage days', () => {
  it('buckets by UTC day, whatever the local time zone says', () => {
    expect(utcDay(new Date('2026-03-01T23:59:59.999Z'))).toBe('2026-03-01');
    expect(utcDay(new Date('2026-03-02T00:00:00+02:00'))).toBe('2026-03-01');
  });

  it('windows include today and cross month and year ends', () => {
    expect(windowStart(new Date('2026-03-02T10:00:00Z'), 1)).toBe('2026-03-02');
    expect(windowStart(new Date('2026-03-02T10:00:00Z'), 3)).toBe('2026-02-28');
    expect(windowStart(new Date('2026-01-01T00:30:00Z'), 30)).toBe('2025-12-03');
  });

  it('defaults to 30 and refuses what is outside 1..366', () => {
    expect(usageDays(0)).toBe(30);
    expect(usageDays(366)).toBe(366);
    expect(() => usageDays(367)).toThrow(InvalidArgumentError);
  });

  it('sums the days', () => {
    const days = [
      { date: '2026-03-02', requests: 2, promptTokens: 10, completionTokens: 5 },
      { date: '2026-03-01', requests: 1, promptTokens: 3, completionTokens: 4 },
    ];
    expect(usageReport(days, '2026-02-01').total).toEqual({ date: '2026-02-01', requests: 3, promptTokens: 13, completionTokens: 9 });
  });
});

describe('failures', () => {
  it('retries until the attempt reaches maxAttempts, then dead-letters', () => {
    expect(failureAction(1, 3)).toBe('retry');
    expect(failureAction(2, 3)).toBe('retry');
    expect(failureAction(3, 3)).toBe('dead_letter');
    expect(failureAction(9, 3)).toBe('dead_letter');
  });
});

describe('run.completed', () => {
  it('carries status, usage (0 for unknown) and timings, and passes its own check', () => {
    const draft = runCompletedEvent({
      messageId: '6f1c1d57-3e2b-4c3a-9a43-0f6b8f1b2c3d',
      sessionId: 's',
      userId: 'u',
      runId: null,
      final: {
        content: '',
        reasoning: '',
        status: 'stopped',
        finishReason: 'cancelled',
        promptTokens: null,
        completionTokens: 7,
        timings: { startedAt: new Date('2026-03-01T10:00:00Z'), firstTokenAt: null, endedAt: new Date('2026-03-01T10:00:02.5Z') },
      },
    });
    expect(draft.payload).toMatchObject({ usage: { promptTokens: 0, completionTokens: 7 }, timings: { durationMs: 2500, firstTokenAt: null } });
    expect(runCompletedPayload.parse(draft.payload)).toEqual(draft.payload);
  });
});
