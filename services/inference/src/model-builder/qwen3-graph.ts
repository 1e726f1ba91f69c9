/**
 * The Qwen3 decoder as a pure function of its dimensions: config in, graph description out (no weight bytes).
 * The I/O contract matches onnx-community/Qwen3-0.6B-ONNX so one loader serves both.
 */
import { GraphBuilder, MS_DOMAIN, type GraphDescription, type WeightInit } from './onnx-graph-builder.js';
import type { Qwen3Dims } from './presets.js';
import { sharesCacheBuffer, type AttentionKind } from '../attention-kinds.js';

/** Initializer names. Projection weights are stored pre-transposed as [in, out] (HF stores [out, in]). */
export const qwen3WeightNames = {
  embedTokens: 'model.embed_tokens.weight',
  finalNorm: 'model.norm.weight',
  lmHead: 'lm_head.weight',
  layer: (i: number) => ({
    inputNorm: `model.layers.${i}.input_layernorm.weight`,
    qProj: `model.layers.${i}.self_attn.q_proj.weight_t`,
    kProj: `model.layers.${i}.self_attn.k_proj.weight_t`,
    vProj: `model.layers.${i}.self_attn.v_proj.weight_t`,
    oProj: `model.layers.${i}.self_attn.o_proj.weight_t`,
    /** q, k and v side by side ([in, q + k + v]) in fused builds. */
    qkvProj: `model.layers.${i}.self_attn.qkv_proj.weight_t`,
    qNorm: `model.layers.${i}.self_attn.q_norm.weight`,
    kNorm: `model.layers.${i}.self_attn.k_norm.weight`,
    postAttentionNorm: `model.layers.${i}.post_attention_layernorm.weight`,
    gateProj: `model.layers.${i}.mlp.gate_proj.weight_t`,
    upProj: `model.layers.${i}.mlp.up_proj.weight_t`,
    downProj: `model.layers.${i}.mlp.down_proj.weight_t`,
    /** gate and up side by side ([in, 2 × intermediate]) in fused builds. */
    gateUpProj: `model.layers.${i}.mlp.gate_up_proj.weight_t`,
  }),
};

export const DIM = {
  batch: 'batch_size',
  seq: 'sequence_length',
  past: 'past_sequence_length',
  total: 'total_sequence_length',
  /** GroupQueryAttention's present: the buffer's length when shared with past, else past + new. */
  present: 'present_sequence_length',
} as const;

/** Most negative float32: masked scores stay finite, so a fully masked (padding) row softmaxes to uniform, not NaN. */
const MASK_VALUE = -3.4028234663852886e38;

const ONNX_BOOL = 9;
const ONNX_FLOAT = 1;
const ONNX_INT32 = 6;

/**
 * Init scales chosen so random weights still give a useful model: linear layers keep activations at unit scale
 * (std 1/sqrt(fan_in)) so context actually moves the residual stream, and the tied embedding gets
 * std 2/sqrt(hidden) so logits spread with std ~2 instead of being nearly flat over 152k tokens.
 */
function linearInit(fanIn: number): WeightInit {
  return { kind: 'normal', mean: 0, std: 1 / Math.sqrt(fanIn) };
}
const NORM_INIT: WeightInit = { kind: 'uniform', low: 0.9, high: 1.1 };

/** HF rotary: inv_freq[i] = theta^(-2i/d). */
export function rotaryInverseFrequencies(headDim: number, theta: number): number[] {
  return Array.from({ length: headDim / 2 }, (_, i) => 1 / Math.pow(theta, (2 * i) / headDim));
}

/**
 * `all`: logits for every input position (what exports give). `last`: for the last one only, the
 * only row generation reads: a prefill chunk of n tokens then skips n - 1 rows of the vocabulary-
 * wide lm_head (151,936 columns), which in the tiny model costs more than the whole transformer.
 */
export type LogitsOutput = 'all' | 'last';

/**
 * `standard`: attention from plain ONNX operators; `present` is `past` with the new tokens appended,
 * a fresh tensor each step (what exports do). `gqa`: ONNX Runtime's GroupQueryAttention, which can
 * write the new tokens into `past` in place when `present` is bound to the same buffer: the cache
 * then never moves (the engine's shared-buffer path, as onnxruntime-genai's graphs run).
 * `read-cache`: attention that only reads the cache and outputs the new tokens' K/V, which the
 * runtime appends itself; there is no `present` at all (see readCacheAttention for why).
 * The last two take right-padded rows: row b's length is the sum of its attention_mask row,
 * whatever the mask's width, and its cached length is its first position id.
 */
