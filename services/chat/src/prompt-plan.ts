// Which stored messages go into a run's prompt: pure, so every rule is unit-tested alone.
// History is oldest first and ends, by construction, with the new user message: it is never added twice.

export interface HistoryMessage {
  readonly id: string;
  readonly role: 'user' | 'assistant';
  readonly content: string;
  readonly status: 'complete' | 'streaming' | 'stopped' | 'error';
}

export interface PromptMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface PromptPlanInput {
  /** The session's messages, oldest first; may hold messages sent after the new one (other runs). */
  readonly history: readonly HistoryMessage[];
  /** The user message this run answers: the prompt ends with it. */
  readonly userMessageId: string;
  readonly systemPrompt: string;
  readonly maxPromptTokens: number;
  /** At most this many turns before the new message (the retry after the model said "too long"). */
  readonly maxEarlierTurns?: number;
  readonly estimateTokens?: (text: string) => number;
}

export interface PromptPlan {
  readonly messages: PromptMessage[];
  readonly estimatedTokens: number;
  /** Turns (a user message and the answers after it) kept before the new message. */
  readonly earlierTurns: number;
  readonly droppedTurns: number;
}

/**
 * Conservative without a tokenizer: Qwen's averages ~4 ASCII characters per token (3 assumed here), and
 * about one token per CJK character (every non-ASCII character counted as one). Over-estimating only
 * drops a turn early; under-estimating costs a rejected request and a retry.
 */
export function estimateTokensByChars(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) ascii++;
    else other++;
  }
  return Math.ceil(ascii / 3) + other;
}
/** `<|im_start|>role\n` … `<|im_end|>\n` around every message. */
const PER_MESSAGE_OVERHEAD = 5;
/** `<|im_start|>assistant\n` (and an empty think block) that open the answer. */
const ANSWER_PRIMER = 8;

export function planPrompt(input: PromptPlanInput): PromptPlan {
  const estimate = input.estimateTokens ?? estimateTokensByChars;
  const cost = (m: PromptMessage): number => PER_MESSAGE_OVERHEAD + estimate(m.content);
  const end = input.history.findIndex((m) => m.id === input.userMessageId);
  const newest = input.history[end];
  if (!newest || newest.role !== 'user') throw new Error(`user message ${input.userMessageId} is not in the history`);

  const turns = groupTurns(input.history.slice(0, end).filter(belongsInPrompt));
  const system: PromptMessage[] = input.systemPrompt ? [{ role: 'system', content: input.systemPrompt }] : [];
  const last: PromptMessage = { role: 'user', content: newest.content };
  // The newest user message is always kept, even alone over budget: the model service then says so.
  let tokens = ANSWER_PRIMER + [...system, last].reduce((sum, m) => sum + cost(m), 0);
  const maxEarlier = input.maxEarlierTurns ?? Number.POSITIVE_INFINITY;
  const kept: PromptMessage[][] = [];
  for (let i = turns.length - 1; i >= 0 && kept.length < maxEarlier; i--) {
    const turn = turns[i]!;
    const turnTokens = turn.reduce((sum, m) => sum + cost(m), 0);
    if (tokens + turnTokens > input.maxPromptTokens) break;
    tokens += turnTokens;
    kept.unshift(turn);
  }
  return {
    messages: [...system, ...kept.flat(), last],
    estimatedTokens: tokens,
    earlierTurns: kept.length,
    droppedTurns: turns.length - kept.length,
  };
}

/** Answers still being written, and failures that produced nothing, say nothing to the model. */
function belongsInPrompt(m: HistoryMessage): boolean {
  if (m.role === 'user') return true;
  return m.status !== 'streaming' && m.content !== '';
}

/** A turn is a user message and the answers after it; dropping whole turns never orphans an answer. */
function groupTurns(messages: readonly HistoryMessage[]): PromptMessage[][] {
  const turns: PromptMessage[][] = [];
  for (const m of messages) {
    // Assistant messages contribute their content only: reasoning is never sent back to the model.
    const message: PromptMessage = { role: m.role, content: m.content };
    const current = turns.at(-1);
    if (m.role === 'user' || !current) turns.push([message]);
    else current.push(message);
  }
  return turns;
}
