// SQL for chat.messages: committing a user turn, the assistant row a run fills in, and the reaper.
import type pg from 'pg';
import type { PreconditionCode } from './errors.js';
import { autoTitle, DEFAULT_TITLE } from './validation.js';
import { EVENT_TYPES } from './events/domain-events.js';
import { runCompletedEvent } from './events/event-drafts.js';
import { appendEvent } from './events/outbox.js';
import { inTransaction } from './transaction.js';

export type MessageRole = 'user' | 'assistant';
export type MessageStatus = 'complete' | 'streaming' | 'stopped' | 'error';
export type StoredFinishReason = 'stop' | 'length' | 'cancelled' | 'error';

export interface MessageRow {
  readonly id: string;
  readonly sessionId: string;
  readonly role: MessageRole;
  readonly content: string;
  readonly reasoning: string;
  readonly status: MessageStatus;
  readonly finishReason: StoredFinishReason | null;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
  readonly runId: string | null;
  readonly createdAt: Date;
}

export interface FinalState {
  readonly content: string;
  readonly reasoning: string;
  readonly status: Exclude<MessageStatus, 'streaming'>;
  readonly finishReason: StoredFinishReason;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
  /** When the run started, produced its first text and ended; carried by its run.completed event. */
  readonly timings?: { readonly startedAt: Date; readonly firstTokenAt: Date | null; readonly endedAt: Date };
}

export interface RunOwnership {
  readonly sessionId: string;
  readonly messageId: string;
}

/** A pool, or a client inside a transaction. */
type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

export interface AssistantRowInput {
  readonly id: string;
  readonly sessionId: string;
  readonly runId: string;
}

export type RegenerationResult =
  | { readonly kind: 'prepared'; readonly userMessage: MessageRow; readonly assistantMessage: MessageRow; readonly removed: number }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'refused'; readonly code: PreconditionCode };

const COLUMNS = `id, session_id, role, content, reasoning, status, finish_reason, prompt_tokens, completion_tokens, run_id, created_at`;

interface Raw {
  id: string;
  session_id: string;
  role: MessageRole;
  content: string;
  reasoning: string;
  status: MessageStatus;
  finish_reason: StoredFinishReason | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  run_id: string | null;
  created_at: Date;
}

const toRow = (r: Raw): MessageRow => ({
  id: r.id,
  sessionId: r.session_id,
  role: r.role,
  content: r.content,
  reasoning: r.reasoning,
  status: r.status,
  finishReason: r.finish_reason,
  promptTokens: r.prompt_tokens,
  completionTokens: r.completion_tokens,
  runId: r.run_id,
  createdAt: r.created_at,
});

export class MessagesRepository {
  constructor(private readonly db: pg.Pool) {}

