// SQL for whole conversations: a session's every message (export), a user's sessions, and the
// sessions an import creates, written in one transaction.
import type pg from 'pg';
import { EVENT_TYPES } from './events/domain-events.js';
import { appendEvent } from './events/outbox.js';
import type { PlannedSession } from './import-plan.js';
import { MESSAGE_COLUMNS, type Queryable } from './message-tree.js';
import { messageFromRaw, type MessageRaw, type MessageRow } from './messages-repository.js';
import { sessionFromRaw, SESSION_COLUMNS, type SessionRaw, type SessionRow } from './sessions-repository.js';
import { inTransaction } from './transaction.js';
import { parentsFirst } from './tree-order.js';

export class ConversationsRepository {
  constructor(private readonly db: pg.Pool) {}

  /** Every message of the session, parents before children, oldest first. The caller has checked the session is the user's. */
  async tree(sessionId: string, db: Queryable = this.db): Promise<MessageRow[]> {
    const { rows } = await db.query<MessageRaw>(
      `SELECT ${MESSAGE_COLUMNS} FROM chat.messages m WHERE m.session_id = $1 ORDER BY m.created_at, m.id`,
      [sessionId],
    );
    return parentsFirst(rows.map(messageFromRaw));
  }

  /** The user's live sessions, oldest first. */
  async sessions(ownerId: string): Promise<SessionRow[]> {
    const { rows } = await this.db.query<SessionRaw>(
      `SELECT ${SESSION_COLUMNS} FROM chat.sessions WHERE owner_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`,
      [ownerId],
    );
    return rows.map(sessionFromRaw);
  }

  /**
   * The planned sessions with their messages, the user's, in one transaction: all or nothing. Named
   * by the file (title_source 'user'), so the title writer leaves them alone.
   */
  async insertImport(ownerId: string, sessions: readonly PlannedSession[]): Promise<void> {
    await inTransaction(this.db, async (tx) => {
      for (const session of sessions) {
        await tx.query(
          `INSERT INTO chat.sessions (id, owner_id, title, title_source, created_at, updated_at) VALUES ($1, $2, $3, 'user', $4, $5)`,
          [session.id, ownerId, session.title, session.createdAt, session.updatedAt],
        );
        const m = session.messages;
        // One statement per session; foreign keys are checked at its end, so order within it does not matter.
        if (m.length > 0)
          await tx.query(
            `INSERT INTO chat.messages (id, session_id, parent_id, role, content, reasoning, status, created_at, updated_at)
             SELECT id, $1, parent_id, role, content, reasoning, status, created_at, created_at
               FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
                 AS t(id, parent_id, role, content, reasoning, status, created_at)`,
            [
              session.id,
              m.map((x) => x.id),
              m.map((x) => x.parentId),
              m.map((x) => x.role),
              m.map((x) => x.content),
              m.map((x) => x.reasoning),
              m.map((x) => x.status),
              m.map((x) => x.createdAt),
            ],
          );
        if (session.currentLeafId !== null)
          await tx.query(`UPDATE chat.sessions SET current_leaf_id = $2 WHERE id = $1`, [session.id, session.currentLeafId]);
        await appendEvent(tx, {
          type: EVENT_TYPES.sessionCreated,
          sessionId: session.id,
          userId: ownerId,
          payload: { title: session.title, titleSource: 'user' },
        });
      }
    });
  }
}
