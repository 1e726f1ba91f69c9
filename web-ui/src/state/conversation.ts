// The open conversation's messages as the UI shows them: server history plus the answer being
// generated. Pure list operations; a message's `key` never changes while it is on screen, so
// Preact keeps its DOM (and the user's open/closed Thinking choice) across updates.
import type { ServerMessage } from '../api/types';
import type { RunState } from './run';

export type ChatStatus = 'complete' | 'streaming' | 'stopped' | 'error';

export interface ChatMessage {
  readonly key: string;
  readonly id: string | null;
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
}

export function fromServer(messages: readonly ServerMessage[], thinkingMsOf: (id: string) => number | null = () => null): ChatMessage[] {
  return messages
    .filter((m) => m.role === 'user' || m.role === 'assistant')
    .map((m) => ({
      key: m.id,
      id: m.id,
      role: m.role === 'user' ? 'user' : 'assistant',
      content: m.content,
      reasoning: m.reasoning,
      status: m.status === 'unspecified' ? 'complete' : m.status,
      thinking: false,
      thinkingMs: thinkingMsOf(m.id),
      runId: m.runId,
      error: m.status === 'error' ? 'The answer could not be completed.' : null,
    }));
}

/** The streaming answer to re-attach to after a reload: the last message, if it is still being written. */
export function resumableRun(messages: readonly ChatMessage[]): { key: string; runId: string } | undefined {
  const last = messages.at(-1);
  return last && last.role === 'assistant' && last.status === 'streaming' && last.runId ? { key: last.key, runId: last.runId } : undefined;
}

export function userMessage(key: string, content: string): ChatMessage {
  return { key, id: null, role: 'user', content, reasoning: '', status: 'complete', thinking: false, thinkingMs: null, runId: null, error: null };
}

export function pendingAnswer(key: string): ChatMessage {
  return { key, id: null, role: 'assistant', content: '', reasoning: '', status: 'streaming', thinking: false, thinkingMs: null, runId: null, error: null };
}

/** Removes the last answer (regenerate) and, when editing, replaces the last user message's text. */
export function prepareRegenerate(messages: readonly ChatMessage[], editedContent?: string): ChatMessage[] {
  const out = messages.slice();
  if (out.at(-1)?.role === 'assistant') out.pop();
  const lastUser = out.at(-1);
  if (editedContent !== undefined && lastUser?.role === 'user') out[out.length - 1] = { ...lastUser, content: editedContent };
  return out;
}

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
    content: run.content,
    reasoning: run.reasoning,
    status: finishedStatus(run),
    thinking: run.phase === 'thinking',
    thinkingMs: run.thinkingMs,
    runId: run.runId,
    error: run.error ? describeError(run.error.code, run.error.message) : null,
  };
  const before = out[index - 1];
  if (before && before.role === 'user' && before.id === null && run.userMessageId) out[index - 1] = { ...before, id: run.userMessageId };
  return out;
}
