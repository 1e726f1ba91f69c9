// Per-user usage accounting: every completed run (whatever its status) is one request, with its
// prompt and completion tokens, counted on the UTC day it ended.
import type { DomainEvent } from '@freechat/shared/events';
import type pg from 'pg';
import { InvalidArgumentError } from '../errors.js';
import type { ConsumerStore } from './consumer-store.js';
import type { EventConsumer } from './dispatcher.js';
import { EVENT_TYPES, runCompletedPayload } from './domain-events.js';

export interface DailyUsage {
  /** YYYY-MM-DD, UTC. */
  readonly date: string;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export const MAX_USAGE_DAYS = 366;
export const DEFAULT_USAGE_DAYS = 30;

/** Pure: the UTC calendar day of an instant, YYYY-MM-DD. */
export function utcDay(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** Pure: the first UTC day of a window of `days` days that ends today (today included). */
export function windowStart(now: Date, days: number): string {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
  return utcDay(start);
}

/** The window asked for: 0 (unset) is the default; anything outside 1..366 is refused. */
export function usageDays(requested: number): number {
  if (requested === 0) return DEFAULT_USAGE_DAYS;
  if (!Number.isInteger(requested) || requested < 1 || requested > MAX_USAGE_DAYS) {
    throw new InvalidArgumentError('days', `must be between 1 and ${MAX_USAGE_DAYS}`);
  }
  return requested;
}

/** Pure: the days and their sum. */
export function usageReport(days: readonly DailyUsage[], fromDate: string): { days: DailyUsage[]; total: DailyUsage; fromDate: string } {
  const total = days.reduce(
    (sum, d) => ({
      date: sum.date,
      requests: sum.requests + d.requests,
      promptTokens: sum.promptTokens + d.promptTokens,
      completionTokens: sum.completionTokens + d.completionTokens,
    }),
    { date: fromDate, requests: 0, promptTokens: 0, completionTokens: 0 },
  );
  return { days: [...days], total, fromDate };
}

export class UsageStore {
  constructor(private readonly db: pg.Pool) {}

  async add(tx: Pick<pg.PoolClient, 'query'>, input: { userId: string; day: string; promptTokens: number; completionTokens: number }): Promise<void> {
    await tx.query(
      `INSERT INTO chat.usage_daily (user_id, day, requests, prompt_tokens, completion_tokens) VALUES ($1, $2, 1, $3, $4)
       ON CONFLICT (user_id, day) DO UPDATE SET requests = usage_daily.requests + 1,
         prompt_tokens = usage_daily.prompt_tokens + EXCLUDED.prompt_tokens,
         completion_tokens = usage_daily.completion_tokens + EXCLUDED.completion_tokens`,
      [input.userId, input.day, input.promptTokens, input.completionTokens],
    );
  }

  /** The user's days with usage from `fromDay` on, newest first. */
  async list(userId: string, fromDay: string): Promise<DailyUsage[]> {
    const { rows } = await this.db.query<{ day: string; requests: number; prompt_tokens: string; completion_tokens: string }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, requests, prompt_tokens::text, completion_tokens::text
         FROM chat.usage_daily WHERE user_id = $1 AND day >= $2::date ORDER BY day DESC`,
      [userId, fromDay],
    );
    return rows.map((r) => ({ date: r.day, requests: r.requests, promptTokens: Number(r.prompt_tokens), completionTokens: Number(r.completion_tokens) }));
  }
}

export function createUsageConsumer(options: { store: ConsumerStore; usage: UsageStore }): EventConsumer {
  const name = 'usage';
  return {
    name,
    wants: (event) => event.type === EVENT_TYPES.runCompleted,
    async handle(event: DomainEvent) {
      const payload = runCompletedPayload.parse(event.payload);
      const endedAt = new Date(payload.timings?.endedAt ?? event.occurredAt);
      if (Number.isNaN(endedAt.getTime())) throw new TypeError(`run.completed ${event.id}: no valid end time`);
      await options.store.applyOnce(name, event.id, (tx) =>
        options.usage.add(tx, {
          userId: event.userId,
          day: utcDay(endedAt),
          promptTokens: payload.usage.promptTokens,
          completionTokens: payload.usage.completionTokens,
        }),
      );
    },
  };
}