export type { AttentionKind };

/**
 * `float32`: every projection a MatMul on float weights. `int4` / `int8`: the seven projections of
 * each layer and the LM head are ONNX Runtime MatMulNBits over block-quantized weights (blocks of 128,
 * quantize-blocks.ts), computing with int8 activations; embeddings and norms stay float32.
 */
export type WeightFormat = 'float32' | 'int4' | 'int8';

/**
 * `separate`: q, k, v, gate and up are a product each (as exports have them). `fused`: q/k/v one
 * product and gate/up another, each then split: a layer makes 4 weight passes instead of 7, and
 * the fewer, wider products read memory faster (28 layers on 2 cores, fp32: 85 → 60 ms at 1 row).
 */
export type ProjectionLayout = 'separate' | 'fused';

export interface GraphLayout {
  readonly logits: LogitsOutput;
  readonly attention: AttentionKind;
  readonly weights: WeightFormat;
  readonly projections: ProjectionLayout;
}

/** What the service builds for itself: the fastest graph. */
export const SERVED_LAYOUT: GraphLayout = { logits: 'last', attention: 'read-cache', weights: 'float32', projections: 'fused' };

/**
 * 128 weights per scale, the usual group size of 4-bit LLM weights: against blocks of 32, a quarter of
 * the scales to read and quarter the per-block work (0.6B shape int4, back to back: 8 rows 95.6 ->
 * 67.9 ms a step, 1 row 29.4 -> 25.5 ms). A row shorter than a block is one padded block.
 */
export const QUANT_BLOCK_SIZE = 128;
/** MatMulNBits accuracy_level 4: activations quantized to int8 per block, the fast path of its CPU kernels. */
const QUANT_ACCURACY_LEVEL = 4;