  /**
   * Commits the user's message in its own transaction, bumps the session's activity and names a
   * "New chat" session after its first user message. Undefined when the session is not the owner's.
   */
  async insertUserMessage(input: {
    id: string;
    ownerId: string;
    sessionId: string;
    content: string;
    autoTitle: string;
  }): Promise<MessageRow | undefined> {
    const client = await this.db.connect();
    try {
      await client.query('BEGIN');
      const session = await client.query(
        `SELECT 1 FROM chat.sessions WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL FOR UPDATE`,
        [input.sessionId, input.ownerId],
      );
      if (session.rowCount !== 1) {
        await client.query('ROLLBACK');
        return undefined;
      }
      const { rows } = await client.query<Raw>(
        `INSERT INTO chat.messages (id, session_id, role, content, status) VALUES ($1, $2, 'user', $3, 'complete') RETURNING ${COLUMNS}`,
        [input.id, input.sessionId, input.content],
      );
      await client.query(
        `UPDATE chat.sessions SET updated_at = clock_timestamp(),
           title = CASE WHEN title = $2 AND NOT EXISTS (
                     SELECT 1 FROM chat.messages WHERE session_id = $1 AND role = 'user' AND id <> $3)
                   THEN $4 ELSE title END
         WHERE id = $1`,
        [input.sessionId, DEFAULT_TITLE, input.id, input.autoTitle],
      );
      await appendEvent(client, {
        type: EVENT_TYPES.messageCreated,
        sessionId: input.sessionId,
        userId: input.ownerId,
        payload: { messageId: input.id, role: 'user', contentChars: [...input.content].length },
      });
      await client.query('COMMIT');
      return toRow(rows[0]!);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /** The run's row, unless the session was deleted since the user message was committed. */
  async insertAssistant(input: AssistantRowInput, db: Queryable = this.db): Promise<MessageRow | undefined> {
    const { rows } = await db.query<Raw>(
      `INSERT INTO chat.messages (id, session_id, role, status, run_id)
       SELECT $1, $2, 'assistant', 'streaming', $3 FROM chat.sessions WHERE id = $2 AND deleted_at IS NULL
       RETURNING ${COLUMNS}`,
      [input.id, input.sessionId, input.runId],
    );
    return rows[0] && toRow(rows[0]);
  }

  /**
   * One transaction, so a crash leaves either the old answer or the new streaming row, and never a
   * session without its user message: under the session's lock, refuse while an answer streams,
   * find the last user message, edit it if `content` is set, delete every message after it, and
   * insert the new run's assistant row. Deleted, not hidden: the user asked for that answer to be
   * replaced, and no query then has to remember to skip it.
   */
  async prepareRegeneration(input: {
    ownerId: string;
    sessionId: string;
    content: string | undefined;
    assistant: Omit<AssistantRowInput, 'sessionId'>;
  }): Promise<RegenerationResult> {
    const client = await this.db.connect();
    const refuse = async (result: RegenerationResult): Promise<RegenerationResult> => {
      await client.query('ROLLBACK');
      return result;
    };
    try {
      await client.query('BEGIN');
      const session = await client.query<{ title: string }>(
        `SELECT title FROM chat.sessions WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL FOR UPDATE`,
        [input.sessionId, input.ownerId],
      );
      const title = session.rows[0]?.title;
      if (title === undefined) return await refuse({ kind: 'not_found' });
      const streaming = await client.query(`SELECT 1 FROM chat.messages WHERE session_id = $1 AND status = 'streaming' LIMIT 1`, [input.sessionId]);
      if (streaming.rowCount !== 0) return await refuse({ kind: 'refused', code: 'run_in_progress' });
      const last = await client.query<Raw & { user_messages: string }>(
        `SELECT ${COLUMNS}, count(*) OVER ()::text AS user_messages FROM chat.messages
          WHERE session_id = $1 AND role = 'user' ORDER BY created_at DESC, id DESC LIMIT 1`,
        [input.sessionId],
      );
      const previous = last.rows[0];
      if (!previous) return await refuse({ kind: 'refused', code: 'nothing_to_regenerate' });
      let userMessage = toRow(previous);
      if (input.content !== undefined) {
        const edited = await client.query<Raw>(
          `UPDATE chat.messages SET content = $2, updated_at = clock_timestamp() WHERE id = $1 RETURNING ${COLUMNS}`,
          [previous.id, input.content],
        );
        userMessage = toRow(edited.rows[0]!);
      }
      // Compared in SQL: a JS Date would round created_at to milliseconds and catch the user message too.
      const removed = await client.query(
        `DELETE FROM chat.messages WHERE session_id = $1
            AND (created_at, id) > (SELECT created_at, id FROM chat.messages WHERE id = $2)`,
        [input.sessionId, previous.id],
      );
      const assistantMessage = await this.insertAssistant({ ...input.assistant, sessionId: input.sessionId }, client);
      // The session's only user message named it; edited, it names it again (unless renamed since).
      const retitle = input.content !== undefined && previous.user_messages === '1' && title === autoTitle(previous.content);
      await client.query(`UPDATE chat.sessions SET updated_at = clock_timestamp(), title = $2 WHERE id = $1`, [
        input.sessionId,
        retitle ? autoTitle(userMessage.content) : title,
      ]);
      await client.query('COMMIT');
      return { kind: 'prepared', userMessage, assistantMessage: assistantMessage!, removed: removed.rowCount ?? 0 };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /** Oldest first; the caller has checked the session is the user's. */
  async listBySession(sessionId: string): Promise<MessageRow[]> {
    const { rows } = await this.db.query<Raw>(
      `SELECT ${COLUMNS} FROM chat.messages WHERE session_id = $1 ORDER BY created_at, id`,
      [sessionId],
    );
    return rows.map(toRow);
  }

  /** The run's session and message, if it is in one of the user's live sessions. */
  async findRun(ownerId: string, runId: string): Promise<RunOwnership | undefined> {
    const { rows } = await this.db.query<{ session_id: string; id: string }>(
      `SELECT m.session_id, m.id FROM chat.messages m JOIN chat.sessions s ON s.id = m.session_id
        WHERE m.run_id = $1 AND s.owner_id = $2 AND s.deleted_at IS NULL`,
      [runId, ownerId],
    );
    const row = rows[0];
    return row && { sessionId: row.session_id, messageId: row.id };
  }

  /** Text so far; also the heartbeat that keeps the reaper away. Never overwrites a finished row. */
  async saveProgress(id: string, content: string, reasoning: string): Promise<void> {
    await this.db.query(
      `UPDATE chat.messages SET content = $2, reasoning = $3, updated_at = clock_timestamp() WHERE id = $1 AND status = 'streaming'`,
      [id, content, reasoning],
    );
  }

  /** The answer's final state and its run.completed event, in one transaction. */
  async finish(id: string, final: FinalState): Promise<void> {
    await inTransaction(this.db, async (tx) => {
      // The session first, as every other writer does: one lock order, no deadlock.
      await tx.query(`SELECT 1 FROM chat.sessions WHERE id = (SELECT session_id FROM chat.messages WHERE id = $1) FOR UPDATE`, [id]);
      const { rows } = await tx.query<{ session_id: string; owner_id: string; run_id: string | null }>(
        `UPDATE chat.messages m SET content = $2, reasoning = $3, status = $4, finish_reason = $5,
           prompt_tokens = $6, completion_tokens = $7, updated_at = clock_timestamp()
          FROM chat.sessions s WHERE m.id = $1 AND s.id = m.session_id
         RETURNING m.session_id, s.owner_id, m.run_id`,
        [id, final.content, final.reasoning, final.status, final.finishReason, final.promptTokens, final.completionTokens],
      );
      const row = rows[0];
      // Gone (regenerated away): nothing happened that an event could describe.
      if (!row) return;
      await appendEvent(tx, runCompletedEvent({ messageId: id, sessionId: row.session_id, userId: row.owner_id, runId: row.run_id, final }));
    });
  }

  /**
   * Closes the answer of a run whose owner died, with the text its readers saw (the run log has
   * everything, the row up to the owner's last flush). Only a row still `streaming`: false if the
   * owner (or another replica) got there first.
   */
  async closeOrphanedRun(runId: string, seen: { readonly content: string; readonly reasoning: string }): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE chat.messages SET status = 'error', finish_reason = 'error', updated_at = clock_timestamp(),
         content = CASE WHEN length($2) >= length(content) THEN $2 ELSE content END,
         reasoning = CASE WHEN length($3) >= length(reasoning) THEN $3 ELSE reasoning END
       WHERE run_id = $1 AND status = 'streaming'`,
      [runId, seen.content, seen.reasoning],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Rows left `streaming` by a process that died: `error`, text kept. Returns how many. */
  async reapStale(staleAfterMs: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE chat.messages SET status = 'error', finish_reason = 'error', updated_at = clock_timestamp()
        WHERE status = 'streaming' AND updated_at < clock_timestamp() - $1::double precision * interval '1 millisecond'`,
      [staleAfterMs],
    );
    return rowCount ?? 0;
  }
}
