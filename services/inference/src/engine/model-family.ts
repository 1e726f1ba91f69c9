// What the engine must know about a model family and cannot read from a graph: how it marks
// reasoning, which token ends a turn when generation_config.json names none, and what the KV
// cache's inputs and outputs are called. Keyed by config.json's model_type; a family not listed is
// refused at load, naming those that are, rather than decoded with another family's assumptions.

export interface ModelFamily {
  /** The tokens around reasoning (`<think>`…`</think>`), if the family reasons; undefined: it does not. */
  readonly thinkTokens?: { readonly start: string; readonly end: string };
  /** Tokens that end a turn, used when generation_config.json has no eos_token_id. */
  readonly fallbackEos: readonly string[];
  /** The graph's KV cache names for a layer: what a step feeds and what it reads back. */
  readonly kvNames: (layer: number) => { readonly pastKey: string; readonly pastValue: string; readonly presentKey: string; readonly presentValue: string };
}

// optimum's and onnx-community's decoder exports name the cache so for every family.
const optimumKvNames = (layer: number) => ({
  pastKey: `past_key_values.${layer}.key`,
  pastValue: `past_key_values.${layer}.value`,
  presentKey: `present.${layer}.key`,
  presentValue: `present.${layer}.value`,
});

const FAMILIES: Readonly<Record<string, ModelFamily>> = {
  qwen3: { thinkTokens: { start: '<think>', end: '</think>' }, fallbackEos: ['<|im_end|>'], kvNames: optimumKvNames },
  // Qwen2.5 shares the ChatML template and cache layout; it has no reasoning tokens.
  qwen2: { fallbackEos: ['<|im_end|>'], kvNames: optimumKvNames },
};

export const SUPPORTED_MODEL_TYPES = Object.keys(FAMILIES);

export function modelFamily(modelType: string): ModelFamily {
  const family = FAMILIES[modelType];
  if (!family) throw new Error(`model_type ${JSON.stringify(modelType)} is not supported; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`);
  return family;
}
