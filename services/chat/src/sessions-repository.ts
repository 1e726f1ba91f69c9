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
  readonly pinned: boolean;
  readonly tags: readonly string[];
  readonly systemPrompt: string;
  readonly model: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What an update changes: absent fields stay as they are. Values are validated already. */
export interface SessionChanges {
  readonly title?: string | undefined;
  readonly pinned?: boolean | undefined;
  readonly tags?: readonly string[] | undefined;
  readonly systemPrompt?: string | undefined;
  readonly model?: string | undefined;
}

/** Where a page ends, in the list's order: pinned, PostgreSQL's exact microseconds (a JS Date would round them), the id. */
interface PageCursor {
  readonly pinned: boolean;
  readonly updatedUs: string;
  readonly id: string;
}

export interface SessionPage {
  readonly sessions: SessionRow[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

export const SESSION_COLUMNS = `id, owner_id, title, current_leaf_id, pinned, tags, system_prompt, model, created_at, updated_at,
  (extract(epoch FROM updated_at) * 1000000)::bigint::text AS updated_us`;

export interface SessionRaw {
  id: string;
  owner_id: string;
  title: string;
  current_leaf_id: string | null;
  pinned: boolean;
  tags: string[];
  system_prompt: string;
  model: string;
  created_at: Date;
  updated_at: Date;
  updated_us: string;
}

export const sessionFromRaw = (r: SessionRaw): SessionRow => ({
  id: r.id,
  ownerId: r.owner_id,
  title: r.title,
  currentLeafId: r.current_leaf_id,
  pinned: r.pinned,
  tags: r.tags,
  systemPrompt: r.system_prompt,
  model: r.model,
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

  /**
   * Pinned first, then newest activity; `pageToken` from the previous page (its cursor carries
   * `pinned`, so a page boundary between the pinned and the others is kept exactly). With `tag`
   * (normalised), only the sessions that have it.
   */
  async list(ownerId: string, limit: number, pageToken: string, tag?: string): Promise<SessionPage> {
    const after = pageToken ? decodeCursor(pageToken) : undefined;
    const { rows } = await this.db.query<SessionRaw>(
      `SELECT ${SESSION_COLUMNS} FROM chat.sessions
        WHERE owner_id = $1 AND deleted_at IS NULL
          AND ($2::boolean IS NULL
               OR (pinned, updated_at, id) < ($2::boolean, 'epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4::uuid))
          AND ($5::text IS NULL OR tags @> ARRAY[$5::text])
        ORDER BY pinned DESC, updated_at DESC, id DESC
        LIMIT $6`,
      [ownerId, after?.pinned ?? null, after?.updatedUs ?? null, after?.id ?? null, tag ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextPageToken = rows.length > limit && last ? encodeCursor({ pinned: last.pinned, updatedUs: last.updated_us, id: last.id }) : '';
    return { sessions: page.map(sessionFromRaw), nextPageToken };
  }

  /**
   * Changes the given fields only. A new title is the owner's (the title writer leaves it alone)
   * and counts as activity; the other fields do not move the session in the list.
   */
  async update(ownerId: string, id: string, changes: SessionChanges): Promise<SessionRow | undefined> {
    const { rows } = await this.db.query<SessionRaw>(
      `UPDATE chat.sessions
          SET title = coalesce($3, title),
              title_source = CASE WHEN $3::text IS NULL THEN title_source ELSE 'user' END,
              updated_at = CASE WHEN $3::text IS NULL THEN updated_at ELSE clock_timestamp() END,
              pinned = coalesce($4, pinned),
              tags = coalesce($5::text[], tags),
              system_prompt = coalesce($6, system_prompt),
              model = coalesce($7, model)
        WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL RETURNING ${SESSION_COLUMNS}`,
      [id, ownerId, changes.title ?? null, changes.pinned ?? null, changes.tags ?? null, changes.systemPrompt ?? null, changes.model ?? null],
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
  return Buffer.from(JSON.stringify([cursor.pinned, cursor.updatedUs, cursor.id])).toString('base64url');
}

function decodeCursor(token: string): PageCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 3) {
      const [pinned, updatedUs, id] = value as unknown[];
      if (
        typeof pinned === 'boolean' &&
        typeof updatedUs === 'string' &&
        /^-?\d{1,19}$/.test(updatedUs) &&
        typeof id === 'string' &&
        /^[0-9a-f-]{36}$/.test(id)
      )
        return { pinned, updatedUs, id };
    }
  } catch {
    // Falls through to the same answer as any other malformed token.
  }
  throw new InvalidArgumentError('page_token', 'is not a token from a previous response');
}
