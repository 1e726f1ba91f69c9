/**
 * An independent float64 Qwen3 forward pass in plain TypeScript, used to check the generated ONNX graph.
 * Weights are read back from a written model directory (config.json + onnx/model.onnx + its external data),
 * so the check covers what is actually on disk, not what the builder meant to write.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface ReferenceConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  vocab_size: number;
  rms_norm_eps: number;
  rope_theta: number;
  tie_word_embeddings: boolean;
}

export interface ReferenceModel {
  config: ReferenceConfig;
  /** Float weights by initializer name, widened to float64, in their stored layout. */
  weights: Map<string, { dims: number[]; data: Float64Array }>;
}

/** One layer's cache for one batch row: positions x (kvHeads * headDim), keys after rotary. */
export interface RowLayerCache {
  keys: Float64Array[];
  values: Float64Array[];
}

/** cache[row][layer] */
export type ReferenceCache = RowLayerCache[][];

export function loadReferenceModel(dir: string): ReferenceModel {
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as ReferenceConfig;
  const onnxDir = path.join(dir, 'onnx');
  const model = onnx.ModelProto.decode(readFileSync(path.join(onnxDir, 'model.onnx')));
  const files = new Map<string, Buffer>();
  const weights = new Map<string, { dims: number[]; data: Float64Array }>();
  const raw = new Map<string, { dims: number[]; bytes: Buffer; type: number }>();
  for (const tensor of model.graph?.initializer ?? []) {
    if (tensor.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const entry = Object.fromEntries((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const file = entry.location;
    if (!tensor.name || !file) throw new Error('external initializer without a name or location');
    if (!files.has(file)) files.set(file, readFileSync(path.join(onnxDir, file)));
    const offset = Number(entry.offset ?? 0);
    const bytes = files.get(file)!.subarray(offset, offset + Number(entry.length));
    raw.set(tensor.name, { dims: (tensor.dims ?? []).map(Number), bytes, type: tensor.dataType ?? 0 });
  }
  for (const [name, { dims, bytes, type }] of raw) {
    if (type === onnx.TensorProto.DataType.UINT8) {
      // A MatMulNBits weight: codes [N, blocks, blob] and scales [N * blocks], see dequantize below.
      const base = name.replace(/_q$/, '');
      const scales = raw.get(`${base}_scales`)!;
      const node = model.graph?.node?.find((n) => n.opType === 'MatMulNBits' && n.input?.[1] === name);
      const attr = (key: string) => Number(node?.attribute?.find((a) => a.name === key)?.i ?? Number.NaN);
      const scaleValues = new Float32Array(scales.bytes.buffer.slice(scales.bytes.byteOffset, scales.bytes.byteOffset + scales.bytes.byteLength));
      const rows = dequantize(bytes, scaleValues, dims, attr('K'), attr('bits'), attr('block_size'));
      // Projections are stored [in, out] in float builds: hand the reference the same layout.
      if (base === 'lm_head.weight') weights.set(base, { dims: [dims[0]!, rows.length / dims[0]!], data: rows });
      else weights.set(`${base}_t`, { dims: [rows.length / dims[0]!, dims[0]!], data: transpose(rows, dims[0]!, rows.length / dims[0]!) });
      continue;
    }
    if (type !== onnx.TensorProto.DataType.FLOAT) continue;
    const count = dims.reduce((a, b) => a * b, 1);
    if (bytes.byteLength !== count * 4) throw new Error(`${name}: length does not match dims`);
    const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + count * 4));
    weights.set(name, { dims, data: Float64Array.from(floats) });
  }
  splitFusedProjections(config, weights);
  return { config, weights };
}

/** A fused build's qkv_proj / gate_up_proj ([in, sum of outs]) as the separate projections the forward pass reads. */
function splitFusedProjections(c: ReferenceConfig, weights: ReferenceModel['weights']): void {
  const d = c.head_dim;
  const fusedParts: [RegExp, [string, number][]][] = [
    [/self_attn\.qkv_proj\.weight_t$/, [['self_attn.q_proj.weight_t', c.num_attention_heads * d], ['self_attn.k_proj.weight_t', c.num_key_value_heads * d], ['self_attn.v_proj.weight_t', c.num_key_value_heads * d]]],
    [/mlp\.gate_up_proj\.weight_t$/, [['mlp.gate_proj.weight_t', c.intermediate_size], ['mlp.up_proj.weight_t', c.intermediate_size]]],
  ];
  for (const [name, { dims, data }] of [...weights]) {
    const match = fusedParts.find(([pattern]) => pattern.test(name));
    if (!match) continue;
    const prefix = name.replace(match[0], '');
    const [rows, width] = dims as [number, number];
    let column = 0;
    for (const [part, columns] of match[1]) {
      const out = new Float64Array(rows * columns);
      for (let r = 0; r < rows; r++) out.set(data.subarray(r * width + column, r * width + column + columns), r * columns);
      weights.set(prefix + part, { dims: [rows, columns], data: out });
      column += columns;
    }
    if (column !== width) throw new Error(`${name}: ${width} columns, parts add up to ${column}`);
    weights.delete(name);
  }
}

/**
 * MatMulNBits' documented dequantization, written independently of the builder: per output row n and
 * block b, weight = (code - 2^(bits-1)) * scale[n * blocks + b]; 4-bit codes two per byte, low nibble first.
 */
function dequantize(codes: Uint8Array, scales: Float32Array, dims: number[], kDim: number, bits: number, blockSize: number): Float64Array {
  if (bits !== 4 && bits !== 8) throw new Error(`unexpected MatMulNBits bits ${bits}`);
  const [n, blocks, blob] = dims as [number, number, number];
  const out = new Float64Array(n * kDim);
  for (let row = 0; row < n; row++)
    for (let i = 0; i < kDim; i++) {
      const b = Math.floor(i / blockSize);
      const j = i % blockSize;
      const byte = codes[(row * blocks + b) * blob + (bits === 8 ? j : j >> 1)]!;
      const code = bits === 8 ? byte : j % 2 === 0 ? byte & 15 : byte >> 4;
      out[row * kDim + i] = (code - 2 ** (bits - 1)) * scales[row * blocks + b]!;
    }
  return out;
}

function transpose(values: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

function weight(model: ReferenceModel, name: string, dims: number[]): Float64Array {
  const w = model.weights.get(name);
  if (!w) throw new Error(`missing weight ${name}`);
  if (w.dims.join(',') !== dims.join(',')) throw new Error(`${name}: dims ${w.dims} != expected ${dims}`);
  return w.data;
}

function rmsNorm(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  let sum = 0;
  for (const v of x) sum += v * v;
  const inv = 1 / Math.sqrt(sum / x.length + eps);
  return x.map((v, i) => v * inv * w[i]!);
}

/** y = x @ W with W stored [in, out]. */
function matVec(x: Float64Array, w: Float64Array, outDim: number): Float64Array {
  const y = new Float64Array(outDim);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const row = i * outDim;
    for (let o = 0; o < outDim; o++) y[o] = y[o]! + xi * w[row + o]!;
  }
  return y;
}

/** HF rotate_half convention on each head of a [heads * d] vector. */
function applyRotary(x: Float64Array, heads: number, d: number, position: number, theta: number): Float64Array {
  const out = new Float64Array(x.length);
  const half = d / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const angle = position * Math.pow(theta, -(2 * i) / d);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      const a = x[h * d + i]!;
      const b = x[h * d + half + i]!;
      out[h * d + i] = a * c - b * s;
      out[h * d + half + i] = b * c + a * s;
    }
  }
  return out;
}

