// Reads what the engine needs from a model directory in either layout it loads:
// - Hugging Face ONNX (onnx-community/Qwen3-*-ONNX, the built-in model): config.json and
//   onnx/<variant>.onnx;
// - onnxruntime-genai's builder: genai_config.json naming the decoder file at the top level, its
//   dimensions, cache names and search defaults. Its graphs use GroupQueryAttention, so they run on
//   the shared-buffer path.
import { readFile, readdir, stat, access } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { sharesCacheBuffer } from '../attention-kinds.js';

const ModelConfigSchema = z.object({
  model_type: z.string(),
  num_hidden_layers: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  head_dim: z.number().int().positive().optional(),
  vocab_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive(),
  freechat: z.object({ built_in: z.boolean().optional(), preset: z.string().optional(), attention: z.string().optional() }).optional(),
});

const tokenIds = z.union([z.number().int(), z.array(z.number().int())]).transform((v) => (Array.isArray(v) ? v : [v]));

const GenerationConfigSchema = z.object({
  eos_token_id: tokenIds.optional(),
  pad_token_id: z.number().int().optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_k: z.number().int().optional(),
  repetition_penalty: z.number().optional(),
  do_sample: z.boolean().optional(),
});

const GenaiConfigSchema = z.object({
  model: z.object({
    type: z.string(),
    vocab_size: z.number().int().positive(),
    context_length: z.number().int().positive(),
    eos_token_id: tokenIds.optional(),
    pad_token_id: z.number().int().optional(),
    decoder: z.object({
      filename: z.string().regex(/^[\w.-]+\.onnx$/, 'expected a file name in the model directory'),
      head_size: z.number().int().positive(),
      hidden_size: z.number().int().positive(),
      num_attention_heads: z.number().int().positive(),
      num_hidden_layers: z.number().int().positive(),
      num_key_value_heads: z.number().int().positive(),
      inputs: z.object({ past_key_names: z.string().optional(), past_value_names: z.string().optional() }).optional(),
      outputs: z.object({ present_key_names: z.string().optional(), present_value_names: z.string().optional() }).optional(),
    }),
  }),
  search: z
    .object({
      do_sample: z.boolean().optional(),
      temperature: z.number().optional(),
      top_p: z.number().optional(),
      top_k: z.number().int().optional(),
      repetition_penalty: z.number().optional(),
    })
    .optional(),
});

export type KvNames = (layer: number) => { readonly pastKey: string; readonly pastValue: string; readonly presentKey: string; readonly presentValue: string };

export interface ModelFiles {
  readonly dir: string;
  readonly onnxPath: string;
  readonly modelType: string;
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
  readonly eosTokenIds: readonly number[];
  readonly padTokenId: number;
  readonly builtIn: boolean;
  /**
   * `shared-buffer`: the cache is one preallocated buffer per layer that passes append to at each
   * row's offset (GroupQueryAttention bound in place, or a graph that outputs the new tokens' K/V for
   * the worker to append); `concat`: present is a new tensor.
   */
  readonly kvLayout: 'shared-buffer' | 'concat';
  /** `hf-onnx` or `genai` (see above). */
  readonly format: 'hf-onnx' | 'genai';
  /** The cache's names when the directory says them (genai_config.json); else the family's. */
  readonly kvNames?: KvNames;
  /** The graph and its external data: what one batch-1 decode step reads. */
  readonly weightBytes: number;
  readonly generationDefaults: {
    readonly temperature: number;
    readonly topP: number;
    readonly topK: number;
    readonly repetitionPenalty: number;
  };
}

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8')) as unknown;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function weightBytesOf(onnxPath: string): Promise<number> {
  const onnxDir = path.dirname(onnxPath);
  const file = path.basename(onnxPath);
  const ownFiles = (await readdir(onnxDir)).filter((f) => f === file || f.startsWith(`${file}_data`) || f.startsWith(`${file}.data`));
  const sizes = await Promise.all(ownFiles.map(async (f) => (await stat(path.join(onnxDir, f))).size));
  return sizes.reduce((a, b) => a + b, 0);
}

/** `%d` in genai_config's cache name patterns is the layer. */
const layerName = (pattern: string | undefined, fallback: string, layer: number) => (pattern ?? fallback).replace('%d', String(layer));

