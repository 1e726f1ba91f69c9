// SQL for chat.messages: admitting a run, committing a user turn with its answer row, answering or
// editing any message of the tree again, the assistant row a run fills in, and the reaper.
import type pg from 'pg';
import type { LimitCode, PreconditionCode } from './errors.js';
import { autoTitle, DEFAULT_TITLE } from './validation.js';
import { EVENT_TYPES } from './events/domain-events.js';
import { runCompletedEvent } from './events/event-drafts.js';
import { appendEvent } from './events/outbox.js';
import { branchUpwards, decodeBranchCursor, encodeBranchCursor, MESSAGE_COLUMNS, newestLeafUnder, SIBLING_IDS, type Queryable } from './message-tree.js';
import type { HistoryMessage } from './prompt-plan.js';
import { inTransaction } from './transaction.js';

export type MessageRole = 'user' | 'assistant';
export type MessageStatus = 'complete' | 'streaming' | 'stopped' | 'error';
export type StoredFinishReason = 'stop' | 'length' | 'cancelled' | 'error';

export interface MessageRow {
  readonly id: string;
  readonly sessionId: string;
  /** The message this one follows; null for a first message (a root). */
  readonly parentId: string | null;
  readonly role: MessageRole;
  readonly content: string;
  readonly reasoning: string;
  readonly status: MessageStatus;
  readonly finishReason: StoredFinishReason | null;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
  readonly runId: string | null;
  readonly createdAt: Date;
  /** An ended answer's timings; null before it ends, and for answers stored before timings were. */
  readonly timings: AnswerTimings | null;
}

/** Milliseconds from the run's start: to its first text (null when none came), and to its end. */
export interface AnswerTimings {
  readonly firstTokenMs: number | null;
  readonly durationMs: number;
}

/** The stored form of a run's clock readings. */
export function answerTimings(t: { readonly startedAt: Date; readonly firstTokenAt: Date | null; readonly endedAt: Date }): AnswerTimings {
  const since = (at: Date) => Math.max(0, Math.round(at.getTime() - t.startedAt.getTime()));
  return { firstTokenMs: t.firstTokenAt ? since(t.firstTokenAt) : null, durationMs: since(t.endedAt) };
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

export interface AssistantRowInput {
  readonly id: string;
  readonly sessionId: string;
  /** The user message it answers. */
  readonly parentId: string;
  readonly runId: string;
}

/**
 * Why a run was not started: the session is not the user's, the message to answer again is not in
 * it, or a precondition or limit says no.
 */
export type RunRefusal =
  | { readonly kind: 'not_found' }
  | { readonly kind: 'message_not_found' }
  | { readonly kind: 'refused'; readonly code: PreconditionCode | LimitCode };

export type TurnResult = { readonly kind: 'started'; readonly userMessage: MessageRow; readonly assistantMessage: MessageRow } | RunRefusal;

export type ContinuationResult =
  | { readonly kind: 'prepared'; readonly userMessage: MessageRow; readonly assistantMessage: MessageRow }
  | RunRefusal;

export type ForkResult =
  | { readonly kind: 'forked'; readonly sessionId: string }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'message_not_found' }
  | { readonly kind: 'refused'; readonly code: 'run_in_progress' };

export type RegenerationResult =
  | { readonly kind: 'prepared'; readonly userMessage: MessageRow; readonly assistantMessage: MessageRow }
  | RunRefusal;

/** A message on the session's current branch, with its siblings (for `‹ 2/3 ›`). */
export interface BranchMessageRow extends MessageRow {
  /** Every message following the same parent, this one included, oldest first. */
  readonly siblingIds: readonly string[];
}

/** A branch deeper than this is copied only this far up (the fork then starts there): far beyond any real conversation. */
const MAX_FORK_DEPTH = 100_000;

