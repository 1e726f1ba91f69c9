// The shared-buffer path. The KV cache stays in the session's worker as one buffer per layer,
// [slots, kvHeads, capacity, headDim]; each sequence owns a slot (slot-table.ts) and a pass writes
// only the new tokens' K/V at each row's offset: the worker appends them from the graph's
// new_key_values outputs (the built-in graph, whose attention only reads the cache), or ONNX
// Runtime's GroupQueryAttention writes them in place when present is bound to the same slots as
// past (onnxruntime-genai's graphs). Nothing but the inputs goes in and the logits rows come back.
// A decode step runs over the contiguous slot range its sequences span; a slot in that range that
// is not decoding (free, prefilling or cached) rides along as a one-token row written just past
// its own content, where it overwrites nothing anyone reads.
import { int64, logitsRows, type Decoder, type PrefillChunk } from './decoder.js';
import { kvBytesPerToken, type KvShape } from './kv-batch.js';
import type { ModelFamily } from './model-family.js';
import type { PlainTensor, SessionRunner } from './session-worker.js';
import type { Sequence } from './sequence.js';
import { SlotTable } from './slot-table.js';

export interface SlotRow {
  readonly slot: number;
  /**
   * Ids this pass feeds for the slot. Rows of a pass over several slots feed one id each (decode),
   * or start empty slots with prompts of any lengths (a batch of first chunks, right-padded).
   */
  readonly ids: readonly number[];
}

export interface SlotStep {
  readonly firstSlot: number;
  readonly rows: number;
  readonly width: number;
  readonly inputIds: readonly number[];
  readonly positionIds: readonly number[];
  /** rows × mask width: row r has (its cached length + width) ones, then zeros (right padding). */
  readonly attentionMask: readonly number[];
}

/**
 * The inputs of one pass over the slot range `rows` span; `length(slot)` is what each slot holds now.
 * A slot in the range without a row rides along: one id written just past its content (decode), or,
 * in a batch of first chunks, where only empty slots may lie, a one-id prompt into its empty slot.
 */
export function planSlotStep(rows: readonly SlotRow[], length: (slot: number) => number): SlotStep {
  const bySlot = new Map(rows.map((r) => [r.slot, r.ids]));
  const firstSlot = Math.min(...bySlot.keys());
  const count = Math.max(...bySlot.keys()) - firstSlot + 1;
  const slots = Array.from({ length: count }, (_, r) => firstSlot + r);
  const width = Math.max(...rows.map((r) => r.ids.length));
  // Several new tokens per row: GroupQueryAttention's first-prompt mode, every row starting at 0.
  const firstChunks = count > 1 && width > 1;
  if (firstChunks && slots.some((s) => length(s) > 0)) throw new Error('a multi-token pass over several slots needs them all empty');
  if (!firstChunks && rows.some((r) => r.ids.length !== width)) throw new Error('rows of one pass feed the same number of ids');
  const fed = (s: number) => bySlot.get(s)?.length ?? (firstChunks ? 1 : width);
  const totals = slots.map((s) => length(s) + fed(s));
  const maskWidth = Math.max(...totals);
  const attentionMask: number[] = [];
  totals.forEach((total) => attentionMask.push(...Array.from({ length: maskWidth }, (_, c) => (c < total ? 1 : 0))));
  return {
    firstSlot,
    rows: count,
    width,
    inputIds: slots.flatMap((s) => {
      const ids = bySlot.get(s) ?? [];
      return [...ids, ...Array<number>(width - ids.length).fill(0)];
    }),
    positionIds: slots.flatMap((s) => Array.from({ length: width }, (_, i) => length(s) + i)),
    attentionMask,
  };
}

/**
 * Tokens per slot the buffer should hold for a pass needing `needed` while the longest kept row holds
 * `longest`: doubling, so growth (a re-layout) is rare; and back down once every row fits in a quarter
 * of it, because attention's cost follows the buffer's length, not the rows' (one long conversation
 * that has ended must not slow every later step).
 */
export function slotCapacity(current: number, needed: number, longest: number, maxContextTokens: number): number {
  const fits = Math.max(needed, longest);
  if (fits <= current && fits * 4 > current) return current;
  let capacity = 64;
  while (capacity < fits) capacity *= 2;
  return Math.max(fits, Math.min(capacity, maxContextTokens));
}

export interface SharedBufferOptions {
  readonly maxSlots: number;
  readonly maxContextTokens: number;
  readonly prefixCacheBytes: number;
}

export class SharedBufferDecoder implements Decoder {
  readonly path = 'shared-buffer';
  readonly detail: string;
  private readonly table: SlotTable;
  private readonly slotOf = new Map<Sequence, number>();
  private readonly bytesPerToken: number;
  /** The store's rows and tokens per row, as last sent to the worker. */
  private slots = 0;
  private capacity = 0;

  constructor(
    private readonly session: SessionRunner,
    private readonly shape: KvShape,
    private readonly vocab: number,
    private readonly options: SharedBufferOptions,
    detail: string,
  ) {
    this.detail = detail;
    this.bytesPerToken = kvBytesPerToken(shape);
    this.table = new SlotTable({ maxSlots: options.maxSlots, bytesPerToken: this.bytesPerToken, prefixCacheBytes: options.prefixCacheBytes });
  }

