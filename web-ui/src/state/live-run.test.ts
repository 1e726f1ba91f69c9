// LiveRun's silence watch with a hand-fed stream: a heartbeat comment counts as life, silence says
// "not responding" while the stream stays open, the next byte takes it back, and Stop still goes out.
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../api/client';
import { MESSAGES } from '../api/errors';
import { LiveRun } from './live-run';

const RUN = 'run-1';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function harness(stallTimeoutMs: number) {
  const encoder = new TextEncoder();
  let feed!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (controller) => void (feed = controller) });
  const stops: string[] = [];
  const client = {
    attach: async () => new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
    stopRun: async (runId: string) => void stops.push(runId),
  } as unknown as ApiClient;
  const connection: (string | null)[] = [];
  let ended = false;
  const run = new LiveRun({
    client,
    runId: RUN,
    stallTimeoutMs,
    requestFrame: (callback) => queueMicrotask(callback),
    onUpdate: () => {},
    onEnd: () => void (ended = true),
    onFail: (message) => {
      throw new Error(`unexpected failure: ${message}`);
    },
    onConnection: (message) => void connection.push(message),
  });
  return {
    run,
    stops,
    connection,
    ended: () => ended,
    write: (text: string) => feed.enqueue(encoder.encode(text)),
    close: () => feed.close(),
  };
}

const event = (seq: number, type: string, data: object): string => `id: ${RUN}:${seq}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

describe('LiveRun silence watch', () => {
  it('a `: ping` heartbeat keeps a quiet stream alive', async () => {
    const h = harness(120);
    h.write(event(1, 'run', { runId: RUN, userMessageId: 'u', assistantMessageId: 'a' }));
    for (let i = 0; i < 8; i++) {
      await sleep(40);
      h.write(': ping\n\n');
    }
    expect(h.connection).not.toContain(MESSAGES.stalled);
    h.run.detach();
  });

  it('silence says "not responding", Stop still goes out, and the next bytes clear the message', async () => {
    const h = harness(80);
    h.write(event(1, 'run', { runId: RUN, userMessageId: 'u', assistantMessageId: 'a' }));
    await sleep(200);
    expect(h.connection).toEqual([MESSAGES.stalled]);
    expect(MESSAGES.stalled).toBe('Server not responding — still trying');

    h.run.stop();
    await sleep(10);
    expect(h.stops).toEqual([RUN]);

    h.write(event(2, 'done', { finishReason: 'cancelled', messageId: 'a' }));
    h.close();
    await sleep(20);
    expect(h.connection).toEqual([MESSAGES.stalled, null]);
    expect(h.ended()).toBe(true);
  });
});
