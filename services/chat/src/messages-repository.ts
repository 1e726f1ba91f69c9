// SQL for chat.messages: admitting a run, committing a user turn with its answer row, the assistant row a run fills in, and the reaper.
import type pg from 'pg';
import { InvalidArgumentError, type LimitCode, type PreconditionCode } from './errors.js';
import { autoTitle, DEFAULT_TITLE } from './validation.js';
import { EVENT_TYPES } from './events/domain-events.js';
import { runCompletedEvent } from './events/event-drafts.js';
import { appendEvent } from './events/outbox.js';
import type { HistoryMessage } from './prompt-plan.js';
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
  /** A failed run's error event (status `error`), kept for readers who come after its log is gone. */
  readonly error?: StoredRunError;
}

export interface StoredRunError {
  readonly code: string;
  readonly message?: string;
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

/** Why a run was not started: the session is not the user's, or a precondition or limit says no. */
export type RunRefusal = { readonly kind: 'not_found' } | { readonly kind: 'refused'; readonly code: PreconditionCode | LimitCode };

export type TurnResult = { readonly kind: 'started'; readonly userMessage: MessageRow; readonly assistantMessage: MessageRow } | RunRefusal;

export type RegenerationResult =
  | { readonly kind: 'prepared'; readonly userMessage: MessageRow; readonly assistantMessage: MessageRow; readonly removed: number }
  | RunRefusal;

/** Any value, as long as no other two-key advisory lock of the database uses it: "chat runs". */
const USER_RUNS_LOCK_CLASS = 0x63_72_75_6e;

/**
 * The admission of a new run, inside the caller's transaction. Under a transaction-scoped advisory
 * lock on the user (every replica's sends and regenerates of one user queue here, nothing else
 * waits on it) and then the session's row lock (the order every writer of the session follows):
 * the session must be the user's and live, nothing may stream in it (`run_in_progress`), and the
 * user may have fewer than `maxRunningPerUser` answers streaming anywhere (`too_many_runs`). The
 * count is of `streaming` rows in PostgreSQL, so it holds across replicas; a row a crashed replica
 * left counts until the reaper closes it (`staleAfterSeconds`).
 */
async function admitRun(
  tx: Queryable,
  input: { readonly ownerId: string; readonly sessionId: string; readonly maxRunningPerUser: number },
): Promise<{ readonly kind: 'admitted'; readonly title: string } | RunRefusal> {
  await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [USER_RUNS_LOCK_CLASS, input.ownerId]);
  const session = await tx.query<{ title: string; streaming: boolean }>(
    `SELECT title, EXISTS (SELECT 1 FROM chat.messages WHERE session_id = s.id AND status = 'streaming') AS streaming
       FROM chat.sessions s WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL FOR UPDATE`,
    [input.sessionId, input.ownerId],
  );
  const row = session.rows[0];
  if (!row) return { kind: 'not_found' };
  if (row.streaming) return { kind: 'refused', code: 'run_in_progress' };
  const running = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM chat.messages m JOIN chat.sessions s ON s.id = m.session_id
      WHERE m.status = 'streaming' AND s.owner_id = $1`,
    [input.ownerId],
  );
  if (running.rows[0]!.n >= input.maxRunningPerUser) return { kind: 'refused', code: 'too_many_runs' };
  return { kind: 'admitted', title: row.title };
}

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

export interface MessagePage {
  /** Oldest to newest within the page. */
  readonly messages: MessageRow[];
  /** Present while older messages exist. */
  readonly nextCursor: string | undefined;
}

/** PostgreSQL's exact microseconds: a JS Date would round created_at to milliseconds and repeat or skip rows. */
const CREATED_US = `(extract(epoch FROM created_at) * 1000000)::bigint::text`;

interface MessageCursor {
  readonly createdUs: string;
  readonly id: string;
}

function encodeMessageCursor(cursor: MessageCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdUs, cursor.id])).toString('base64url');
}

/** Anything but a cursor this service wrote (shape-wise) is INVALID_ARGUMENT on `before`, never a query error. */
export function decodeMessageCursor(token: string): MessageCursor {
  try {
    if (/^[A-Za-z0-9_-]{1,200}$/.test(token)) {
      const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      if (Array.isArray(value) && value.length === 2) {
        const [createdUs, id] = value as unknown[];
        if (
          typeof createdUs === 'string' &&
          /^-?\d{1,16}$/.test(createdUs) &&
          typeof id === 'string' &&
          /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)
        )
          return { createdUs, id };
      }
    }
  } catch {
    // Falls through to the same answer as any other malformed cursor.
  }
  throw new InvalidArgumentError('before', 'is not a cursor from a previous response');
}

export class MessagesRepository {
  constructor(private readonly db: pg.Pool) {}

  /**
   * One transaction for a new turn, so no regenerate can slip between the user message and its
   * answer row: admit the run (`admitRun`), add the user message, bump the session's activity
   * (naming a "New chat" session after its first user message), append `message.created`, and
   * insert the streaming answer row.
   */
  async startTurn(input: {
    ownerId: string;
    sessionId: string;
    userMessageId: string;
    content: string;
    autoTitle: string;
    assistant: Omit<AssistantRowInput, 'sessionId'>;
    maxRunningPerUser: number;
  }): Promise<TurnResult> {
    return inTransaction(this.db, async (tx) => {
      const admitted = await admitRun(tx, input);
      if (admitted.kind !== 'admitted') return admitted;
      const { rows } = await tx.query<Raw>(
        `INSERT INTO chat.messages (id, session_id, role, content, status) VALUES ($1, $2, 'user', $3, 'complete') RETURNING ${COLUMNS}`,
        [input.userMessageId, input.sessionId, input.content],
      );
      await tx.query(
        `UPDATE chat.sessions SET updated_at = clock_timestamp(),
           title = CASE WHEN title = $2 AND NOT EXISTS (
                     SELECT 1 FROM chat.messages WHERE session_id = $1 AND role = 'user' AND id <> $3)
                   THEN $4 ELSE title END
         WHERE id = $1`,
        [input.sessionId, DEFAULT_TITLE, input.userMessageId, input.autoTitle],
      );
      await appendEvent(tx, {
        type: EVENT_TYPES.messageCreated,
        sessionId: input.sessionId,
        userId: input.ownerId,
        payload: { messageId: input.userMessageId, role: 'user', contentChars: [...input.content].length },
      });
      const assistantMessage = await this.insertAssistant({ ...input.assistant, sessionId: input.sessionId }, tx);
      return { kind: 'started', userMessage: toRow(rows[0]!), assistantMessage: assistantMessage! };
    });
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
    maxRunningPerUser: number;
  }): Promise<RegenerationResult> {
    const client = await this.db.connect();
    const refuse = async (result: RegenerationResult): Promise<RegenerationResult> => {
      await client.query('ROLLBACK');
      return result;
    };
    try {
      await client.query('BEGIN');
      const admitted = await admitRun(client, input);
      if (admitted.kind !== 'admitted') return await refuse(admitted);
      const { title } = admitted;
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

  /** Every message, oldest first; the caller has checked the session is the user's. Tests only: clients page. */
  async listBySession(sessionId: string): Promise<MessageRow[]> {
    const { rows } = await this.db.query<Raw>(
      `SELECT ${COLUMNS} FROM chat.messages WHERE session_id = $1 ORDER BY created_at, id`,
      [sessionId],
    );
    return rows.map(toRow);
  }

  /**
   * One page going back in time: the newest `limit` messages older than `before` (a cursor from the
   * previous page; absent: the newest of all), returned oldest to newest so a page reads top to
   * bottom. Keyed on (created_at, id), unique and fixed per row, so messages added meanwhile never
   * shift an older page. One extra row says whether older ones exist. The caller has checked the
   * session is the user's; a cursor from another session only selects within this one.
   */
  async listPage(sessionId: string, limit: number, before: string | undefined): Promise<MessagePage> {
    const cursor = before ? decodeMessageCursor(before) : undefined;
    const { rows } = await this.db.query<Raw & { created_us: string }>(
      `SELECT ${COLUMNS}, ${CREATED_US} AS created_us FROM chat.messages
        WHERE session_id = $1
          AND ($2::bigint IS NULL OR (created_at, id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $4`,
      [sessionId, cursor?.createdUs ?? null, cursor?.id ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const oldest = page.at(-1);
    const nextCursor = rows.length > limit && oldest ? encodeMessageCursor({ createdUs: oldest.created_us, id: oldest.id }) : undefined;
    return { messages: page.reverse().map(toRow), nextCursor };
  }

  /**
   * The history a prompt can use, oldest first, ending with the answered user message: only the
   * columns the plan needs, read newest first in growing batches (8, 16, … 64 rows) from that
   * message back, stopping when `enough(rowsNewestFirst)` says older rows cannot be used or the
   * first message is reached. Content over `maxContentBytes` is not read (its length is known without
   * reading it): such a row comes back `oversized`, except the answered message, always read whole.
   * Later messages (another run's) are never read.
   */
  async readPromptHistory(
    input: { readonly sessionId: string; readonly userMessageId: string; readonly maxContentBytes: number },
    enough: (newestFirst: readonly HistoryMessage[]) => boolean,
  ): Promise<HistoryMessage[]> {
    const newestFirst: HistoryMessage[] = [];
    for (let batch = 8; ; batch = Math.min(batch * 2, 64)) {
      const from = newestFirst.at(-1);
      // The first batch starts at the answered message (inclusive), later ones before the last row read.
      const { rows } = await this.db.query<{ id: string; role: MessageRole; status: MessageStatus; content: string | null }>(
        `SELECT id, role, status, CASE WHEN id = $2 OR octet_length(content) <= $4 THEN content END AS content
           FROM chat.messages
          WHERE session_id = $1
            AND (created_at, id) ${from ? '<' : '<='} (SELECT created_at, id FROM chat.messages WHERE id = $3)
          ORDER BY created_at DESC, id DESC
          LIMIT $5`,
        [input.sessionId, input.userMessageId, from?.id ?? input.userMessageId, input.maxContentBytes, batch],
      );
      for (const r of rows)
        newestFirst.push(
          r.content === null
            ? { id: r.id, role: r.role, status: r.status, content: '', oversized: true }
            : { id: r.id, role: r.role, status: r.status, content: r.content },
        );
      if (rows.length < batch || enough(newestFirst)) return newestFirst.reverse();
    }
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

  /**
   * The run's answer row with the user message it answers (the last one before it), if the run is
   * in one of the user's live sessions: what a reader is told when the run's log is gone.
   */
  async findRunAnswer(
    ownerId: string,
    runId: string,
  ): Promise<(MessageRow & { readonly userMessageId: string; readonly error: StoredRunError | null }) | undefined> {
    const { rows } = await this.db.query<Raw & { user_message_id: string | null; error_code: string | null; error_message: string | null }>(
      `SELECT ${COLUMNS.split(', ').map((c) => `m.${c}`).join(', ')}, m.error_code, m.error_message,
              (SELECT u.id FROM chat.messages u WHERE u.session_id = m.session_id AND u.role = 'user'
                  AND (u.created_at, u.id) < (m.created_at, m.id) ORDER BY u.created_at DESC, u.id DESC LIMIT 1) AS user_message_id
         FROM chat.messages m JOIN chat.sessions s ON s.id = m.session_id
        WHERE m.run_id = $1 AND s.owner_id = $2 AND s.deleted_at IS NULL`,
      [runId, ownerId],
    );
    const row = rows[0];
    return (
      row && {
        ...toRow(row),
        userMessageId: row.user_message_id ?? '',
        error: row.error_code === null ? null : { code: row.error_code, ...(row.error_message !== null && { message: row.error_message }) },
      }
    );
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
           prompt_tokens = $6, completion_tokens = $7, error_code = $8, error_message = $9, updated_at = clock_timestamp()
          FROM chat.sessions s WHERE m.id = $1 AND s.id = m.session_id
         RETURNING m.session_id, s.owner_id, m.run_id`,
        [id, final.content, final.reasoning, final.status, final.finishReason, final.promptTokens, final.completionTokens, final.error?.code ?? null, final.error?.message ?? null],
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
