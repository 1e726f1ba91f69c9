// A run's events rebuilt from its stored answer, for a reader who comes back after the run's log is
// gone (expired, or lost with a restart): never a 404 for a run whose message exists. Pure.
import { FinishReason, contentDelta, reasoningDelta, runDone, runError, runStarted, type RunEvent, type RunEventBody } from './run-events.js';
import { RUN_ERRORS, type RunErrorCode } from './errors.js';
import type { AnswerTimings, MessageStatus, StoredFinishReason, StoredRunError } from './messages-repository.js';

/** What the stored answer row says about its run. */
export interface StoredRun {
  readonly runId: string;
  readonly userMessageId: string;
  readonly assistantMessageId: string;
  readonly content: string;
  readonly reasoning: string;
  readonly status: Exclude<MessageStatus, 'streaming'>;
  readonly finishReason: StoredFinishReason | null;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
  readonly timings: AnswerTimings | null;
  /** The error event a failed run ended with; null when none was stored (reaped, dead owner). */
  readonly error: StoredRunError | null;
}

const FINISH: Record<Exclude<StoredFinishReason, 'error'>, FinishReason> = {
  stop: FinishReason.FINISH_REASON_STOP,
  length: FinishReason.FINISH_REASON_LENGTH,
  cancelled: FinishReason.FINISH_REASON_CANCELLED,
};

/**
 * The events a reader who has seen up to `afterSeq` is missing. From the start (`afterSeq` 0): the
 * whole run in one go (started, the reasoning and the content each as one delta, the terminal
 * event), numbered 1..n. Part-way (`afterSeq` > 0): the log's numbering is gone, so only the
 * terminal event, numbered `afterSeq + 1`; the client reloads the message for its text. The
 * terminal event is `done` with the stored finish reason, or, for an answer stored as failed, the
 * error it ended with (`error interrupted` when none was stored: reaped, or its owner died).
 */
export function storedRunEvents(run: StoredRun, afterSeq: number): RunEvent[] {
  const terminal = terminalOf(run);
  const bodies: RunEventBody[] =
    afterSeq > 0
      ? [terminal]
      : [
          runStarted(run.runId, run.userMessageId, run.assistantMessageId),
          ...(run.reasoning !== '' ? [reasoningDelta(run.reasoning)] : []),
          ...(run.content !== '' ? [contentDelta(run.content)] : []),
          terminal,
        ];
  const first = Math.max(0, afterSeq) + 1;
  return bodies.map((event, i) => ({ runId: run.runId, seq: first + i, event }));
}

function terminalOf(run: StoredRun): RunEventBody {
  if (run.status === 'error' || run.finishReason === null || run.finishReason === 'error') {
    const code = run.error?.code;
    // A code this version does not know (written by a newer one) reads as the generic interruption.
    return code !== undefined && isRunErrorCode(code) ? runError(code, run.error?.message) : runError('interrupted');
  }
  return runDone(FINISH[run.finishReason], run.assistantMessageId, {
    promptTokens: run.promptTokens ?? 0,
    completionTokens: run.completionTokens ?? 0,
  }, run.timings);
}

const isRunErrorCode = (code: string): code is RunErrorCode => Object.hasOwn(RUN_ERRORS, code);
