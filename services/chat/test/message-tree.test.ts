// RegenerateMessage end to end: the chat server over real PostgreSQL and the real inference service on
// the built-in tiny model. Regenerate adds an answer beside the last one; with content it adds the
// edited question beside the original; nothing is deleted; refusals and failures leave the
// conversation exactly as it was.
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runMigrations } from '@freechat/shared/postgres';
import { status as Status } from '@grpc/grpc-js';
import { MessageRole, MessageStatus, type GenerationParams, type RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessagesRepository } from '../src/messages-repository.js';
import { MIGRATIONS_DIR } from '../src/server.js';
import { collect, failure, startThrowawayPostgres, textOf, untilSeq, useChatStack } from './support/harness.js';

const stack = useChatStack();
let db: pg.Pool;

beforeAll(() => {
  db = new pg.Pool({ connectionString: stack.postgres.url });
});
// Registered after the stack's: runs before it stops PostgreSQL.
afterAll(async () => {
  await db?.end();
});

type Ref = { userId: string; sessionId: string };

async function newSession(): Promise<Ref> {
  const userId = randomUUID();
  return { userId, sessionId: (await stack.api.createSession({ userId, title: '' })).id };
}

const PARAMS: GenerationParams = { seed: 11, temperature: 1, maxNewTokens: 16 };

function send(ref: Ref, content: string, params: GenerationParams = PARAMS) {
  return collect(stack.chat.client.sendMessage({ ...ref, content, params }));
}