async function readGenaiFiles(dir: string, variant: string): Promise<ModelFiles> {
  const genai = GenaiConfigSchema.parse(await readJson(path.join(dir, 'genai_config.json')));
  if (variant !== 'model') throw new Error(`${dir} is an onnxruntime-genai model (genai_config.json): it has one decoder, not variant ${variant}`);
  const { model, search = {} } = genai;
  const onnxPath = path.join(dir, model.decoder.filename);
  if (!(await exists(onnxPath))) throw new Error(`genai_config.json names ${model.decoder.filename}, which ${dir} does not have`);
  const genPath = path.join(dir, 'generation_config.json');
  const generation = GenerationConfigSchema.parse((await exists(genPath)) ? await readJson(genPath) : {});
  const { inputs = {}, outputs = {} } = model.decoder;
  const greedy = search.do_sample === false;
  return {
    dir,
    onnxPath,
    modelType: model.type,
    numLayers: model.decoder.num_hidden_layers,
    numKvHeads: model.decoder.num_key_value_heads,
    headDim: model.decoder.head_size,
    vocabSize: model.vocab_size,
    maxPositionEmbeddings: model.context_length,
    eosTokenIds: generation.eos_token_id ?? model.eos_token_id ?? [],
    padTokenId: generation.pad_token_id ?? model.pad_token_id ?? 0,
    builtIn: false,
    kvLayout: 'shared-buffer',
    format: 'genai',
    kvNames: (l) => ({
      pastKey: layerName(inputs.past_key_names, 'past_key_values.%d.key', l),
      pastValue: layerName(inputs.past_value_names, 'past_key_values.%d.value', l),
      presentKey: layerName(outputs.present_key_names, 'present.%d.key', l),
      presentValue: layerName(outputs.present_value_names, 'present.%d.value', l),
    }),
    weightBytes: await weightBytesOf(onnxPath),
    generationDefaults: {
      temperature: greedy ? 0 : (generation.temperature ?? search.temperature ?? 0.7),
      topP: generation.top_p ?? search.top_p ?? 1,
      topK: generation.top_k ?? search.top_k ?? 0,
      repetitionPenalty: generation.repetition_penalty ?? search.repetition_penalty ?? 1,
    },
  };
}

/**
 * `variant` picks `onnx/<variant>.onnx` (e.g. `model`, `model_q4`), as the hub repositories name them;
 * a directory with genai_config.json is read as onnxruntime-genai's layout instead.
 */
export async function readModelFiles(dir: string, variant = 'model'): Promise<ModelFiles> {
  if (await exists(path.join(dir, 'genai_config.json'))) return readGenaiFiles(dir, variant);
  const config = ModelConfigSchema.parse(await readJson(path.join(dir, 'config.json')));
  const genPath = path.join(dir, 'generation_config.json');
  const generation = GenerationConfigSchema.parse((await exists(genPath)) ? await readJson(genPath) : {});
  const onnxPath = path.join(dir, 'onnx', `${variant}.onnx`);
  if (!(await exists(onnxPath))) throw new Error(`model directory ${dir} has no onnx/${variant}.onnx`);
  const greedy = generation.do_sample === false;
  return {
    dir,
    onnxPath,
    modelType: config.model_type,
    numLayers: config.num_hidden_layers,
    numKvHeads: config.num_key_value_heads,
    headDim: config.head_dim ?? config.hidden_size / config.num_attention_heads,
    vocabSize: config.vocab_size,
    maxPositionEmbeddings: config.max_position_embeddings,
    eosTokenIds: generation.eos_token_id ?? [],
    padTokenId: generation.pad_token_id ?? 0,
    builtIn: config.freechat?.built_in === true,
    kvLayout: sharesCacheBuffer(config.freechat?.attention) ? 'shared-buffer' : 'concat',
    format: 'hf-onnx',
    weightBytes: await weightBytesOf(onnxPath),
    generationDefaults: {
      temperature: greedy ? 0 : (generation.temperature ?? 0.7),
      topP: generation.top_p ?? 1,
      topK: generation.top_k ?? 0,
      repetitionPenalty: generation.repetition_penalty ?? 1,
    },
  };
}
