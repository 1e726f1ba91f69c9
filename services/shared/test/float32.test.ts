import { describe, expect, it } from 'vitest';
import { float32ToShortest } from '../src/float32.js';

describe('float32ToShortest', () => {
  it('gives back the decimal that was sent through a proto float', () => {
    expect(Math.fround(0.7)).not.toBe(0.7);
    for (const typed of [0.7, 0.1, 1.3, 0.75, 2, 0, 1.2345678, 1e-7, 123456.7]) {
      expect(float32ToShortest(Math.fround(typed))).toBe(typed);
    }
  });

  it('leaves what is not finite as it is', () => {
    expect(float32ToShortest(Number.NaN)).toBeNaN();
    expect(float32ToShortest(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });
});
