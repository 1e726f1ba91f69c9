// Runs end to end: the chat server over real PostgreSQL, calling the real inference service on the
// built-in tiny model. The tiny model decodes ~200 tokens/s here, so a few hundred tokens give a
// run that is still going while a test attaches, disconnects or stops.
import { randomUUID } from 'node:crypto';
import { status as Status } from '@grpc/grpc-js';
import {
  ChatServiceClient,
  FinishReason,
  MessageRole,
  MessageStatus,
  type GenerationParams,
  type Message,
  type RunEvent,
} from '@freechat/proto/freechat/chat/v1/chat';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultEngineFactory, type EngineFactory } from '../../inference/src/server.js';
import { withGenerate } from '../../inference/src/engine/index.js';
import { healthStatus } from '../../inference/test/support/grpc-client.js';
import {
  DEAD_ADDRESS,
  chatConfig,
  collect,
  failure,
  startChat,
  startThrowawayPostgres,
  startTinyInference,
  textOf,
  until,
  untilSeq,
  type ChatApi,
  type ChatStreams,
  type RunningChat,
  type RunningPostgres,
  type RunsOverrides,
  type TinyInference,
} from './support/harness.js';

let postgres: RunningPostgres;
let inference: TinyInference;
let chat: RunningChat;
let api: ChatApi;
let db: pg.Pool;

const MAX_CONTEXT = 1024;
/** Lets the model service, not the chat service's estimate, decide when a prompt is too long. */
const GENEROUS: RunsOverrides = { maxPromptTokens: 1_000_000 };

beforeAll(async () => {
  postgres = await startThrowawayPostgres();
  inference = await startTinyInference({ maxContextTokens: MAX_CONTEXT });
  chat = await startChat(chatConfig(postgres.url, inference.address, { runs: GENEROUS }));
  api = chat.api;
  db = new pg.Pool({ connectionString: postgres.url });
});
afterAll(async () => {
  await db?.end();
  await chat?.close();
  await inference?.close();
  await postgres?.stop();
});

async function newSession(title = '') {
  const userId = randomUUID();
  const session = await api.createSession({ userId, title });
  return { userId, sessionId: session.id, session };
}

function send(client: ChatStreams, ref: { userId: string; sessionId: string }, content: string, params: GenerationParams = {}) {
  return client.sendMessage({ ...ref, content, params: { seed: 11, temperature: 1, ...params } });
}

async function assistantOf(ref: { userId: string; sessionId: string }, api_: ChatApi = api): Promise<Message> {
  const { messages } = await api_.listMessages(ref);
  const last = messages.at(-1);
  if (last?.role !== MessageRole.MESSAGE_ROLE_ASSISTANT) throw new Error('no assistant message yet');
  return last;
}

/** seq 1..n, RunStarted first, exactly one terminal event, and it is last. */
function expectWellFormed(events: readonly RunEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(events[0]?.event?.$case).toBe('started');
  const terminal = events.filter((e) => e.event?.$case === 'done' || e.event?.$case === 'error');
  expect(terminal).toHaveLength(1);
  expect(events.at(-1)).toBe(terminal[0]);
  const runId = events[0]!.runId;
  expect(events.every((e) => e.runId === runId)).toBe(true);
}

const started = (events: readonly RunEvent[]) => {
  const e = events[0]?.event;
  if (e?.$case !== 'started') throw new Error('first event is not RunStarted');
  return e.started;
};

