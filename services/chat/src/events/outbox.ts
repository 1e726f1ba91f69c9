// The transactional outbox: an event is a row written by the transaction that makes the change it
// describes, so there is never a change without its event or an event without its change. The relay
// publishes the rows later, in seq order.
import { randomUUID } from 'node:crypto';
import type { DomainEvent } from '@freechat/shared/events';
import type pg from 'pg';
import { inTransaction } from '../transaction.js';
import type { EventDraft } from './domain-events.js';

type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * Appends an event inside the caller's transaction. It first locks the session row: every writer of
 * a session's events holds that lock until commit, so their seq order is their commit order and the
 * relay, which publishes by seq, never overtakes a session's earlier event still being committed.
 */
export async function appendEvent(tx: Queryable, draft: EventDraft): Promise<void> {
  await tx.query(`SELECT 1 FROM chat.sessions WHERE id = $1 FOR UPDATE`, [draft.sessionId]);
  // A retried final write of the same answer (the unique run.completed key) adds nothing.
  await tx.query(
    `INSERT INTO chat.outbox (id, type, session_id, user_id, payload) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
    [randomUUID(), draft.type, draft.sessionId, draft.userId, JSON.stringify(draft.payload)],
  );
}

export interface PendingEvent {
  readonly seq: string;
  readonly event: DomainEvent;
}

interface Raw {
  seq: string;
  id: string;
  type: string;
  session_id: string;
  user_id: string;
  occurred_at: Date;
  payload: Record<string, unknown>;
}

// One relay at a time publishes, whatever the number of chat replicas: with two, each skipping the
// rows the other holds, one session's later event could be published before its earlier one.
const RELAY_LOCK = `hashtext('freechat.chat.outbox-relay')`;

export class OutboxStore {
  constructor(private readonly db: pg.Pool) {}

  /**
   * Runs `publish` over the oldest unpublished rows under the relay lock, in one transaction; rows it
   * reports as published are marked so. Returns how many were published, or undefined when another
   * replica holds the lock.
   */
  async publishBatch(
    limit: number,
    publish: (pending: readonly PendingEvent[]) => Promise<{ published: number; error?: unknown }>,
  ): Promise<{ published: number; error?: unknown } | undefined> {
    return inTransaction(this.db, async (client) => {
      const lock = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${RELAY_LOCK}) AS ok`);
      if (!lock.rows[0]?.ok) return undefined;
      const { rows } = await client.query<Raw>(
        // Ordered by the bigint column: `ORDER BY seq` would sort the text output column ('10' < '9').
        `SELECT o.seq::text AS seq, o.id, o.type, o.session_id, o.user_id, o.occurred_at, o.payload FROM chat.outbox o
          WHERE o.published_at IS NULL ORDER BY o.seq LIMIT $1`,
        [limit],
      );
      const pending = rows.map((r) => ({ seq: r.seq, event: toEvent(r) }));
      const result = pending.length === 0 ? { published: 0 } : await publish(pending);
      const done = pending.slice(0, result.published).map((p) => p.seq);
      if (done.length > 0) {
        await client.query(`UPDATE chat.outbox SET published_at = clock_timestamp(), publish_attempts = publish_attempts + 1 WHERE seq = ANY($1::bigint[])`, [done]);
      }
      const failed = pending[result.published];
      if (failed && result.error !== undefined) {
        await client.query(`UPDATE chat.outbox SET publish_attempts = publish_attempts + 1, last_error = $2 WHERE seq = $1`, [
          failed.seq,
          String((result.error as Error)?.message ?? result.error).slice(0, 500),
        ]);
      }
      return result;
    });
  }

  async pendingCount(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM chat.outbox WHERE published_at IS NULL`);
    return Number(rows[0]?.n ?? 0);
  }
}

function toEvent(r: Raw): DomainEvent {
  return { id: r.id, type: r.type, sessionId: r.session_id, userId: r.user_id, occurredAt: r.occurred_at.toISOString(), payload: r.payload };
}
