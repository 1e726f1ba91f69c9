// After a conversation's first complete answer, asks the model for a short title and stores it,
// unless the person named the conversation themselves (title_source 'user') or it already has a
// generated one. The check is repeated in the final UPDATE, so a rename during the model call wins.
import { Channel, Role } from '@freechat/proto/freechat/inference/v1/inference';
import type { DomainEvent } from '@freechat/shared/events';
import type pg from 'pg';
import type { InferenceGateway } from '../inference-client.js';
import type { ConsumerStore } from './consumer-store.js';
import type { EventConsumer } from './dispatcher.js';
import { EVENT_TYPES, runCompletedPayload } from './domain-events.js';
import { cleanTitle, titlePrompt } from './title.js';

export interface TitleWriterOptions {
  readonly db: pg.Pool;
  readonly store: ConsumerStore;
  readonly inference: InferenceGateway;
  readonly maxNewTokens: number;
  /** A title call that takes longer is abandoned (and the event retried). */
  readonly timeoutMs: number;
}

export function createTitleWriter(options: TitleWriterOptions): EventConsumer {
  const name = 'title-writer';
  const { db, store } = options;
  return {
    name,
    wants: (event) => event.type === EVENT_TYPES.runCompleted && (event.payload as { status?: unknown }).status === 'complete',
    async handle(event: DomainEvent) {
      const payload = runCompletedPayload.parse(event.payload);
      const exchange = await firstExchange(db, event.sessionId, payload.messageId);
      // Named by its owner, titled already, or deleted: nothing to do.
      const title = exchange ? cleanTitle(await generate(options, exchange, event.id)) : undefined;
      await store.applyOnce(name, event.id, async (tx) => {
        if (!title) return;
        await tx.query(
          `UPDATE chat.sessions SET title = $2, title_source = 'generated' WHERE id = $1 AND title_source = 'auto' AND deleted_at IS NULL`,
          [event.sessionId, title],
        );
      });
    },
  };
}

/** This answer and the question it answers, if the session still wants a title. */
async function firstExchange(db: pg.Pool, sessionId: string, answerId: string): Promise<{ user: string; assistant: string } | undefined> {
  const { rows } = await db.query<{ user_text: string | null; answer: string | null }>(
    `SELECT (SELECT q.content FROM chat.messages a JOIN chat.messages q ON q.id = a.parent_id WHERE a.id = $2 AND a.session_id = s.id) AS user_text,
            (SELECT content FROM chat.messages WHERE id = $2 AND session_id = s.id) AS answer
       FROM chat.sessions s WHERE s.id = $1 AND s.title_source = 'auto' AND s.deleted_at IS NULL`,
    [sessionId, answerId],
  );
  const row = rows[0];
  return row?.user_text != null && row.answer != null ? { user: row.user_text, assistant: row.answer } : undefined;
}

async function generate(options: TitleWriterOptions, exchange: { user: string; assistant: string }, eventId: string): Promise<string> {
  const prompt = titlePrompt(exchange);
  const signal = AbortSignal.timeout(options.timeoutMs);
  let text = '';
  for await (const response of options.inference.generate(
    {
      requestId: `title-${eventId}`,
      messages: [
        { role: Role.ROLE_SYSTEM, content: prompt.system },
        { role: Role.ROLE_USER, content: prompt.user },
      ],
      enableThinking: false,
      // Titles are background work: all of them share one turn beside the users' answers.
      fairnessKey: 'chat-titles',
      sampling: { stop: ['\n'], maxNewTokens: options.maxNewTokens, temperature: 0 },
      answerPrefix: undefined,
      model: '',
    },
    signal,
  )) {
    const event = response.event;
    // Reasoning, should the model think anyway, is not the title.
    if (event?.$case === 'delta' && event.delta.channel === Channel.CHANNEL_CONTENT) text += event.delta.text;
  }
  return text;
}
