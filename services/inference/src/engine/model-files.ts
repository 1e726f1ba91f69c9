// Reads what the engine needs from a model directory in the Hugging Face ONNX layout
// (onnx-community/Qwen3-*-ONNX and the built-in model alike).
import { readFile, readdir, stat, access } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

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
   * `shared-buffer`: the graph's attention (GroupQueryAttention) can append to a KV buffer bound as
   * both past and present, so the cache stays in place between passes; `concat`: present is a new tensor.
   */
  readonly kvLayout: 'shared-buffer' | 'concat';
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

/** `variant` picks `onnx/<variant>.onnx` (e.g. `model`, `model_q4`), as the hub repositories name them. */
export async function readModelFiles(dir: string, variant = 'model'): Promise<ModelFiles> {
  const config = ModelConfigSchema.parse(await readJson(path.join(dir, 'config.json')));
  const genPath = path.join(dir, 'generation_config.json');
  const generation = GenerationConfigSchema.parse((await exists(genPath)) ? await readJson(genPath) : {});
  const onnxPath = path.join(dir, 'onnx', `${variant}.onnx`);
  if (!(await exists(onnxPath))) throw new Error(`model directory ${dir} has no onnx/${variant}.onnx`);
  const greedy = generation.do_sample === false;
  const onnxDir = path.dirname(onnxPath);
  const ownFiles = (await readdir(onnxDir)).filter((f) => f === `${variant}.onnx` || f.startsWith(`${variant}.onnx_data`));
  const sizes = await Promise.all(ownFiles.map(async (f) => (await stat(path.join(onnxDir, f))).size));
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
    kvLayout: config.freechat?.attention === 'gqa' ? 'shared-buffer' : 'concat',
    weightBytes: sizes.reduce((a, b) => a + b, 0),
    generationDefaults: {
      temperature: greedy ? 0 : (generation.temperature ?? 0.7),
      topP: generation.top_p ?? 1,
      topK: generation.top_k ?? 0,
      repetitionPenalty: generation.repetition_penalty ?? 1,
    },
  };
}