export function buildQwen3Graph(dims: Qwen3Dims, options: Partial<GraphLayout> = {}): GraphDescription {
  const lastOnly = options.logits === 'last';
  const rightPadded = sharesCacheBuffer(options.attention);
  const bits = options.weights === 'int4' ? 4 : options.weights === 'int8' ? 8 : undefined;
  const fused = options.projections === 'fused';
  const {
    hidden_size: hidden,
    intermediate_size: inter,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
    vocab_size: vocab,
    rms_norm_eps: eps,
    rope_theta: theta,
    tie_word_embeddings: tied,
    max_position_embeddings: maxPositions,
  } = dims;
  if (heads % kvHeads !== 0) throw new Error('num_attention_heads must be a multiple of num_key_value_heads');
  if (headDim % 2 !== 0) throw new Error('head_dim must be even for rotary embeddings');
  const groups = heads / kvHeads;

  const g = new GraphBuilder('qwen3');
  const inputIds = g.input('input_ids', 'int64', [DIM.batch, DIM.seq]);
  const attentionMask = g.input('attention_mask', 'int64', [DIM.batch, DIM.total]);
  const positionIds = g.input('position_ids', 'int64', [DIM.batch, DIM.seq]);
  const pastKeys: string[] = [];
  const pastValues: string[] = [];
  for (let i = 0; i < layers; i++) {
    pastKeys.push(g.input(`past_key_values.${i}.key`, 'float32', [DIM.batch, kvHeads, DIM.past, headDim]));
    pastValues.push(g.input(`past_key_values.${i}.value`, 'float32', [DIM.batch, kvHeads, DIM.past, headDim]));
  }
  const presentDims = [DIM.batch, kvHeads, rightPadded ? DIM.present : DIM.total, headDim];

  const embed = g.weight(qwen3WeightNames.embedTokens, [vocab, hidden], {
    kind: 'normal',
    mean: 0,
    std: 2 / Math.sqrt(hidden),
  });

  // Shared by all layers: sequence bookkeeping, the attention mask (standard) or lengths (gqa), rotary cos/sin.
  const scalarAxes = g.int64s([0], 'axis0');
  const seqLen1d = g.op('Shape', [inputIds], { attributes: { start: 1, end: 2 } });
  const totalLen1d = g.op('Shape', [attentionMask], { attributes: { start: 1, end: 2 } });
  const attention =
    options.attention === 'gqa'
      ? gqaAttention(g, attentionMask, totalLen1d, scalarAxes, { heads, kvHeads, headDim })
      : options.attention === 'read-cache'
        ? readCacheAttention(g, positionIds, pastKeys[0]!, seqLen1d, scalarAxes, { heads, kvHeads, headDim, groups })
        : standardAttention(g, attentionMask, seqLen1d, totalLen1d, scalarAxes, { heads, kvHeads, headDim, groups });

  const invFreq = g.constant('float32', [1, 1, headDim / 2], rotaryInverseFrequencies(headDim, theta), 'inv_freq');
  // The served graphs (a shared cache buffer) use ONNX Runtime's fused CPU kernels where plain
  // operators each cost a dispatch (a few microseconds, which add up at one row of int4 weights):
  // RotaryEmbedding (six operators per q and per k otherwise) and SkipSimplifiedLayerNormalization
  // (a residual Add and the RMSNorm after it). 0.6B shape: 1,469 -> 1,237 nodes a step, int4 at one
  // row 2-5% faster. The standard graph keeps plain operators, as exports have them.
  const contribKernels = rightPadded;
  /** Per-position cos/sin, [B,S,1,d] to broadcast over heads in the [B,S,heads,d] layout. */
  const plainRotaryAngles = (): { cos: string; sin: string; halfSplit: string } => {
    const positions = g.op('Unsqueeze', [
      g.op('Cast', [positionIds], { attributes: { to: ONNX_FLOAT } }),
      g.int64s([2], 'axis2'),
    ]);
    const freqs = g.op('Mul', [positions, invFreq]);
    const angles = g.op('Concat', [freqs, freqs], { attributes: { axis: -1 } });
    return {
      cos: g.op('Unsqueeze', [g.op('Cos', [angles]), g.int64s([2], 'axis2')]),
      sin: g.op('Unsqueeze', [g.op('Sin', [angles]), g.int64s([2], 'axis2')]),
      halfSplit: g.int64s([headDim / 2, headDim / 2], 'half_split'),
    };
  };

  const epsilon = g.floatScalar(eps, 'eps');
  const two = g.floatScalar(2);
  // Pow -> ReduceMean -> Add -> Sqrt -> Div -> Mul is the pattern ORT fuses into SimplifiedLayerNormalization.
  const rmsNorm = (x: string, weight: string): string => {
    const meanSquare = g.op('ReduceMean', [g.op('Pow', [x, two])], { attributes: { axes: [-1], keepdims: 1 } });
    const rms = g.op('Sqrt', [g.op('Add', [meanSquare, epsilon])]);
    return g.op('Mul', [g.op('Div', [x, rms]), weight]);
  };
  const plainRotary = (x: string, { cos, sin, halfSplit }: ReturnType<typeof plainRotaryAngles>): string => {
    const [x1, x2] = g.opN('Split', [x, halfSplit], { outputCount: 2, attributes: { axis: -1 } });
    const rotated = g.op('Concat', [g.op('Neg', [x2!]), x1!], { attributes: { axis: -1 } });
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
  };
  // [maxPositions, d/2] tables from constants only: ONNX Runtime folds them into initializers at load.
  const rotaryTables = (): { cos: string; sin: string } => {
    const allPositions = g.op('Unsqueeze', [
      g.op('Range', [g.floatScalar(0), g.floatScalar(maxPositions), g.floatScalar(1)]),
      g.int64s([1], 'axis1'),
    ]);
    const tableAngles = g.op('Mul', [allPositions, g.op('Reshape', [invFreq, g.int64s([1, headDim / 2], 'inv_freq_row')])]);
    return { cos: g.op('Cos', [tableAngles]), sin: g.op('Sin', [tableAngles]) };
  };
  const rope = contribKernels ? { kind: 'kernel' as const, ...rotaryTables() } : { kind: 'plain' as const, ...plainRotaryAngles() };
  /** x [B,S,n,d] rotated (HF's rotate_half layout), [B,S,n,d] out. */
  const rotary = (x: string, n: number): string => {
    if (rope.kind === 'plain') return plainRotary(x, rope);
    const flat = g.op('Reshape', [x, g.int64s([0, 0, n * headDim], `flat${n}_shape`)]);
    const rotated = g.op('RotaryEmbedding', [flat, positionIds, rope.cos, rope.sin], { domain: MS_DOMAIN, attributes: { interleaved: 0, num_heads: n } });
    return g.op('Reshape', [rotated, headsShape(n)]);
  };
  /** The residual sum x + delta, and its RMSNorm with `weight`. */
  const addAndNorm = (x: string, delta: string, weight: string): { sum: string; normed: string } => {
    if (!contribKernels) {
      const sum = g.op('Add', [x, delta]);
      return { sum, normed: rmsNorm(sum, weight) };
    }
    const [normed, , , sum] = g.opN('SkipSimplifiedLayerNormalization', [delta, x, weight], {
      domain: MS_DOMAIN,
      outputCount: 4,
      omit: [1, 2],
      attributes: { epsilon: { float: eps } },
    });
    return { sum: sum!, normed: normed! };
  };
  const headsShape = (n: number) => g.int64s([0, 0, n, headDim], `heads${n}_shape`);
  /**
   * x [.., in] times projections stored [in, out] under `parts`' names (one product; several parts
   * are one fused weight `fusedName`, split after), or those weights quantized. One output per part.
   */
  const linear = (x: string, inDim: number, parts: readonly { readonly name: string; readonly outDim: number }[], fusedName = parts[0]!.name): string[] => {
    const init = linearInit(inDim);
    const outDim = parts.reduce((n, p) => n + p.outDim, 0);
    const weightParts = parts.length > 1 ? parts.map((p) => ({ name: p.name, columns: p.outDim, init })) : undefined;
    const source = { name: fusedName, dims: [inDim, outDim], init, ...(weightParts && { parts: weightParts }) };
    const product =
      bits === undefined
        ? g.op('MatMul', [x, g.weight(source.name, source.dims, source.init, weightParts)])
        : matMulNBits(x, g.quantizedWeight({ name: fusedName.replace(/_t$/, ''), n: outDim, k: inDim, bits, blockSize: QUANT_BLOCK_SIZE, source: { ...source, layout: 'in-out' } }), inDim, outDim);
    if (parts.length === 1) return [product];
    return g.opN('Split', [product, g.int64s(parts.map((p) => p.outDim), `split_${parts.map((p) => p.outDim).join('_')}`)], { outputCount: parts.length, attributes: { axis: -1 } });
  };
  const matMulNBits = (x: string, q: { codes: string; scales: string }, k: number, n: number): string =>
    g.op('MatMulNBits', [x, q.codes, q.scales], {
      domain: MS_DOMAIN,
      attributes: { K: k, N: n, bits: bits!, block_size: QUANT_BLOCK_SIZE, accuracy_level: QUANT_ACCURACY_LEVEL },
    });

  let x = g.op('Gather', [embed, inputIds], { attributes: { axis: 0 } });
  // The last MLP output not yet added to x: each residual add goes with the norm after it.
  let pendingDelta: string | undefined;
  for (let i = 0; i < layers; i++) {
    const n = qwen3WeightNames.layer(i);
    const inputNormW = g.weight(n.inputNorm, [hidden], NORM_INIT);
    let h: string;
    if (pendingDelta === undefined) h = rmsNorm(x, inputNormW);
    else ({ sum: x, normed: h } = addAndNorm(x, pendingDelta, inputNormW));
    const qNormW = g.weight(n.qNorm, [headDim], NORM_INIT);
    const kNormW = g.weight(n.kNorm, [headDim], NORM_INIT);
    const attentionParts = [
      { name: n.qProj, outDim: heads * headDim },
      { name: n.kProj, outDim: kvHeads * headDim },
      { name: n.vProj, outDim: kvHeads * headDim },
    ];
    const [q, k, v] = (fused ? linear(h, hidden, attentionParts, n.qkvProj) : attentionParts.flatMap((p) => linear(h, hidden, [p]))) as [string, string, string];

    const qRot = rotary(rmsNorm(g.op('Reshape', [q, headsShape(heads)]), qNormW), heads);
    const kRot = rotary(rmsNorm(g.op('Reshape', [k, headsShape(kvHeads)]), kNormW), kvHeads);
    const { output: merged, presentKey, presentValue, appended } = attention(i, qRot, kRot, v, pastKeys[i]!, pastValues[i]!);
    const attnOut = linear(merged, heads * headDim, [{ name: n.oProj, outDim: hidden }])[0]!;
    let h2: string;
    ({ sum: x, normed: h2 } = addAndNorm(x, attnOut, g.weight(n.postAttentionNorm, [hidden], NORM_INIT)));
    const mlpParts = [
      { name: n.gateProj, outDim: inter },
      { name: n.upProj, outDim: inter },
    ];
    const [gate, up] = (fused ? linear(h2, hidden, mlpParts, n.gateUpProj) : mlpParts.flatMap((p) => linear(h2, hidden, [p]))) as [string, string];
    const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
    const down = linear(g.op('Mul', [silu, up]), inter, [{ name: n.downProj, outDim: hidden }])[0]!;
    pendingDelta = down;

    if (presentKey && presentValue) {
      g.output(presentKey, 'float32', presentDims);
      g.output(presentValue, 'float32', presentDims);
    }
    if (appended) {
      const dims = appended.layout === 'heads-first' ? [DIM.batch, kvHeads, DIM.seq, headDim] : [DIM.batch, DIM.seq, kvHeads * headDim];
      g.output(appended.key, 'float32', dims);
      g.output(appended.value, 'float32', dims);
    }
  }

  const finalNormW = g.weight(qwen3WeightNames.finalNorm, [hidden], NORM_INIT);
  const finalHidden = pendingDelta === undefined ? rmsNorm(x, finalNormW) : addAndNorm(x, pendingDelta, finalNormW).normed;
  // Gemm with transB reads the [vocab, hidden] embedding as is, so no transposed copy of it is ever stored.
  const headInput = !lastOnly
    ? finalHidden
    : rightPadded
      ? lastRealPosition(g, finalHidden, attentionMask, seqLen1d, totalLen1d, hidden)
      : g.op('Slice', [finalHidden, g.int64s([-1], 'last_position'), g.int64s([Number.MAX_SAFE_INTEGER], 'to_the_end'), g.int64s([1], 'seq_axis')]);
  const flatHidden = g.op('Reshape', [headInput, g.int64s([-1, hidden], 'flat_hidden_shape')]);
  const lmHeadSource = { name: tied ? qwen3WeightNames.embedTokens : qwen3WeightNames.lmHead, dims: [vocab, hidden], init: { kind: 'normal', mean: 0, std: 2 / Math.sqrt(hidden) } as const };
  let flatLogits: string;
  if (bits !== undefined) {
    // The [vocab, hidden] table is already [N, K]: quantized as is (the float one stays for Gather).
    const q = g.quantizedWeight({ name: qwen3WeightNames.lmHead, n: vocab, k: hidden, bits, blockSize: QUANT_BLOCK_SIZE, source: { ...lmHeadSource, layout: 'out-in' } });
    flatLogits = matMulNBits(flatHidden, q, hidden, vocab);
  } else {
    // Gemm with transB reads the [vocab, hidden] embedding as is, so no transposed copy of it is ever stored.
    const lmHead = tied ? embed : g.weight(lmHeadSource.name, lmHeadSource.dims, lmHeadSource.init);
    flatLogits = g.op('Gemm', [flatHidden, lmHead], { attributes: { transB: 1 } });
  }
  const logitsShape = lastOnly
    ? g.int64s([-1, 1, vocab], 'last_logits_shape')
    : g.op('Concat', [g.op('Shape', [inputIds]), g.int64s([vocab], 'vocab')], { attributes: { axis: 0 } });
  g.op('Reshape', [flatLogits, logitsShape], { outputs: ['logits'] });
  // Graph outputs in the order of onnx-community exports: logits first, then present.* per layer.
  const built = g.build();
  const logitsSpec = { name: 'logits', type: 'float32', dims: [DIM.batch, lastOnly ? 1 : DIM.seq, vocab] } as const;
  return { ...built, outputs: [logitsSpec, ...built.outputs] };
}