function regenerate(ref: Ref, options: { content?: string; messageId?: string; params?: GenerationParams } = {}) {
  return stack.chat.client.regenerateMessage({ ...ref, params: PARAMS, ...options });
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

const rolesAndIds = async (ref: Ref) => (await stack.api.listMessages(ref)).messages.map((m) => [m.role, m.id]);

describe('RegenerateMessage', () => {
  it('streams a new answer beside the last one and shows it; the earlier answer and its run are kept', async () => {
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

    const { messages } = await stack.api.listMessages(ref);
    expect(messages.map((m) => [m.role, m.id])).toEqual([
      [MessageRole.MESSAGE_ROLE_USER, userMessageId],
      [MessageRole.MESSAGE_ROLE_ASSISTANT, assistantMessageId],
    ]);
    expect(messages[0]).toMatchObject({ content: 'Hello there', parentId: '', siblingIds: [userMessageId] });
    expect(messages[1]).toMatchObject({
      content: textOf(again.events, 'content'),
      status: MessageStatus.MESSAGE_STATUS_COMPLETE,
      parentId: userMessageId,
      // The earlier answer first: `2/2`.
      siblingIds: [oldAnswer, assistantMessageId],
    });
    expect((await stack.api.getSession(ref)).currentLeafId).toBe(assistantMessageId);
    // The earlier answer is still there, text and all, and its run still replays it.
    const kept = await db.query<{ content: string }>('SELECT content FROM chat.messages WHERE id = $1', [oldAnswer]);
    expect(kept.rows[0]?.content).toBe(textOf(first.events, 'content'));
    const attach = await collect(stack.chat.client.attachRun({ userId: ref.userId, runId: first.events[0]!.runId, afterSeq: 0 }));
    expect(attach.error).toBeUndefined();
    expect(textOf(attach.events, 'content')).toBe(textOf(first.events, 'content'));
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
    // The same prompt as the answer beside it: the earlier turn is in it, the other answer is not.
    expect(done(again.events).usage?.promptTokens).toBe(done(two.events).usage?.promptTokens);
  });

  it('edits the last question beside the original and answers the new text: stored, prompted and re-titled', async () => {
    const ref = await newSession();
    const first = await send(ref, 'Hi');
    expect((await stack.api.getSession(ref)).title).toBe('Hi');
    const edited = 'Hi, could you please explain how rainbows form after a summer storm?';
    const again = await collect(regenerate(ref, { content: edited }));
    expect(again.error).toBeUndefined();
    const original = started(first.events).userMessageId;
    const edit = started(again.events).userMessageId;
    expect(edit).not.toBe(original);
    const { messages } = await stack.api.listMessages(ref);
    expect(messages.map((m) => m.content)).toEqual([edited, textOf(again.events, 'content')]);
    expect(messages[0]!.siblingIds).toEqual([original, edit]);
    // The original question is kept, unchanged.
    expect((await db.query('SELECT content FROM chat.messages WHERE id = $1', [original])).rows[0]).toEqual({ content: 'Hi' });
    // The model saw the edited text: a longer prompt.
    expect(done(again.events).usage!.promptTokens).toBeGreaterThan(done(first.events).usage!.promptTokens + 5);
    // The session was named after that message, so it follows the edit.
    expect((await stack.api.getSession(ref)).title).toBe(edited.slice(0, 60).trim());

    // A title the user chose (or one from an earlier message) is kept.
    await stack.api.updateSession({ ...ref, title: 'Mine' });
    await collect(regenerate(ref, { content: 'Something else' }));
    expect((await stack.api.getSession(ref)).title).toBe('Mine');
  });

  it('works after an answer that failed or was stopped (nothing streaming)', async () => {
    const ref = await newSession();
    const stream = stack.chat.client.sendMessage({ ...ref, content: 'Go on', params: { ...PARAMS, maxNewTokens: 2000 } });
    const outcome = collect(stream);
    const first = await untilSeq(stream, 2);
    await stack.api.stopRun({ userId: ref.userId, runId: first.runId });
    await outcome;
    const again = await collect(regenerate(ref));
    expect(again.error).toBeUndefined();
    expect((await stack.api.listMessages(ref)).messages.map((m) => m.status)).toEqual([
      MessageStatus.MESSAGE_STATUS_COMPLETE,
      MessageStatus.MESSAGE_STATUS_COMPLETE,
    ]);
  });

  it('refuses with FAILED_PRECONDITION run_in_progress while an answer streams, changing nothing', async () => {
    const ref = await newSession();
    const stream = stack.chat.client.sendMessage({ ...ref, content: 'Keep talking', params: { ...PARAMS, maxNewTokens: 2000 } });
    const outcome = collect(stream);
    const first = await untilSeq(stream, 2);
    const before = await rolesAndIds(ref);
    const refused = await collect(regenerate(ref, { content: 'changed my mind' }));
    expect(refused.events).toEqual([]);
    expect(refused.error?.code).toBe(Status.FAILED_PRECONDITION);
    expect(refused.error?.details).toMatch(/^run_in_progress: /);
    expect(await rolesAndIds(ref)).toEqual(before);
    expect((await stack.api.listMessages(ref)).messages[0]!.content).toBe('Keep talking');
    await stack.api.stopRun({ userId: ref.userId, runId: first.runId });
    await outcome;
  });

  it('refuses with FAILED_PRECONDITION nothing_to_regenerate in a session without a user message', async () => {
    const ref = await newSession();
    const refused = await collect(regenerate(ref));
    expect([refused.error?.code, refused.error?.details.split(':')[0]]).toEqual([Status.FAILED_PRECONDITION, 'nothing_to_regenerate']);
    expect((await stack.api.listMessages(ref)).messages).toEqual([]);
  });

  it("answers NOT_FOUND for another user's, a missing or a deleted session, or a message of another session, touching nothing", async () => {
    const ref = await newSession();
    await send(ref, 'mine');
    const before = await stack.api.listMessages(ref);
    const others = [
      { userId: randomUUID(), sessionId: ref.sessionId },
      { userId: ref.userId, sessionId: randomUUID() },
    ];
    for (const other of others) {
      const result = await collect(regenerate(other, { content: 'hijack' }));
      expect([result.error?.code, result.error?.details]).toEqual([Status.NOT_FOUND, 'session not found']);
    }
    expect(await stack.api.listMessages(ref)).toEqual(before);
    const elsewhere = await newSession();
    const foreign = started((await send(elsewhere, 'elsewhere')).events).userMessageId;
    const wrongMessage = await collect(regenerate(ref, { messageId: foreign }));
    expect([wrongMessage.error?.code, wrongMessage.error?.details]).toEqual([Status.NOT_FOUND, 'message not found']);
    expect((await collect(regenerate(ref, { messageId: randomUUID() }))).error?.code).toBe(Status.NOT_FOUND);
    expect(await stack.api.listMessages(ref)).toEqual(before);
    await stack.api.deleteSession(ref);
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
      [{ messageId: 'not-a-uuid' }, 'message_id'],
    ];
    for (const [options, field] of cases) {
      const result = await collect(regenerate(ref, options));
      expect([result.error?.code, result.error?.details.split(':')[0]]).toEqual([Status.INVALID_ARGUMENT, field]);
    }
    const badSession = await collect(stack.chat.client.regenerateMessage({ userId: ref.userId, sessionId: 'nope', params: undefined }));
    expect([badSession.error?.code, badSession.error?.details.split(':')[0]]).toEqual([Status.INVALID_ARGUMENT, 'session_id']);
    expect((await stack.api.listMessages(ref)).messages[0]!.content).toBe('question');
  });

  it('is one transaction: a failure while writing the edit and its answer leaves the conversation as it was', async () => {
    const ref = await newSession();
    const first = await send(ref, 'original');
    const before = await stack.api.listMessages(ref);
    // A real failure inside the transaction, after admission: inserting the edit's row.
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
    expect(await stack.api.listMessages(ref)).toEqual(before);
    expect(before.messages.map((m) => m.id)).toEqual([started(first.events).userMessageId, started(first.events).assistantMessageId]);
    // And the session works as before.
    expect((await collect(regenerate(ref))).error).toBeUndefined();
  });
});

