// SQL for a conversation as a tree: every message has the message it follows (`parent_id`; null for
// a first message), and a session shows one branch, the path from a root to its `current_leaf_id`.
// Editing a question or regenerating an answer adds a sibling; nothing is replaced. Branches are
// walked with recursive CTEs bounded by depth, so a read costs the rows it returns, not the tree.
import type pg from 'pg';
import { InvalidArgumentError } from './errors.js';

/** A pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/**
 * Every message column, read from a row source aliased `m`. `sibling_ids`: the ids of the messages
 * that follow the same parent (this one included), oldest first; roots are siblings of each other.
 */
export const MESSAGE_COLUMNS = `m.id, m.session_id, m.parent_id, m.role, m.content, m.reasoning, m.status, m.finish_reason,
  m.prompt_tokens, m.completion_tokens, m.run_id, m.created_at, m.first_token_ms, m.duration_ms`;
export const SIBLING_IDS = `CASE WHEN m.parent_id IS NULL
    THEN ARRAY(SELECT s.id::text FROM chat.messages s WHERE s.session_id = m.session_id AND s.parent_id IS NULL ORDER BY s.created_at, s.id)
    ELSE ARRAY(SELECT s.id::text FROM chat.messages s WHERE s.parent_id = m.parent_id ORDER BY s.created_at, s.id) END`;

/**
 * The branch from `start` up towards its root, `start` first, at most `limit` messages: a recursive
 * CTE named `branch` with the columns of `MESSAGE_COLUMNS` plus `depth` (1 at `start`). `start` is a
 * SQL expression evaluated once; a start outside `sessionParam`'s session yields nothing.
 */
export function branchUpwards(start: string, sessionParam: string, limitParam: string): string {
  return `WITH RECURSIVE branch AS (
      SELECT m.*, 1 AS depth FROM chat.messages m WHERE m.id = (${start}) AND m.session_id = ${sessionParam}
      UNION ALL
      SELECT p.*, b.depth + 1 FROM chat.messages p JOIN branch b ON p.id = b.parent_id WHERE b.depth < ${limitParam}
    )`;
}

/** The opaque `before` cursor of a branch page: the oldest message of the page before. */
export function encodeBranchCursor(messageId: string): string {
  return Buffer.from(JSON.stringify(['b', messageId])).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Anything but a cursor this service wrote (shape-wise) is INVALID_ARGUMENT on `before`, never a query error. */
export function decodeBranchCursor(token: string): string {
  try {
    if (/^[A-Za-z0-9_-]{1,200}$/.test(token)) {
      const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      if (Array.isArray(value) && value.length === 2 && value[0] === 'b' && typeof value[1] === 'string' && UUID.test(value[1])) return value[1];
    }
  } catch {
    // Falls through to the same answer as any other malformed cursor.
  }
  throw new InvalidArgumentError('before', 'is not a cursor from a previous response');
}

/**
 * The newest leaf under `messageId` (the newest child at each step, down to a message with none): the
 * leaf a session shows when the person switches to that message's branch. Undefined when the message
 * is not in the session.
 */
export async function newestLeafUnder(db: Queryable, sessionId: string, messageId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `WITH RECURSIVE down AS (
        SELECT id, 0 AS depth FROM chat.messages WHERE id = $2 AND session_id = $1
        UNION ALL
        SELECT c.id, d.depth + 1 FROM down d
         CROSS JOIN LATERAL (SELECT id FROM chat.messages WHERE parent_id = d.id ORDER BY created_at DESC, id DESC LIMIT 1) c
      )
      SELECT id FROM down ORDER BY depth DESC LIMIT 1`,
    [sessionId, messageId],
  );
  return rows[0]?.id;
}
