// The open conversation's messages as the UI shows them: server history plus the answer being
// generated. Pure list operations; a message's `key` never changes while it is on screen, so
// Preact keeps its DOM (and the user's open/closed Thinking choice) across updates.
import type { FinishReason, ServerMessage, Timings, Usage } from '../api/types';
import type { RunState } from './run';
import { t } from '../i18n';

export type ChatStatus = 'complete' | 'streaming' | 'stopped' | 'error';

export interface ChatMessage {
  readonly key: string;
  readonly id: string | null;
  /**
   * The ids of the messages beside this one in the tree (same parent), this one included once it
   * has an id, oldest first: more than one shows `‹ 2/3 ›`.
   */
  readonly siblingIds: readonly string[];
  readonly role: 'user' | 'assistant';
  readonly content: string;
  readonly reasoning: string;
  readonly status: ChatStatus;
  /** The model is reasoning right now (no answer text yet). */
  readonly thinking: boolean;
  /** How long it thought, when known. */
  readonly thinkingMs: number | null;
  readonly runId: string | null;
  /** A plain-language error shown under the answer. */
  readonly error: string | null;
  /** When it was written (ISO), once stored. */
  readonly createdAt: string | null;
  /** An ended answer's finish reason, tokens and timings, for the line under it. */
  readonly finishReason: FinishReason | null;
  readonly usage: Usage | null;
  readonly timings: Timings | null;
}

/** What an answer's numbers say: tokens, tokens per second after the first, and time to the first. */
export function answerStats(m: Pick<ChatMessage, 'usage' | 'timings'>): { tokens: number; tokensPerSecond: number | null; firstTokenSeconds: number | null } | null {
  if (!m.usage || m.usage.completionTokens === 0) return null;
  const tokens = m.usage.completionTokens;
  const first = m.timings?.timeToFirstTokenMs ?? null;
  const writing = m.timings && first !== null ? m.timings.durationMs - first : 0;
  return {
    tokens,
    tokensPerSecond: writing > 0 && tokens > 1 ? ((tokens - 1) * 1000) / writing : null,
    firstTokenSeconds: first === null ? null : first / 1000,
  };
}

export function fromServer(messages: readonly ServerMessage[], thinkingMsOf: (id: string) => number | null = () => null): ChatMessage[] {
  return messages
    .filter((m) => m.role === 'user' || m.role === 'assistant')
    .map((m) => ({
      key: m.id,
      id: m.id,
      siblingIds: m.siblingIds.length > 0 ? m.siblingIds : [m.id],
      role: m.role === 'user' ? 'user' : 'assistant',
      content: m.content,
      reasoning: m.reasoning,
      status: m.status === 'unspecified' ? 'complete' : m.status,
      thinking: false,
      thinkingMs: thinkingMsOf(m.id),
      runId: m.runId,
      error: m.status === 'error' ? t('message.incomplete') : null,
      createdAt: m.createdAt,
      finishReason: m.finishReason,
      usage: m.usage,
      timings: m.timings ?? null,
    }));
}

/** The streaming answer to re-attach to after a reload: the last message, if it is still being written. */
export function resumableRun(messages: readonly ChatMessage[]): { key: string; runId: string } | undefined {
  const last = messages.at(-1);
  return last && last.role === 'assistant' && last.status === 'streaming' && last.runId ? { key: last.key, runId: last.runId } : undefined;
}

/** A question not yet stored; `siblingIds`: those of the question it is an edit of, if any. */
export function userMessage(key: string, content: string, siblingIds: readonly string[] = []): ChatMessage {
  return { key, id: null, siblingIds, role: 'user', content, reasoning: '', status: 'complete', thinking: false, thinkingMs: null, runId: null, error: null, ...unstored() };
}

/** A message written now: the server stores it within moments, at about this time. */
const unstored = () => ({ createdAt: new Date().toISOString(), finishReason: null, usage: null, timings: null });

/** An answer about to stream; `siblingIds`: those of the answer it is written beside, if any. */
export function pendingAnswer(key: string, siblingIds: readonly string[] = []): ChatMessage {
  return { key, id: null, siblingIds, role: 'assistant', content: '', reasoning: '', status: 'streaming', thinking: false, thinkingMs: null, runId: null, error: null, ...unstored() };
}

/**
 * The branch as it reads while a question is answered again, and the id the server needs: for an
 * answer, everything down to its question, then a new answer beside it; for a question (edited when
 * `edited` is set), everything above it, then the edit beside it (or the question itself) and a new
 * answer. Undefined when `key` is not a stored message.
 */
export function prepareRegenerate(
  messages: readonly ChatMessage[],
  key: string,
  keys: { readonly user: string; readonly answer: string },
  edited?: string,
): { readonly messages: ChatMessage[]; readonly messageId: string } | undefined {
  const index = messages.findIndex((m) => m.key === key);
  const target = messages[index];
  if (!target?.id) return undefined;
  if (target.role === 'assistant') {
    return { messages: [...messages.slice(0, index), pendingAnswer(keys.answer, target.siblingIds)], messageId: target.id };
  }
  const answer = messages[index + 1];
  const answers = answer?.role === 'assistant' ? answer.siblingIds : [];
  const question = edited === undefined ? target : userMessage(keys.user, edited, target.siblingIds);
  // Answering the same question again adds an answer beside its current one; an edit starts a new branch.
  return { messages: [...messages.slice(0, index), question, pendingAnswer(keys.answer, edited === undefined ? answers : [])], messageId: target.id };
}

/** An answer the token limit cut, with nothing after it: Continue can go on writing it. */
export const canContinue = (m: ChatMessage): boolean => m.role === 'assistant' && m.id !== null && m.status === 'complete' && m.finishReason === 'length';

/** `ids` with `id` last, unless it is already there. */
const withSibling = (ids: readonly string[], id: string | null): readonly string[] => (id === null || ids.includes(id) ? ids : [...ids, id]);

const finishedStatus = (run: RunState): ChatStatus => {
  if (run.phase !== 'finished') return 'streaming';
  if (run.error || run.finishReason === 'error') return 'error';
  return run.finishReason === 'cancelled' ? 'stopped' : 'complete';
};

/** Shows the run's state in the message keyed `key`; the user message before it gets its server id. */
export function applyRun(messages: readonly ChatMessage[], key: string, run: RunState, describeError: (code: string, message: string) => string): ChatMessage[] {
  const index = messages.findIndex((m) => m.key === key);
  const current = messages[index];
  if (!current) return messages as ChatMessage[];
  const out = messages.slice();
  out[index] = {
    ...current,
    id: run.assistantMessageId ?? current.id,
    siblingIds: withSibling(current.siblingIds, run.assistantMessageId ?? current.id),
    content: run.content,
    reasoning: run.reasoning,
    status: finishedStatus(run),
    thinking: run.phase === 'thinking',
    thinkingMs: run.thinkingMs,
    runId: run.runId,
    error: run.error ? describeError(run.error.code, run.error.message) : null,
    finishReason: run.finishReason,
    usage: run.usage,
    timings: run.timings,

  };
  const before = out[index - 1];
  if (before && before.role === 'user' && before.id === null && run.userMessageId)
    out[index - 1] = { ...before, id: run.userMessageId, siblingIds: withSibling(before.siblingIds, run.userMessageId) };
  return out;
}