/** The source's title, marked as a fork, within the 200 characters a title may have. */
export function forkedTitle(title: string): string {
  const mark = ' (fork)';
  const chars = [...title];
  return (chars.length + mark.length > 200 ? chars.slice(0, 200 - mark.length).join('') : title) + mark;
}

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
): Promise<{ readonly kind: 'admitted'; readonly title: string; readonly currentLeafId: string | null } | RunRefusal> {
  await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [USER_RUNS_LOCK_CLASS, input.ownerId]);
  const session = await tx.query<{ title: string; current_leaf_id: string | null; streaming: boolean }>(
    `SELECT title, current_leaf_id, EXISTS (SELECT 1 FROM chat.messages WHERE session_id = s.id AND status = 'streaming') AS streaming
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
  return { kind: 'admitted', title: row.title, currentLeafId: row.current_leaf_id };
}

const COLUMNS = `id, session_id, parent_id, role, content, reasoning, status, finish_reason, prompt_tokens, completion_tokens, run_id, created_at,
  first_token_ms, duration_ms`;

export interface MessageRaw {
  id: string;
  session_id: string;
  parent_id: string | null;
  role: MessageRole;
  content: string;
  reasoning: string;
  status: MessageStatus;
  finish_reason: StoredFinishReason | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  run_id: string | null;
  created_at: Date;
  first_token_ms: number | null;
  duration_ms: number | null;
}

export const messageFromRaw = (r: MessageRaw): MessageRow => ({
  id: r.id,
  sessionId: r.session_id,
  parentId: r.parent_id,
  role: r.role,
  content: r.content,
  reasoning: r.reasoning,
  status: r.status,
  finishReason: r.finish_reason,
  promptTokens: r.prompt_tokens,
  completionTokens: r.completion_tokens,
  runId: r.run_id,
  createdAt: r.created_at,
  timings: r.duration_ms === null ? null : { firstTokenMs: r.first_token_ms, durationMs: r.duration_ms },
});

interface HistoryRow {
  id: string;
  parent_id: string | null;
  role: MessageRole;
  status: MessageStatus;
  /** Null when it was too long to be worth reading. */
  content: string | null;
}

export interface MessagePage {
  /** Oldest to newest within the page: a stretch of the current branch. */
  readonly messages: BranchMessageRow[];
  /** Present while the branch goes on further back. */
  readonly nextCursor: string | undefined;
}

/** The session's live row, locked, and the answer row set as its current leaf: every new run's last write. */
async function showLeaf(tx: Queryable, sessionId: string, leafId: string, title: string): Promise<void> {
  await tx.query(`UPDATE chat.sessions SET updated_at = clock_timestamp(), title = $3, current_leaf_id = $2 WHERE id = $1`, [sessionId, leafId, title]);
}

/** A user message and its `message.created` event, inside the caller's transaction. */
async function insertUserMessage(
  tx: Queryable,
  input: { readonly id: string; readonly sessionId: string; readonly ownerId: string; readonly parentId: string | null; readonly content: string },
): Promise<MessageRow> {
  const { rows } = await tx.query<MessageRaw>(
    `INSERT INTO chat.messages (id, session_id, parent_id, role, content, status) VALUES ($1, $2, $3, 'user', $4, 'complete') RETURNING ${COLUMNS}`,
    [input.id, input.sessionId, input.parentId, input.content],
  );
  await appendEvent(tx, {
    type: EVENT_TYPES.messageCreated,
    sessionId: input.sessionId,
    userId: input.ownerId,
    payload: { messageId: input.id, role: 'user', contentChars: [...input.content].length },
  });
  return messageFromRaw(rows[0]!);
}

export class MessagesRepository {
  constructor(private readonly db: pg.Pool) {}

  /**
   * One transaction for a new turn, so no regenerate can slip between the user message and its
   * answer row: admit the run (`admitRun`), add the user message after the session's current leaf,
   * append `message.created`, insert the streaming answer row after it, and show that answer as the
   * session's leaf (bumping its activity, and naming a "New chat" session after its first message).
   */
  async startTurn(input: {
    ownerId: string;
    sessionId: string;
    userMessageId: string;
    content: string;
    autoTitle: string;
    assistant: Omit<AssistantRowInput, 'sessionId' | 'parentId'>;
    maxRunningPerUser: number;
  }): Promise<TurnResult> {
    return inTransaction(this.db, async (tx) => {
      const admitted = await admitRun(tx, input);
      if (admitted.kind !== 'admitted') return admitted;
      const userMessage = await insertUserMessage(tx, {
        id: input.userMessageId,
        sessionId: input.sessionId,
        ownerId: input.ownerId,
        parentId: admitted.currentLeafId,
        content: input.content,
      });
      const assistantMessage = await this.insertAssistant({ ...input.assistant, sessionId: input.sessionId, parentId: userMessage.id }, tx);
      const first = admitted.currentLeafId === null && admitted.title === DEFAULT_TITLE;
      await showLeaf(tx, input.sessionId, assistantMessage!.id, first ? input.autoTitle : admitted.title);
      return { kind: 'started', userMessage, assistantMessage: assistantMessage! };
    });
  }

  /** The run's row, unless the session was deleted since the user message was committed. */
  async insertAssistant(input: AssistantRowInput, db: Queryable = this.db): Promise<MessageRow | undefined> {
    const { rows } = await db.query<MessageRaw>(
      `INSERT INTO chat.messages (id, session_id, parent_id, role, status, run_id)
       SELECT $1, $2, $3, 'assistant', 'streaming', $4 FROM chat.sessions WHERE id = $2 AND deleted_at IS NULL
       RETURNING ${COLUMNS}`,
      [input.id, input.sessionId, input.parentId, input.runId],
    );
    return rows[0] && messageFromRaw(rows[0]);
  }

  /**
   * Answers a user message again, in one transaction, adding to the tree and deleting nothing:
   * `messageId` names the user message, or an answer (its user message is answered again); absent,
   * the current branch's last user message. With `content`, the question is edited: a new user
   * message beside it (same parent) carries the text, and that one is answered. The new answer
   * becomes the session's current leaf. Refused like a new turn (`admitRun`), with
   * `nothing_to_regenerate` when the branch has no user message, and `message_not_found` when
   * `messageId` is not in the session.
   */
  async prepareRegeneration(input: {
    ownerId: string;
    sessionId: string;
    messageId: string | undefined;
    content: string | undefined;
    userMessageId: string;
    assistant: Omit<AssistantRowInput, 'sessionId' | 'parentId'>;
    maxRunningPerUser: number;
  }): Promise<RegenerationResult> {
    return inTransaction(this.db, async (tx) => {
      const admitted = await admitRun(tx, input);
      if (admitted.kind !== 'admitted') return admitted;
      const target = await this.questionToAnswer(tx, input.sessionId, input.messageId, admitted.currentLeafId);
      if (target.kind !== 'found') return target;
      let question = target.question;
      let title = admitted.title;
      if (input.content !== undefined) {
        question = await insertUserMessage(tx, {
          id: input.userMessageId,
          sessionId: input.sessionId,
          ownerId: input.ownerId,
          parentId: target.question.parentId,
          content: input.content,
        });
        // A first question named the session; edited, it names it again (unless renamed since).
        if (target.question.parentId === null && title === autoTitle(target.question.content)) title = autoTitle(input.content);
      }
      const assistantMessage = await this.insertAssistant({ ...input.assistant, sessionId: input.sessionId, parentId: question.id }, tx);
      await showLeaf(tx, input.sessionId, assistantMessage!.id, title);
      return { kind: 'prepared', userMessage: question, assistantMessage: assistantMessage! };
    });
  }

  /**
   * Reopens an answer the token limit cut, in one transaction, for a run that goes on writing it:
   * admitted like a new turn (`admitRun`), then the answer must be an assistant message of the
   * session, ended with finish reason `length`, and have nothing after it (`not_continuable`
   * otherwise). It streams again under `runId`, keeping its text, and becomes the current leaf.
   * Returns it as it was before (status, finish reason and timings: what the run goes on from).
   */
  async prepareContinuation(input: {
    ownerId: string;
    sessionId: string;
    messageId: string;
    runId: string;
    maxRunningPerUser: number;
  }): Promise<ContinuationResult> {
    return inTransaction(this.db, async (tx) => {
      const admitted = await admitRun(tx, input);
      if (admitted.kind !== 'admitted') return admitted;
      const { rows } = await tx.query<MessageRaw & { has_children: boolean }>(
        `SELECT ${COLUMNS}, EXISTS (SELECT 1 FROM chat.messages c WHERE c.parent_id = m.id) AS has_children
           FROM chat.messages m WHERE id = $2 AND session_id = $1`,
        [input.sessionId, input.messageId],
      );
      const found = rows[0];
      if (!found) return { kind: 'message_not_found' };
      const answer = messageFromRaw(found);
      if (answer.role !== 'assistant' || answer.finishReason !== 'length' || found.has_children || answer.parentId === null)
        return { kind: 'refused', code: 'not_continuable' };
      const question = await tx.query<MessageRaw>(`SELECT ${COLUMNS} FROM chat.messages WHERE id = $1`, [answer.parentId]);
      await tx.query(
        `UPDATE chat.messages SET status = 'streaming', run_id = $2, finish_reason = NULL, error_code = NULL, error_message = NULL,
           updated_at = clock_timestamp() WHERE id = $1`,
        [answer.id, input.runId],
      );
      await showLeaf(tx, input.sessionId, answer.id, admitted.title);
      return { kind: 'prepared', userMessage: messageFromRaw(question.rows[0]!), assistantMessage: answer };
    });
  }

  private async questionToAnswer(
    tx: Queryable,
    sessionId: string,
    messageId: string | undefined,
    leafId: string | null,
  ): Promise<{ readonly kind: 'found'; readonly question: MessageRow } | RunRefusal> {
    if (messageId === undefined) {
      // The current branch's last user message: the leaf, or one of the few rows above it.
      const { rows } = await tx.query<MessageRaw>(
        `${branchUpwards('$2::uuid', '$1', '8')} SELECT ${MESSAGE_COLUMNS} FROM branch m WHERE m.role = 'user' ORDER BY m.depth LIMIT 1`,
        [sessionId, leafId],
      );
      return rows[0] ? { kind: 'found', question: messageFromRaw(rows[0]) } : { kind: 'refused', code: 'nothing_to_regenerate' };
    }
    const { rows } = await tx.query<MessageRaw>(
      `SELECT ${MESSAGE_COLUMNS.replaceAll('m.', 'q.')} FROM chat.messages m
         JOIN chat.messages q ON q.id = CASE WHEN m.role = 'user' THEN m.id ELSE m.parent_id END
        WHERE m.id = $2 AND m.session_id = $1`,
      [sessionId, messageId],
    );
    return rows[0] ? { kind: 'found', question: messageFromRaw(rows[0]) } : { kind: 'message_not_found' };
  }

  /**
   * A new session of the owner's holding a copy of the branch that ends at `messageId` (that message
   * and those above it, text, status and numbers kept, new ids, no runs), shown from that message;
   * named like the source with " (fork)" after it, with the source's system prompt and model, and
   * with its `session.created` event. One
   * transaction; the source is untouched. `not_found` for a session not the owner's,
   * `message_not_found` outside it, `run_in_progress` at an answer still being written.
   */
  async forkBranch(input: { ownerId: string; sessionId: string; messageId: string; newSessionId: string }): Promise<ForkResult> {
    return inTransaction(this.db, async (tx) => {
      const source = await tx.query<{ title: string }>(
        `SELECT title FROM chat.sessions WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL FOR SHARE`,
        [input.sessionId, input.ownerId],
      );
      const title = source.rows[0]?.title;
      if (title === undefined) return { kind: 'not_found' };
      const target = await tx.query<{ status: MessageStatus }>(`SELECT status FROM chat.messages WHERE id = $2 AND session_id = $1`, [input.sessionId, input.messageId]);
      const status = target.rows[0]?.status;
      if (status === undefined) return { kind: 'message_not_found' };
      if (status === 'streaming') return { kind: 'refused', code: 'run_in_progress' };
      const forkTitle = forkedTitle(title);
      // The conversation's own settings (system prompt, model) go with it; pins and tags do not.
      await tx.query(
        `INSERT INTO chat.sessions (id, owner_id, title, title_source, system_prompt, model)
         SELECT $1, owner_id, $3, 'user', system_prompt, model FROM chat.sessions WHERE id = $2`,
        [input.newSessionId, input.sessionId, forkTitle],
      );
      await appendEvent(tx, { type: EVENT_TYPES.sessionCreated, sessionId: input.newSessionId, userId: input.ownerId, payload: { title: forkTitle, titleSource: 'user' } });
      // New ids first (one per copied message), then rows pointing at their parents' new ids.
      const { rows } = await tx.query<{ leaf: string }>(
        `${branchUpwards('$2::uuid', '$1', '$4')},
         ids AS MATERIALIZED (SELECT id AS old_id, gen_random_uuid() AS new_id FROM branch),
         copied AS (
           INSERT INTO chat.messages (id, session_id, parent_id, role, content, reasoning, status, finish_reason, prompt_tokens,
             completion_tokens, created_at, error_code, error_message, first_token_ms, duration_ms)
           SELECT i.new_id, $3, p.new_id, b.role, b.content, b.reasoning, b.status, b.finish_reason, b.prompt_tokens,
             b.completion_tokens, b.created_at, b.error_code, b.error_message, b.first_token_ms, b.duration_ms
             FROM branch b JOIN ids i ON i.old_id = b.id LEFT JOIN ids p ON p.old_id = b.parent_id
           RETURNING 1)
         SELECT new_id AS leaf FROM ids WHERE old_id = $2 AND (SELECT count(*) FROM copied) > 0`,
        [input.sessionId, input.messageId, input.newSessionId, MAX_FORK_DEPTH],
      );
      await tx.query(`UPDATE chat.sessions SET current_leaf_id = $2 WHERE id = $1`, [input.newSessionId, rows[0]!.leaf]);
      return { kind: 'forked', sessionId: input.newSessionId };
    });
  }

  /**
   * Shows the branch through `messageId`: the session's current leaf becomes the newest message
   * under it (see `newestLeafUnder`). False when the message is not in the session. The caller has
   * checked the session is the user's.
   */
  async selectBranch(sessionId: string, messageId: string): Promise<boolean> {
    return inTransaction(this.db, async (tx) => {
      await tx.query(`SELECT 1 FROM chat.sessions WHERE id = $1 FOR UPDATE`, [sessionId]);
      const leaf = await newestLeafUnder(tx, sessionId, messageId);
      if (!leaf) return false;
      await tx.query(`UPDATE chat.sessions SET current_leaf_id = $2 WHERE id = $1`, [sessionId, leaf]);
      return true;
    });
  }

  /** What a run of the session asks the model with: its system prompt and model (empty: the defaults). */
  async runSettings(sessionId: string): Promise<{ readonly systemPrompt: string; readonly model: string }> {
    const { rows } = await this.db.query<{ system_prompt: string; model: string }>(`SELECT system_prompt, model FROM chat.sessions WHERE id = $1`, [sessionId]);
    return { systemPrompt: rows[0]?.system_prompt ?? '', model: rows[0]?.model ?? '' };
  }

  /** Which of these sessions have an answer being written now (the few `streaming` rows, by their index). */
  async answeringSessions(sessionIds: readonly string[]): Promise<ReadonlySet<string>> {
    if (sessionIds.length === 0) return new Set();
    const { rows } = await this.db.query<{ session_id: string }>(
      `SELECT DISTINCT session_id FROM chat.messages WHERE status = 'streaming' AND session_id = ANY($1::uuid[])`,
      [sessionIds],
    );
    return new Set(rows.map((r) => r.session_id));
  }

  /** Every message, oldest first; the caller has checked the session is the user's. Tests only: clients page. */
  async listBySession(sessionId: string): Promise<MessageRow[]> {
    const { rows } = await this.db.query<MessageRaw>(
      `SELECT ${COLUMNS} FROM chat.messages WHERE session_id = $1 ORDER BY created_at, id`,
      [sessionId],
    );
    return rows.map(messageFromRaw);
  }

  /**
   * One page of the session's current branch going back in time: the `limit` messages above
   * `before` (a cursor from the previous page; absent: from the current leaf), returned oldest to
   * newest so a page reads top to bottom, each with its siblings. Pages follow parent links, so a
   * message added meanwhile never shifts an older page. One extra row says whether the branch goes
   * on. The caller has checked the session is the user's; a cursor from another session finds nothing.
   */
  async listPage(sessionId: string, limit: number, before: string | undefined): Promise<MessagePage> {
    const cursor = before === undefined ? undefined : decodeBranchCursor(before);
    const start = cursor
      ? `SELECT parent_id FROM chat.messages WHERE id = $2::uuid AND session_id = $1`
      : `SELECT current_leaf_id FROM chat.sessions WHERE id = $1 AND $2::uuid IS NULL`;
    const { rows } = await this.db.query<MessageRaw & { sibling_ids: string[] }>(
      `${branchUpwards(start, '$1', '$3')} SELECT ${MESSAGE_COLUMNS}, ${SIBLING_IDS} AS sibling_ids FROM branch m ORDER BY m.depth`,
      [sessionId, cursor ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const oldest = page.at(-1);
    const nextCursor = rows.length > limit && oldest ? encodeBranchCursor(oldest.id) : undefined;
    return { messages: page.reverse().map((r) => ({ ...messageFromRaw(r), siblingIds: r.sibling_ids })), nextCursor };
  }

  /**
   * The history a prompt can use, oldest first, ending with the answered user message: its branch
   * (the message and those above it, never a sibling's), only the columns the plan needs, read
   * upwards in growing batches (8, 16, … 64 rows) until `enough(rowsNewestFirst)` says older rows
   * cannot be used or the first message is reached. Content over `maxContentBytes` is not read (its
   * length is known without reading it): such a row comes back `oversized`, except the answered
   * message, always read whole.
   */
  async readPromptHistory(
    input: { readonly sessionId: string; readonly userMessageId: string; readonly maxContentBytes: number },
    enough: (newestFirst: readonly HistoryMessage[]) => boolean,
  ): Promise<HistoryMessage[]> {
    const newestFirst: HistoryMessage[] = [];
    let from: string | null = input.userMessageId;
    for (let batch = 8; from !== null; batch = Math.min(batch * 2, 64)) {
      const { rows }: pg.QueryResult<HistoryRow> = await this.db.query<HistoryRow>(
        `${branchUpwards('$2::uuid', '$1', '$5')}
         SELECT id, parent_id, role, status, CASE WHEN id = $3 OR octet_length(content) <= $4 THEN content END AS content
           FROM branch ORDER BY depth`,
        [input.sessionId, from, input.userMessageId, input.maxContentBytes, batch],
      );
      for (const r of rows)
        newestFirst.push(
          r.content === null
            ? { id: r.id, role: r.role, status: r.status, content: '', oversized: true }
            : { id: r.id, role: r.role, status: r.status, content: r.content },
        );
      from = rows.length < batch ? null : (rows.at(-1)?.parent_id ?? null);
      if (enough(newestFirst)) break;
    }
    return newestFirst.reverse();
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
   * The run's answer row with the user message it answers (its parent), if the run is in one of the
   * user's live sessions: what a reader is told when the run's log is gone.
   */
  async findRunAnswer(
    ownerId: string,
    runId: string,
  ): Promise<(MessageRow & { readonly userMessageId: string; readonly error: StoredRunError | null }) | undefined> {
    const { rows } = await this.db.query<MessageRaw & { user_message_id: string | null; error_code: string | null; error_message: string | null }>(
      `SELECT ${MESSAGE_COLUMNS}, m.error_code, m.error_message, m.parent_id AS user_message_id
         FROM chat.messages m JOIN chat.sessions s ON s.id = m.session_id
        WHERE m.run_id = $1 AND s.owner_id = $2 AND s.deleted_at IS NULL`,
      [runId, ownerId],
    );
    const row = rows[0];
    return (
      row && {
        ...messageFromRaw(row),
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
    const timings = final.timings && answerTimings(final.timings);
    await inTransaction(this.db, async (tx) => {
      // The session first, as every other writer does: one lock order, no deadlock.
      await tx.query(`SELECT 1 FROM chat.sessions WHERE id = (SELECT session_id FROM chat.messages WHERE id = $1) FOR UPDATE`, [id]);
      const { rows } = await tx.query<{ session_id: string; owner_id: string; run_id: string | null }>(
        `UPDATE chat.messages m SET content = $2, reasoning = $3, status = $4, finish_reason = $5,
           prompt_tokens = $6, completion_tokens = $7, error_code = $8, error_message = $9,
           first_token_ms = $10, duration_ms = $11, updated_at = clock_timestamp()
          FROM chat.sessions s WHERE m.id = $1 AND s.id = m.session_id
         RETURNING m.session_id, s.owner_id, m.run_id`,
        [id, final.content, final.reasoning, final.status, final.finishReason, final.promptTokens, final.completionTokens, final.error?.code ?? null, final.error?.message ?? null, timings?.firstTokenMs ?? null, timings?.durationMs ?? null],
      );
      const row = rows[0];
      // No such row (nothing deletes answers; a caller's mistake): nothing an event could describe.
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