describe('SendMessage', () => {
  it('streams RunStarted, deltas and one done with gap-free seq, and stores exactly what was streamed', async () => {
    const ref = await newSession();
    const { events, error } = await collect(send(chat.client, ref, 'Hello there, how are you today?', { maxNewTokens: 24 }));
    expect(error).toBeUndefined();
    expectWellFormed(events);
    expect(events.filter((e) => e.event?.$case === 'content').length).toBeGreaterThan(0);
    const last = events.at(-1)!.event;
    if (last?.$case !== 'done') throw new Error(`run ended with ${last?.$case}`);
    const { runId, userMessageId, assistantMessageId } = started(events);
    expect(runId).toBe(events[0]!.runId);
    expect([FinishReason.FINISH_REASON_STOP, FinishReason.FINISH_REASON_LENGTH]).toContain(last.done.finishReason);
    expect(last.done.messageId).toBe(assistantMessageId);
    expect(last.done.usage?.promptTokens).toBeGreaterThan(0);
    expect(last.done.usage?.completionTokens).toBeGreaterThan(0);
    expect(last.done.usage?.completionTokens).toBeLessThanOrEqual(24);

    const { messages } = await api.listMessages(ref);
    expect(messages.map((m) => [m.id, m.role])).toEqual([
      [userMessageId, MessageRole.MESSAGE_ROLE_USER],
      [assistantMessageId, MessageRole.MESSAGE_ROLE_ASSISTANT],
    ]);
    expect(messages[0]).toMatchObject({ content: 'Hello there, how are you today?', status: MessageStatus.MESSAGE_STATUS_COMPLETE });
    expect(messages[1]).toMatchObject({
      content: textOf(events, 'content'),
      reasoning: textOf(events, 'reasoning'),
      status: MessageStatus.MESSAGE_STATUS_COMPLETE,
      finishReason: last.done.finishReason,
      usage: last.done.usage,
      // Finished: nothing left to attach to.
      runId: '',
    });
    // How long it took, in the done event and stored with the answer: the first text came before the end.
    const timings = last.done.timings!;
    expect(timings.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(timings.durationMs).toBeGreaterThanOrEqual(timings.timeToFirstTokenMs!);
    expect(messages[1]!.timings).toEqual(timings);
    expect(messages[0]!.timings).toBeUndefined();
  });

  it('names a "New chat" session after its first message only, and bumps its activity', async () => {
    const ref = await newSession();
    const long = `  What is   the best way\nto learn ${'x'.repeat(100)}`;
    await collect(send(chat.client, ref, long, { maxNewTokens: 2 }));
    const titled = await api.getSession(ref);
    expect(titled.title).toBe(`What is the best way to learn ${'x'.repeat(100)}`.slice(0, 60));
    expect(titled.updatedAt!.seconds * 1e9 + titled.updatedAt!.nanos).toBeGreaterThan(
      ref.session.updatedAt!.seconds * 1e9 + ref.session.updatedAt!.nanos,
    );
    await collect(send(chat.client, ref, 'second question', { maxNewTokens: 2 }));
    expect((await api.getSession(ref)).title).toBe(titled.title);

    const named = await newSession('Kept title');
    await collect(send(chat.client, named, 'hello', { maxNewTokens: 2 }));
    expect((await api.getSession(named)).title).toBe('Kept title');
    // The session with activity is listed first.
    const { sessions } = await api.listSessions({ userId: ref.userId, pageSize: 0, pageToken: '' });
    expect(sessions[0]?.id).toBe(ref.sessionId);
  });
});

describe('AttachRun', () => {
  it('after seq k mid-run: every later event exactly once, then the end; the final message is stored', async () => {
    const ref = await newSession();
    const stream = send(chat.client, ref, 'Tell me a long story', { maxNewTokens: 400 });
    const sent = collect(stream);
    await untilSeq(stream, 6);
    const mid = await assistantOf(ref);
    expect(mid.status).toBe(MessageStatus.MESSAGE_STATUS_STREAMING);
    expect(mid.runId).not.toBe('');
    const attached = await collect(chat.client.attachRun({ userId: ref.userId, runId: mid.runId, afterSeq: 5 }));
    const all = (await sent).events;
    expect(attached.error).toBeUndefined();
    expectWellFormed(all);
    expect(attached.events).toEqual(all.slice(5));
    expect(attached.events[0]?.seq).toBe(6);
    const stored = await assistantOf(ref);
    expect(stored.content).toBe(textOf(all, 'content'));
    expect(stored.status).toBe(MessageStatus.MESSAGE_STATUS_COMPLETE);
    // While the log is kept, the whole run can be replayed.
    expect((await collect(chat.client.attachRun({ userId: ref.userId, runId: mid.runId, afterSeq: 0 }))).events).toEqual(all);
    expect((await collect(chat.client.attachRun({ userId: ref.userId, runId: mid.runId, afterSeq: all.length }))).events).toEqual([]);
  });

  it('the caller disconnecting does not stop the run', async () => {
    const ref = await newSession();
    const stream = send(chat.client, ref, 'Keep going', { maxNewTokens: 300 });
    const seen: RunEvent[] = [];
    stream.on('data', (e: RunEvent) => seen.push(e));
    stream.on('error', () => {});
    await untilSeq(stream, 3);
    stream.cancel();
    const runId = started(seen).runId;
    const rest = await collect(chat.client.attachRun({ userId: ref.userId, runId, afterSeq: 0 }));
    expectWellFormed(rest.events);
    const last = rest.events.at(-1)!.event;
    expect(last?.$case).toBe('done');
    if (last?.$case === 'done') expect(last.done.usage?.completionTokens).toBeGreaterThan(seen.length);
    const stored = await assistantOf(ref);
    expect(stored.status).toBe(MessageStatus.MESSAGE_STATUS_COMPLETE);
    expect(stored.content).toBe(textOf(rest.events, 'content'));
  });
});

describe('StopRun', () => {
  it('stores stopped with the partial content, ends with done CANCELLED, and is idempotent', async () => {
    const ref = await newSession();
    const stream = send(chat.client, ref, 'Write an endless poem', { maxNewTokens: 1000 });
    const outcome = collect(stream);
    await untilSeq(stream, 2);
    // Progress is written periodically while streaming, not only at the end.
    await until(async () => {
      const m = await assistantOf(ref);
      return m.status === MessageStatus.MESSAGE_STATUS_STREAMING && m.content.length > 0;
    });
    const runId = (await assistantOf(ref)).runId;
    await api.stopRun({ userId: ref.userId, runId });
    // StopRun returns once the stopped state is stored.
    const stopped = await assistantOf(ref);
    expect(stopped.status).toBe(MessageStatus.MESSAGE_STATUS_STOPPED);
    expect(stopped.finishReason).toBe(FinishReason.FINISH_REASON_CANCELLED);

    const { events, error } = await outcome;
    expect(error).toBeUndefined();
    expectWellFormed(events);
    const last = events.at(-1)!.event;
    if (last?.$case !== 'done') throw new Error('expected done');
    expect(last.done.finishReason).toBe(FinishReason.FINISH_REASON_CANCELLED);
    expect(last.done.usage!.completionTokens).toBeLessThan(1000);
    expect(stopped.content).toBe(textOf(events, 'content'));
    expect(stopped.content.length).toBeGreaterThan(0);
    expect(stopped.usage?.completionTokens).toBe(last.done.usage!.completionTokens);

    await api.stopRun({ userId: ref.userId, runId });
    expect(await assistantOf(ref)).toEqual(stopped);
  });

  it('DeleteSession stops the session\'s running run', async () => {
    const ref = await newSession();
    const stream = send(chat.client, ref, 'Go on and on', { maxNewTokens: 1000 });
    const outcome = collect(stream);
    await untilSeq(stream, 3);
    const runId = (await assistantOf(ref)).runId;
    await api.deleteSession(ref);
    const { events } = await outcome;
    const last = events.at(-1)!.event;
    expect(last?.$case === 'done' && last.done.finishReason).toBe(FinishReason.FINISH_REASON_CANCELLED);
    const { rows } = await db.query('SELECT status, content FROM chat.messages WHERE run_id = $1', [runId]);
    expect(rows[0]).toEqual({ status: 'stopped', content: textOf(events, 'content') });
    const attach = await collect(chat.client.attachRun({ userId: ref.userId, runId, afterSeq: 0 }));
    expect(attach.error?.code).toBe(Status.NOT_FOUND);
  });
});

describe('ownership of runs', () => {
  it('another user gets NOT_FOUND for a run, exactly as for an unknown one; the run is untouched', async () => {
    const ref = await newSession();
    const intruder = randomUUID();
    const stream = send(chat.client, ref, 'Private thoughts', { maxNewTokens: 300 });
    const outcome = collect(stream);
    await untilSeq(stream, 2);
    const runId = (await assistantOf(ref)).runId;
    for (const id of [runId, randomUUID()]) {
      const attach = await collect(chat.client.attachRun({ userId: intruder, runId: id, afterSeq: 0 }));
      expect([attach.events, attach.error?.code, attach.error?.details]).toEqual([[], Status.NOT_FOUND, 'run not found']);
      const stop = await failure(api.stopRun({ userId: intruder, runId: id }));
      expect([stop.code, stop.details]).toEqual([Status.NOT_FOUND, 'run not found']);
    }
    // Thunks, called one at a time: a rejection must never wait for its handler.
    for (const call of [
      () => api.getSession({ userId: intruder, sessionId: ref.sessionId }),
      () => api.listMessages({ userId: intruder, sessionId: ref.sessionId }),
      () => api.updateSession({ userId: intruder, sessionId: ref.sessionId, title: 'mine now' }),
      () => api.deleteSession({ userId: intruder, sessionId: ref.sessionId }),
    ]) {
      expect((await failure(call())).code).toBe(Status.NOT_FOUND);
    }
    const intruding = await collect(send(chat.client, { userId: intruder, sessionId: ref.sessionId }, 'hi'));
    expect(intruding.error?.code).toBe(Status.NOT_FOUND);
    const { events } = await outcome;
    expect(events.at(-1)?.event?.$case).toBe('done');
    expect((await api.listMessages(ref)).messages).toHaveLength(2);
  });

  it('a finished run whose log expired is answered from the stored message, which keeps the result', async () => {
    const shortLived = await startChat(chatConfig(postgres.url, inference.address, { runs: { logRetentionSeconds: 0.1 } }));
    try {
      const userId = randomUUID();
      const session = await shortLived.api.createSession({ userId, title: '' });
      const ref = { userId, sessionId: session.id };
      const { events } = await collect(send(shortLived.client, ref, 'Quick one', { maxNewTokens: 4 }));
      const runId = started(events).runId;
      await new Promise((r) => setTimeout(r, 300));
      // From the start: the whole run in one go, numbered afresh; part-way: only the terminal event.
      const replay = await collect(shortLived.client.attachRun({ userId, runId, afterSeq: 0 }));
      expect(replay.error).toBeUndefined();
      expect(replay.events.map((e) => e.seq)).toEqual(replay.events.map((_, i) => i + 1));
      expect(textOf(replay.events, 'content')).toBe(textOf(events, 'content'));
      expect(replay.events.at(-1)?.event).toEqual(events.at(-1)?.event);
      const rest = await collect(shortLived.client.attachRun({ userId, runId, afterSeq: 2 }));
      expect(rest.error).toBeUndefined();
      expect(rest.events).toEqual([{ runId, seq: 3, event: events.at(-1)?.event }]);
      // Stopping it is what stopping any finished run is: nothing to do, and nothing changes.
      expect(await shortLived.api.stopRun({ userId, runId })).toEqual({});
      expect(await assistantOf(ref, shortLived.api)).toMatchObject({
        status: MessageStatus.MESSAGE_STATUS_COMPLETE,
        content: textOf(events, 'content'),
      });
    } finally {
      await shortLived.close();
    }
  });
});

describe('when inference fails', () => {
  it('inference down: the run ends with an error event, stored as error, and the user message stays', async () => {
    // A short-lived log: a reader who comes back after it expired is told the same error.
    const offline = await startChat(chatConfig(postgres.url, DEAD_ADDRESS, { runs: { logRetentionSeconds: 0.1 } }));
    try {
      const userId = randomUUID();
      const session = await offline.api.createSession({ userId, title: '' });
      const ref = { userId, sessionId: session.id };
      const { events, error } = await collect(send(offline.client, ref, 'Anyone there?'));
      expect(error).toBeUndefined();
      expectWellFormed(events);
      expect(events.map((e) => e.event?.$case)).toEqual(['started', 'error']);
      const last = events[1]!.event;
      expect(last?.$case === 'error' && last.error.code).toBe('inference_unavailable');
      expect(last?.$case === 'error' && last.error.message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
      const { messages } = await offline.api.listMessages(ref);
      expect(messages.map((m) => [m.role, m.status, m.content])).toEqual([
        [MessageRole.MESSAGE_ROLE_USER, MessageStatus.MESSAGE_STATUS_COMPLETE, 'Anyone there?'],
        [MessageRole.MESSAGE_ROLE_ASSISTANT, MessageStatus.MESSAGE_STATUS_ERROR, ''],
      ]);
      expect(messages[1]!.finishReason).toBe(FinishReason.FINISH_REASON_ERROR);
      expect((await offline.api.getSession(ref)).title).toBe('Anyone there?');

      await new Promise((r) => setTimeout(r, 300));
      const runId = started(events).runId;
      for (const afterSeq of [0, 1]) {
        const later = await collect(offline.client.attachRun({ userId, runId, afterSeq }));
        expect(later.events.at(-1)?.event).toEqual(last);
      }
    } finally {
      await offline.close();
    }
  });

  it('a prompt the model cannot hold ends with prompt_too_long; the next message retries with fewer turns', async () => {
    const ref = await newSession();
    const huge = 'tell me more '.repeat(800);
    const first = await collect(send(chat.client, ref, huge, { maxNewTokens: 4 }));
    expectWellFormed(first.events);
    const last = first.events.at(-1)!.event;
    expect(last?.$case === 'error' && last.error.code).toBe('prompt_too_long');
    expect((await assistantOf(ref)).status).toBe(MessageStatus.MESSAGE_STATUS_ERROR);
    // The huge turn is still history: the model rejects the full prompt, the retry drops it.
    const second = await collect(send(chat.client, ref, 'And now a short one', { maxNewTokens: 4 }));
    expectWellFormed(second.events);
    expect(second.events.at(-1)?.event?.$case).toBe('done');
    expect((await assistantOf(ref)).status).toBe(MessageStatus.MESSAGE_STATUS_COMPLETE);
  });
});

describe('reasoning', () => {
  it('keeps reasoning deltas apart from content, streamed and stored', async () => {
    // The tiny model's random weights essentially never emit <think>; route its first deltas to the
    // reasoning channel inside the real engine, so the real gRPC path carries both channels.
    const thinkingFirst: EngineFactory = async (model, config, logger) =>
      withGenerate(await defaultEngineFactory(model, config, logger), async function* (request, inner) {
        let deltas = 0;
        for await (const event of inner.generate(request)) {
          yield event.type === 'delta' && deltas++ < 5 ? { ...event, channel: 'reasoning' } : event;
        }
      });
    const thinking = await startTinyInference({ engineFactory: thinkingFirst });
    const thinker = await startChat(chatConfig(postgres.url, thinking.address));
    try {
      const userId = randomUUID();
      const session = await thinker.api.createSession({ userId, title: '' });
      const ref = { userId, sessionId: session.id };
      const { events } = await collect(send(thinker.client, ref, 'Think first', { maxNewTokens: 20 }));
      expectWellFormed(events);
      const reasoning = textOf(events, 'reasoning');
      const content = textOf(events, 'content');
      expect(events.filter((e) => e.event?.$case === 'reasoning').length).toBeGreaterThan(0);
      expect(events.filter((e) => e.event?.$case === 'content').length).toBeGreaterThan(0);
      expect(await assistantOf(ref, thinker.api)).toMatchObject({ reasoning, content });
    } finally {
      await thinker.close();
      await thinking.close();
    }
  });
});

describe('crashes, restarts and shutdown', () => {
  it('the reaper marks messages left streaming by a dead process as error, keeping their text; live runs are safe', async () => {
    const userId = randomUUID();
    const sessionId = randomUUID();
    const [stale, fresh] = [randomUUID(), randomUUID()];
    await db.query(`INSERT INTO chat.sessions (id, owner_id, title) VALUES ($1, $2, 'crashed')`, [sessionId, userId]);
    await db.query(
      `INSERT INTO chat.messages (id, session_id, role, content, reasoning, status, run_id, created_at, updated_at) VALUES
         ($1, $3, 'assistant', 'half an answer', 'half a thought', 'streaming', gen_random_uuid(), now() - interval '1 hour', now() - interval '1 hour'),
         ($2, $3, 'assistant', 'recent', '', 'streaming', gen_random_uuid(), now(), now())`,
      [stale, fresh, sessionId],
    );
    // staleAfterSeconds 1: the start-up sweep closes the hour-old row; the fresh one goes a sweep later.
    const restarted = await startChat(chatConfig(postgres.url, inference.address, { runs: { staleAfterSeconds: 1 } }));
    try {
      const status = async (id: string) => (await db.query('SELECT status, finish_reason, content, reasoning FROM chat.messages WHERE id = $1', [id])).rows[0];
      expect(await status(stale)).toEqual({ status: 'error', finish_reason: 'error', content: 'half an answer', reasoning: 'half a thought' });
      expect((await status(fresh)).status).toBe('streaming');
      // A run longer than the stale time is kept alive by its heartbeat and ends complete. In another
      // conversation: one whose answer is still `streaming` takes no new message until it is closed.
      const ref = { userId, sessionId: (await restarted.api.createSession({ userId, title: '' })).id };
      const { events } = await collect(send(restarted.client, ref, 'Long answer please', { maxNewTokens: 500 }));
      expect(events.at(-1)?.event?.$case).toBe('done');
      expect((await assistantOf(ref, restarted.api)).status).toBe(MessageStatus.MESSAGE_STATUS_COMPLETE);
      await until(async () => (await status(fresh)).status === 'error');
      expect((await status(fresh)).content).toBe('recent');
    } finally {
      await restarted.close();
    }
  });

  it('a restart of the chat server keeps sessions and messages', async () => {
    const ref = await newSession();
    await collect(send(chat.client, ref, 'Remember me', { maxNewTokens: 6 }));
    const before = { session: await api.getSession(ref), messages: await api.listMessages(ref) };
    await chat.close();
    chat = await startChat(chatConfig(postgres.url, inference.address, { runs: GENEROUS }));
    api = chat.api;
    expect(await api.getSession(ref)).toEqual(before.session);
    expect(await api.listMessages(ref)).toEqual(before.messages);
    expect(before.messages.messages).toHaveLength(2);
  });

  it('on shutdown a run that outlasts the grace period is interrupted: error event, stored error, text kept', async () => {
    const closing = await startChat(chatConfig(postgres.url, inference.address, { graceMs: 500 }));
    const userId = randomUUID();
    const session = await closing.api.createSession({ userId, title: '' });
    const ref = { userId, sessionId: session.id };
    const stream = send(closing.client, ref, 'Never-ending', { maxNewTokens: 1000 });
    const outcome = collect(stream);
    await untilSeq(stream, 3);
    expect(await healthStatus(closing.server.address, ChatServiceClient.serviceName)).toBe('SERVING');
    const startedAt = Date.now();
    const closed = closing.server.close();
    // During the grace period: NOT_SERVING, and no new runs.
    expect(await healthStatus(closing.server.address, ChatServiceClient.serviceName)).toBe('NOT_SERVING');
    const refused = await collect(send(closing.client, ref, 'One more?'));
    expect(refused.error?.code).toBe(Status.UNAVAILABLE);
    await closed;
    await closing.close();
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(450);
    const { events } = await outcome;
    expectWellFormed(events);
    const last = events.at(-1)!.event;
    expect(last?.$case === 'error' && last.error.code).toBe('interrupted');
    const { rows } = await db.query(`SELECT status, finish_reason, content FROM chat.messages WHERE session_id = $1 AND role = 'assistant'`, [session.id]);
    expect(rows[0]).toEqual({ status: 'error', finish_reason: 'error', content: textOf(events, 'content') });
    expect(rows[0].content.length).toBeGreaterThan(0);
  });
});
