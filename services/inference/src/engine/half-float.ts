// IEEE 754 half precision, as ONNX Runtime's Node binding hands float16 tensors over: raw bits in a
// Uint16Array (Node 20 has no Float16Array). Only what the engine needs: widening logits to float32.

let table: Float32Array | undefined;

/** Every one of the 65,536 half values as a float32, built once (256 KB). */
function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    table[bits] =
      exponent === 0
        ? sign * fraction * 2 ** -24 // subnormal (and ±0)
        : exponent === 0x1f
          ? fraction === 0
            ? sign * Infinity
            : NaN
          : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return table;
}

/** float16 bits → float32 values. */
export function halfToFloat(bits: Uint16Array): Float32Array {
  const lookup = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = lookup[bits[i]!]!;
  return out;
}
