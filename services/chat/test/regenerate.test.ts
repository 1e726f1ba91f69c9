// RegenerateMessage end to end: the chat server over real PostgreSQL and the real inference service on
// the built-in tiny model. Regenerate replaces the last answer; with content it edits the last user
// message first; refusals and failures leave the conversation exactly as it was.
import { randomUUID } from 'node:crypto';
import { status as Status } from '@grpc/grpc-js';
import { MessageRole, MessageStatus, type GenerationParams, type RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chatConfig,
  collect,
  startChat,
  startThrowawayPostgres,
  startTinyInference,
  textOf,
  untilSeq,
  type ChatApi,
  type RunningChat,
  type RunningPostgres,
  type TinyInference,
} from './support/harness.js';

let postgres: RunningPostgres;
let inference: TinyInference;
let chat: RunningChat;
let api: ChatApi;
let db: pg.Pool;

beforeAll(async () => {
  postgres = await startThrowawayPostgres();
  inference = await startTinyInference();
  chat = await startChat(chatConfig(postgres.url, inference.address));
  api = chat.api;
  db = new pg.Pool({ connectionString: postgres.url });
});
afterAll(async () => {
  await db?.end();
  await chat?.close();
  await inference?.close();
  await postgres?.stop();
});

type Ref = { userId: string; sessionId: string };

async function newSession(): Promise<Ref> {
  const userId = randomUUID();
  return { userId, sessionId: (await api.createSession({ userId, title: '' })).id };
}

const PARAMS: GenerationParams = { seed: 11, temperature: 1, maxNewTokens: 16 };

function send(ref: Ref, content: string, params: GenerationParams = PARAMS) {
  return collect(chat.client.sendMessage({ ...ref, content, params }));
}

function regenerate(ref: Ref, options: { content?: string; params?: GenerationParams } = {}) {
  return chat.client.regenerateMessage({ ...ref, params: PARAMS, ...options });
}

function started(events: readonly RunEvent[]) {
  const e = events[0]?.event;
  if (e?.$case !== 'started') throw new Error('first event is not RunStarted');
  return e.started;
}

function done(events: readonly RunEvent[]) {
  const e = events.at(-1)?.event;
  if (e?.$case !== 'done') throw new Error(`run ended with ${e?.$case}`);
  return e.done;
}

const rolesAndIds = async (ref: Ref) => (await api.listMessages(ref)).messages.map((m) => [m.role, m.id]);