interface HeadDims {
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
}

/** One layer's attention: rotated q and k ([B,S,heads,d]), v ([B,S,kv*d]) and the cache in; merged heads ([B,S,heads*d]) out. */
type AttentionBlock = (
  layer: number,
  qRot: string,
  kRot: string,
  v: string,
  pastKey: string,
  pastValue: string,
) => { output: string; presentKey?: string; presentValue?: string; appended?: AppendedKv };

/**
 * The new tokens' K and V as outputs, for a runtime that appends them to its cache itself:
 * `tokens-first` [B, S, kv*d] (GroupQueryAttention's own input layout), or `heads-first`
 * [B, kv, S, d], the cache's layout, so each row's tokens of one head append as one block.
 */
interface AppendedKv {
  readonly key: string;
  readonly value: string;
  readonly layout: 'tokens-first' | 'heads-first';
}

/** Attention in plain operators over a left-padded batch: present = past ++ new, an additive causal and padding mask. */
function standardAttention(
  g: GraphBuilder,
  attentionMask: string,
  seqLen1d: string,
  totalLen1d: string,
  scalarAxes: string,
  { heads, kvHeads, headDim, groups }: HeadDims & { readonly groups: number },
): AttentionBlock {
  const totalLen = g.op('Squeeze', [totalLen1d, scalarAxes]);
  const pastLen = g.op('Squeeze', [g.op('Sub', [totalLen1d, seqLen1d]), scalarAxes]);
  const zero = g.int64Scalar(0);
  const one = g.int64Scalar(1);
  const keyPositions = g.op('Range', [zero, totalLen, one]);
  const queryPositions = g.op('Unsqueeze', [g.op('Range', [pastLen, totalLen, one]), g.int64s([1], 'axis1')]);
  const causal = g.op('LessOrEqual', [keyPositions, queryPositions]);
  const notPadding = g.op('Unsqueeze', [
    g.op('Cast', [attentionMask], { attributes: { to: ONNX_BOOL } }),
    g.int64s([1, 2], 'axes12'),
  ]);
  const allowed = g.op('And', [causal, notPadding]);
  const additiveMask = g.op('Where', [allowed, g.floatScalar(0), g.floatScalar(MASK_VALUE)]);
  // [B,1,1,S,T] so it broadcasts over (kv head, group) of the grouped scores.
  const groupedMask = g.op('Unsqueeze', [additiveMask, g.int64s([1], 'axis1')]);
  const groupedScoresShape = g.op('Concat', [g.int64s([0, kvHeads, groups, -1]), totalLen1d], {
    attributes: { axis: 0 },
  });
  const flatScoresShape = g.op('Concat', [g.int64s([0, kvHeads, -1]), totalLen1d], { attributes: { axis: 0 } });
  const toHeadsFirst = [0, 2, 1, 3];
  const queryScale = g.floatScalar(1 / Math.sqrt(headDim), 'query_scale');
  const kvHeadsShape = g.int64s([0, 0, kvHeads, headDim], `heads${kvHeads}_shape`);

  return (layer, qRot, kRot, v, pastKey, pastValue) => {
    const qHeads = g.op('Transpose', [g.op('Mul', [qRot, queryScale])], { attributes: { perm: toHeadsFirst } });
    const kHeads = g.op('Transpose', [kRot], { attributes: { perm: toHeadsFirst } });
    const vHeads = g.op('Transpose', [g.op('Reshape', [v, kvHeadsShape])], { attributes: { perm: toHeadsFirst } });
    const presentKey = g.op('Concat', [pastKey, kHeads], { outputs: [`present.${layer}.key`], attributes: { axis: 2 } });
    const presentValue = g.op('Concat', [pastValue, vHeads], { outputs: [`present.${layer}.value`], attributes: { axis: 2 } });
    // Grouped-query attention without copying K/V per query head: the query heads sharing a KV head are
    // stacked along the row axis, [B,kv,groups*S,d] x [B,kv,d,T]. ORT fuses Transpose+MatMul (no K copy).
    const qGrouped = g.op('Reshape', [qHeads, g.int64s([0, kvHeads, -1, headDim], 'grouped_q_shape')]);
    const keyT = g.op('Transpose', [presentKey], { attributes: { perm: [0, 1, 3, 2] } });
    const scores = g.op('MatMul', [qGrouped, keyT]);
    const masked = g.op('Add', [g.op('Reshape', [scores, groupedScoresShape]), groupedMask]);
    const probs = g.op('Softmax', [g.op('Reshape', [masked, flatScoresShape])], { attributes: { axis: -1 } });
    const context = g.op('MatMul', [probs, presentValue]);
    const contextHeads = g.op('Reshape', [context, g.int64s([0, heads, -1, headDim], 'heads_shape')]);
    const output = g.op('Reshape', [
      g.op('Transpose', [contextHeads], { attributes: { perm: toHeadsFirst } }),
      g.int64s([0, 0, heads * headDim], 'merge_heads_shape'),
    ]);
    return { output, presentKey, presentValue };
  };
}

