// Continuing an answer cut at the token limit: the prompt ends with the answer so far, written the
// way the model wrote it, so the model goes on mid-sentence (or mid-thought) instead of starting anew.
import type { AnswerPrefix, Channel } from './types.js';

export interface Continuation {
  /** Appended to the rendered prompt, after the generation prompt. */
  readonly text: string;
  /** Where the next token belongs: still thinking when the answer was cut inside its think block. */
  readonly channel: Channel;
}

/**
 * With thinking off, the template has already closed an empty think block: the content follows. With
 * thinking on, the think block is reopened as Qwen3's template writes a past one (`<think>\n…\n</think>\n\n`),
 * and left open when the answer had no content yet (it was cut while thinking).
 */
export function continuationOf(prefix: AnswerPrefix, thinkingEnabled: boolean): Continuation {
  if (!thinkingEnabled) return { text: prefix.content, channel: 'content' };
  const reasoning = prefix.reasoning.replace(/^\n+|\n+$/g, '');
  if (prefix.content === '') return { text: `<think>\n${reasoning}`, channel: 'reasoning' };
  return { text: `<think>\n${reasoning}\n</think>\n\n${prefix.content.replace(/^\n+/, '')}`, channel: 'content' };
}
