// Domain events end to end on the suite's real RocketMQ and a throwaway PostgreSQL: the outbox is
// written with the data or not at all, the relay publishes in order, the consumers apply each event
// once even when it comes twice, the title writer titles new conversations and leaves renamed ones
// alone, usage is counted per user and day, and a poison event ends in the dead-letter table.
import { randomUUID } from 'node:crypto';
import { status as Status } from '@grpc/grpc-js';
import type pg from 'pg';
import { createLogger } from '@freechat/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infraEndpoints } from '../../../test/infra/endpoints.js';
import {
  chatConfig,
  collect,
  failure,
  startChat,
  startThrowawayPostgres,
  startTinyInference,
  until,
  type RunningChat,
  type RunningPostgres,
  type TinyInference,
} from './support/harness.js';
import { openDb, SCRIPTED_TITLE, scriptedTitles, sql, withEvents } from './support/events.js';

/** Deliveries take well under a second on an idle machine (printed below); a loaded one, a few. */
const DELIVERY_TIMEOUT_MS = 30_000;

let postgres: RunningPostgres;
let inference: TinyInference;
let chat: RunningChat;
let db: pg.Pool;

beforeAll(async () => {
  const endpoints = infraEndpoints().rocketmqEndpoints;
  if (!endpoints) throw new Error('the suite RocketMQ is not running (test/infra/global-setup.ts)');
  postgres = await startThrowawayPostgres();
  inference = await startTinyInference({ engineFactory: scriptedTitles });
  // Warnings shown: if delivery ever stalls, the output says whether the relay or a consumer failed
  // and why (once: "the broker's disk is full", which no timeout would have cured).
  chat = await startChat(withEvents(chatConfig(postgres.url, inference.address), endpoints), createLogger({ service: 'chat-events-test', level: 'warn' }));
  db = openDb(postgres.url);
});

afterAll(async () => {
  await db?.end();
  await chat?.close();
  await inference?.close();
  await postgres?.stop();
});

async function exchange(ref: { userId: string; sessionId: string }, content: string) {
  const outcome = await collect(chat.client.sendMessage({ ...ref, content, params: { seed: 3, maxNewTokens: 8 } }));
  expect(outcome.error).toBeUndefined();
  return outcome;
}

async function newConversation(userId = randomUUID(), title = '') {
  const session = await chat.api.createSession({ userId, title });
  return { userId, sessionId: session.id };
}

const usageRequests = async (userId: string): Promise<number> => (await chat.api.getUsage({ userId, days: 0 })).total?.requests ?? 0;

describe('outbox', () => {
  it('writes each event in the transaction of its change: a failed transaction leaves neither', async () => {
    const ref = await newConversation();
    await exchange(ref, 'Hello there');
    await chat.api.deleteSession(ref);
    const types = await sql<{ type: string }>(db, `SELECT type FROM chat.outbox WHERE session_id = $1 ORDER BY seq`, [ref.sessionId]);
    expect(types.map((r) => r.type)).toEqual(['session.created', 'message.created', 'run.completed', 'session.deleted']);
    const [completed] = await sql<{ payload: Record<string, any> }>(db, `SELECT payload FROM chat.outbox WHERE session_id = $1 AND type = 'run.completed'`, [
      ref.sessionId,
    ]);
    expect(completed!.payload).toMatchObject({ status: 'complete', usage: { completionTokens: expect.any(Number), promptTokens: expect.any(Number) } });
    const timings = completed!.payload['timings'];
    expect(Date.parse(timings.endedAt)).toBeGreaterThanOrEqual(Date.parse(timings.startedAt));
    expect(timings.durationMs).toBe(Date.parse(timings.endedAt) - Date.parse(timings.startedAt));

    // The event cannot be written: the user message must not be either.
    const other = await newConversation();
    await db.query(`ALTER TABLE chat.outbox ADD CONSTRAINT test_refuse_messages CHECK (type <> 'message.created') NOT VALID`);
    try {
      const { error } = await collect(chat.client.sendMessage({ ...other, content: 'lost?', params: { maxNewTokens: 4 } }));
      expect(error?.code).toBe(Status.INTERNAL);
    } finally {
      await db.query(`ALTER TABLE chat.outbox DROP CONSTRAINT test_refuse_messages`);
    }
    expect((await chat.api.listMessages(other)).messages).toEqual([]);
    expect(await sql(db, `SELECT 1 FROM chat.outbox WHERE session_id = $1 AND type <> 'session.created'`, [other.sessionId])).toEqual([]);
  });
});

