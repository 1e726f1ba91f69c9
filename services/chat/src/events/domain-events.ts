// The chat service's domain events: their types, what each payload holds, and the checks consumers
// apply before trusting one (an event is input from the wire).
import { z } from 'zod';

export const EVENT_TYPES = {
  sessionCreated: 'session.created',
  messageCreated: 'message.created',
  runCompleted: 'run.completed',
  sessionDeleted: 'session.deleted',
} as const;

export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

export interface SessionCreatedPayload {
  readonly title: string;
  readonly titleSource: 'auto' | 'user';
}

export interface MessageCreatedPayload {
  readonly messageId: string;
  readonly role: 'user';
  readonly contentChars: number;
}

export interface RunTimings {
  readonly startedAt: string;
  /** Null when the run produced no text. */
  readonly firstTokenAt: string | null;
  readonly endedAt: string;
  readonly durationMs: number;
}

export const runCompletedPayload = z.object({
  runId: z.string().nullable(),
  messageId: z.string().uuid(),
  status: z.enum(['complete', 'stopped', 'error']),
  finishReason: z.enum(['stop', 'length', 'cancelled', 'error']),
  usage: z.object({ promptTokens: z.number().int().min(0), completionTokens: z.number().int().min(0) }),
  timings: z
    .object({
      startedAt: z.string(),
      firstTokenAt: z.string().nullable(),
      endedAt: z.string(),
      durationMs: z.number().min(0),
    })
    .nullable(),
});

export type RunCompletedPayload = z.infer<typeof runCompletedPayload>;

export type EventDraft =
  | { readonly type: 'session.created'; readonly sessionId: string; readonly userId: string; readonly payload: SessionCreatedPayload }
  | { readonly type: 'message.created'; readonly sessionId: string; readonly userId: string; readonly payload: MessageCreatedPayload }
  | { readonly type: 'run.completed'; readonly sessionId: string; readonly userId: string; readonly payload: RunCompletedPayload }
  | { readonly type: 'session.deleted'; readonly sessionId: string; readonly userId: string; readonly payload: Record<string, never> };
