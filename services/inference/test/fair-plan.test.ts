// The fair admission policy alone: which waiting request gets a batch slot, which prompt gets the
// step's prefill chunk, when several users compete.
import { describe, expect, it } from 'vitest';
import { pickPrefill, planAdmission, planPrefills } from '../src/engine/fair-plan.js';

describe('planAdmission', () => {
  it("gives a free slot to a user holding none before another user's later requests", () => {
    // A already holds two slots and queued two more before B's one request came.
    expect(planAdmission(['A', 'A', 'B'], ['A', 'A'], 1)).toEqual([2]);
  });

  it('alternates between users, first come first served within one', () => {
    expect(planAdmission(['A', 'A', 'A', 'B', 'B', 'C'], [], 6)).toEqual([0, 3, 5, 1, 4, 2]);
  });

  it('is first come first served when one user is alone', () => {
    expect(planAdmission(['A', 'A', 'A'], ['A'], 2)).toEqual([0, 1]);
  });

  it('counts slots already held, running or prefilling', () => {
    // B holds two, A one: A's next request goes first, then one each.
    expect(planAdmission(['B', 'A', 'A', 'B'], ['B', 'B', 'A'], 3)).toEqual([1, 0, 2]);
  });

  it('admits nothing without a free slot, and never more than are waiting', () => {
    expect(planAdmission(['A', 'B'], ['C'], 0)).toEqual([]);
    expect(planAdmission(['A'], [], 5)).toEqual([0]);
    expect(planAdmission([], ['A'], 3)).toEqual([]);
  });
});

describe('pickPrefill', () => {
  it("serves a user whose prompt has had no chunk before another user's prompt that has", () => {
    // A's three long prompts are prefilling and A got the last chunk; B's prompt just came.
    expect(pickPrefill(['A', 'A', 'A', 'B'], new Map([['A', 7]]))).toBe(3);
  });

  it("continues a user's oldest prompt first", () => {
    expect(pickPrefill(['A', 'A', 'B'], new Map([['A', 4], ['B', 5]]))).toBe(0);
  });

  it('takes turns: the user served longest ago goes next', () => {
    const keys = ['A', 'A', 'B', 'C'];
    const served = new Map<string, number>();
    const order: string[] = [];
    for (let step = 1; step <= 6; step++) {
      const key = keys[pickPrefill(keys, served)]!;
      served.set(key, step);
      order.push(key);
    }
    expect(order).toEqual(['A', 'B', 'C', 'A', 'B', 'C']);
  });

  it('is first come first served among users not served yet, and -1 when nothing prefills', () => {
    expect(pickPrefill(['B', 'A'], new Map())).toBe(0);
    expect(pickPrefill([], new Map())).toBe(-1);
  });
});

describe('planPrefills', () => {
  it('fills the step budget over several prompts, taking turns between users', () => {
    // a's two prompts and b's one, none served yet: a, b, then a's second with what is left.
    expect(planPrefills(['a', 'a', 'b'], new Map(), [50, 50, 30], 100)).toEqual([
      { index: 0, tokens: 50 },
      { index: 2, tokens: 30 },
      { index: 1, tokens: 20 },
    ]);
  });

  it('gives a long prompt at most the budget, and the user served longest ago goes first', () => {
    expect(planPrefills(['a', 'b'], new Map([['a', 3], ['b', 1]]), [1000, 1000], 256)).toEqual([{ index: 1, tokens: 256 }]);
    expect(planPrefills([], new Map(), [], 256)).toEqual([]);
  });
});
