// The shared-buffer path: graphs whose attention is GroupQueryAttention. The KV cache stays in the
// session's worker as one buffer per layer, [slots, kvHeads, capacity, headDim]; each sequence owns
// a slot (slot-table.ts) and every pass binds the same slots as past and present, so ONNX Runtime
// writes only the new tokens' K/V, in place. Nothing but the inputs goes in and the logits rows come
// back. A decode step runs over the contiguous slot range its sequences span; a slot in that range
// that is not decoding (free, prefilling or cached) rides along as a one-token row written just past
// its own content, where it overwrites nothing anyone reads.
import { int64, logitsRows, type Decoder } from './decoder.js';
import type { KvShape } from './kv-batch.js';
import type { ModelFamily } from './model-family.js';
import type { PlainTensor, SessionRunner } from './session-worker.js';
import type { Sequence } from './sequence.js';
import { SlotTable } from './slot-table.js';

export interface SlotRow {
  readonly slot: number;
  /** Ids this pass feeds for the slot; every row of a pass feeds the same count. */
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

/** The inputs of one pass over the slot range `rows` span; `length(slot)` is what each slot holds now. */
export function planSlotStep(rows: readonly SlotRow[], length: (slot: number) => number): SlotStep {
  const width = rows[0]!.ids.length;
  const bySlot = new Map(rows.map((r) => [r.slot, r.ids]));
  const firstSlot = Math.min(...bySlot.keys());
  const count = Math.max(...bySlot.keys()) - firstSlot + 1;
  if (count > 1 && width !== 1) throw new Error('a pass over several slots feeds one token per slot');
  const slots = Array.from({ length: count }, (_, r) => firstSlot + r);
  const totals = slots.map((s) => length(s) + width);
  const maskWidth = Math.max(...totals);
  const attentionMask: number[] = [];
  totals.forEach((total) => attentionMask.push(...Array.from({ length: maskWidth }, (_, c) => (c < total ? 1 : 0))));
  return {
    firstSlot,
    rows: count,
    width,
    inputIds: slots.flatMap((s) => bySlot.get(s) ?? Array<number>(width).fill(0)),
    positionIds: slots.flatMap((s) => Array.from({ length: width }, (_, i) => length(s) + i)),
    attentionMask,
  };
}

/** Tokens per slot the buffer should hold for `needed`: doubling, so growth (a re-layout) is rare. */
export function slotCapacity(current: number, needed: number, maxContextTokens: number): number {
  if (needed <= current) return current;
  let capacity = Math.max(current, 64);
  while (capacity < needed) capacity *= 2;
  return Math.max(needed, Math.min(capacity, maxContextTokens));
}

export interface SharedBufferOptions {
  readonly maxSlots: number;
  readonly maxContextTokens: number;
  readonly prefixCacheBytes: number;
}

export class SharedBufferDecoder implements Decoder {
  readonly path = 'shared-buffer';
  private readonly table: SlotTable;
  private readonly slotOf = new Map<Sequence, number>();
  private readonly bytesPerToken: number;
  private slots = 0;
  private capacity = 0;

  constructor(
    private readonly session: SessionRunner,
    private readonly shape: KvShape,
    private readonly vocab: number,
    private readonly options: SharedBufferOptions,
  ) {
    const elementBytes = shape.dtype === 'float16' ? 2 : 4;
    this.bytesPerToken = 2 * shape.numLayers * shape.numKvHeads * shape.headDim * elementBytes;
    this.table = new SlotTable({ maxSlots: options.maxSlots, bytesPerToken: this.bytesPerToken, prefixCacheBytes: options.prefixCacheBytes });
  }

  static async create(session: SessionRunner, family: ModelFamily, shape: KvShape, vocab: number, options: SharedBufferOptions): Promise<SharedBufferDecoder> {
    const layers = Array.from({ length: shape.numLayers }, (_, l) => {
      const n = family.kvNames(l);
      return { past: [n.pastKey, n.pastValue] as const, present: [n.presentKey, n.presentValue] as const };
    });
    await session.createKvStore({ layers, kvHeads: shape.numKvHeads, headDim: shape.headDim, dtype: shape.dtype });
    return new SharedBufferDecoder(session, shape, vocab, options);
  }

  get allocatedBytes(): number {
    return this.slots * this.capacity * this.bytesPerToken;
  }

  get reusedTokens(): number {
    return this.table.reusedTokens;
  }

  open(seq: Sequence): number | undefined {
    const acquired = this.table.acquire(seq.promptIds);
    if (!acquired) return undefined;
    this.slotOf.set(seq, acquired.slot);
    return acquired.reused;
  }

  async prefill(seq: Sequence, end: number): Promise<Float32Array> {
    const ids = seq.promptIds.slice(seq.position, end);
    return (await this.pass([{ slot: this.slotOf.get(seq)!, ids }]))[0]!;
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
    const step = planSlotStep(rows, (slot) => this.table.length(slot));
    this.slots = Math.max(this.slots, this.table.highWater, step.firstSlot + step.rows);
    this.capacity = slotCapacity(this.capacity, step.attentionMask.length / step.rows, this.options.maxContextTokens);
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
    });
    for (const row of rows) this.table.append(row.slot, row.ids);
    const logits = logitsRows(out.logits!, this.vocab);
    return rows.map((row) => logits[row.slot - step.firstSlot]!);
  }
}