/**
 * GroupQueryAttention over a right-padded batch. Row b's total length (cache + new tokens) is the
 * sum of its mask row; the mask's width is the longest row's. ONNX Runtime writes the new tokens'
 * K/V at each row's own offset, into `past` itself when `present` is bound to the same buffer.
 */
function gqaAttention(
  g: GraphBuilder,
  attentionMask: string,
  totalLen1d: string,
  scalarAxes: string,
  { heads, kvHeads, headDim }: HeadDims,
): AttentionBlock {
  const lengths = g.op('ReduceSum', [attentionMask, g.int64s([1], 'axis1')], { attributes: { keepdims: 0 } });
  const seqlensK = g.op('Cast', [g.op('Sub', [lengths, g.int64Scalar(1)])], { attributes: { to: ONNX_INT32 } });
  const totalLen = g.op('Cast', [g.op('Squeeze', [totalLen1d, scalarAxes])], { attributes: { to: ONNX_INT32 } });
  const qFlat = g.int64s([0, 0, heads * headDim], 'q_flat_shape');
  const kFlat = g.int64s([0, 0, kvHeads * headDim], 'k_flat_shape');
  return (layer, qRot, kRot, v, pastKey, pastValue) => {
    // The new tokens' K (rotated) and V, [B, S, kvHeads * headDim], are graph outputs too: a runtime
    // that cannot bind `present` to `past` without copying it (onnxruntime-node copies every fetched
    // output) fetches these few rows instead and appends them to its cache itself.
    const newKey = g.op('Reshape', [kRot, kFlat], { outputs: [`new_key_values.${layer}.key`] });
    const newValue = g.op('Identity', [v], { outputs: [`new_key_values.${layer}.value`] });
    const [output, presentKey, presentValue] = g.opN(
      'GroupQueryAttention',
      [g.op('Reshape', [qRot, qFlat]), newKey, newValue, pastKey, pastValue, seqlensK, totalLen],
      {
        domain: MS_DOMAIN,
        outputs: [`/attention_${layer}`, `present.${layer}.key`, `present.${layer}.value`],
        attributes: { num_heads: heads, kv_num_heads: kvHeads },
      },
    );
    return { output: output!, presentKey: presentKey!, presentValue: presentValue!, appended: { key: newKey, value: newValue, layout: 'tokens-first' } };
  };
}

