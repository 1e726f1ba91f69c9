// ContinueMessage end to end: the chat server over real PostgreSQL and the real inference service on
// the built-in tiny model. An answer the token limit cut grows in place under a new run, whose events
// start with the answer so far; anything else is refused and left as it was.
import { randomUUID } from 'node:crypto';
import { status as Status } from '@grpc/grpc-js';
import { FinishReason, MessageStatus, type GenerationParams, type RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
import { describe, expect, it } from 'vitest';
import { collect, textOf, useChatStack } from './support/harness.js';

const stack = useChatStack();

type Ref = { userId: string; sessionId: string };

async function newSession(): Promise<Ref> {
  const userId = randomUUID();
  return { userId, sessionId: (await stack.api.createSession({ userId, title: '' })).id };
}

const CUT: GenerationParams = { temperature: 0, maxNewTokens: 6 };

const send = (ref: Ref, content: string, params: GenerationParams = CUT) => collect(stack.chat.client.sendMessage({ ...ref, content, params, enableThinking: false }));
const continueAnswer = (ref: Ref, messageId: string, params: GenerationParams = { temperature: 0, maxNewTokens: 5 }) =>
  collect(stack.chat.client.continueMessage({ ...ref, messageId, params, enableThinking: false }));

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

describe('ContinueMessage', () => {
  it('grows the cut answer in place: same message, new run starting with the text so far, tokens and time added up', async () => {
    const ref = await newSession();
    const first = await send(ref, 'Write a long story');
    expect(done(first.events).finishReason).toBe(FinishReason.FINISH_REASON_LENGTH);
    const { assistantMessageId, userMessageId } = started(first.events);
    const soFar = textOf(first.events, 'content');

    const more = await continueAnswer(ref, assistantMessageId);
    expect(more.error).toBeUndefined();
    const run = started(more.events);
    expect([run.assistantMessageId, run.userMessageId]).toEqual([assistantMessageId, userMessageId]);
    expect(run.runId).not.toBe(started(first.events).runId);
    // A reader of the new run alone sees the whole answer: the text so far comes first.
    const whole = textOf(more.events, 'content');
    expect(whole.startsWith(soFar)).toBe(true);
    expect(whole.length).toBeGreaterThan(soFar.length);
    expect(done(more.events).usage?.completionTokens).toBe(6 + 5);

    const { messages } = await stack.api.listMessages(ref);
    expect(messages).toHaveLength(2);
    expect(messages[1]).toMatchObject({ id: assistantMessageId, content: whole, status: MessageStatus.MESSAGE_STATUS_COMPLETE, finishReason: FinishReason.FINISH_REASON_LENGTH });
    expect(messages[1]!.usage?.completionTokens).toBe(11);
    // The stored timings cover both runs.
    expect(messages[1]!.timings!.durationMs).toBeGreaterThanOrEqual(done(first.events).timings!.durationMs);
    // (That the model goes on from the text is the engine's test: here the tiny model's gibberish
    // re-tokenizes differently from how it was generated, as any text-level continuation can.)
    // Attached afterwards, the run replays the whole answer.
    const replay = await collect(stack.chat.client.attachRun({ userId: ref.userId, runId: run.runId, afterSeq: 0 }));
    expect(textOf(replay.events, 'content')).toBe(whole);
  });

  it('refuses a cut answer with a message after it, a question, and a stopped answer: not_continuable, nothing changed', async () => {
    const ref = await newSession();
    const cut = started((await send(ref, 'Say little')).events);
    const next = started((await send(ref, 'And then?')).events);
    for (const messageId of [cut.assistantMessageId, next.userMessageId]) {
      const refused = await continueAnswer(ref, messageId);
      expect([refused.error?.code, refused.error?.details.split(':')[0]]).toEqual([Status.FAILED_PRECONDITION, 'not_continuable']);
    }
    const before = (await stack.api.listMessages(ref)).messages;
    expect(before.map((m) => [m.id, m.status])).toEqual([
      [cut.userMessageId, MessageStatus.MESSAGE_STATUS_COMPLETE],
      [cut.assistantMessageId, MessageStatus.MESSAGE_STATUS_COMPLETE],
      [next.userMessageId, MessageStatus.MESSAGE_STATUS_COMPLETE],
      [next.assistantMessageId, MessageStatus.MESSAGE_STATUS_COMPLETE],
    ]);
    expect((await stack.api.getSession(ref)).currentLeafId).toBe(next.assistantMessageId);

    const other = await newSession();
    let stopping: Promise<unknown> | undefined;
    const stopped = await collect(stack.chat.client.sendMessage({ ...other, content: 'Go', params: { temperature: 0, maxNewTokens: 200 }, enableThinking: false }), (event) => {
      if (event.event?.$case === 'content') stopping ??= stack.api.stopRun({ userId: other.userId, runId: event.runId });
    });
    await stopping;
    expect(done(stopped.events).finishReason).toBe(FinishReason.FINISH_REASON_CANCELLED);
    const refused = await continueAnswer(other, started(stopped.events).assistantMessageId);
    expect(refused.error?.details.split(':')[0]).toBe('not_continuable');
  });

  it("answers NOT_FOUND for another user's session or a message of another session", async () => {
    const ref = await newSession();
    const answer = started((await send(ref, 'Hello')).events).assistantMessageId;
    const stranger = await continueAnswer({ ...ref, userId: randomUUID() }, answer);
    expect([stranger.error?.code, stranger.error?.details]).toEqual([Status.NOT_FOUND, 'session not found']);
    const elsewhere = await continueAnswer(await newSession(), answer);
    expect([elsewhere.error?.code, elsewhere.error?.details]).toEqual([Status.NOT_FOUND, 'message not found']);
  });
});
