// Checks a request against the model's limits before it costs anything. Field names follow the
// proto contract so a client can find its mistake.
import { InvalidArgumentError } from './errors.js';
import type { EngineLimits, GenerationRequest, ModelLimits, SamplingParams } from './types.js';

export const MAX_STOP_STRINGS = 8;
export const MAX_STOP_STRING_LENGTH = 256;

export interface SamplingDefaults {
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly repetitionPenalty: number;
  readonly maxNewTokens: number;
}

const ROLES = new Set(['system', 'user', 'assistant']);

/** Validates everything but the prompt length (that needs the tokenizer) and fills defaults. */
export function resolveSampling(
  request: GenerationRequest,
  defaults: SamplingDefaults,
  limits: EngineLimits,
  randomSeed: () => number,
): SamplingParams {
  if (request.messages.length === 0) throw new InvalidArgumentError('messages', 'at least one message is required');
  request.messages.forEach((m, i) => {
    if (!ROLES.has(m.role)) throw new InvalidArgumentError(`messages[${i}].role`, `unknown role "${String(m.role)}"`);
    if (typeof m.content !== 'string') throw new InvalidArgumentError(`messages[${i}].content`, 'must be a string');
  });
  const s = request.sampling;
  const temperature = s.temperature ?? defaults.temperature;
  if (!Number.isFinite(temperature) || temperature < 0)
    throw new InvalidArgumentError('sampling.temperature', `must be >= 0 (0 is greedy), got ${temperature}`);
  const topP = s.topP ?? defaults.topP;
  if (!Number.isFinite(topP) || topP <= 0 || topP > 1) throw new InvalidArgumentError('sampling.top_p', `must be in (0, 1], got ${topP}`);
  const topK = s.topK ?? defaults.topK;
  if (!Number.isInteger(topK) || topK < 0) throw new InvalidArgumentError('sampling.top_k', `must be an integer >= 0, got ${topK}`);
  const repetitionPenalty = s.repetitionPenalty ?? defaults.repetitionPenalty;
  if (!Number.isFinite(repetitionPenalty) || repetitionPenalty <= 0)
    throw new InvalidArgumentError('sampling.repetition_penalty', `must be > 0 (1 disables it), got ${repetitionPenalty}`);
  const maxNewTokens = s.maxNewTokens ?? Math.min(defaults.maxNewTokens, limits.maxNewTokensLimit);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1 || maxNewTokens > limits.maxNewTokensLimit)
    throw new InvalidArgumentError('sampling.max_new_tokens', `must be between 1 and ${limits.maxNewTokensLimit}, got ${maxNewTokens}`);
  const seed = s.seed ?? randomSeed();
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InvalidArgumentError('sampling.seed', `must be a non-negative integer, got ${seed}`);
  const stop = s.stop ?? [];
  if (stop.length > MAX_STOP_STRINGS) throw new InvalidArgumentError('sampling.stop', `at most ${MAX_STOP_STRINGS} stop strings`);
  stop.forEach((text, i) => {
    if (text.length === 0 || text.length > MAX_STOP_STRING_LENGTH)
      throw new InvalidArgumentError(`sampling.stop[${i}]`, `must be 1 to ${MAX_STOP_STRING_LENGTH} characters`);
  });
  return { temperature, topP, topK, repetitionPenalty, maxNewTokens, seed, stop };
}

/** The prompt bound a model enforces: the configured one, never more than the context less one answer token. */
export function resolveMaxPromptTokens(limits: EngineLimits): number {
  return Math.max(1, Math.min(limits.maxPromptTokens ?? Number.POSITIVE_INFINITY, limits.maxContextTokens - 1));
}

/** Counted with the model's own tokenizer and chat template, so this is the authoritative answer. */
export function checkPromptLength(promptTokens: number, limits: ModelLimits): void {
  if (promptTokens > limits.maxPromptTokens)
    throw new InvalidArgumentError(
      'messages',
      `the prompt is ${promptTokens} tokens; the model accepts at most ${limits.maxPromptTokens} prompt tokens`,
    );
}
