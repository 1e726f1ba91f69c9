// The KV cache's pure parts: slot bookkeeping and prefix reuse, the inputs of a pass over slots,
// buffer growth, and the admission budget.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/engine/errors.js';
import { checkFitsAlone, fitsBeside, worstCaseTokens } from '../src/engine/kv-budget.js';
import { planSlotStep, slotCapacity } from '../src/engine/shared-buffer-decoder.js';
import { commonPrefix, SlotTable } from '../src/engine/slot-table.js';
import { quantizeBlocks } from '../src/model-builder/quantize-blocks.js';

const table = (overrides: Partial<ConstructorParameters<typeof SlotTable>[0]> = {}) =>
  new SlotTable({ maxSlots: 4, bytesPerToken: 10, prefixCacheBytes: 1000, minReuseTokens: 1, ...overrides });

/** Sequences running side by side, then finishing in order, each kept as a prefix: their slots. */
function finishTogether(t: SlotTable, ...sequences: number[][]): number[] {
  const slots = sequences.map((ids) => {
    const { slot } = t.acquire(ids)!;
    t.append(slot, ids);
    return slot;
  });
  for (const slot of slots) t.release(slot, true);
  return slots;
}

describe('SlotTable', () => {
  it('gives each new prompt the lowest free slot and nothing to reuse', () => {
    const t = table();
    expect(t.acquire([1, 2, 3])).toEqual({ slot: 0, reused: 0 });
    expect(t.acquire([4, 5])).toEqual({ slot: 1, reused: 0 });
    t.release(0, false);
    expect(t.acquire([6])).toEqual({ slot: 0, reused: 0 });
    expect(t.activeCount).toBe(2);
  });

  it('hands a finished sequence’s slot to the prompt that continues it, reusing the shared ids but never the last', () => {
    const t = table();
    const { slot } = t.acquire([1, 2, 3])!;
    t.append(slot, [1, 2, 3, 9, 8]);
    t.release(slot, true);
    expect(t.cachedBytes).toBe(50);
    // The next turn: the whole earlier sequence, then more.
    expect(t.acquire([1, 2, 3, 9, 8, 7, 6])).toEqual({ slot, reused: 5 });
    expect(t.length(slot)).toBe(5);
    t.release(slot, true);
    // The identical prompt: its last id is computed again, for its logits.
    expect(t.acquire([1, 2, 3, 9, 8])).toEqual({ slot, reused: 4 });
  });

  it('picks the cached slot sharing the longest prefix, and ignores prompts sharing none', () => {
    const t = table();
    // Two sequences running side by side, then both finished.
    const slots = [[9, 2], [1, 2, 3, 4]].map((ids) => {
      const { slot } = t.acquire(ids)!;
      t.append(slot, ids);
      return slot;
    });
    for (const slot of slots) t.release(slot, true);
    expect(t.acquire([1, 2, 3, 4, 5])).toEqual({ slot: 1, reused: 4 });
    // Sharing nothing: it recycles the other cached slot rather than add a row to the buffer.
    expect(t.acquire([7, 7])).toEqual({ slot: 0, reused: 0 });
    expect(t.highWater).toBe(2);
  });

  it('takes a free row of the buffer first, then recycles the least recently cached prefix, and grows only when every row is active', () => {
    const t = table();
    const [x, y, z] = [[1, 1], [2, 2], [3, 3]].map((ids) => {
      const { slot } = t.acquire(ids)!;
      t.append(slot, ids);
      return slot;
    });
    t.release(y!, false);
    t.release(x!, true);
    t.release(z!, true);
    expect(t.highWater).toBe(3);
    expect(t.acquire([4, 4])).toEqual({ slot: y, reused: 0 });
    expect(t.acquire([5, 5])).toEqual({ slot: x, reused: 0 });
    expect(t.acquire([6, 6])).toEqual({ slot: z, reused: 0 });
    expect(t.highWater).toBe(3);
    expect(t.acquire([7, 7])).toEqual({ slot: 3, reused: 0 });
  });

  it('evicts the least recently cached prefix past the byte budget, and when every slot is taken', () => {
    const t = table({ prefixCacheBytes: 100, maxSlots: 3 });
    // 12 ids would be 120 bytes: the older entry goes.
    finishTogether(t, [1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2]);
    expect(t.cachedBytes).toBe(60);
    expect(t.acquire([1, 1, 1, 1, 1, 1, 5])!.reused).toBe(0);
    const longer = table({ prefixCacheBytes: 50 });
    const { slot } = longer.acquire([1])!;
    longer.append(slot, [1, 2, 3, 4, 5, 6]);
    longer.release(slot, true);
    expect(longer.cachedBytes).toBe(0);
    // Three slots, all taken by active or cached: the cached one is recycled, active ones never.
    const full = table({ maxSlots: 2 });
    const c = full.acquire([3, 3])!;
    full.acquire([4]);
    full.append(c.slot, [3, 3]);
    full.release(c.slot, true);
    expect(full.acquire([5])).toEqual({ slot: c.slot, reused: 0 });
    expect(full.acquire([6])).toBeUndefined();
  });

  it('gives cached prefixes\' room back on demand, least recently used first, never touching active slots', () => {
    const t = table();
    const [, recent] = finishTogether(t, [1, 1, 1, 1], [2, 2, 2, 2, 2]);
    const active = t.acquire([3, 3, 3])!;
    t.append(active.slot, [3, 3, 3]);
    t.limitCachedBytes(60);
    expect(t.cachedBytes).toBe(50);
    expect(t.length(recent!)).toBe(5);
    t.limitCachedBytes(-10);
    expect(t.cachedBytes).toBe(0);
    expect(t.length(active.slot)).toBe(3);
  });

  it('finds the longest active slot, and evicts only cached prefixes longer than asked', () => {
    const t = table();
    const active = t.acquire([3, 3, 3])!;
    const [long, shortCached] = finishTogether(t, [1, 1, 1, 1, 1, 1], [2, 2]);
    t.append(active.slot, [3, 3, 3]);
    expect(t.longestActive()).toBe(3);
    t.evictCachedLongerThan(3);
    expect(t.length(long!)).toBe(0);
    expect(t.length(shortCached!)).toBe(2);
    expect(t.length(active.slot)).toBe(3);
  });

  it('takes the lowest free slot when the shared prefix is shorter than minReuseTokens', () => {
    const t = table({ minReuseTokens: 3 });
    const hole = t.acquire([8])!;
    const a = t.acquire([1, 2, 9])!;
    t.acquire([5]);
    t.release(hole.slot, false);
    t.append(a.slot, [1, 2, 9]);
    t.release(a.slot, true);
    // Two shared ids: not worth the cached slot 1, so it takes the free row 0 and keeps the prefix.
    expect(t.acquire([1, 2, 7, 7])).toEqual({ slot: 0, reused: 0 });
    expect(t.acquire([1, 2, 9, 7])).toEqual({ slot: 1, reused: 3 });
  });

  it('reports the rows the buffer needs and forgets everything on clear', () => {
    const t = table();
    t.acquire([1]);
    const { slot } = t.acquire([2])!;
    expect(t.highWater).toBe(2);
    t.release(slot, false);
    expect(t.highWater).toBe(1);
    t.clear();
    expect(t.highWater).toBe(0);
    expect(commonPrefix([1, 2, 3], [1, 2, 4])).toBe(2);
  });
});

