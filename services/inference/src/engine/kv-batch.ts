// The running batch's KV cache: per layer a key and a value tensor [rows, kvHeads, columns, headDim]
// plus an attention mask [rows, columns]. Rows are left-padded to a shared column count; the mask
// marks padding with 0. Functions here are pure: they return new batches and never touch ONNX Runtime.
// Elements are the graph's own KV type: float32, or float16 as raw bits (fp16 and q4f16 exports).

/** The KV element types graphs declare, as ONNX Runtime names them. */
export type KvDtype = 'float32' | 'float16';
export type KvArray = Float32Array | Uint16Array;

const allocate = (dtype: KvDtype, length: number): KvArray => (dtype === 'float16' ? new Uint16Array(length) : new Float32Array(length));

export interface KvShape {
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly dtype: KvDtype;
}

/** K and V bytes one token takes over all layers. */
export function kvBytesPerToken(shape: KvShape): number {
  return 2 * shape.numLayers * shape.numKvHeads * shape.headDim * (shape.dtype === 'float16' ? 2 : 4);
}

export interface KvBatch {
  readonly shape: KvShape;
  readonly rows: number;
  readonly columns: number;
  /** keys[layer] and values[layer], each rows * kvHeads * columns * headDim elements of shape.dtype. */
  readonly keys: readonly KvArray[];
  readonly values: readonly KvArray[];
  /** rows * columns; 1 where a real token sits. */
  readonly mask: Uint8Array;
}

export function emptyKvBatch(shape: KvShape, rows = 0): KvBatch {
  const layers = () => Array.from({ length: shape.numLayers }, () => allocate(shape.dtype, 0));
  return { shape, rows, columns: 0, keys: layers(), values: layers(), mask: new Uint8Array(0) };
}

/** The mask a step over `newColumns` tokens per row attends with: the batch's mask plus real columns. */
export function stepMask(batch: KvBatch, newColumns: number): Uint8Array {
  const width = batch.columns + newColumns;
  const out = new Uint8Array(batch.rows * width).fill(1);
  for (let r = 0; r < batch.rows; r++) out.set(batch.mask.subarray(r * batch.columns, (r + 1) * batch.columns), r * width);
  return out;
}

/** The batch after a step: ONNX Runtime's `present` tensors become the cache as they are (no copy). */
export function advance(batch: KvBatch, keys: KvArray[], values: KvArray[], newColumns: number): KvBatch {
  return { ...batch, columns: batch.columns + newColumns, keys, values, mask: stepMask(batch, newColumns) };
}

/** Stacks batches row-wise, left-padding each to the widest. Used when prefilled sequences join. */
export function concatRows(parts: readonly KvBatch[]): KvBatch {
  const nonEmpty = parts.filter((p) => p.rows > 0);
  const shape = parts[0]!.shape;
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  const rows = nonEmpty.reduce((n, p) => n + p.rows, 0);
  const columns = Math.max(0, ...nonEmpty.map((p) => p.columns));
  const { numKvHeads: heads, headDim } = shape;
  const mask = new Uint8Array(rows * columns);
  const copyLayer = (pick: (p: KvBatch) => KvArray) => {
    const out = allocate(shape.dtype, rows * heads * columns * headDim);
    let row = 0;
    for (const p of nonEmpty) {
      const src = pick(p);
      const pad = columns - p.columns;
      for (let r = 0; r < p.rows; r++, row++) {
        for (let h = 0; h < heads; h++) {
          const from = (r * heads + h) * p.columns * headDim;
          const to = ((row * heads + h) * columns + pad) * headDim;
          out.set(src.subarray(from, from + p.columns * headDim), to);
        }
      }
    }
    return out;
  };
  const keys = Array.from({ length: shape.numLayers }, (_, l) => copyLayer((p) => p.keys[l]!));
  const values = Array.from({ length: shape.numLayers }, (_, l) => copyLayer((p) => p.values[l]!));
  let row = 0;
  for (const p of nonEmpty) {
    const pad = columns - p.columns;
    for (let r = 0; r < p.rows; r++, row++) mask.set(p.mask.subarray(r * p.columns, (r + 1) * p.columns), row * columns + pad);
  }
  return { shape, rows, columns, keys, values, mask };
}

/**
 * Keeps the given rows, in that order, and drops leading columns that are padding in every kept row,
 * so a long-gone long prompt stops costing attention for everyone else.
 */
export function selectRows(batch: KvBatch, keep: readonly number[]): KvBatch {
  if (keep.length === batch.rows && keep.every((r, i) => r === i)) return batch;
  const { numKvHeads: heads, headDim } = batch.shape;
  let trim = batch.columns;
  for (const r of keep) {
    const first = batch.mask.subarray(r * batch.columns, (r + 1) * batch.columns).indexOf(1);
    trim = Math.min(trim, first === -1 ? batch.columns : first);
  }
  if (keep.length === 0) trim = batch.columns;
  const columns = batch.columns - trim;
  const copyLayer = (src: KvArray) => {
    const out = allocate(batch.shape.dtype, keep.length * heads * columns * headDim);
    keep.forEach((r, i) => {
      for (let h = 0; h < heads; h++) {
        const from = ((r * heads + h) * batch.columns + trim) * headDim;
        out.set(src.subarray(from, from + columns * headDim), (i * heads + h) * columns * headDim);
      }
    });
    return out;
  };
  const mask = new Uint8Array(keep.length * columns);
  keep.forEach((r, i) => mask.set(batch.mask.subarray(r * batch.columns + trim, (r + 1) * batch.columns), i * columns));
  return {
    shape: batch.shape,
    rows: keep.length,
    columns,
    keys: batch.keys.map(copyLayer),
    values: batch.values.map(copyLayer),
    mask,
  };
}
