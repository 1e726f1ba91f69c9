// The events of a run, as the contract numbers and streams them. Constructors keep call sites short
// and make sure every terminal event carries what a client needs.
import { FinishReason, type RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
import { RUN_ERRORS, type RunErrorCode } from './errors.js';

export type { RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
/** An event before the run log numbers it. */
export type RunEventBody = NonNullable<RunEvent['event']>;

export const runStarted = (runId: string, userMessageId: string, assistantMessageId: string): RunEventBody => ({
  $case: 'started',
  started: { runId, userMessageId, assistantMessageId },
});

export const reasoningDelta = (text: string): RunEventBody => ({ $case: 'reasoning', reasoning: { text } });

export const contentDelta = (text: string): RunEventBody => ({ $case: 'content', content: { text } });

export const runDone = (
  finishReason: FinishReason,
  messageId: string,
  usage: { promptTokens: number; completionTokens: number },
): RunEventBody => ({ $case: 'done', done: { finishReason, messageId, usage } });

export const runError = (code: RunErrorCode): RunEventBody => ({ $case: 'error', error: { code, message: RUN_ERRORS[code] } });

export const isTerminal = (event: RunEventBody | undefined): boolean => event?.$case === 'done' || event?.$case === 'error';

export { FinishReason };