describe('conversations as trees', () => {
  /** q1 → a1 → q2 → a2, then a1 answered again: q1 → a1' (shown), with q2 and a2 kept under a1. */
  async function branched() {
    const ref = await newSession();
    const one = started((await send(ref, 'First question')).events);
    const two = started((await send(ref, 'Second question')).events);
    const again = await collect(regenerate(ref, { messageId: one.assistantMessageId }));
    expect(again.error).toBeUndefined();
    return { ref, one, two, again: started(again.events), againEvents: again.events };
  }
  const history = async (ref: Ref, userMessageId: string) =>
    (await new MessagesRepository(db).readPromptHistory({ sessionId: ref.sessionId, userMessageId, maxContentBytes: 1 << 20 }, () => false)).map((m) => m.id);

  it('answers a middle answer again as a new branch from its question: later turns stay on the old branch, and prompts see only their own branch', async () => {
    const { ref, one, two, again } = await branched();
    expect(again.userMessageId).toBe(one.userMessageId);
    const shown = (await stack.api.listMessages(ref)).messages;
    expect(shown.map((m) => m.id)).toEqual([one.userMessageId, again.assistantMessageId]);
    expect(shown[1]!.siblingIds).toEqual([one.assistantMessageId, again.assistantMessageId]);

    // The next question continues the branch shown; its prompt holds that branch and nothing of q2/a2.
    const three = started((await send(ref, 'Third question')).events);
    expect((await stack.api.listMessages(ref)).messages.map((m) => m.id)).toEqual([one.userMessageId, again.assistantMessageId, three.userMessageId, three.assistantMessageId]);
    expect(await history(ref, three.userMessageId)).toEqual([one.userMessageId, again.assistantMessageId, three.userMessageId]);
    expect(await history(ref, two.userMessageId)).toEqual([one.userMessageId, one.assistantMessageId, two.userMessageId]);
  });

  it('switches branches: a sibling shows with the newest messages under it, and the choice is kept', async () => {
    const { ref, one, two, again } = await branched();
    const back = await stack.api.selectBranch({ ...ref, messageId: one.assistantMessageId });
    expect(back.currentLeafId).toBe(two.assistantMessageId);
    expect((await stack.api.listMessages(ref)).messages.map((m) => m.id)).toEqual([one.userMessageId, one.assistantMessageId, two.userMessageId, two.assistantMessageId]);
    expect((await stack.api.getSession(ref)).currentLeafId).toBe(two.assistantMessageId);
    // From the question: its newest answer, a1'.
    expect((await stack.api.selectBranch({ ...ref, messageId: one.userMessageId })).currentLeafId).toBe(again.assistantMessageId);
    // Regenerating without naming a message answers the branch shown.
    await stack.api.selectBranch({ ...ref, messageId: one.assistantMessageId });
    const latest = started((await collect(regenerate(ref))).events);
    expect(latest.userMessageId).toBe(two.userMessageId);
    expect((await stack.api.listMessages(ref)).messages.at(-1)!.siblingIds).toEqual([two.assistantMessageId, latest.assistantMessageId]);
  });

  it('edits a first question beside the original; the old conversation stays one switch away', async () => {
    const { ref, one } = await branched();
    const edit = started((await collect(regenerate(ref, { messageId: one.userMessageId, content: 'A better first question' }))).events);
    const shown = (await stack.api.listMessages(ref)).messages;
    expect(shown.map((m) => m.content)[0]).toBe('A better first question');
    expect(shown.map((m) => m.id)).toEqual([edit.userMessageId, edit.assistantMessageId]);
    expect(shown[0]!.siblingIds).toEqual([one.userMessageId, edit.userMessageId]);
    expect(await history(ref, edit.userMessageId)).toEqual([edit.userMessageId]);
    await stack.api.selectBranch({ ...ref, messageId: one.userMessageId });
    expect((await stack.api.listMessages(ref)).messages.map((m) => m.id)[0]).toBe(one.userMessageId);
    // (Re-titling after an edit is checked above: here the title writer may have named the session by now.)
  });

  it('refuses to switch to a message of another session or user, naming what is wrong', async () => {
    const { ref, one } = await branched();
    const other = await newSession();
    expect((await failure(stack.api.selectBranch({ ...other, messageId: one.userMessageId }))).details).toBe('message not found');
    expect((await failure(stack.api.selectBranch({ userId: randomUUID(), sessionId: ref.sessionId, messageId: one.userMessageId }))).details).toBe('session not found');
    const bad = await failure(stack.api.selectBranch({ ...ref, messageId: 'x' }));
    expect([bad.code, bad.details.split(':')[0]]).toEqual([Status.INVALID_ARGUMENT, 'message_id']);
  });
});

