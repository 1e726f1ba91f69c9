// Which sequence owns which row ("slot") of the shared-buffer KV cache, and what each slot holds.
// Pure bookkeeping, no ONNX Runtime: the decoder asks it where to put a sequence and applies the
// answer to the buffers in the worker.
//
// A finished sequence's slot is kept as a prefix-cache entry: the ids whose K/V sit in it. A new
// request whose prompt starts with those ids (the same conversation's next turn) takes that slot and
// prefills only the rest. Entries are evicted least recently used when their bytes pass the cache's
// cap, when a slot is needed, or when the KV budget needs their room for running requests.

export interface SlotTableOptions {
  /** Slots in all: running and prefilling sequences plus cached prefixes. */
  readonly maxSlots: number;
  /** K and V bytes one token takes in every layer. */
  readonly bytesPerToken: number;
  /** Bytes the cached (idle) prefixes may hold together; 0 disables prefix reuse. */
  readonly prefixCacheBytes: number;
  /**
   * Shortest shared prefix worth taking a cached slot for (default 16). Shorter ones (a chat
   * template's opening) are cheap to recompute: the prompt takes the lowest free slot instead, so
   * the rows in use stay few and the buffer small.
   */
  readonly minReuseTokens?: number;
}

interface ActiveSlot {
  readonly state: 'active';
  /** Ids whose K/V are written, in position order. */
  readonly ids: number[];
}

interface CachedSlot {
  readonly state: 'cached';
  readonly ids: readonly number[];
  readonly lastUsed: number;
}

type Slot = ActiveSlot | CachedSlot;

export interface Acquired {
  readonly slot: number;
  /** Leading prompt ids whose K/V the slot already holds: prefill starts here. */
  readonly reused: number;
}

/** Length of the common prefix of two id sequences. */
export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class SlotTable {
  private readonly slots: (Slot | undefined)[] = [];
  private clock = 0;
  /** Prefix ids reused since start, for metrics. */
  reusedTokens = 0;

  constructor(private readonly options: SlotTableOptions) {}

  /** Slots owned by running or prefilling sequences. */
  get activeCount(): number {
    return this.slots.filter((s) => s?.state === 'active').length;
  }

  /** One past the highest slot in use (active or cached): how many rows the buffer must have. */
  get highWater(): number {
    let n = this.slots.length;
    while (n > 0 && this.slots[n - 1] === undefined) n--;
    return n;
  }

  /** The most ids any of slots [0, below) holds (active or cached). */
  longest(below: number): number {
    let most = 0;
    for (let i = 0; i < Math.min(below, this.slots.length); i++) most = Math.max(most, this.slots[i]?.ids.length ?? 0);
    return most;
  }

  /** The most ids an active slot holds. */
  longestActive(): number {
    return this.slots.reduce((most, s) => (s?.state === 'active' ? Math.max(most, s.ids.length) : most), 0);
  }

  /** Evicts cached prefixes holding more than `tokens` ids. */
  evictCachedLongerThan(tokens: number): void {
    this.slots.forEach((s, i) => s?.state === 'cached' && s.ids.length > tokens && (this.slots[i] = undefined));
  }

  get cachedBytes(): number {
    return this.slots.reduce((sum, s) => sum + (s?.state === 'cached' ? s.ids.length * this.options.bytesPerToken : 0), 0);
  }

  /** Ids in the slot's K/V (active or cached); 0 for a free slot. */
  length(slot: number): number {
    return this.slots[slot]?.ids.length ?? 0;
  }

  /**
   * A slot for a prompt: the cached one sharing its longest prefix (at least minReuseTokens ids, and
   * never the whole prompt, whose last position must be computed for its logits), else the lowest free
   * slot among the buffer's rows, else the least recently used cached one, else a new row. A cached
   * prefix goes before the buffer grows: dropping it costs its conversation one prefill, if it ever
   * comes back; a new row re-lays out the whole buffer, which stalls every stream (at 16 rows of the
   * 0.6B shape, ~1 GB copied: a second). Undefined when every slot is active.
   */
  acquire(promptIds: readonly number[]): Acquired | undefined {
    let best: { slot: number; reused: number } | undefined;
    this.slots.forEach((s, slot) => {
      if (s?.state !== 'cached') return;
      const reused = Math.min(commonPrefix(s.ids, promptIds), promptIds.length - 1);
      if (reused >= Math.max(1, this.options.minReuseTokens ?? 16) && reused > (best?.reused ?? 0)) best = { slot, reused };
    });
    const slot = best?.slot ?? this.freeSlot(this.highWater) ?? this.leastRecentlyCached() ?? this.freeSlot(this.options.maxSlots);
    if (slot === undefined) return undefined;
    const reused = best?.reused ?? 0;
    this.slots[slot] = { state: 'active', ids: promptIds.slice(0, reused) };
    this.reusedTokens += reused;
    return { slot, reused };
  }

  /** Records ids whose K/V a step wrote into the slot. */
  append(slot: number, ids: readonly number[]): void {
    const s = this.slots[slot];
    if (s?.state !== 'active') throw new Error(`slot ${slot} is not active`);
    s.ids.push(...ids);
  }

  /** The sequence is done: its K/V stays as a prefix-cache entry when `keep`, within the byte budget. */
  release(slot: number, keep: boolean): void {
    const s = this.slots[slot];
    if (s?.state !== 'active') return;
    const fits = s.ids.length * this.options.bytesPerToken <= this.options.prefixCacheBytes;
    this.slots[slot] = keep && fits && s.ids.length > 0 ? { state: 'cached', ids: s.ids, lastUsed: ++this.clock } : undefined;
    this.limitCachedBytes(this.options.prefixCacheBytes);
  }

  /** Evicts cached prefixes, least recently used first, until they hold at most `bytes`. */
  limitCachedBytes(bytes: number): void {
    while (this.cachedBytes > Math.max(0, bytes)) this.slots[this.leastRecentlyCached()!] = undefined;
  }

  /** Forgets everything (after a failed step left the buffers undefined). */
  clear(): void {
    this.slots.length = 0;
  }

  /** The lowest free slot below `below`. */
  private freeSlot(below: number): number | undefined {
    for (let i = 0; i < Math.min(below, this.options.maxSlots); i++) if (this.slots[i] === undefined) return i;
    return undefined;
  }

  private leastRecentlyCached(): number | undefined {
    let oldest: number | undefined;
    this.slots.forEach((s, i) => {
      if (s?.state === 'cached' && (oldest === undefined || s.lastUsed < (this.slots[oldest] as CachedSlot).lastUsed)) oldest = i;
    });
    return oldest;
  }
}
