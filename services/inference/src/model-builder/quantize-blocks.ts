/**
 * Block-wise symmetric weight quantization in the layout of ONNX Runtime's MatMulNBits: for each of
 * the N output columns, its K input weights in blocks of `blockSize`, each block one float scale and
 * `bits`-bit codes around the default zero point 2^(bits-1) (8 for 4 bits, 128 for 8 bits), so no
 * zero-point tensor is stored. 4-bit codes pack two to a byte, the lower-indexed one in the low nibble.
 * Dequantized weight = (code - zeroPoint) * scale.
 */

export type QuantBits = 4 | 8;

export interface QuantizedBlocks {
  /** [N, kBlocks, blockSize * bits / 8] */
  readonly codes: Uint8Array;
  /** [N * kBlocks] */
  readonly scales: Float32Array;
}

export function blockCount(k: number, blockSize: number): number {
  return Math.ceil(k / blockSize);
}

/**
 * `weights` holds N rows of K (row n: output n's input weights, HF's [out, in] layout). A block's
 * scale maps its largest magnitude to the largest positive code, so nothing clips and zero stays zero.
 */
export function quantizeBlocks(weights: Float32Array, n: number, k: number, bits: QuantBits, blockSize: number): QuantizedBlocks {
  if (weights.length !== n * k) throw new Error(`expected ${n * k} weights, got ${weights.length}`);
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) throw new Error('blockSize must be a power of two >= 16');
  const blocks = blockCount(k, blockSize);
  const blob = (blockSize * bits) / 8;
  const zero = 2 ** (bits - 1);
  const maxCode = 2 ** bits - 1;
  const codes = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const from = row * k + b * blockSize;
      const to = row * k + Math.min(k, (b + 1) * blockSize);
      let absMax = 0;
      for (let i = from; i < to; i++) absMax = Math.max(absMax, Math.abs(weights[i]!));
      const scale = absMax / (zero - 1);
      scales[row * blocks + b] = scale;
      const inverse = scale === 0 ? 0 : 1 / scale;
      const base = (row * blocks + b) * blob;
      for (let i = from; i < to; i++) {
        const code = Math.min(maxCode, Math.max(0, Math.round(weights[i]! * inverse) + zero));
        const j = i - from;
        if (bits === 8) codes[base + j] = code;
        else codes[base + (j >> 1)]! |= (j & 1) === 0 ? code : code << 4;
      }
      // Padding past K in the last block encodes zero weights.
      for (let j = to - from; j < blockSize; j++) {
        if (bits === 8) codes[base + j] = zero;
        else codes[base + (j >> 1)]! |= (j & 1) === 0 ? zero : zero << 4;
      }
    }
  }
  return { codes, scales };
}

/** Rows of [in, out] (the float graph's stored layout) as rows of [out, in]. */
export function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}
