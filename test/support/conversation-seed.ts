// Tests that seed a long conversation with one INSERT write rows in order and then link them as one
// branch, exactly as migration 0004 linked the conversations that existed before trees.
interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** Each of the session's messages follows the one before it (created_at, id); the last is the current leaf. */
export async function linkAsOneBranch(db: Queryable, sessionId: string): Promise<void> {
  await db.query(
    `UPDATE chat.messages m SET parent_id = ordered.previous
       FROM (SELECT id, lag(id) OVER (ORDER BY created_at, id) AS previous FROM chat.messages WHERE session_id = $1) ordered
      WHERE m.id = ordered.id`,
    [sessionId],
  );
  await db.query(
    `UPDATE chat.sessions SET current_leaf_id = (SELECT id FROM chat.messages WHERE session_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1) WHERE id = $1`,
    [sessionId],
  );
}
