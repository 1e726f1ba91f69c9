import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../api/types';
import { answerStats, applyRun, fromServer, pendingAnswer, prepareRegenerate, resumableRun, userMessage } from './conversation';
import { applyRunEvents, initialRun } from './run';

const server = (over: Partial<ServerMessage>): ServerMessage => ({
  id: 'm',
  sessionId: 's',
  parentId: null,
  siblingIds: [],
  role: 'user',
  content: '',
  reasoning: '',
  status: 'complete',
  finishReason: null,
  usage: null,
  createdAt: null,
  runId: null,
  timings: null,
  ...over,
});

describe('conversation', () => {
  it('finds a streaming last answer to resume', () => {
    const messages = fromServer([server({ id: 'u' }), server({ id: 'a', role: 'assistant', status: 'streaming', runId: 'r', content: 'partial' })]);
    expect(resumableRun(messages)).toEqual({ key: 'a', runId: 'r' });
    expect(resumableRun(fromServer([server({ id: 'u' })]))).toBeUndefined();
  });

  it('applies a run to its message and gives the user message its id', () => {
    const messages = [userMessage('k1', 'hi'), pendingAnswer('k2')];
    const run = applyRunEvents(
      initialRun(),
      [
        { type: 'run', seq: 1, runId: 'r', userMessageId: 'u1', assistantMessageId: 'a1' },
        { type: 'content', seq: 2, delta: 'hello' },
        { type: 'done', seq: 3, finishReason: 'cancelled', usage: null, messageId: 'a1', timings: null },
      ],
      0,
    );
    const out = applyRun(messages, 'k2', run, (c) => c);
    expect(out[0]).toMatchObject({ key: 'k1', id: 'u1' });
    expect(out[1]).toMatchObject({ key: 'k2', id: 'a1', content: 'hello', status: 'stopped' });
  });

  it('regenerating an answer keeps everything down to its question and streams a new answer beside it', () => {
    const messages = fromServer([
      server({ id: 'u1' }),
      server({ id: 'a1', role: 'assistant', siblingIds: ['a0', 'a1'] }),
      server({ id: 'u2' }),
      server({ id: 'a2', role: 'assistant' }),
    ]);
    const prepared = prepareRegenerate(messages, 'a1', { user: 'nu', answer: 'na' })!;
    expect(prepared.messageId).toBe('a1');
    expect(prepared.messages.map((m) => m.key)).toEqual(['u1', 'na']);
    expect(prepared.messages[1]).toMatchObject({ status: 'streaming', siblingIds: ['a0', 'a1'] });
    // Once the run names the new answer, it is the third version.
    const run = applyRunEvents(initialRun(), [{ type: 'run', seq: 1, runId: 'r', userMessageId: 'u1', assistantMessageId: 'a9' }], 0);
    expect(applyRun(prepared.messages, 'na', run, (c) => c)[1]!.siblingIds).toEqual(['a0', 'a1', 'a9']);
  });

  it('editing a question puts the edit beside it, drops what followed, and starts a new branch of answers', () => {
    const messages = fromServer([server({ id: 'u1' }), server({ id: 'a1', role: 'assistant' }), server({ id: 'u2', parentId: 'a1' }), server({ id: 'a2', role: 'assistant' })]);
    const prepared = prepareRegenerate(messages, 'u1', { user: 'nu', answer: 'na' }, 'edited')!;
    expect(prepared.messageId).toBe('u1');
    expect(prepared.messages.map((m) => [m.key, m.content])).toEqual([
      ['nu', 'edited'],
      ['na', ''],
    ]);
    const run = applyRunEvents(initialRun(), [{ type: 'run', seq: 1, runId: 'r', userMessageId: 'u9', assistantMessageId: 'a9' }], 0);
    const out = applyRun(prepared.messages, 'na', run, (c) => c);
    expect(out.map((m) => m.siblingIds)).toEqual([['u1', 'u9'], ['a9']]);
    // Answering the same question again, unedited, keeps it and adds an answer beside its current one.
    expect(prepareRegenerate(messages, 'u2', { user: 'nu', answer: 'na' })!.messages.map((m) => [m.key, m.siblingIds])).toEqual([
      ['u1', ['u1']],
      ['a1', ['a1']],
      ['u2', ['u2']],
      ['na', ['a2']],
    ]);
    // A message not stored yet cannot be answered again.
    expect(prepareRegenerate([userMessage('k', 'x')], 'k', { user: 'nu', answer: 'na' })).toBeUndefined();
  });

  it("says an answer's tokens, tokens per second after the first, and time to the first", () => {
    const [answer] = fromServer([server({ role: 'assistant', usage: { promptTokens: 9, completionTokens: 21 }, timings: { timeToFirstTokenMs: 500, durationMs: 2_500 } })]);
    // 20 tokens after the first, in 2 s.
    expect(answerStats(answer!)).toEqual({ tokens: 21, tokensPerSecond: 10, firstTokenSeconds: 0.5 });
    // Stored before timings were kept: the tokens only.
    expect(answerStats({ usage: { promptTokens: 9, completionTokens: 3 }, timings: null })).toEqual({ tokens: 3, tokensPerSecond: null, firstTokenSeconds: null });
    expect(answerStats({ usage: null, timings: null })).toBeNull();
  });
});
