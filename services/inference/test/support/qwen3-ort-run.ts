/** Feeds/reads the Qwen3 ONNX contract with plain arrays, for tests. */
import * as ort from 'onnxruntime-node';

export interface Qwen3Shape {
  num_hidden_layers: number;
  num_key_value_heads: number;
  head_dim: number;
  vocab_size: number;
}

/** past_key_values.* / present.* tensors by layer, as ORT returns them. */
export type OrtCache = { key: ort.Tensor; value: ort.Tensor }[];

export interface OrtStep {
  /** logits[b][s] */
  logits: Float32Array[][];
  present: OrtCache;
}

const int64 = (rows: number[][]) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [rows.length, rows[0]!.length]);

export function emptyOrtCache(shape: Qwen3Shape, batch: number): OrtCache {
  const dims = [batch, shape.num_key_value_heads, 0, shape.head_dim];
  return Array.from({ length: shape.num_hidden_layers }, () => ({
    key: new ort.Tensor('float32', new Float32Array(0), dims),
    value: new ort.Tensor('float32', new Float32Array(0), dims),
  }));
}

export async function runQwen3(
  session: ort.InferenceSession,
  shape: Qwen3Shape,
  inputIds: number[][],
  attentionMask: number[][],
  positionIds: number[][],
  past: OrtCache = emptyOrtCache(shape, inputIds.length),
): Promise<OrtStep> {
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(inputIds),
    attention_mask: int64(attentionMask),
    position_ids: int64(positionIds),
  };
  past.forEach((layer, i) => {
    feeds[`past_key_values.${i}.key`] = layer.key;
    feeds[`past_key_values.${i}.value`] = layer.value;
  });
  const out = await session.run(feeds);
  const data = out.logits!.data as Float32Array;
  // Positions the graph gave logits for: every input one, or the last only (the served graph).
  const seq = out.logits!.dims[1]!;
  const V = shape.vocab_size;
  const logits = inputIds.map((_, b) =>
    Array.from({ length: seq }, (_, s) => data.subarray((b * seq + s) * V, (b * seq + s + 1) * V)),
  );
  const present = past.map((_, i) => ({ key: out[`present.${i}.key`]!, value: out[`present.${i}.value`]! }));
  return { logits, present };
}

/** HF-style positions for a left-padded batch: cumsum(mask) - 1, with padding positions set to 1. */
export function positionsFromMask(mask: number[][]): number[][] {
  return mask.map((row) => {
    let seen = 0;
    return row.map((m) => (m === 1 ? seen++ : 1));
  });
}

/** max|a-b| / max|b| over the given pairs (b is the reference). */
export function relativeError(pairs: [ArrayLike<number>, ArrayLike<number>][]): number {
  let diff = 0;
  let scale = 0;
  for (const [a, b] of pairs) {
    if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
    for (let i = 0; i < b.length; i++) {
      diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
      scale = Math.max(scale, Math.abs(b[i]!));
    }
  }
  return diff / scale;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