describe('planSlotStep', () => {
  const lengths = new Map([
    [0, 5],
    [1, 3],
    [2, 0],
    [3, 7],
  ]);
  const length = (slot: number) => lengths.get(slot) ?? 0;

  it('decodes the slot range the sequences span; a slot in it that is not decoding writes one token past its own content', () => {
    const step = planSlotStep(
      [
        { slot: 3, ids: [42] },
        { slot: 1, ids: [41] },
      ],
      length,
    );
    expect(step).toMatchObject({ firstSlot: 1, rows: 3, width: 1 });
    expect(step.inputIds).toEqual([41, 0, 42]);
    expect(step.positionIds).toEqual([3, 0, 7]);
    // Right-padded to the longest row: lengths 4, 1 and 8.
    expect(step.attentionMask).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('prefills one slot’s chunk after what it holds, and refuses a multi-token pass over slots holding anything', () => {
    const step = planSlotStep([{ slot: 0, ids: [7, 8, 9] }], length);
    expect(step).toMatchObject({ firstSlot: 0, rows: 1, width: 3, inputIds: [7, 8, 9], positionIds: [5, 6, 7] });
    expect(step.attentionMask).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(() => planSlotStep([{ slot: 0, ids: [1, 2] }, { slot: 1, ids: [3, 4] }], length)).toThrow(/needs them all empty/);
    expect(() => planSlotStep([{ slot: 0, ids: [1] }, { slot: 1, ids: [3, 4] }], () => 5)).toThrow(/needs them all empty/);
  });

  it('starts prompts of different lengths in empty slots in one pass, right-padded; an empty slot between rides along', () => {
    const step = planSlotStep(
      [
        { slot: 4, ids: [1, 2, 3] },
        { slot: 6, ids: [9] },
      ],
      () => 0,
    );
    expect(step).toMatchObject({ firstSlot: 4, rows: 3, width: 3 });
    expect(step.inputIds).toEqual([1, 2, 3, 0, 0, 0, 9, 0, 0]);
    expect(step.positionIds).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    // Lengths 3, 1 and 1: the mask is as wide as the pass (GroupQueryAttention's first-prompt mode).
    expect(step.attentionMask).toEqual([1, 1, 1, 1, 0, 0, 1, 0, 0]);
  });
});

describe('slotCapacity', () => {
  it('grows by doubling from 64, never past the context unless a pass needs it', () => {
    expect(slotCapacity(0, 10, 0, 4096)).toBe(64);
    expect(slotCapacity(64, 65, 0, 4096)).toBe(128);
    expect(slotCapacity(128, 100, 0, 4096)).toBe(128);
    expect(slotCapacity(2048, 3000, 0, 3500)).toBe(3500);
    expect(slotCapacity(0, 600, 0, 512)).toBe(600);
  });

  it('shrinks once every kept row and the pass fit in a quarter of it, never below what a row holds', () => {
    // A long conversation ended; the rows left hold 150 tokens at most: 1024 → 256.
    expect(slotCapacity(1024, 151, 150, 4096)).toBe(256);
    // A row still holds 300: not a quarter, it stays.
    expect(slotCapacity(1024, 101, 300, 4096)).toBe(1024);
    expect(slotCapacity(1024, 257, 100, 4096)).toBe(1024);
    expect(slotCapacity(1024, 256, 100, 4096)).toBe(256);
  });
});

describe('KV budget', () => {
  const budget = { bytesPerToken: 100, budgetBytes: 10_000 };

  it('reserves prompt plus max new tokens, capped by the context', () => {
    expect(worstCaseTokens(20, 50, 4096)).toBe(70);
    expect(worstCaseTokens(20, 5000, 4096)).toBe(4096);
    expect(fitsBeside(budget, 60, 40)).toBe(true);
    expect(fitsBeside(budget, 61, 40)).toBe(false);
    expect(fitsBeside({ bytesPerToken: 100, budgetBytes: undefined }, 1e9, 1e9)).toBe(true);
  });

  it('refuses what cannot fit alone, naming the field to change and what would fit', () => {
    expect(() => checkFitsAlone(budget, 30, 70, 4096)).not.toThrow();
    const tooLong = () => checkFitsAlone(budget, 30, 71, 4096);
    expect(tooLong).toThrow(InvalidArgumentError);
    expect(tooLong).toThrow(/^sampling\.max_new_tokens: .*at most 70 new tokens fit after this 30-token prompt/);
    expect(() => checkFitsAlone(budget, 120, 1, 4096)).toThrow(/^messages: .*the prompt alone \(120 tokens\) does not fit/);
  });
});

describe('quantizeBlocks (MatMulNBits layout)', () => {
  it('packs 4-bit codes low nibble first around zero point 8, and each weight is within half a step', () => {
    const k = 40; // two blocks of 32, the second padded
    const weights = Float32Array.from({ length: 2 * k }, (_, i) => Math.sin(i * 1.7) * (i < k ? 1 : 0.01));
    const { codes, scales } = quantizeBlocks(weights, 2, k, 4, 32);
    expect(codes).toHaveLength(2 * 2 * 16);
    expect(scales).toHaveLength(4);
    for (let row = 0; row < 2; row++)
      for (let i = 0; i < k; i++) {
        const b = Math.floor(i / 32);
        const byte = codes[(row * 2 + b) * 16 + ((i % 32) >> 1)]!;
        const code = i % 2 === 0 ? byte & 15 : byte >> 4;
        const scale = scales[row * 2 + b]!;
        expect(Math.abs((code - 8) * scale - weights[row * k + i]!)).toBeLessThanOrEqual(scale / 2 + 1e-7);
      }
    // The padding past K encodes zero.
    expect(codes[(0 * 2 + 1) * 16 + 15]).toBe(0x88);
  });

  it('stores 8-bit codes one per byte around 128, the block maximum at 255 or 1', () => {
    const { codes, scales } = quantizeBlocks(Float32Array.from([0.5, -1, 0.25, 0, ...Array(12).fill(0)]), 1, 16, 8, 16);
    expect(scales[0]).toBeCloseTo(1 / 127);
    expect([...codes.subarray(0, 4)]).toEqual([128 + 64, 1, 128 + 32, 128]);
    expect(() => quantizeBlocks(new Float32Array(10), 1, 10, 4, 24)).toThrow(/power of two/);
  });
});
