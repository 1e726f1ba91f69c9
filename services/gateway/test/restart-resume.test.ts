// A client reconnecting with Last-Event-ID after chat restarted (its in-memory run logs gone) gets the
// rest of its run from the stored message, or a clear terminal event: never a 404 for a run whose
// message exists. Real stack; chat is closed gracefully and a new one started on the same address.
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultEngineFactory, withGenerate, type EngineFactory } from '@freechat/inference';
import { loadChatConfig, startChatServer, type ChatServerHandle } from '@freechat/chat';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonRequest, readSse, registerUser, type TestUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';

/** The real tiny model, one delta every 20 ms: a long answer is still running when chat restarts. */
const paced: EngineFactory = async (model, config, logger) => {
  const engine = await defaultEngineFactory(model, config, logger);
  return withGenerate(engine, async function* (request) {
    for await (const event of engine.generate(request)) {
      if (event.type === 'delta') await sleep(20);
      yield event;
    }
  });
};

let stack: Stack;
let restarted: ChatServerHandle | undefined;

beforeAll(async () => {
  stack = await startStack({ engineFactory: paced, generatedTitles: false });
}, 180_000);

afterAll(async () => {
  await restarted?.close();
  await stack?.close();
}, 60_000);

async function send(user: TestUser, content: string, maxNewTokens: number, stopAfter?: number) {
  const session = await jsonRequest(stack.url, '/api/sessions', { method: 'POST', token: user.accessToken, body: {} });
  return readSse(stack.url, `/api/sessions/${session.body.id}/messages`, {
    method: 'POST',
    token: user.accessToken,
    body: { content, params: { maxNewTokens, seed: 5, temperature: 1 } },
    ...(stopAfter !== undefined && { until: (_event, events) => events.length === stopAfter }),
  });
}

describe('resuming after chat restarted', () => {
  it('answers from the stored message: the missing terminal event, a full replay, or error interrupted', async () => {
    const user = await registerUser(stack.url);
    const finished = await send(user, 'Say something short', 6);
    expect(finished.events.at(-1)!.event).toBe('done');
    const finishedRun: string = finished.events[0]!.data.runId;
    const running = await send(user, 'Tell me a very long story', 500, 3);
    expect([running.status, running.stoppedEarly]).toEqual([200, true]);
    const runningRun: string = running.events[0]!.data.runId;

    // Graceful: the run still going is interrupted after the grace period and stored as such.
    await stack.chat.close();
    const base = loadChatConfig({
      env: {
        DATABASE_URL: stack.databaseUrl,
        FREECHAT_CHAT_ADDRESS: stack.chat.address,
        FREECHAT_INFERENCE_ADDRESS: stack.inference.address,
        FREECHAT_AUTH_ADDRESS: stack.auth.address,
      },
    });
    restarted = await startChatServer({
      config: { ...base, events: { ...base.events, titles: { ...base.events.titles, enabled: false } }, shutdown: { graceMs: 1_000 } },
      logger: stack.logger.child({ service: 'chat-restarted' }),
    });
    await restarted.ready;
    for (let i = 0; (await jsonRequest(stack.url, '/readyz')).status !== 200; i++) {
      if (i > 100) throw new Error('the gateway never saw the restarted chat');
      await sleep(100);
    }

    // Part-way through a finished run: only its terminal event, right after the client's last one.
    const lastSeen = finished.events[1]!.id!;
    const tail = await readSse(stack.url, `/api/runs/${finishedRun}/events`, { token: user.accessToken, headers: { 'last-event-id': lastSeen } });
    expect(tail.status).toBe(200);
    expect(tail.events.map((e) => [e.event, e.id])).toEqual([['done', `${finishedRun}:3`]]);
    expect(tail.events[0]!.data).toMatchObject({ finishReason: finished.events.at(-1)!.data.finishReason });

    // From the start: the whole stored answer in one go.
    const replay = await readSse(stack.url, `/api/runs/${finishedRun}/events`, { token: user.accessToken });
    expect(replay.status).toBe(200);
    expect(replay.events.map((e) => e.event)).toEqual(['run', 'content', 'done']);
    const content = (events: typeof replay.events) => events.filter((e) => e.event === 'content').map((e) => e.data.delta).join('');
    expect(content(replay.events)).toBe(content(finished.events));

    // The run cut by the restart: a clear terminal event, not a 404.
    const cut = await readSse(stack.url, `/api/runs/${runningRun}/events`, {
      token: user.accessToken,
      headers: { 'last-event-id': running.events.at(-1)!.id! },
    });
    expect(cut.status).toBe(200);
    expect(cut.events).toHaveLength(1);
    expect(cut.events[0]).toMatchObject({ event: 'error', id: `${runningRun}:4`, data: { code: 'interrupted' } });
  }, 120_000);
});
