// Memory-aware admission, decided from token counts alone. Each request reserves its worst case,
// prompt plus max_new_tokens (never past the context), for as long as it runs: once admitted it can
// always finish, and the cache never outgrows the budget because of a long answer.
import { InvalidArgumentError } from './errors.js';

export interface KvBudget {
  /** K and V bytes one token takes over all layers. */
  readonly bytesPerToken: number;
  /** Undefined: no bound. */
  readonly budgetBytes: number | undefined;
}

export function worstCaseTokens(promptTokens: number, maxNewTokens: number, maxContextTokens: number): number {
  return Math.min(promptTokens + maxNewTokens, maxContextTokens);
}

const MiB = 2 ** 20;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(bytes < 10 * MiB ? 2 : 0)} MiB`;

/**
 * Refuses, naming the field to change, a request that could not run even alone: waiting would never
 * help it. Called before it is queued.
 */
export function checkFitsAlone(budget: KvBudget, promptTokens: number, maxNewTokens: number, maxContextTokens: number): void {
  if (budget.budgetBytes === undefined) return;
  const tokens = worstCaseTokens(promptTokens, maxNewTokens, maxContextTokens);
  if (tokens * budget.bytesPerToken <= budget.budgetBytes) return;
  const fitting = Math.floor(budget.budgetBytes / budget.bytesPerToken);
  const field = promptTokens < fitting ? 'sampling.max_new_tokens' : 'messages';
  const advice =
    promptTokens < fitting
      ? `at most ${fitting - promptTokens} new tokens fit after this ${promptTokens}-token prompt`
      : `the prompt alone (${promptTokens} tokens) does not fit`;
  throw new InvalidArgumentError(
    field,
    `the request needs up to ${mib(tokens * budget.bytesPerToken)} of KV cache (${promptTokens} prompt + ${maxNewTokens} new tokens); ` +
      `this server's KV cache budget is ${mib(budget.budgetBytes)}: ${advice}`,
  );
}

/** Whether a request reserving `tokens` fits beside requests already reserving `reservedTokens`. */
export function fitsBeside(budget: KvBudget, reservedTokens: number, tokens: number): boolean {
  return budget.budgetBytes === undefined || (reservedTokens + tokens) * budget.bytesPerToken <= budget.budgetBytes;
}
