// The benchmark's arithmetic: a wrong formula would print confident nonsense into docs/benchmarks.
import { describe, expect, it } from 'vitest';
import { mergeRounds, percentile, steadyDecodeRate, type Row } from '../bench/stats.js';

describe('benchmark statistics', () => {
  it('interpolates percentiles', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([10, 20], 95)).toBeCloseTo(19.5);
  });

  it('counts only tokens decoded while every stream is running', () => {
    const a = { deltas: [[100, 1], [200, 1], [300, 1], [400, 2], [500, 1]] as [number, number][], doneAtMs: 500 };
    const b = { deltas: [[250, 1], [350, 1], [450, 1], [600, 1]] as [number, number][], doneAtMs: 600 };
    // Window (250, 500]: a gives 1 + 2 + 1, b gives 1 + 1 → 6 tokens in 0.25 s.
    expect(steadyDecodeRate([a, b])).toBeCloseTo(24);
    expect(steadyDecodeRate([{ deltas: [[900, 1]], doneAtMs: 900 }, a])).toBeNaN();
  });

  it('reports each number of a part as the median of its rounds, and its highest peak memory', () => {
    const round = (tps1: number, tps8: number, p95: number, rss: number): Row => ({
      engine: 'e',
      precision: 'fp32',
      peakRssMiB: rss,
      levels: [
        { concurrency: 1, decodeTokensPerSecond: tps1, ttftP50Ms: 10, ttftP95Ms: 12 },
        { concurrency: 8, decodeTokensPerSecond: tps8, ttftP50Ms: 100, ttftP95Ms: p95 },
      ],
    });
    // The slow stretch lands on one round only: the median ignores it.
    const merged = mergeRounds([round(8, 30, 900, 500), round(5, 21, 1400, 520), round(7.5, 31, 950, 510)]);
    expect(merged.rounds).toBe(3);
    expect(merged.peakRssMiB).toBe(520);
    expect(merged.levels.map((l) => l.decodeTokensPerSecond)).toEqual([7.5, 30]);
    expect(merged.levels[1]!.ttftP95Ms).toBe(950);
    // A level a round could not measure (NaN) does not count.
    expect(mergeRounds([round(Number.NaN, 30, 900, 1), round(6, 30, 900, 1)]).levels[0]!.decodeTokensPerSecond).toBe(6);
  });
});
