// The benchmark's arithmetic: a wrong formula would print confident nonsense into docs/benchmarks.
import { describe, expect, it } from 'vitest';
import { percentile, steadyDecodeRate } from '../bench/stats.js';

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
});
