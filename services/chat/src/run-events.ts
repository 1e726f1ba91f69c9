// The events of a run, as the contract numbers and streams them. Constructors keep call sites short
// and make sure every terminal event carries what a client needs.
import { FinishReason, type RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
import type { Timestamp } from '@freechat/proto/google/protobuf/timestamp';
import { RUN_ERRORS, type RunErrorCode } from './errors.js';
import type { AnswerTimings } from './messages-repository.js';

export type { RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
/** An event before the run log numbers it. */
export type RunEventBody = NonNullable<RunEvent['event']>;

export const runStarted = (runId: string, userMessageId: string, assistantMessageId: string): RunEventBody => ({
  $case: 'started',
  started: { runId, userMessageId, assistantMessageId },
});

/** `appendedAt`: wall clock of the append, for the run-log → gateway hop (freechat_stream_hop_seconds). */
export const reasoningDelta = (text: string, appendedAt?: Timestamp): RunEventBody => ({ $case: 'reasoning', reasoning: { text, ...(appendedAt && { appendedAt }) } });

export const contentDelta = (text: string, appendedAt?: Timestamp): RunEventBody => ({ $case: 'content', content: { text, ...(appendedAt && { appendedAt }) } });

export const runDone = (
  finishReason: FinishReason,
  messageId: string,
  usage: { promptTokens: number; completionTokens: number },
  timings: AnswerTimings | null = null,
): RunEventBody => ({ $case: 'done', done: { finishReason, messageId, usage, timings: toRunTimings(timings) } });

/** The contract's form of an answer's timings; undefined when they are not known. */
export const toRunTimings = (timings: AnswerTimings | null | undefined) =>
  timings == null ? undefined : { durationMs: timings.durationMs, ...(timings.firstTokenMs !== null && { timeToFirstTokenMs: timings.firstTokenMs }) };

/** `message` replaces the code's standard message when the run knows more (e.g. how much was kept). */
export const runError = (code: RunErrorCode, message: string = RUN_ERRORS[code]): RunEventBody => ({ $case: 'error', error: { code, message } });

export const isTerminal = (event: RunEventBody | undefined): boolean => event?.$case === 'done' || event?.$case === 'error';

export { FinishReason };