describe('RegenerateMessage', () => {
  it('replaces the last answer with a new streamed one; the user message stays as it was', async () => {
    const ref = await newSession();
    const first = await send(ref, 'Hello there');
    const { userMessageId, assistantMessageId: oldAnswer } = started(first.events);

    const again = await collect(regenerate(ref, { params: { ...PARAMS, seed: 12 } }));
    expect(again.error).toBeUndefined();
    expect(again.events.map((e) => e.seq)).toEqual(again.events.map((_, i) => i + 1));
    const { runId, assistantMessageId, userMessageId: answered } = started(again.events);
    expect(answered).toBe(userMessageId);
    expect(assistantMessageId).not.toBe(oldAnswer);
    expect(runId).not.toBe(first.events[0]!.runId);
    expect(done(again.events).messageId).toBe(assistantMessageId);

    const { messages } = await api.listMessages(ref);
    expect(messages.map((m) => [m.role, m.id])).toEqual([
      [MessageRole.MESSAGE_ROLE_USER, userMessageId],
      [MessageRole.MESSAGE_ROLE_ASSISTANT, assistantMessageId],
    ]);
    expect(messages[0]!.content).toBe('Hello there');
    expect(messages[1]).toMatchObject({ content: textOf(again.events, 'content'), status: MessageStatus.MESSAGE_STATUS_COMPLETE });
    // Hard-deleted: gone from the table, not only from the list.
    expect((await db.query('SELECT 1 FROM chat.messages WHERE id = $1', [oldAnswer])).rowCount).toBe(0);
    // The old run cannot be attached any more: its message is gone.
    const attach = await collect(chat.client.attachRun({ userId: ref.userId, runId: first.events[0]!.runId, afterSeq: 0 }));
    expect(attach.error?.code).toBe(Status.NOT_FOUND);
  });

  it('keeps earlier turns and answers only the last user message again', async () => {
    const ref = await newSession();
    const one = await send(ref, 'First question');
    const two = await send(ref, 'Second question');
    const again = await collect(regenerate(ref));
    expect(again.error).toBeUndefined();
    expect(await rolesAndIds(ref)).toEqual([
      [MessageRole.MESSAGE_ROLE_USER, started(one.events).userMessageId],
      [MessageRole.MESSAGE_ROLE_ASSISTANT, started(one.events).assistantMessageId],
      [MessageRole.MESSAGE_ROLE_USER, started(two.events).userMessageId],
      [MessageRole.MESSAGE_ROLE_ASSISTANT, started(again.events).assistantMessageId],
    ]);
    // The same prompt as the answer it replaces: the earlier turn is still in it, the old answer is not.
    expect(done(again.events).usage?.promptTokens).toBe(done(two.events).usage?.promptTokens);
  });

  it('edits the last user message and answers the new text: stored, prompted and re-titled', async () => {
    const ref = await newSession();
    const first = await send(ref, 'Hi');
    expect((await api.getSession(ref)).title).toBe('Hi');
    const edited = 'Hi, could you please explain how rainbows form after a summer storm?';
    const again = await collect(regenerate(ref, { content: edited }));
    expect(again.error).toBeUndefined();
    expect(started(again.events).userMessageId).toBe(started(first.events).userMessageId);
    const { messages } = await api.listMessages(ref);
    expect(messages.map((m) => m.content)).toEqual([edited, textOf(again.events, 'content')]);
    // The model saw the edited text: a longer prompt.
    expect(done(again.events).usage!.promptTokens).toBeGreaterThan(done(first.events).usage!.promptTokens + 5);
    // The session was named after that message, so it follows the edit.
    expect((await api.getSession(ref)).title).toBe(edited.slice(0, 60).trim());

    // A title the user chose (or one from an earlier message) is kept.
    await api.renameSession({ ...ref, title: 'Mine' });
    await collect(regenerate(ref, { content: 'Something else' }));
    expect((await api.getSession(ref)).title).toBe('Mine');
  });

  it('works after an answer that failed or was stopped (nothing streaming)', async () => {
    const ref = await newSession();
    const stream = chat.client.sendMessage({ ...ref, content: 'Go on', params: { ...PARAMS, maxNewTokens: 2000 } });
    const outcome = collect(stream);
    const first = await untilSeq(stream, 2);
    await api.stopRun({ userId: ref.userId, runId: first.runId });
    await outcome;
    const again = await collect(regenerate(ref));
    expect(again.error).toBeUndefined();
    expect((await api.listMessages(ref)).messages.map((m) => m.status)).toEqual([
      MessageStatus.MESSAGE_STATUS_COMPLETE,
      MessageStatus.MESSAGE_STATUS_COMPLETE,
    ]);
  });

  it('refuses with FAILED_PRECONDITION run_in_progress while an answer streams, changing nothing', async () => {
    const ref = await newSession();
    const stream = chat.client.sendMessage({ ...ref, content: 'Keep talking', params: { ...PARAMS, maxNewTokens: 2000 } });
    const outcome = collect(stream);
    const first = await untilSeq(stream, 2);
    const before = await rolesAndIds(ref);
    const refused = await collect(regenerate(ref, { content: 'changed my mind' }));
    expect(refused.events).toEqual([]);
    expect(refused.error?.code).toBe(Status.FAILED_PRECONDITION);
    expect(refused.error?.details).toMatch(/^run_in_progress: /);
    expect(await rolesAndIds(ref)).toEqual(before);
    expect((await api.listMessages(ref)).messages[0]!.content).toBe('Keep talking');
    await api.stopRun({ userId: ref.userId, runId: first.runId });
    await outcome;
  });

  it('refuses with FAILED_PRECONDITION nothing_to_regenerate in a session without a user message', async () => {
    const ref = await newSession();
    const refused = await collect(regenerate(ref));
    expect([refused.error?.code, refused.error?.details.split(':')[0]]).toEqual([Status.FAILED_PRECONDITION, 'nothing_to_regenerate']);
    expect((await api.listMessages(ref)).messages).toEqual([]);
  });

  it("answers NOT_FOUND for another user's, a missing or a deleted session, touching nothing", async () => {
    const ref = await newSession();
    await send(ref, 'mine');
    const before = await api.listMessages(ref);
    const others = [
      { userId: randomUUID(), sessionId: ref.sessionId },
      { userId: ref.userId, sessionId: randomUUID() },
    ];
    for (const other of others) {
      const result = await collect(regenerate(other, { content: 'hijack' }));
      expect([result.error?.code, result.error?.details]).toEqual([Status.NOT_FOUND, 'session not found']);
    }
    expect(await api.listMessages(ref)).toEqual(before);
    await api.deleteSession(ref);
    expect((await collect(regenerate(ref))).error?.code).toBe(Status.NOT_FOUND);
  });

  it('validates content and params like SendMessage', async () => {
    const ref = await newSession();
    await send(ref, 'question');
    const cases: [Partial<Parameters<typeof regenerate>[1]>, string][] = [
      [{ content: '' }, 'content'],
      [{ content: '   \n' }, 'content'],
      [{ content: 'x'.repeat(32_001) }, 'content'],
      [{ content: 'nul \u0000 inside' }, 'content'],
      [{ params: { topP: 0 } }, 'params.top_p'],
      [{ params: { maxNewTokens: 0 } }, 'params.max_new_tokens'],
    ];
    for (const [options, field] of cases) {
      const result = await collect(regenerate(ref, options));
      expect([result.error?.code, result.error?.details.split(':')[0]]).toEqual([Status.INVALID_ARGUMENT, field]);
    }
    const badSession = await collect(chat.client.regenerateMessage({ userId: ref.userId, sessionId: 'nope', params: undefined }));
    expect([badSession.error?.code, badSession.error?.details.split(':')[0]]).toEqual([Status.INVALID_ARGUMENT, 'session_id']);
    expect((await api.listMessages(ref)).messages[0]!.content).toBe('question');
  });

  it('is one transaction: a failure after the edit and the delete leaves the old message and answer', async () => {
    const ref = await newSession();
    const first = await send(ref, 'original');
    const before = await api.listMessages(ref);
    // A real failure inside the transaction, after the edit and the delete: inserting the new answer's row.
    await db.query(`CREATE FUNCTION chat.test_refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.session_id = '${ref.sessionId}' THEN RAISE EXCEPTION 'simulated failure'; END IF; RETURN NEW; END $$`);
    await db.query(`CREATE TRIGGER test_refuse_insert BEFORE INSERT ON chat.messages FOR EACH ROW EXECUTE FUNCTION chat.test_refuse_insert()`);
    try {
      const failed = await collect(regenerate(ref, { content: 'edited' }));
      expect([failed.error?.code, failed.error?.details]).toEqual([Status.INTERNAL, 'internal error']);
    } finally {
      await db.query('DROP TRIGGER test_refuse_insert ON chat.messages');
      await db.query('DROP FUNCTION chat.test_refuse_insert()');
    }
    expect(await api.listMessages(ref)).toEqual(before);
    expect(before.messages.map((m) => m.id)).toEqual([started(first.events).userMessageId, started(first.events).assistantMessageId]);
    // And the session works as before.
    expect((await collect(regenerate(ref))).error).toBeUndefined();
  });
});