function perHeadNorm(x: Float64Array, heads: number, d: number, w: Float64Array, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let h = 0; h < heads; h++) out.set(rmsNorm(x.subarray(h * d, (h + 1) * d), w, eps), h * d);
  return out;
}

export function emptyCache(model: ReferenceModel, batch: number): ReferenceCache {
  return Array.from({ length: batch }, () =>
    Array.from({ length: model.config.num_hidden_layers }, () => ({ keys: [], values: [] })),
  );
}

/**
 * Runs `inputIds` [batch][seq] on top of `cache` (which it extends in place, like feeding present back as past).
 * `attentionMask` [batch][past+seq] covers cached and new columns; returns logits [batch][seq] of vocab vectors.
 */
export function referenceForward(
  model: ReferenceModel,
  inputIds: number[][],
  attentionMask: number[][],
  positionIds: number[][],
  cache: ReferenceCache,
): Float64Array[][] {
  const c = model.config;
  const H = c.hidden_size;
  const d = c.head_dim;
  const nh = c.num_attention_heads;
  const nkv = c.num_key_value_heads;
  const groups = nh / nkv;
  const eps = c.rms_norm_eps;
  const embed = weight(model, 'model.embed_tokens.weight', [c.vocab_size, H]);
  // Quantized builds keep a quantized LM head beside the float embedding, tied or not.
  const lmHead = model.weights.has('lm_head.weight') ? weight(model, 'lm_head.weight', [c.vocab_size, H]) : embed;
  const finalNorm = weight(model, 'model.norm.weight', [H]);

  return inputIds.map((ids, b) => {
    const past = cache[b]![0]!.keys.length;
    const mask = attentionMask[b]!;
    if (mask.length !== past + ids.length) throw new Error('attention mask length must be past + seq');
    let xs = ids.map((id) => embed.slice(id * H, (id + 1) * H));
    for (let l = 0; l < c.num_hidden_layers; l++) {
      const p = `model.layers.${l}.`;
      const layerCache = cache[b]![l]!;
      const inNorm = weight(model, `${p}input_layernorm.weight`, [H]);
      const wq = weight(model, `${p}self_attn.q_proj.weight_t`, [H, nh * d]);
      const wk = weight(model, `${p}self_attn.k_proj.weight_t`, [H, nkv * d]);
      const wv = weight(model, `${p}self_attn.v_proj.weight_t`, [H, nkv * d]);
      const wo = weight(model, `${p}self_attn.o_proj.weight_t`, [nh * d, H]);
      const qNorm = weight(model, `${p}self_attn.q_norm.weight`, [d]);
      const kNorm = weight(model, `${p}self_attn.k_norm.weight`, [d]);
      const postNorm = weight(model, `${p}post_attention_layernorm.weight`, [H]);
      const wGate = weight(model, `${p}mlp.gate_proj.weight_t`, [H, c.intermediate_size]);
      const wUp = weight(model, `${p}mlp.up_proj.weight_t`, [H, c.intermediate_size]);
      const wDown = weight(model, `${p}mlp.down_proj.weight_t`, [c.intermediate_size, H]);

      const queries = xs.map((x, s) => {
        const h = rmsNorm(x, inNorm, eps);
        const pos = positionIds[b]![s]!;
        layerCache.keys.push(applyRotary(perHeadNorm(matVec(h, wk, nkv * d), nkv, d, kNorm, eps), nkv, d, pos, c.rope_theta));
        layerCache.values.push(matVec(h, wv, nkv * d));
        return applyRotary(perHeadNorm(matVec(h, wq, nh * d), nh, d, qNorm, eps), nh, d, pos, c.rope_theta);
      });
      xs = xs.map((x, s) => {
        const q = queries[s]!;
        const context = new Float64Array(nh * d);
        const visible: number[] = [];
        for (let j = 0; j <= past + s; j++) if (mask[j] === 1) visible.push(j);
        for (let head = 0; head < nh; head++) {
          const kvHead = Math.floor(head / groups);
          const scores = visible.map((j) => {
            const k = layerCache.keys[j]!;
            let dot = 0;
            for (let i = 0; i < d; i++) dot += q[head * d + i]! * k[kvHead * d + i]!;
            return dot / Math.sqrt(d);
          });
          const max = Math.max(...scores);
          const exps = scores.map((v) => Math.exp(v - max));
          const total = exps.reduce((a, v) => a + v, 0);
          visible.forEach((j, t) => {
            const v = layerCache.values[j]!;
            const wgt = exps[t]! / total;
            for (let i = 0; i < d; i++) context[head * d + i] = context[head * d + i]! + wgt * v[kvHead * d + i]!;
          });
        }
        const attn = matVec(context, wo, H);
        const x1 = x.map((v, i) => v + attn[i]!);
        const h2 = rmsNorm(x1, postNorm, eps);
        const gate = matVec(h2, wGate, c.intermediate_size);
        const up = matVec(h2, wUp, c.intermediate_size);
        const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
        const down = matVec(act, wDown, H);
        return x1.map((v, i) => v + down[i]!);
      });
    }
    return xs.map((x) => {
      const h = rmsNorm(x, finalNorm, eps);
      const logits = new Float64Array(c.vocab_size);
      for (let v = 0; v < c.vocab_size; v++) {
        let dot = 0;
        const row = v * H;
        for (let i = 0; i < H; i++) dot += h[i]! * lmHead[row + i]!;
        logits[v] = dot;
      }
      return logits;
    });
  });
}
