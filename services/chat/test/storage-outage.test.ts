// PostgreSQL going away while a run streams: the answer waits in memory and is stored in full when
// the database returns; past runs.storageOutageMs the run ends with storage_error saying how much
// was kept. Real PostgreSQL (stopped and started on the same port and data), real inference.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultEngineFactory, type EngineFactory } from '../../inference/src/server.js';
import { withGenerate } from '../../inference/src/engine/index.js';
import { startThrowawayPostgres, type PausablePostgres } from '@freechat/shared/postgres';
import { chatConfig, collect, startChat, startTinyInference, textOf, untilSeq, type RunningChat, type TinyInference } from './support/harness.js';

/** The real tiny model, one delta every 40 ms: the run outlives the moment PostgreSQL goes. */
const paced: EngineFactory = async (model, config, logger) => {
  const engine = await defaultEngineFactory(model, config, logger);
  return withGenerate(engine, async function* (request) {
    for await (const event of engine.generate(request)) {
      if (event.type === 'delta') await sleep(40);
      yield event;
    }
  });
};

let inference: TinyInference;

beforeAll(async () => {
  inference = await startTinyInference({ engineFactory: paced });
}, 120_000);

afterAll(async () => {
  await inference?.close();
}, 60_000);

/** A PostgreSQL of its own per test, so a failed test leaves no paused server to the next. */
async function withChat(storageOutageMs: number, test: (chat: RunningChat, postgres: PausablePostgres) => Promise<void>): Promise<void> {
  const postgres = await startThrowawayPostgres();
  try {
    const chat = await startChat(chatConfig(postgres.url, inference.address, { runs: { maxPromptTokens: 1_000_000, storageOutageMs } }));
    try {
      await test(chat, postgres);
    } finally {
      await postgres.resume().catch(() => {});
      await chat.close();
    }
  } finally {
    await postgres.stop();
  }
}

/** Sends, and takes PostgreSQL away once the first delta has streamed. */
async function sendAndLoseDatabase(chat: RunningChat, postgres: PausablePostgres) {
  const userId = randomUUID();
  const session = await chat.api.createSession({ userId, title: '' });
  const ref = { userId, sessionId: session.id };
  const stream = chat.client.sendMessage({ ...ref, content: 'Tell me a story', params: { maxNewTokens: 30, seed: 11, temperature: 1 } });
  const arrivals: { event: RunEvent; at: number }[] = [];
  const outcome = collect(stream, (event) => arrivals.push({ event, at: Date.now() }));
  await untilSeq(stream, 2);
  await postgres.pause();
  return { ref, outcome, arrivals };
}

describe('PostgreSQL away while a run streams', () => {
  it('keeps the answer in memory and stores it in full once the database returns', async () => {
    await withChat(60_000, async (chat, postgres) => {
      const { ref, outcome, arrivals } = await sendAndLoseDatabase(chat, postgres);
      // 30 deltas at 40 ms: generation is over well before this, with the database still away.
      await sleep(2_500);
      expect(arrivals.some(({ event }) => event.event?.$case === 'done' || event.event?.$case === 'error')).toBe(false);
      const resumedAt = Date.now();
      await postgres.resume();
      const { events, error } = await outcome;
      expect(error).toBeUndefined();
      expect(events.at(-1)?.event?.$case).toBe('done');
      expect(arrivals.at(-1)!.at).toBeGreaterThanOrEqual(resumedAt);
      const streamed = textOf(events, 'content');
      expect(streamed.length).toBeGreaterThan(0);
      const { messages } = await chat.api.listMessages(ref);
      expect(messages[1]).toMatchObject({ content: streamed, reasoning: textOf(events, 'reasoning') });
    });
  }, 60_000);

  it('past runs.storageOutageMs ends the run with storage_error saying how much was kept', async () => {
    await withChat(1_500, async (chat, postgres) => {
      const { outcome } = await sendAndLoseDatabase(chat, postgres);
      const { events, error } = await outcome;
      expect(error).toBeUndefined();
      const last = events.at(-1)!.event;
      const kept = [...textOf(events, 'content')].length + [...textOf(events, 'reasoning')].length;
      expect(last).toEqual({
        $case: 'error',
        error: { code: 'storage_error', message: `the answer could not be saved; ${kept} characters were kept in the live stream only` },
      });
    });
  }, 60_000);
});
