// Pure: the events the repositories append, built from what they just wrote.
import type { FinalState } from '../messages-repository.js';
import { EVENT_TYPES, type EventDraft } from './domain-events.js';

export function runCompletedEvent(input: {
  messageId: string;
  sessionId: string;
  userId: string;
  runId: string | null;
  final: FinalState;
}): EventDraft {
  const { final } = input;
  const timings = final.timings;
  return {
    type: EVENT_TYPES.runCompleted,
    sessionId: input.sessionId,
    userId: input.userId,
    payload: {
      runId: input.runId,
      messageId: input.messageId,
      status: final.status,
      finishReason: final.finishReason,
      usage: { promptTokens: final.promptTokens ?? 0, completionTokens: final.completionTokens ?? 0 },
      timings: timings
        ? {
            startedAt: timings.startedAt.toISOString(),
            firstTokenAt: timings.firstTokenAt?.toISOString() ?? null,
            endedAt: timings.endedAt.toISOString(),
            durationMs: Math.max(0, timings.endedAt.getTime() - timings.startedAt.getTime()),
          }
        : null,
    },
  };
}
