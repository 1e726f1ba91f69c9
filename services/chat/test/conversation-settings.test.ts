// A conversation's own system prompt and model, end to end: the chat server over real PostgreSQL and
// the real inference service on the built-in tiny model. The system prompt reaches the model (the
// prompt grows by it), the model must be one inference serves, and a fork keeps both.
import { randomUUID } from 'node:crypto';
import { status as Status } from '@grpc/grpc-js';
import type { RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
import { describe, expect, it } from 'vitest';
import { collect, useChatStack } from './support/harness.js';

const stack = useChatStack();

type Ref = { userId: string; sessionId: string };
const newSession = async (): Promise<Ref> => {
  const userId = randomUUID();
  return { userId, sessionId: (await stack.api.createSession({ userId, title: '' })).id };
};
const ask = (ref: Ref) => collect(stack.chat.client.sendMessage({ ...ref, content: 'Hello', params: { maxNewTokens: 2, temperature: 0 }, enableThinking: false }));
const promptTokens = (events: readonly RunEvent[]) => {
  const e = events.at(-1)?.event;
  if (e?.$case !== 'done') throw new Error(`run ended with ${e?.$case}`);
  return e.done.usage!.promptTokens;
};

describe("a conversation's system prompt and model", () => {
  it('sends the system prompt with every run of that conversation only', async () => {
    const plain = await newSession();
    const instructed = await newSession();
    const systemPrompt = 'You are a terse assistant who answers in exactly one short sentence, in French.';
    expect((await stack.api.updateSession({ ...instructed, systemPrompt })).systemPrompt).toBe(systemPrompt);
    const without = promptTokens((await ask(plain)).events);
    const withPrompt = promptTokens((await ask(instructed)).events);
    // The system turn costs its text and its template tokens.
    expect(withPrompt).toBeGreaterThan(without + 10);
    await stack.api.updateSession({ ...instructed, systemPrompt: '' });
    expect(promptTokens((await ask(instructed)).events)).toBeLessThan(withPrompt);
  });

  it('takes a model inference serves, refuses one it does not (naming the served ones), and runs with it', async () => {
    const ref = await newSession();
    const refused = await stack.api.updateSession({ ...ref, model: 'gpt-17' }).catch((error: { code: number; details: string }) => error);
    expect((refused as { code: number }).code).toBe(Status.INVALID_ARGUMENT);
    expect((refused as { details: string }).details).toMatch(/^model: "gpt-17" is not served; served: "/);
    expect((await stack.api.getSession(ref)).model).toBe('');
    const served = /served: "([^"]+)"/.exec((refused as { details: string }).details)![1]!;
    expect((await stack.api.updateSession({ ...ref, model: served })).model).toBe(served);
    const run = await ask(ref);
    expect(run.error).toBeUndefined();
    expect(run.events.at(-1)?.event?.$case).toBe('done');
  });

  it('a fork keeps the system prompt and the model', async () => {
    const ref = await newSession();
    await stack.api.updateSession({ ...ref, systemPrompt: 'Be kind.' });
    const answer = (await ask(ref)).events[0]!.event;
    if (answer?.$case !== 'started') throw new Error('no RunStarted');
    const fork = await stack.api.forkSession({ ...ref, messageId: answer.started.assistantMessageId });
    expect(fork.systemPrompt).toBe('Be kind.');
  });
});
