// What the consumers have applied and what they gave up on. A consumer's effect and the record that
// it applied an event commit together, so a redelivered event is recognised and changes nothing.
import type { DomainEvent } from '@freechat/shared/events';
import type pg from 'pg';
import { inTransaction } from '../transaction.js';

export class ConsumerStore {
  constructor(private readonly db: pg.Pool) {}

  async isProcessed(consumer: string, eventId: string): Promise<boolean> {
    const { rowCount } = await this.db.query(`SELECT 1 FROM chat.processed_events WHERE consumer = $1 AND event_id = $2`, [consumer, eventId]);
    return rowCount === 1;
  }

  /**
   * Runs `effect` in a transaction that also records the event as processed by `consumer`; false
   * (and no effect) when it already was.
   */
  async applyOnce(consumer: string, eventId: string, effect: (tx: pg.PoolClient) => Promise<void>): Promise<boolean> {
    return inTransaction(this.db, async (tx) => {
      const { rowCount } = await tx.query(`INSERT INTO chat.processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
        consumer,
        eventId,
      ]);
      // Already applied: nothing was written, so committing the empty transaction changes nothing.
      if (rowCount !== 1) return false;
      await effect(tx);
      return true;
    });
  }

  /** Gives up on the event for this consumer: recorded with why, and counted as processed. */
  async deadLetter(consumer: string, event: DomainEvent, attempts: number, reason: string): Promise<void> {
    await this.applyOnce(consumer, event.id, async (tx) => {
      await tx.query(
        `INSERT INTO chat.dead_letters (consumer, event_id, type, session_id, attempts, reason, event)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [consumer, event.id, event.type, isUuid(event.sessionId) ? event.sessionId : null, attempts, reason.slice(0, 2000), JSON.stringify(event)],
      );
    });
  }
}

const isUuid = (value: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