  static async create(session: SessionRunner, family: ModelFamily, shape: KvShape, vocab: number, options: SharedBufferOptions): Promise<SharedBufferDecoder> {
    const layers = Array.from({ length: shape.numLayers }, (_, l) => {
      const n = family.kvNames(l);
      const appended = [`new_key_values.${l}.key`, `new_key_values.${l}.value`] as const;
      return {
        past: [n.pastKey, n.pastValue] as const,
        present: [n.presentKey, n.presentValue] as const,
        // The built-in graph also gives just the new tokens' K/V: appending those beats fetching `present`.
        ...(appended.every((name) => session.outputNames.includes(name)) && { appended }),
      };
    });
    await session.createKvStore({ layers, kvHeads: shape.numKvHeads, headDim: shape.headDim, dtype: shape.dtype });
    const appended = layers.every((l) => 'appended' in l);
    const computesPresent = session.outputNames.includes(family.kvNames(0).presentKey);
    const detail = !appended
      ? 'present bound to the cache in place'
      : computesPresent
        ? 'new K/V appended by the worker (the graph still computes present, unread)'
        : 'the graph reads the cache, the worker appends new K/V';
    return new SharedBufferDecoder(session, shape, vocab, options, detail);
  }

  get reusesPrefixes(): boolean {
    return this.options.prefixCacheBytes > 0;
  }

  get allocatedBytes(): number {
    return this.slots * this.capacity * this.bytesPerToken;
  }

  get reusedTokens(): number {
    return this.table.reusedTokens;
  }

  get cachedBytes(): number {
    return this.table.cachedBytes;
  }

  limitCachedBytes(bytes: number): void {
    this.table.limitCachedBytes(bytes);
  }

  open(seq: Sequence): number | undefined {
    const acquired = this.table.acquire(seq.promptIds);
    if (!acquired) return undefined;
    this.slotOf.set(seq, acquired.slot);
    return acquired.reused;
  }

  /**
   * First chunks of prompts in empty slots go in one pass when the slots between them are empty too;
   * every other chunk (a continuation, a prompt after a reused prefix) takes a pass of its own.
   */
  async prefill(chunks: readonly PrefillChunk[]): Promise<Float32Array[]> {
    const rows = chunks.map(({ seq, end }) => ({ slot: this.slotOf.get(seq)!, ids: seq.promptIds.slice(seq.position, end) }));
    const fresh = rows.filter((r) => this.table.length(r.slot) === 0);
    const lo = Math.min(...fresh.map((r) => r.slot));
    const hi = Math.max(...fresh.map((r) => r.slot));
    const together = fresh.length > 1 && Array.from({ length: hi - lo + 1 }, (_, i) => lo + i).every((s) => this.table.length(s) === 0);
    const out = new Map<SlotRow, Float32Array>();
    if (together) (await this.pass(fresh)).forEach((logits, i) => out.set(fresh[i]!, logits));
    for (const row of rows) if (!out.has(row)) out.set(row, (await this.pass([row]))[0]!);
    return rows.map((row) => out.get(row)!);
  }

  async decode(seqs: readonly Sequence[]): Promise<Float32Array[]> {
    return this.pass(seqs.map((s) => ({ slot: this.slotOf.get(s)!, ids: [s.pendingToken] })));
  }

  close(seq: Sequence, reusable: boolean): void {
    const slot = this.slotOf.get(seq);
    if (slot === undefined) return;
    this.slotOf.delete(seq);
    this.table.release(slot, reusable);
  }

  reset(): void {
    this.slotOf.clear();
    this.table.clear();
  }

  /** One pass; the logits row of each of `rows`, in order. */
  private async pass(rows: readonly SlotRow[]): Promise<Float32Array[]> {
    // Every step pays for the buffer's length: a cached prefix may not hold it at four times what the
    // running sequences need (its next turn would save one prefill; it would cost every step until then).
    const running = Math.max(this.table.longestActive(), ...rows.map((r) => this.table.length(r.slot) + r.ids.length));
    if (running * 4 <= this.capacity) this.table.evictCachedLongerThan(running);
    let step = planSlotStep(rows, (slot) => this.table.length(slot));
    const needed = step.attentionMask.length / step.rows;
    if (needed > this.capacity) {
      // Growing re-lays out every row the buffer keeps: cached prefixes go first (so the rows can
      // shrink to the active ones too), rather than be copied into a buffer twice as long.
      this.table.limitCachedBytes(0);
      step = planSlotStep(rows, (slot) => this.table.length(slot));
    }
    // Rows up to the highest slot in use; fewer than half of what is held: the buffer shrinks to them.
    const wanted = Math.max(this.table.highWater, step.firstSlot + step.rows);
    this.capacity = slotCapacity(this.capacity, needed, this.table.longest(wanted), this.options.maxContextTokens);
    if (wanted > this.slots || wanted * 2 <= this.slots) this.slots = wanted;
    const declared = this.session.inputNames;
    const feeds: Record<string, PlainTensor> = {
      input_ids: { type: 'int64', data: int64(step.inputIds), dims: [step.rows, step.width] },
      attention_mask: { type: 'int64', data: int64(step.attentionMask), dims: [step.rows, step.attentionMask.length / step.rows] },
      position_ids: { type: 'int64', data: int64(step.positionIds), dims: [step.rows, step.width] },
    };
    const out = await this.session.runInPlace({
      feeds: Object.fromEntries(Object.entries(feeds).filter(([name]) => declared.includes(name))),
      firstSlot: step.firstSlot,
      rows: step.rows,
      slots: this.slots,
      capacity: this.capacity,
      starts: Array.from({ length: step.rows }, (_, r) => step.positionIds[r * step.width]!),
      held: Array.from({ length: this.slots }, (_, slot) => this.table.length(slot)),
    });
    for (const row of rows) this.table.append(row.slot, row.ids);
    // All-positions graphs: a right-padded row's last real id is not the pass's last position.
    const fed = new Map(rows.map((r) => [r.slot - step.firstSlot, r.ids.length]));
    const logits = logitsRows(out.logits!, this.vocab, (row) => (fed.get(row) ?? 1) - 1);
    return rows.map((row) => logits[row.slot - step.firstSlot]!);
  }
}
