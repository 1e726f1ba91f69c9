// One answer being generated, as a pure reducer over the run's events. Events are applied in
// batches (once per animation frame); an event at or below the last applied seq is a replay and is
// ignored, so re-attaching after a drop never shows anything twice.
import type { RunEvent } from '../api/run-events';
import type { FinishReason, Timings, Usage } from '../api/types';

export type RunPhase = 'waiting' | 'thinking' | 'answering' | 'finished';

export interface RunState {
  readonly runId: string | null;
  readonly userMessageId: string | null;
  readonly assistantMessageId: string | null;
  /** The last event applied; re-attach with `Last-Event-ID: <runId>:<lastSeq>`. */
  readonly lastSeq: number;
  readonly content: string;
  readonly reasoning: string;
  readonly phase: RunPhase;
  readonly reasoningStartedAt: number | null;
  /** Set once thinking ended (the answer started, or the run ended while thinking). */
  readonly thinkingMs: number | null;
  readonly finishReason: FinishReason | null;
  /** From the `done` event. */
  readonly usage: Usage | null;
  readonly timings: Timings | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export function initialRun(runId: string | null = null): RunState {
  return {
    runId,
    userMessageId: null,
    assistantMessageId: null,
    lastSeq: 0,
    content: '',
    reasoning: '',
    phase: 'waiting',
    reasoningStartedAt: null,
    thinkingMs: null,
    finishReason: null,
    usage: null,
    timings: null,
    error: null,
  };
}

const endThinking = (state: RunState, at: number): number | null =>
  state.thinkingMs ?? (state.reasoningStartedAt === null ? null : Math.max(0, at - state.reasoningStartedAt));

/** Applies a batch of events received by `at` (ms); returns the same object when nothing changed. */
export function applyRunEvents(state: RunState, events: readonly RunEvent[], at: number): RunState {
  let s = state;
  // Deltas of one batch are joined once, not string-concatenated per token.
  let content: string[] | null = null;
  let reasoning: string[] | null = null;
  const flush = (): void => {
    if (content) s = { ...s, content: s.content + content.join('') };
    if (reasoning) s = { ...s, reasoning: s.reasoning + reasoning.join('') };
    content = null;
    reasoning = null;
  };
  for (const event of events) {
    if (event.seq <= s.lastSeq || s.phase === 'finished') continue;
    switch (event.type) {
      case 'run':
        flush();
        s = { ...s, runId: event.runId, userMessageId: event.userMessageId, assistantMessageId: event.assistantMessageId };
        break;
      case 'reasoning':
        if (s.phase === 'waiting') {
          flush();
          s = { ...s, phase: 'thinking', reasoningStartedAt: at };
        }
        (reasoning ??= []).push(event.delta);
        break;
      case 'content':
        if (s.phase !== 'answering') {
          flush();
          s = { ...s, phase: 'answering', thinkingMs: endThinking(s, at) };
        }
        (content ??= []).push(event.delta);
        break;
      case 'done':
        flush();
        s = { ...s, phase: 'finished', finishReason: event.finishReason, usage: event.usage, timings: event.timings, thinkingMs: endThinking(s, at), assistantMessageId: event.messageId || s.assistantMessageId };
        break;
      case 'error':
        flush();
        s = { ...s, phase: 'finished', finishReason: 'error', thinkingMs: endThinking(s, at), error: { code: event.code, message: event.message } };
        break;
    }
    s = s.lastSeq === event.seq ? s : { ...s, lastSeq: event.seq };
  }
  flush();
  return s;
}

/** The run ended locally without a `done` (e.g. the stream said nothing is left): treat as finished. */
export function finishRun(state: RunState, at: number): RunState {
  return state.phase === 'finished' ? state : { ...state, phase: 'finished', thinkingMs: endThinking(state, at) };
}
