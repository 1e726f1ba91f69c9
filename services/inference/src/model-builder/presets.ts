/** Dimensions of a Qwen3-architecture decoder; field names follow Hugging Face `config.json`. */
export interface Qwen3Dims {
  readonly hidden_size: number;
  readonly intermediate_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  readonly num_key_value_heads: number;
  readonly head_dim: number;
  readonly vocab_size: number;
  readonly rms_norm_eps: number;
  readonly rope_theta: number;
  readonly max_position_embeddings: number;
  readonly tie_word_embeddings: boolean;
}

/** The real Qwen3 vocabulary size, so every id the Qwen3 tokenizer emits is a valid embedding row. */
export const QWEN3_VOCAB_SIZE = 151936;

export const PRESETS = {
  tiny: {
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 16,
    vocab_size: QWEN3_VOCAB_SIZE,
    rms_norm_eps: 1e-6,
    rope_theta: 1_000_000,
    max_position_embeddings: 4096,
    tie_word_embeddings: true,
  },
  'qwen3-0.6b-shape': {
    hidden_size: 1024,
    intermediate_size: 3072,
    num_hidden_layers: 28,
    num_attention_heads: 16,
    num_key_value_heads: 8,
    head_dim: 128,
    vocab_size: QWEN3_VOCAB_SIZE,
    rms_norm_eps: 1e-6,
    rope_theta: 1_000_000,
    max_position_embeddings: 40960,
    tie_word_embeddings: true,
  },
} as const satisfies Record<string, Qwen3Dims>;

export type PresetName = keyof typeof PRESETS;

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PRESETS, name);
}

export function getPreset(name: string): Qwen3Dims {
  if (!isPresetName(name)) {
    throw new Error(`unknown preset "${name}"; expected one of: ${PRESET_NAMES.join(', ')}`);
  }
  return PRESETS[name];
}
