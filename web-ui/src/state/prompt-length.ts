// Whether a draft looks too long for the model, before it is sent. Only a hint: the browser has no
// tokenizer, so it counts characters; the inference service counts real tokens and its refusal
// (`prompt_too_long`, naming both counts) is what decides.
import { t } from '../i18n';

/**
 * Qwen's tokenizer averages about 4 characters per token on English text and about one token per
 * CJK character; counting every non-ASCII character as a token keeps the estimate honest for both.
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) ascii++;
    else other++;
  }
  return Math.ceil(ascii / 4) + other;
}

/** What the composer says when the draft alone likely exceeds the model's prompt limit; undefined when it fits. */
export function promptLengthWarning(draft: string, maxPromptTokens: number | null | undefined): string | undefined {
  if (!maxPromptTokens || maxPromptTokens <= 0) return undefined;
  const estimate = estimateTokens(draft);
  if (estimate <= maxPromptTokens) return undefined;
  return t('composer.tooLong', estimate, maxPromptTokens);
}
