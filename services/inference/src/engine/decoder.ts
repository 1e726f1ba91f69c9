// How the engine runs forward passes and keeps the KV cache between them. Two ways, chosen per model
// at load (the log says which):
// - `shared-buffer` (shared-buffer-decoder.ts): graphs with GroupQueryAttention. The cache lives in
//   the session's worker as per-sequence slots that each pass appends to in place; only the logits
//   row of each sequence comes back. Joining or leaving the batch copies nothing.
// - `generic` (generic-decoder.ts): any decoder export with past/present tensors. The cache is a
//   left-padded batch that each pass returns whole; joins and leaves copy it.
import { halfToFloat } from './half-float.js';
import type { PlainTensor } from './session-worker.js';
import type { Sequence } from './sequence.js';

export type KvPath = 'shared-buffer' | 'generic';

export interface PrefillChunk {
  readonly seq: Sequence;
  readonly end: number;
}

export interface Decoder {
  readonly path: KvPath;
  /** How the path writes new K/V, for the load log. */
  readonly detail: string;
  /** Whether a finished sequence's K/V can serve a later prompt's prefix (`open` returns more than 0). */
  readonly reusesPrefixes: boolean;
  /**
   * Makes room for a sequence about to prefill. Returns how many leading prompt ids already have
   * their K/V in place (prefix reuse; prefill starts there), or undefined when there is no room.
   */
  open(seq: Sequence): number | undefined;
  /**
   * Prefills prompt ids [seq.position, end) of each sequence (in as few passes as the path allows);
   * resolves, per entry in order, the logits row of its last id.
   */
  prefill(chunks: readonly PrefillChunk[]): Promise<Float32Array[]>;
  /** One decode step: each sequence feeds its pending token at its position; a logits row each, in order. */
  decode(seqs: readonly Sequence[]): Promise<Float32Array[]>;
  /** The sequence left the engine: its K/V is freed, or kept for a later prompt sharing its prefix when `reusable`. */
  close(seq: Sequence, reusable: boolean): void;
  /** Evicts cached prefixes (least recently used first) until they hold at most `bytes`. */
  limitCachedBytes(bytes: number): void;
  /** A pass failed and the cache's content is unknown: forget every sequence's K/V. */
  reset(): void;
  /** K/V bytes held now. */
  readonly allocatedBytes: number;
  /** K/V bytes of cached prefixes (idle, kept for reuse). */
  readonly cachedBytes: number;
  /** Prompt ids served from cached prefixes since start. */
  readonly reusedTokens: number;
}

/**
 * A logits tensor [rows, positions, vocab] as one float32 row per batch row (fp16 graphs answer raw
 * float16 bits): position `last(row)`, by default the last. Graphs give logits for every position
 * (exports) or one per row (the built-in model).
 */
export function logitsRows(logits: PlainTensor, vocab: number, last?: (row: number) => number): Float32Array[] {
  const floats = logits.type === 'float16' ? halfToFloat(logits.data as Uint16Array) : (logits.data as Float32Array);
  const positions = logits.dims[1]!;
  return Array.from({ length: logits.dims[0]! }, (_, r) => {
    const at = (r * positions + (positions === 1 ? 0 : (last?.(r) ?? positions - 1))) * vocab;
    return floats.subarray(at, at + vocab);
  });
}

export const int64 = (values: Iterable<number>) => BigInt64Array.from(values, (v) => BigInt(v));