/**
 * Attention that reads the cache and never writes it. ONNX Runtime's operators that take a past
 * (GroupQueryAttention, Attention) must also produce a `present`: unless that output is bound to the
 * past's own memory, the runtime allocates it, zero-fills its whole length and copies every row's
 * past into it, every step (at 8 rows of 256 tokens in the 0.6B model, ~800 MB a step); and
 * onnxruntime-node copies a bound output out into JavaScript memory after the pass anyway. Here the
 * scores against the cache (masked beyond each row's cached length, its first position id) and
 * against the new tokens (causal) share one softmax; the new tokens' K/V are outputs the runtime
 * appends to its cache itself. FusedMatMul reads K transposed where it lies.
 */
function readCacheAttention(
  g: GraphBuilder,
  positionIds: string,
  anyPastKey: string,
  seqLen1d: string,
  scalarAxes: string,
  { heads, kvHeads, headDim, groups }: HeadDims & { readonly groups: number },
): AttentionBlock {
  const zero = g.int64Scalar(0);
  const one = g.int64Scalar(1);
  // [B,1,1,1,C]: cache position c is visible to row b iff c < the row's cached length.
  const cachedLengths = g.op('Reshape', [
    g.op('Gather', [positionIds, zero], { attributes: { axis: 1 } }),
    g.int64s([-1, 1, 1, 1, 1], 'rows_shape5'),
  ]);
  const capacity1d = g.op('Shape', [anyPastKey], { attributes: { start: 2, end: 3 } });
  const cachePositions = g.op('Range', [zero, g.op('Squeeze', [capacity1d, scalarAxes]), one]);
  const cacheMask = g.op('Where', [g.op('Less', [cachePositions, cachedLengths]), g.floatScalar(0), g.floatScalar(MASK_VALUE)]);
  // [S, S]: new token j is visible to query i iff j <= i. Right padding needs no mask: a real token
  // only sees earlier ones, and what padding rows compute nobody reads.
  const seqLen = g.op('Squeeze', [seqLen1d, scalarAxes]);
  const newPositions = g.op('Range', [zero, seqLen, one]);
  const causal = g.op('LessOrEqual', [newPositions, g.op('Unsqueeze', [newPositions, g.int64s([1], 'axis1')])]);
  const newMask = g.op('Where', [causal, g.floatScalar(0), g.floatScalar(MASK_VALUE)]);
  const scoreSplit = g.op('Concat', [capacity1d, seqLen1d], { attributes: { axis: 0 } });
  const toHeadsFirst = [0, 2, 1, 3];
  const queryScale = g.floatScalar(1 / Math.sqrt(headDim), 'query_scale');
  const kvHeadsShape = g.int64s([0, 0, kvHeads, headDim], `heads${kvHeads}_shape`);
  const groupAxis = g.int64s([2], 'axis2');
  // One product per (row, KV head, query head of its group): a decode step's are single-row, which
  // ONNX Runtime's CPU GEMM computes straight from the cache (alpha 1: the scale goes on q). Stacking
  // a group's query heads as two rows of one product made it copy (pack) the cache's K and V first,
  // every step (0.6B shape, 8 rows: 206 -> 174 ms a step fp32, 124 -> 106 ms int4, back to back).
  // The cache broadcasts over the group axis, not copied.
  const perKvHead = (x: string) => g.op('Unsqueeze', [x, groupAxis]);
  const keysOf = (q: string, k: string) => g.op('FusedMatMul', [q, k], { domain: MS_DOMAIN, attributes: { transB: 1 } });
  return (layer, qRot, kRot, v, pastKey, pastValue) => {
    // [B, kvHeads, S, d], the cache's layout: attention reads them so, and the runtime appends them.
    const newKey = g.op('Transpose', [kRot], { attributes: { perm: toHeadsFirst }, outputs: [`new_key_values.${layer}.key`] });
    const newValue = g.op('Transpose', [g.op('Reshape', [v, kvHeadsShape])], { attributes: { perm: toHeadsFirst }, outputs: [`new_key_values.${layer}.value`] });
    // [B, kvHeads, groups, S, d]: query head h = kv * groups + g, as in HF's repeat_kv.
    const q = g.op('Reshape', [
      g.op('Transpose', [g.op('Mul', [qRot, queryScale])], { attributes: { perm: toHeadsFirst } }),
      g.int64s([0, kvHeads, groups, -1, headDim], 'grouped_q_shape5'),
    ]);
    const kHeads = perKvHead(newKey);
    const vHeads = perKvHead(newValue);
    const both = g.op('Concat', [g.op('Add', [keysOf(q, perKvHead(pastKey)), cacheMask]), g.op('Add', [keysOf(q, kHeads), newMask])], { attributes: { axis: -1 } });
    const [fromCache, fromNew] = g.opN('Split', [g.op('Softmax', [both], { attributes: { axis: -1 } }), scoreSplit], { outputCount: 2, attributes: { axis: -1 } });
    const context = g.op('Add', [g.op('MatMul', [fromCache!, perKvHead(pastValue)]), g.op('MatMul', [fromNew!, vHeads])]);
    const output = g.op('Reshape', [
      g.op('Transpose', [g.op('Reshape', [context, g.int64s([0, heads, -1, headDim], 'heads_shape')])], { attributes: { perm: toHeadsFirst } }),
      g.int64s([0, 0, heads * headDim], 'merge_heads_shape'),
    ]);
    return { output, appended: { key: newKey, value: newValue, layout: 'heads-first' } };
  };
}

