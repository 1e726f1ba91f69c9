import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../api/types';
import { applyRun, fromServer, pendingAnswer, prepareRegenerate, resumableRun, userMessage } from './conversation';
import { applyRunEvents, initialRun } from './run';

const server = (over: Partial<ServerMessage>): ServerMessage => ({
  id: 'm',
  sessionId: 's',
  role: 'user',
  content: '',
  reasoning: '',
  status: 'complete',
  finishReason: null,
  usage: null,
  createdAt: null,
  runId: null,
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
        { type: 'done', seq: 3, finishReason: 'cancelled', usage: null, messageId: 'a1' },
      ],
      0,
    );
    const out = applyRun(messages, 'k2', run, (c) => c);
    expect(out[0]).toMatchObject({ key: 'k1', id: 'u1' });
    expect(out[1]).toMatchObject({ key: 'k2', id: 'a1', content: 'hello', status: 'stopped' });
  });

  it('prepares regenerate and edit', () => {
    const messages = [userMessage('u', 'first'), { ...pendingAnswer('a'), status: 'complete' as const }];
    expect(prepareRegenerate(messages).map((m) => m.key)).toEqual(['u']);
    expect(prepareRegenerate(messages, 'edited')).toMatchObject([{ key: 'u', content: 'edited' }]);
  });
});