describe('relay and consumers', { timeout: 3 * DELIVERY_TIMEOUT_MS }, () => {
  it('publishes everything, in order per session, and applies a twice-delivered event once', async () => {
    const ref = await newConversation();
    const t0 = Date.now();
    await exchange(ref, 'First question');
    await until(async () => (await usageRequests(ref.userId)) === 1, DELIVERY_TIMEOUT_MS);
    const roundTripMs = Date.now() - t0;

    // As after a relay crash between publishing and marking: the run.completed goes out again.
    await db.query(`UPDATE chat.outbox SET published_at = NULL WHERE session_id = $1 AND type = 'run.completed'`, [ref.sessionId]);
    await until(async () => (await sql(db, `SELECT 1 FROM chat.outbox WHERE published_at IS NULL`)).length === 0);
    // The same session's next run is consumed only after the duplicate (FIFO per session).
    await exchange(ref, 'Second question');
    await until(async () => (await usageRequests(ref.userId)) >= 2, DELIVERY_TIMEOUT_MS);
    await new Promise((r) => setTimeout(r, 500));
    expect(await usageRequests(ref.userId)).toBe(2);

    // Delivery order per session = outbox order.
    const applied = await sql<{ seq: string }>(
      db,
      `SELECT o.seq::text FROM chat.processed_events p JOIN chat.outbox o ON o.id = p.event_id
        WHERE p.consumer = 'usage' AND o.session_id = $1 ORDER BY p.processed_at`,
      [ref.sessionId],
    );
    expect(applied.map((r) => Number(r.seq))).toEqual(applied.map((r) => Number(r.seq)).sort((a, b) => a - b));
    expect(applied).toHaveLength(2);
    console.info(`[events] send → usage counted through RocketMQ: ${roundTripMs} ms`);
  });

  it('titles a new conversation after its first answer, and leaves a renamed one alone', async () => {
    const fresh = await newConversation();
    await exchange(fresh, 'Tell me about cats who do quantum physics over dinner');
    await until(async () => (await chat.api.getSession(fresh)).title === SCRIPTED_TITLE, DELIVERY_TIMEOUT_MS);
    const [row] = await sql<{ title_source: string }>(db, `SELECT title_source FROM chat.sessions WHERE id = $1`, [fresh.sessionId]);
    expect(row!.title_source).toBe('generated');
    // Later answers do not retitle it.
    await chat.api.updateSession({ ...fresh, title: 'Mine now' });
    await exchange(fresh, 'And dogs?');

    const named = await newConversation(randomUUID(), 'Named at birth');
    const renamed = await newConversation();
    await exchange(named, 'Hello');
    await exchange(renamed, 'Hello');
    await chat.api.updateSession({ ...renamed, title: 'My own title' });
    await exchange(renamed, 'Again');
    // Every run.completed of these sessions has been through the title writer.
    await until(async () => {
      const [r] = await sql<{ pending: string }>(
        db,
        `SELECT count(*)::text AS pending FROM chat.outbox o WHERE o.type = 'run.completed' AND o.session_id = ANY($1::uuid[])
            AND NOT EXISTS (SELECT 1 FROM chat.processed_events p WHERE p.event_id = o.id AND p.consumer = 'title-writer')`,
        [[fresh.sessionId, named.sessionId, renamed.sessionId]],
      );
      return r!.pending === '0';
    }, DELIVERY_TIMEOUT_MS);
    expect((await chat.api.getSession(fresh)).title).toBe('Mine now');
    expect((await chat.api.getSession(named)).title).toBe('Named at birth');
    expect((await chat.api.getSession(renamed)).title).toBe('My own title');
  });

  it('counts usage per user and UTC day; another user sees only their own; days is validated', async () => {
    const alice = await newConversation();
    const bob = await newConversation();
    await exchange(alice, 'one');
    await exchange(alice, 'two');
    await exchange(bob, 'three');
    await until(async () => (await usageRequests(alice.userId)) === 2 && (await usageRequests(bob.userId)) === 1, DELIVERY_TIMEOUT_MS);
    const stored = await sql<{ prompt: string; completion: string }>(
      db,
      `SELECT sum(prompt_tokens)::text AS prompt, sum(completion_tokens)::text AS completion FROM chat.messages m
         JOIN chat.sessions s ON s.id = m.session_id WHERE s.owner_id = $1 AND m.role = 'assistant'`,
      [alice.userId],
    );
    const usage = await chat.api.getUsage({ userId: alice.userId, days: 7 });
    const today = new Date().toISOString().slice(0, 10);
    expect(usage.days).toEqual([
      { date: today, requests: 2, promptTokens: Number(stored[0]!.prompt), completionTokens: Number(stored[0]!.completion) },
    ]);
    expect(usage.total).toMatchObject({ requests: 2 });
    expect((await chat.api.getUsage({ userId: randomUUID(), days: 30 })).days).toEqual([]);
    expect((await failure(chat.api.getUsage({ userId: alice.userId, days: 400 }))).code).toBe(Status.INVALID_ARGUMENT);
  });

  it('moves an event that keeps failing to the dead-letter table after maxAttempts, with the reason', async () => {
    const ref = await newConversation();
    const eventId = randomUUID();
    // A run.completed without usage: the usage consumer cannot apply it, however often it tries.
    await db.query(
      `INSERT INTO chat.outbox (id, type, session_id, user_id, payload) VALUES ($1, 'run.completed', $2, $3, $4)`,
      [eventId, ref.sessionId, ref.userId, JSON.stringify({ runId: null, messageId: randomUUID(), status: 'stopped', finishReason: 'cancelled' })],
    );
    await until(async () => (await sql(db, `SELECT 1 FROM chat.dead_letters WHERE event_id = $1`, [eventId])).length === 1, DELIVERY_TIMEOUT_MS);
    const [dead] = await sql<{ consumer: string; attempts: number; reason: string }>(db, `SELECT consumer, attempts, reason FROM chat.dead_letters WHERE event_id = $1`, [
      eventId,
    ]);
    expect(dead).toMatchObject({ consumer: 'usage', attempts: 3 });
    expect(dead!.reason).toMatch(/usage/);
    // The session's queue moves on.
    await exchange(ref, 'after the poison');
    await until(async () => (await usageRequests(ref.userId)) === 1, DELIVERY_TIMEOUT_MS);
  });
});
