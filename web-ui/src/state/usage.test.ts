import { describe, expect, it } from 'vitest';
import { describeUsage } from './usage';

describe('describeUsage', () => {
  const day = (date: string, requests: number) => ({ date, requests, promptTokens: 1000 * requests, completionTokens: 234 * requests });

  it('sums the window and names today', () => {
    const report = { days: [day('2026-03-02', 2), day('2026-02-20', 1)], total: { requests: 3, promptTokens: 3000, completionTokens: 702 }, from: '2026-02-01' };
    expect(describeUsage(report, 30, '2026-03-02')).toBe('Last 30 days: 3 answers, 3,702 tokens (3,000 prompt + 702 completion). Today: 2 answers.');
    expect(describeUsage(report, 30, '2026-03-03')).toBe('Last 30 days: 3 answers, 3,702 tokens (3,000 prompt + 702 completion).');
  });

  it('says so when there is nothing', () => {
    expect(describeUsage({ days: [], total: { requests: 0, promptTokens: 0, completionTokens: 0 }, from: '2026-02-01' }, 1)).toBe('No answers in the last 1 day.');
  });
});
