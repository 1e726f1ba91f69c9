// RocketMQ goes away mid-conversation: sending still works and never waits for it, the outbox grows,
// and when RocketMQ is back every event is published and consumed, each session's in order. This
// file starts its own RocketMQ (the suite's must stay up for the others).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FREECHAT_ROCKETMQ, startRocketMQ, type RocketMQServer } from '../../../scripts/infra/rocketmq.js';
import {
  chatConfig,
  collect,
  startChat,
  startThrowawayPostgres,
  startTinyInference,
  until,
  type RunningChat,
  type RunningPostgres,
  type TinyInference,
} from './support/harness.js';
import { openDb, sql, withEvents } from './support/events.js';

let dataDir: string;
let rocketmq: RocketMQServer;
let postgres: RunningPostgres;
let inference: TinyInference;
let chat: RunningChat;
let db: pg.Pool;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'freechat-rocketmq-outage-'));
  [rocketmq, postgres, inference] = await Promise.all([
    startRocketMQ({ dataDir, ...FREECHAT_ROCKETMQ }),
    startThrowawayPostgres(),
    startTinyInference(),
  ]);
  // No titles here: this is about delivery, and a title call would only slow the drain.
  const base = withEvents(chatConfig(postgres.url, inference.address), rocketmq.endpoints);
  chat = await startChat({ ...base, events: { ...base.events, titles: { ...base.events.titles, enabled: false } } });
  db = openDb(postgres.url);
});

afterAll(async () => {
  await db?.end();
  await chat?.close();
  await inference?.close();
  await postgres?.stop();
  await rocketmq?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const pending = async (): Promise<number> => Number((await sql<{ n: string }>(db, `SELECT count(*)::text AS n FROM chat.outbox WHERE published_at IS NULL`))[0]!.n);

it('keeps chatting while RocketMQ is down and drains the outbox in order when it is back', async () => {
  const userId = randomUUID();
  const sessions = await Promise.all([1, 2].map(async () => ({ userId, sessionId: (await chat.api.createSession({ userId, title: '' })).id })));
  const requests = async (): Promise<number> => (await chat.api.getUsage({ userId, days: 1 })).total?.requests ?? 0;
  const exchange = async (ref: { userId: string; sessionId: string }, content: string): Promise<number> => {
    const started = Date.now();
    const { error } = await collect(chat.client.sendMessage({ ...ref, content, params: { seed: 5, maxNewTokens: 6 } }));
    expect(error).toBeUndefined();
    return Date.now() - started;
  };

  for (const ref of sessions) await exchange(ref, 'before the outage');
  await until(async () => (await requests()) === 2, 30_000);

  await rocketmq.stopProxy();
  const sendTimes: number[] = [];
  for (let round = 1; round <= 3; round++) {
    for (const ref of sessions) sendTimes.push(await exchange(ref, `during the outage, round ${round}`));
    // The outbox grows with every exchange: nothing can leave it.
    expect(await pending()).toBe(round * sessions.length * 2);
  }
  expect(await requests()).toBe(2);

  const restarted = Date.now();
  await rocketmq.startProxy();
  const proxyUpMs = Date.now() - restarted;
  await until(async () => (await pending()) === 0 && (await requests()) === 8, 90_000);
  const drainMs = Date.now() - restarted - proxyUpMs;

  // Per session, the runs were consumed in the order they happened.
  for (const ref of sessions) {
    const applied = await sql<{ seq: string }>(
      db,
      `SELECT o.seq::text FROM chat.processed_events p JOIN chat.outbox o ON o.id = p.event_id
        WHERE p.consumer = 'usage' AND o.session_id = $1 ORDER BY p.processed_at, o.seq`,
      [ref.sessionId],
    );
    const seqs = applied.map((r) => Number(r.seq));
    expect(seqs).toHaveLength(4);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  }
  console.info(
    `[events outage] slowest send while down: ${Math.max(...sendTimes)} ms; proxy restart: ${proxyUpMs} ms; drain after restart: ${drainMs} ms`,
  );
}, 240_000);
