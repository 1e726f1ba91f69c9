// Admission of new runs on real PostgreSQL, the real inference service (tiny model) and two chat
// replicas sharing the database: one answer per conversation, at most `maxRunningPerUser` per user
// across replicas, the user message and its answer row in one transaction, and max_new_tokens
// checked against the model before anything is stored.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { InferenceServiceClient, type ListModelsResponse } from '@freechat/proto/freechat/inference/v1/inference';
import { MessageRole, type GenerationParams } from '@freechat/proto/freechat/chat/v1/chat';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chatConfig,
  collect,
  startChat,
  startThrowawayPostgres,
  startTinyInference,
  untilSeq,
  type RunningChat,
  type RunningPostgres,
  type TinyInference,
} from './support/harness.js';

const Status = grpc.status;
let postgres: RunningPostgres;
let inference: TinyInference;
let replicas: RunningChat[];

beforeAll(async () => {
  postgres = await startThrowawayPostgres();
  inference = await startTinyInference();
  const config = chatConfig(postgres.url, inference.address, { runs: { maxRunningPerUser: 2 } });
  replicas = [await startChat(config), await startChat(config)];
});
afterAll(async () => {
  for (const chat of replicas ?? []) await chat.close();
  await inference?.close();
  await postgres?.stop();
});

/** Long enough to still be streaming while the test looks. */
const LONG: GenerationParams = { seed: 3, temperature: 1, maxNewTokens: 2000 };

async function newSession(userId: string, chat = replicas[0]!): Promise<string> {
  return (await chat.api.createSession({ userId, title: '' })).id;
}

/** Starts a long answer and resolves once it streams; `stop()` ends it and waits for the end. */
async function running(userId: string, sessionId: string, chat = replicas[0]!) {
  const stream = chat.client.sendMessage({ userId, sessionId, content: 'Keep talking', params: LONG });
  const outcome = collect(stream);
  const first = await untilSeq(stream, 1);
  const runId = first.event?.$case === 'started' ? first.event.started.runId : '';
  return {
    stop: async () => {
      await chat.api.stopRun({ userId, runId });
      await outcome;
    },
  };
}

const messagesOf = async (userId: string, sessionId: string) => (await replicas[0]!.api.listMessages({ userId, sessionId })).messages;

describe('one answer per conversation', () => {
  it('refuses a send while the conversation is answering (FAILED_PRECONDITION run_in_progress), storing nothing', async () => {
    const userId = randomUUID();
    const sessionId = await newSession(userId);
    const run = await running(userId, sessionId);
    const before = await messagesOf(userId, sessionId);
    // Through the other replica too: the check is in PostgreSQL, not in a process.
    for (const chat of replicas) {
      const refused = await collect(chat.client.sendMessage({ userId, sessionId, content: 'and another thing', params: LONG }));
      expect(refused.events).toEqual([]);
      expect([refused.error?.code, refused.error?.details.split(':')[0]]).toEqual([Status.FAILED_PRECONDITION, 'run_in_progress']);
    }
    expect((await messagesOf(userId, sessionId)).map((m) => m.id)).toEqual(before.map((m) => m.id));
    await run.stop();
  });

  it('a send and a regenerate racing in one conversation: exactly one runs, no message is answered twice', async () => {
    const userId = randomUUID();
    const sessionId = await newSession(userId);
    await collect(replicas[0]!.client.sendMessage({ userId, sessionId, content: 'first', params: { seed: 1, maxNewTokens: 4 } }));
    for (let round = 0; round < 6; round++) {
      // Long answers: whichever wins is still answering when the other arrives, however loaded the
      // machine (with short ones the first could finish before the second starts, and both run).
      const chats = [replicas[round % 2]!, replicas[(round + 1) % 2]!];
      const streams = [
        chats[0]!.client.sendMessage({ userId, sessionId, content: `send ${round}`, params: LONG }),
        chats[1]!.client.regenerateMessage({ userId, sessionId, params: LONG }),
      ];
      const starts = streams.map((stream) => untilSeq(stream, 1).catch(() => undefined));
      const outcomes = streams.map((stream) => collect(stream));
      const refusedAt = await Promise.race(outcomes.map((outcome, i) => outcome.then(() => i)));
      const refused = await outcomes[refusedAt]!;
      expect([refused.error?.code, refused.error?.details.split(':')[0]]).toEqual([Status.FAILED_PRECONDITION, 'run_in_progress']);
      const winner = 1 - refusedAt;
      const started = await starts[winner]!;
      expect(started?.event?.$case).toBe('started');
      const runId = started?.event?.$case === 'started' ? started.event.started.runId : '';
      await chats[winner]!.api.stopRun({ userId, runId });
      expect((await outcomes[winner]!).error).toBeUndefined();
      // Strictly alternating user / assistant: every question has exactly one answer.
      const roles = (await messagesOf(userId, sessionId)).map((m) => m.role);
      roles.forEach((role, i) => expect(role).toBe(i % 2 === 0 ? MessageRole.MESSAGE_ROLE_USER : MessageRole.MESSAGE_ROLE_ASSISTANT));
      expect(roles.length % 2).toBe(0);
    }
  });
});

