// SSE frames → the typed union of run events. Ids are `<runId>:<seq>`, seq from 1 without gaps.
import type { SseFrame } from './sse';
import type { FinishReason, RunDoneEvent, RunErrorEvent, RunStartedEvent, TextDeltaEvent, Timings, Usage } from './types';

/** An event's type and sequence number with its data (the gateway's schemas, through types.ts). */
export type RunEvent =
  | ({ readonly type: 'run'; readonly seq: number } & RunStartedEvent)
  | ({ readonly type: 'reasoning'; readonly seq: number } & TextDeltaEvent)
  | ({ readonly type: 'content'; readonly seq: number } & TextDeltaEvent)
  | ({ readonly type: 'done'; readonly seq: number } & RunDoneEvent)
  | ({ readonly type: 'error'; readonly seq: number } & RunErrorEvent);

export function parseEventId(id: string): { runId: string; seq: number } | undefined {
  const colon = id.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const seq = Number(id.slice(colon + 1));
  return Number.isSafeInteger(seq) && seq >= 0 ? { runId: id.slice(0, colon), seq } : undefined;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Unknown event types and malformed frames are skipped (a newer server may send more). */
export function toRunEvent(frame: SseFrame): RunEvent | undefined {
  const id = parseEventId(frame.id);
  if (!id) return undefined;
  let data: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(frame.data);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    data = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const seq = id.seq;
  switch (frame.event) {
    case 'run':
      return { type: 'run', seq, runId: str(data['runId']) || id.runId, userMessageId: str(data['userMessageId']), assistantMessageId: str(data['assistantMessageId']) };
    case 'reasoning':
      return { type: 'reasoning', seq, delta: str(data['delta']) };
    case 'content':
      return { type: 'content', seq, delta: str(data['delta']) };
    case 'done':
      return {
        type: 'done',
        seq,
        finishReason: (data['finishReason'] as FinishReason | null | undefined) ?? null,
        usage: (data['usage'] as Usage | null | undefined) ?? null,
        timings: (data['timings'] as Timings | null | undefined) ?? null,
        messageId: str(data['messageId']),
      };
    case 'error':
      return { type: 'error', seq, code: str(data['code']) || 'internal', message: str(data['message']) };
    default:
      return undefined;
  }
}