/**
 * Each row's last real position, [B,1,hidden]: S-1 minus the row's right padding (mask width minus
 * its length), floored at 0. A batch of first prompts is right-padded to its longest; a decode step
 * (S = 1) and a single prompt's later chunk have no padding among the new tokens.
 */
function lastRealPosition(g: GraphBuilder, finalHidden: string, attentionMask: string, seqLen1d: string, totalLen1d: string, hidden: number): string {
  const lengths = g.op('ReduceSum', [attentionMask, g.int64s([1], 'axis1')], { attributes: { keepdims: 0 } });
  const padding = g.op('Sub', [totalLen1d, lengths]);
  const index = g.op('Max', [g.op('Sub', [g.op('Sub', [seqLen1d, g.int64s([1], 'one_1d')]), padding]), g.int64s([0], 'zero_1d')]);
  const batch1d = g.op('Shape', [attentionMask], { attributes: { start: 0, end: 1 } });
  const rowStarts = g.op('Mul', [g.op('Range', [g.int64Scalar(0), g.op('Squeeze', [batch1d, g.int64s([0], 'axis0')]), g.int64Scalar(1)]), seqLen1d]);
  const flatHidden = g.op('Reshape', [finalHidden, g.int64s([-1, hidden], 'flat_hidden_shape')]);
  const rows = g.op('Gather', [flatHidden, g.op('Add', [rowStarts, index])], { attributes: { axis: 0 } });
  return g.op('Unsqueeze', [rows, g.int64s([1], 'axis1')]);
}
