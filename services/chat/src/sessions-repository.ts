// SQL for chat.sessions. Every query is scoped to its owner: someone else's session is simply absent.
import type pg from 'pg';
import { InvalidArgumentError } from './errors.js';
import { EVENT_TYPES } from './events/domain-events.js';
import { appendEvent } from './events/outbox.js';
import { revokeShareLinks } from './shares-repository.js';
import { inTransaction } from './transaction.js';

export interface SessionRow {
  readonly id: string;
  readonly ownerId: string;
  readonly title: string;
  /** The last message of the branch the session shows; null before its first message. */
  readonly currentLeafId: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Where a page ends: PostgreSQL's exact microseconds (a JS Date would round them) and the id. */
interface PageCursor {
  readonly updatedUs: string;
  readonly id: string;
}

export interface SessionPage {
  readonly sessions: SessionRow[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

export const SESSION_COLUMNS = `id, owner_id, title, current_leaf_id, created_at, updated_at,
  (extract(epoch FROM updated_at) * 1000000)::bigint::text AS updated_us`;

export interface SessionRaw {
  id: string;
  owner_id: string;
  title: string;
  current_leaf_id: string | null;
  created_at: Date;
  updated_at: Date;
  updated_us: string;
}

export const sessionFromRaw = (r: SessionRaw): SessionRow => ({
  id: r.id,
  ownerId: r.owner_id,
  title: r.title,
  currentLeafId: r.current_leaf_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class SessionsRepository {
  constructor(private readonly db: pg.Pool) {}

  /** The session and its session.created event, in one transaction. */
  async create(input: { id: string; ownerId: string; title: string; titleSource: 'auto' | 'user' }): Promise<SessionRow> {
    return inTransaction(this.db, async (tx) => {
      const { rows } = await tx.query<SessionRaw>(
        `INSERT INTO chat.sessions (id, owner_id, title, title_source) VALUES ($1, $2, $3, $4) RETURNING ${SESSION_COLUMNS}`,
        [input.id, input.ownerId, input.title, input.titleSource],
      );
      await appendEvent(tx, {
        type: EVENT_TYPES.sessionCreated,
        sessionId: input.id,
        userId: input.ownerId,
        payload: { title: input.title, titleSource: input.titleSource },
      });
      return sessionFromRaw(rows[0]!);
    });
  }

  async get(ownerId: string, id: string): Promise<SessionRow | undefined> {
    const { rows } = await this.db.query<SessionRaw>(
      `SELECT ${SESSION_COLUMNS} FROM chat.sessions WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL`,
      [id, ownerId],
    );
    return rows[0] && sessionFromRaw(rows[0]);
  }

  /** Newest activity first; `pageToken` from the previous page. */
  async list(ownerId: string, limit: number, pageToken: string): Promise<SessionPage> {
    const after = pageToken ? decodeCursor(pageToken) : undefined;
    const { rows } = await this.db.query<SessionRaw>(
      `SELECT ${SESSION_COLUMNS} FROM chat.sessions
        WHERE owner_id = $1 AND deleted_at IS NULL
          AND ($2::bigint IS NULL OR (updated_at, id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::uuid))
        ORDER BY updated_at DESC, id DESC
        LIMIT $4`,
      [ownerId, after?.updatedUs ?? null, after?.id ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextPageToken = rows.length > limit && last ? encodeCursor({ updatedUs: last.updated_us, id: last.id }) : '';
    return { sessions: page.map(sessionFromRaw), nextPageToken };
  }

  async rename(ownerId: string, id: string, title: string): Promise<SessionRow | undefined> {
    const { rows } = await this.db.query<SessionRaw>(
      `UPDATE chat.sessions SET title = $3, title_source = 'user', updated_at = clock_timestamp()
        WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL RETURNING ${SESSION_COLUMNS}`,
      [id, ownerId, title],
    );
    return rows[0] && sessionFromRaw(rows[0]);
  }

  /** True if a live session was deleted now (with its session.deleted event, in one transaction). */
  async softDelete(ownerId: string, id: string): Promise<boolean> {
    return inTransaction(this.db, async (tx) => {
      const { rowCount } = await tx.query(
        `UPDATE chat.sessions SET deleted_at = clock_timestamp() WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL`,
        [id, ownerId],
      );
      if (rowCount !== 1) return false;
      // Its share links stop working with it.
      await revokeShareLinks(tx, id);
      await appendEvent(tx, { type: EVENT_TYPES.sessionDeleted, sessionId: id, userId: ownerId, payload: {} });
      return true;
    });
  }
}

function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.updatedUs, cursor.id])).toString('base64url');
}

function decodeCursor(token: string): PageCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2) {
      const [updatedUs, id] = value as unknown[];
      if (typeof updatedUs === 'string' && /^-?\d{1,19}$/.test(updatedUs) && typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id))
        return { updatedUs, id };
    }
  } catch {
    // Falls through to the same answer as any other malformed token.
  }
  throw new InvalidArgumentError('page_token', 'is not a token from a previous response');
}
