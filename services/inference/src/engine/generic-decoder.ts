// The generic path: any decoder with past/present tensors. The running batch's cache is one
// left-padded KvBatch (kv-batch.ts) that goes to the worker with each pass and comes back as the
// graph's `present`, by transfer; each prefilling prompt has a batch of its own until it joins.
import { int64, logitsRows, type Decoder, type PrefillChunk } from './decoder.js';
import { advance, concatRows, emptyKvBatch, selectRows, stepMask, type KvArray, type KvBatch, type KvShape } from './kv-batch.js';
import type { ModelFamily } from './model-family.js';
import type { PlainTensor, SessionRunner } from './session-worker.js';
import type { Sequence } from './sequence.js';

export class GenericDecoder implements Decoder {
  readonly path = 'generic';
  readonly reusesPrefixes = false;
  readonly detail = 'present returned whole each pass';
  // No prefix cache on this path: a finished sequence's rows are dropped with it.
  readonly reusedTokens = 0;
  readonly cachedBytes = 0;
  /** Prompts being prefilled, and prefilled ones not yet in the batch. */
  private readonly own = new Map<Sequence, KvBatch>();
  /** Row i of `batch` belongs to members[i]; undefined marks a row whose sequence left. */
  private members: (Sequence | undefined)[] = [];
  private batch: KvBatch;

  constructor(
    private readonly session: SessionRunner,
    private readonly family: ModelFamily,
    private readonly shape: KvShape,
    private readonly vocab: number,
  ) {
    this.batch = emptyKvBatch(shape);
  }

  get allocatedBytes(): number {
    const bytes = (kv: KvBatch) => kv.keys.reduce((sum, a) => sum + a.byteLength, 0) + kv.values.reduce((sum, a) => sum + a.byteLength, 0);
    return bytes(this.batch) + [...this.own.values()].reduce((sum, kv) => sum + bytes(kv), 0);
  }

  open(seq: Sequence): number {
    this.own.set(seq, emptyKvBatch(this.shape, 1));
    return 0;
  }

  /** One pass per prompt: rows of a left-padded batch cannot start at different positions. */
  async prefill(chunks: readonly PrefillChunk[]): Promise<Float32Array[]> {
    const rows: Float32Array[] = [];
    for (const { seq, end } of chunks) {
      const ids = seq.promptIds.slice(seq.position, end);
      const { logits, kv } = await this.forward(this.own.get(seq)!, [ids], [ids.map((_, i) => seq.position + i)]);
      this.own.set(seq, kv);
      rows.push(logitsRows(logits, this.vocab)[0]!);
    }
    return rows;
  }

  async decode(seqs: readonly Sequence[]): Promise<Float32Array[]> {
    this.regroup(seqs);
    const { logits, kv } = await this.forward(
      this.batch,
      this.members.map((s) => [s!.pendingToken]),
      this.members.map((s) => [s!.position]),
    );
    this.batch = kv;
    const rows = logitsRows(logits, this.vocab);
    return seqs.map((seq) => rows[this.members.indexOf(seq)]!);
  }

  limitCachedBytes(): void {}

  close(seq: Sequence): void {
    this.own.delete(seq);
    const row = this.members.indexOf(seq);
    if (row >= 0) this.members[row] = undefined;
    if (this.members.every((m) => m === undefined)) this.reset(false);
  }

  reset(prefilling = true): void {
    if (prefilling) this.own.clear();
    this.members = [];
    this.batch = emptyKvBatch(this.shape);
  }

  /** Makes the batch exactly `seqs`: drops rows of those that left, appends those that finished prefill. */
  private regroup(seqs: readonly Sequence[]): void {
    const keep: number[] = [];
    this.members.forEach((m, row) => m && seqs.includes(m) && keep.push(row));
    if (keep.length !== this.members.length) {
      this.batch = selectRows(this.batch, keep);
      this.members = keep.map((row) => this.members[row]);
    }
    const joining = seqs.filter((s) => !this.members.includes(s));
    if (joining.length === 0) return;
    this.batch = concatRows([this.batch, ...joining.map((s) => this.own.get(s)!)]);
    this.members.push(...joining);
    for (const s of joining) this.own.delete(s);
  }

  /** One forward pass of `tokens` (same count per row) over `kv`; returns the logits and the grown cache. */
  private async forward(
    kv: KvBatch,
    tokens: readonly (readonly number[])[],
    positions: readonly (readonly number[])[],
  ): Promise<{ logits: PlainTensor; kv: KvBatch }> {
    const rows = tokens.length;
    const width = tokens[0]!.length;
    const mask = stepMask(kv, width);
    const { numLayers, numKvHeads, headDim, dtype } = this.shape;
    const feeds: Record<string, PlainTensor> = {
      input_ids: { type: 'int64', data: int64(tokens.flat()), dims: [rows, width] },
      attention_mask: { type: 'int64', data: int64(mask), dims: [rows, kv.columns + width] },
      position_ids: { type: 'int64', data: int64(positions.flat()), dims: [rows, width] },
    };
    for (let l = 0; l < numLayers; l++) {
      const dims = [rows, numKvHeads, kv.columns, headDim];
      const names = this.family.kvNames(l);
      // Transferred to the worker: this batch's arrays are spent, the step's present replaces them.
      feeds[names.pastKey] = { type: dtype, data: kv.keys[l]!, dims };
      feeds[names.pastValue] = { type: dtype, data: kv.values[l]!, dims };
    }
    // Feed only what the graph declares: some exports derive position_ids from the mask themselves.
    const declared = this.session.inputNames;
    const out = await this.session.run(Object.fromEntries(Object.entries(feeds).filter(([name]) => declared.includes(name))));
    const present = (name: string) => out[name]!.data as KvArray;
    const keys = Array.from({ length: numLayers }, (_, l) => present(this.family.kvNames(l).presentKey));
    const values = Array.from({ length: numLayers }, (_, l) => present(this.family.kvNames(l).presentValue));
    return { logits: out.logits!, kv: advance(kv, keys, values, width) };
  }
}
