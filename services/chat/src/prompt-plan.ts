// Which stored messages go into a run's prompt: pure, so every rule is unit-tested alone.
// History is oldest first and ends, by construction, with the new user message: it is never added twice.
// The history is read newest first and only as far as the budget can reach (`historyIsEnough`,
// `maxUsefulContentBytes`); the repository runs the query, these functions decide when it stops.

export interface HistoryMessage {
  readonly id: string;
  readonly role: 'user' | 'assistant';
  readonly content: string;
  readonly status: 'complete' | 'streaming' | 'stopped' | 'error';
  /**
   * The content was too long to ever fit the budget (`maxUsefulContentBytes`), so it was not read:
   * `content` is empty and the message costs more than any budget.
   */
  readonly oversized?: boolean;
}

export interface PromptBudget {
  readonly systemPrompt: string;
  readonly maxPromptTokens: number;
  readonly estimateTokens?: (text: string) => number;
}

export interface PromptMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface PromptPlanInput extends PromptBudget {
  /** The session's messages, oldest first; may hold messages sent after the new one (other runs). */
  readonly history: readonly HistoryMessage[];
  /** The user message this run answers: the prompt ends with it. */
  readonly userMessageId: string;
  /** At most this many turns before the new message (the retry after the model said "too long"). */
  readonly maxEarlierTurns?: number;
}

export interface PromptPlan {
  readonly messages: PromptMessage[];
  readonly estimatedTokens: number;
  /** Turns (a user message and the answers after it) kept before the new message. */
  readonly earlierTurns: number;
  /** Of the turns in `history`: with history read only as far as the budget reaches, a lower bound. */
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

/** What a message costs in the prompt; one whose content was not read for being too long never fits. */
function messageCost(m: { readonly content: string; readonly oversized?: boolean | undefined }, estimate: (text: string) => number): number {
  return m.oversized ? Number.POSITIVE_INFINITY : PER_MESSAGE_OVERHEAD + estimate(m.content);
}

/** The primer, the system prompt and the new user message: what every prompt costs before history. */
function baseCost(budget: PromptBudget, newest: { readonly content: string }): number {
  const estimate = budget.estimateTokens ?? estimateTokensByChars;
  return ANSWER_PRIMER + (budget.systemPrompt ? messageCost({ content: budget.systemPrompt }, estimate) : 0) + messageCost(newest, estimate);
}

export function planPrompt(input: PromptPlanInput): PromptPlan {
  const estimate = input.estimateTokens ?? estimateTokensByChars;
  const end = input.history.findIndex((m) => m.id === input.userMessageId);
  const newest = input.history[end];
  if (!newest || newest.role !== 'user') throw new Error(`user message ${input.userMessageId} is not in the history`);
  if (newest.oversized) throw new Error(`user message ${input.userMessageId} was read without its content`);

  const turns = groupTurns(input.history.slice(0, end).filter(belongsInPrompt), estimate);
  const system: PromptMessage[] = input.systemPrompt ? [{ role: 'system', content: input.systemPrompt }] : [];
  const last: PromptMessage = { role: 'user', content: newest.content };
  // The newest user message is always kept, even alone over budget: the model service then says so.
  let tokens = baseCost(input, newest);
  const maxEarlier = input.maxEarlierTurns ?? Number.POSITIVE_INFINITY;
  const kept: PromptMessage[][] = [];
  for (let i = turns.length - 1; i >= 0 && kept.length < maxEarlier; i--) {
    const turn = turns[i]!;
    if (tokens + turn.tokens > input.maxPromptTokens) break;
    tokens += turn.tokens;
    kept.unshift(turn.messages);
  }
  return {
    messages: [...system, ...kept.flat(), last],
    estimatedTokens: tokens,
    earlierTurns: kept.length,
    droppedTurns: turns.length - kept.length,
  };
}

/**
 * Whether the rows read so far (newest first, starting with the answered user message) are all the
 * plan can use. Turns are kept newest first and the first that does not fit ends the plan, so once
 * the earlier rows read cost more than the budget leaves, the turn holding the last of them cannot
 * be kept whole (even if its older rows are unread) and nothing older is ever looked at: `planPrompt`
 * on these rows equals `planPrompt` on the whole conversation. Reaching the first message is the
 * caller's other reason to stop.
 */
export function historyIsEnough(newestFirst: readonly HistoryMessage[], budget: PromptBudget): boolean {
  const [newest, ...earlier] = newestFirst;
  if (!newest) return false;
  const estimate = budget.estimateTokens ?? estimateTokensByChars;
  let tokens = baseCost(budget, newest);
  // The new message alone is over budget: no earlier turn is kept whatever it costs.
  if (tokens > budget.maxPromptTokens) return true;
  for (const m of earlier) {
    if (!belongsInPrompt(m)) continue;
    tokens += messageCost(m, estimate);
    if (tokens > budget.maxPromptTokens) return true;
  }
  return false;
}

/**
 * Content longer than this many UTF-8 bytes can never fit `maxPromptTokens`, so it need not be read:
 * every code point is at most 4 bytes and costs at least a third of a token (ASCII: 1 byte, 1/3;
 * anything else: 2-4 bytes, 1 token), so a message costs at least bytes / 4 tokens. PostgreSQL
 * knows a value's byte length without reading it (`octet_length`).
 */
export function maxUsefulContentBytes(maxPromptTokens: number): number {
  return 4 * maxPromptTokens;
}

/** Answers still being written, and failures that produced nothing, say nothing to the model. */
function belongsInPrompt(m: HistoryMessage): boolean {
  if (m.role === 'user') return true;
  return m.status !== 'streaming' && (m.oversized === true || m.content !== '');
}

/** A turn is a user message and the answers after it; dropping whole turns never orphans an answer. */
function groupTurns(messages: readonly HistoryMessage[], estimate: (text: string) => number): { messages: PromptMessage[]; tokens: number }[] {
  const turns: { messages: PromptMessage[]; tokens: number }[] = [];
  for (const m of messages) {
    // Assistant messages contribute their content only: reasoning is never sent back to the model.
    const message: PromptMessage = { role: m.role, content: m.content };
    let current = turns.at(-1);
    if (m.role === 'user' || !current) turns.push((current = { messages: [], tokens: 0 }));
    current.messages.push(message);
    current.tokens += messageCost(m, estimate);
  }
  return turns;
}
