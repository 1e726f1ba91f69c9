// SQL for chat.shared_snapshots: read-only links to a branch as it was when shared. Revoked rows stay
// (who shared what, when) but are never served; a token is looked up only among live links of live
// sessions.
import type pg from 'pg';
import { branchUpwards, MESSAGE_COLUMNS, type Queryable } from './message-tree.js';
import { messageFromRaw, type MessageRaw, type MessageRow } from './messages-repository.js';
import { readSnapshot, type ShareSnapshot } from './share-snapshot.js';

/** More than any branch holds: the bound only keeps a corrupt tree from walking forever. */
const MAX_BRANCH_DEPTH = 100_000;

export interface ShareLinkRow {
  readonly token: string;
  readonly createdAt: Date;
}

/** Inside the caller's transaction (deleting a session): every live link of the session revoked. */
export async function revokeShareLinks(db: Queryable, sessionId: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE chat.shared_snapshots SET revoked_at = clock_timestamp() WHERE session_id = $1 AND revoked_at IS NULL`,
    [sessionId],
  );
  return rowCount ?? 0;
}

export class SharesRepository {
  constructor(private readonly db: pg.Pool) {}

  /** The session's current branch, first message first. The caller has checked the session is the user's. */
  async currentBranch(sessionId: string): Promise<MessageRow[]> {
    const { rows } = await this.db.query<MessageRaw>(
      `${branchUpwards('SELECT current_leaf_id FROM chat.sessions WHERE id = $1', '$1', '$2')}
       SELECT ${MESSAGE_COLUMNS} FROM branch m ORDER BY m.depth DESC`,
      [sessionId, MAX_BRANCH_DEPTH],
    );
    return rows.map(messageFromRaw);
  }

  async create(input: { token: string; sessionId: string; userId: string; snapshot: ShareSnapshot }): Promise<ShareLinkRow> {
    const { rows } = await this.db.query<{ token: string; created_at: Date }>(
      `INSERT INTO chat.shared_snapshots (token, session_id, user_id, snapshot) VALUES ($1, $2, $3, $4) RETURNING token, created_at`,
      [input.token, input.sessionId, input.userId, JSON.stringify(input.snapshot)],
    );
    return { token: rows[0]!.token, createdAt: rows[0]!.created_at };
  }

  /** Live links, newest first. */
  async list(sessionId: string): Promise<ShareLinkRow[]> {
    const { rows } = await this.db.query<{ token: string; created_at: Date }>(
      `SELECT token, created_at FROM chat.shared_snapshots WHERE session_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC`,
      [sessionId],
    );
    return rows.map((r) => ({ token: r.token, createdAt: r.created_at }));
  }

  revokeAll(sessionId: string): Promise<number> {
    return revokeShareLinks(this.db, sessionId);
  }

  /** A live link's snapshot; undefined when unknown, revoked, or its session deleted. */
  async snapshot(token: string): Promise<{ readonly snapshot: ShareSnapshot; readonly createdAt: Date } | undefined> {
    const { rows } = await this.db.query<{ snapshot: unknown; created_at: Date }>(
      `SELECT l.snapshot, l.created_at FROM chat.shared_snapshots l JOIN chat.sessions s ON s.id = l.session_id
        WHERE l.token = $1 AND l.revoked_at IS NULL AND s.deleted_at IS NULL`,
      [token],
    );
    const row = rows[0];
    return row && { snapshot: readSnapshot(row.snapshot), createdAt: row.created_at };
  }
}