describe('running answers per user', () => {
  it('refuses a third running answer with RESOURCE_EXHAUSTED too_many_runs, counted across replicas; other users are not affected', async () => {
    const userId = randomUUID();
    const first = await running(userId, await newSession(userId), replicas[0]);
    const second = await running(userId, await newSession(userId), replicas[1]);
    const third = await newSession(userId);
    for (const chat of replicas) {
      const refused = await collect(chat.client.sendMessage({ userId, sessionId: third, content: 'one more', params: LONG }));
      expect(refused.events).toEqual([]);
      expect([refused.error?.code, refused.error?.details.split(':')[0]]).toEqual([Status.RESOURCE_EXHAUSTED, 'too_many_runs']);
    }
    expect(await messagesOf(userId, third)).toEqual([]);
    const someoneElse = randomUUID();
    const theirs = await running(someoneElse, await newSession(someoneElse));
    await theirs.stop();
    // One ends: the next is admitted.
    await first.stop();
    const admitted = await running(userId, third, replicas[1]);
    await Promise.all([second.stop(), admitted.stop()]);
  });

  it('admits exactly the limit when one user sends to many conversations at once through both replicas', async () => {
    const userId = randomUUID();
    const sessions = await Promise.all([0, 1, 2, 3, 4, 5].map(() => newSession(userId)));
    const streams = sessions.map((sessionId, i) => replicas[i % 2]!.client.sendMessage({ userId, sessionId, content: 'go', params: LONG }));
    const firsts = await Promise.all(
      streams.map(
        (stream) =>
          new Promise<{ runId?: string; code?: number }>((resolve) => {
            stream.once('data', (e: { event?: { $case: string; started?: { runId: string } } }) => resolve({ runId: e.event?.started?.runId ?? '' }));
            stream.once('error', (error: grpc.ServiceError) => resolve({ code: error.code }));
          }),
      ),
    );
    expect(firsts.filter((f) => f.runId).length).toBe(2);
    expect(firsts.filter((f) => f.code === Status.RESOURCE_EXHAUSTED).length).toBe(4);
    // Without Redis each replica keeps its own runs' logs: stopped where they run.
    for (const [i, f] of firsts.entries()) if (f.runId) await replicas[i % 2]!.api.stopRun({ userId, runId: f.runId });
    for (const stream of streams) stream.cancel();
  });
});

describe('max_new_tokens against the model', () => {
  it("refuses a value above the model's limit with INVALID_ARGUMENT params.max_new_tokens before anything is stored", async () => {
    const client = new InferenceServiceClient(inference.address, grpc.credentials.createInsecure());
    const models = await new Promise<ListModelsResponse>((resolve, reject) => client.listModels({}, (e, r) => (e ? reject(e) : resolve(r))));
    client.close();
    const limit = models.models[0]!.maxNewTokensLimit;
    const userId = randomUUID();
    const sessionId = await newSession(userId);
    const refused = await collect(replicas[0]!.client.sendMessage({ userId, sessionId, content: 'hi', params: { maxNewTokens: limit + 1 } }));
    expect(refused.events).toEqual([]);
    expect(refused.error?.code).toBe(Status.INVALID_ARGUMENT);
    expect(refused.error?.details).toBe(`params.max_new_tokens: must be at most ${limit}, the model's limit`);
    await replicas[0]!.api.createSession({ userId, title: '' });
    expect(await messagesOf(userId, sessionId)).toEqual([]);
    const regenerate = await collect(replicas[1]!.client.regenerateMessage({ userId, sessionId, params: { maxNewTokens: limit + 1 } }));
    expect(regenerate.error?.details.split(':')[0]).toBe('params.max_new_tokens');
    const atLimit = await collect(replicas[0]!.client.sendMessage({ userId, sessionId, content: 'hi', params: { seed: 1, maxNewTokens: 2 } }));
    expect(atLimit.error).toBeUndefined();
  });
});