describe('migration to trees', () => {
  it('turns a conversation written before trees into one branch, nothing lost, and chat goes on from its last message', async () => {
    const scratch = await startThrowawayPostgres();
    const old = await mkdtemp(path.join(os.tmpdir(), 'chat-migrations-'));
    const pool = new pg.Pool({ connectionString: scratch.url });
    try {
      // The schema as it was before migration 0004.
      for (const name of (await readdir(MIGRATIONS_DIR)).filter((n) => n < '0004')) await copyFile(path.join(MIGRATIONS_DIR, name), path.join(old, name));
      await runMigrations(pool, { schema: 'chat', directory: old });
      const [sessionId, owner] = [randomUUID(), randomUUID()];
      await pool.query(`INSERT INTO chat.sessions (id, owner_id, title) VALUES ($1, $2, 'Before trees')`, [sessionId, owner]);
      const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      for (const [i, id] of ids.entries())
        await pool.query(`INSERT INTO chat.messages (id, session_id, role, content, status) VALUES ($1, $2, $3, $4, 'complete')`, [
          id,
          sessionId,
          i % 2 === 0 ? 'user' : 'assistant',
          `message ${i}`,
        ]);

      expect(await runMigrations(pool, { schema: 'chat', directory: MIGRATIONS_DIR })).toContain(4);
      const { rows } = await pool.query<{ id: string; parent_id: string | null }>(`SELECT id, parent_id FROM chat.messages WHERE session_id = $1 ORDER BY created_at, id`, [sessionId]);
      expect(rows).toEqual(ids.map((id, i) => ({ id, parent_id: i === 0 ? null : ids[i - 1] })));
      const repository = new MessagesRepository(pool);
      const page = await repository.listPage(sessionId, 50, undefined);
      expect(page.messages.map((m) => [m.id, m.content, m.siblingIds])).toEqual(ids.map((id, i) => [id, `message ${i}`, [id]]));
      // The next turn's prompt reads the whole migrated branch.
      const history = await repository.readPromptHistory({ sessionId, userMessageId: ids[2]!, maxContentBytes: 1 << 20 }, () => false);
      expect(history.map((m) => m.id)).toEqual(ids.slice(0, 3));
    } finally {
      await pool.end();
      await rm(old, { recursive: true, force: true });
      await scratch.stop();
    }
  });
});
