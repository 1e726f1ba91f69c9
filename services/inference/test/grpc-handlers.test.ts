import { EventEmitter } from 'node:events';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { GenerateRequest, GenerateResponse } from '@freechat/proto/freechat/inference/v1/inference';
import { createLogger, createWallClock } from '@freechat/shared';
import { describe, expect, it } from 'vitest';
import type { Engine, GenerationEvent, GenerationRequest } from '../src/engine/types.js';
import { createInferenceHandlers } from '../src/grpc-handlers.js';
import { generateRequest } from './support/grpc-client.js';

const logger = createLogger({ service: 'inference-test', level: 'silent' });
const tick = () => new Promise((r) => setImmediate(r));

/** An engine that yields `count` deltas then done, recording how far the consumer has pulled. */
function countingEngine(count: number) {
  const state = { pulled: 0, signal: undefined as AbortSignal | undefined };
  const engine = {
    model: { id: 'fake', source: 'directory', path: '/fake', limits: { maxBatchSize: 1, maxQueueSize: 0, maxContextTokens: 8, maxNewTokensLimit: 8, maxPromptTokens: 7 } },
    activeCount: 0,
    async *generate(request: GenerationRequest): AsyncIterable<GenerationEvent> {
      state.signal = request.signal;
      for (let i = 0; i < count; i++) {
        state.pulled++;
        yield { type: 'delta', channel: 'content', text: `t${i}`, tokenCount: 1 };
      }
      yield {
        type: 'done',
        finishReason: request.signal?.aborted ? 'cancelled' : 'length',
        usage: { promptTokens: 1, completionTokens: count, cachedPromptTokens: 0 },
        timings: { queueWaitMs: 0, timeToFirstTokenMs: 1, decodeTokensPerSecond: 1 },
      };
    },
    kvCache: { path: 'generic', budgetBytes: undefined, reservedBytes: 0, allocatedBytes: 0, prefixCacheBytes: 0 },
    drain: async () => {},
    idle: async () => {},
    close: async () => {},
  } satisfies Engine;
  return { engine, state };
}

/** A server call whose transport is "full" after every write until the test emits 'drain'. */
function fakeCall(request: GenerateRequest) {
  const call = Object.assign(new EventEmitter(), {
    request,
    cancelled: false,
    written: [] as GenerateResponse[],
    ended: false,
    write(response: GenerateResponse) {
      call.written.push(response);
      return false;
    },
    end() {
      call.ended = true;
    },
  });
  return call;
}

describe('Generate handler', () => {
  it('pulls the next event only after the transport drains', async () => {
    const { engine, state } = countingEngine(3);
    const handlers = createInferenceHandlers({ engine: () => engine, logger, clock: createWallClock() });
    const call = fakeCall(generateRequest());
    handlers.generate(call as unknown as ServerWritableStream<GenerateRequest, GenerateResponse>);
    await tick();
    expect(call.written).toHaveLength(1);
    expect(state.pulled).toBe(1);
    await tick();
    expect(state.pulled).toBe(1);
    for (let i = 0; i < 3; i++) {
      call.emit('drain');
      await tick();
    }
    expect(call.written.map((r) => r.event?.$case)).toEqual(['delta', 'delta', 'delta', 'done']);
    call.emit('drain');
    await tick();
    expect(call.ended).toBe(true);
  });

  it('aborts the engine request when the call is cancelled, even while waiting for drain', async () => {
    const { engine, state } = countingEngine(3);
    const handlers = createInferenceHandlers({ engine: () => engine, logger, clock: createWallClock() });
    const call = fakeCall(generateRequest());
    handlers.generate(call as unknown as ServerWritableStream<GenerateRequest, GenerateResponse>);
    await tick();
    call.cancelled = true;
    call.emit('cancelled');
    await tick();
    expect(state.signal?.aborted).toBe(true);
    expect(call.written).toHaveLength(1);
    expect(call.ended).toBe(false);
  });

  it('answers INTERNAL with a generic message for unexpected engine errors', async () => {
    const engine = { ...countingEngine(0).engine, generate: () => { throw new Error('/secret/path: ORT exploded'); } };
    const handlers = createInferenceHandlers({ engine: () => engine, logger, clock: createWallClock() });
    const call = fakeCall(generateRequest());
    const errors: { code: number; details: string }[] = [];
    call.on('error', (e: { code: number; details: string }) => errors.push(e));
    handlers.generate(call as unknown as ServerWritableStream<GenerateRequest, GenerateResponse>);
    await tick();
    expect(errors).toEqual([expect.objectContaining({ code: 13, details: 'internal error' })]);
  });
});
