// Chat with its run log in a real Redis that goes away mid-answer and comes back. What users get
// (documented in the chat README): the live stream ends with a clear UNAVAILABLE instead of hanging,
// the answer goes on and is stored in full, new answers are refused (question kept) while Redis is
// away, and everything works again once it is back. Never a crash, never a hang.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { MessageRole, type Message } from '@freechat/proto/freechat/chat/v1/chat';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../../../scripts/infra/redis.js';
import { createEngineControl } from '../../../test/browser/support/engine-control.js';
import { chatConfig, collect, startChat, startThrowawayPostgres, startTinyInference, textOf, until, type RunningChat, type RunningPostgres, type TinyInference } from './support/harness.js';

let postgres: RunningPostgres;
let redis: RedisServer;
let inference: TinyInference;
let chat: RunningChat;
const engine = createEngineControl();

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startThrowawayPostgres(), startRedis({ dataDir: mkdtempSync(path.join(tmpdir(), 'freechat-chat-redis-outage-')) })]);
  inference = await startTinyInference({ engineFactory: engine.engineFactory });
  const config = chatConfig(postgres.url, inference.address);
  chat = await startChat({ ...config, redis: { url: redis.url } });
});
afterAll(async () => {
  await chat?.close();
  await inference?.close();
  await redis?.stop();
  await postgres?.stop();
});

async function lastMessage(ref: { userId: string; sessionId: string }): Promise<Message> {
  const { messages } = await chat.api.listMessages(ref);
  return messages.at(-1)!;
}

it('ends the live stream with UNAVAILABLE, finishes and stores the answer, refuses new answers until Redis is back', async () => {
  engine.set({ delayMs: 30 });
  const userId = randomUUID();
  const { id: sessionId } = await chat.api.createSession({ userId, title: '' });
  const ref = { userId, sessionId };

  let stopped = false;
  const stream = collect(chat.client.sendMessage({ ...ref, content: 'A long answer please', params: { maxNewTokens: 120, seed: 3 } }), (event) => {
    if (!stopped && event.seq === 4) {
      stopped = true;
      void redis.stop();
    }
  });
  const outageStarted = Date.now();
  const { events, error } = await stream;
  // A clear end within a couple of seconds, not a hang until some distant timeout.
  expect(error?.code).toBe(Status.UNAVAILABLE);
  expect(Date.now() - outageStarted).toBeLessThan(10_000);
  const seen = textOf(events, 'content');

  // The answer goes on without its live stream and is stored in full, beyond what was seen.
  await until(async () => (await lastMessage(ref)).finishReason !== 0, 30_000);
  const stored = await lastMessage(ref);
  expect(stored.role).toBe(MessageRole.MESSAGE_ROLE_ASSISTANT);
  expect(stored.content.startsWith(seen)).toBe(true);
  expect(stored.usage?.completionTokens).toBe(120);

  // While Redis is away: refused at once, the question kept, no answer left `streaming`.
  const refused = await collect(chat.client.sendMessage({ ...ref, content: 'Are you there?', params: { maxNewTokens: 4 } }));
  expect(refused.error?.code).toBe(Status.UNAVAILABLE);
  const afterRefusal = (await chat.api.listMessages(ref)).messages;
  expect(afterRefusal.some((m) => m.role === MessageRole.MESSAGE_ROLE_USER && m.content === 'Are you there?')).toBe(true);
  expect(afterRefusal.at(-1)!.runId).toBe('');

  // Back: answers stream again, with nothing restarted but Redis.
  await redis.restart();
  await until(async () => {
    const { events: again, error: failed } = await collect(chat.client.sendMessage({ ...ref, content: 'And now?', params: { maxNewTokens: 6 } }));
    return !failed && again.at(-1)?.event?.$case === 'done';
  }, 20_000);
});
