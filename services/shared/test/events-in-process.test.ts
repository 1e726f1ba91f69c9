// The in-process bus and the envelope: in order, a failed event retried (attempt counted) before the
// next, every subscriber served, nothing after close; bad envelopes named.
import { describe, expect, it } from 'vitest';
import { backoffDelay, createInProcessBus, decodeEvent, encodeEvent, MalformedEventError, type DomainEvent } from '../src/events/index.js';

const event = (n: number): DomainEvent => ({
  id: `id-${n}`,
  type: 'test.happened',
  sessionId: 's',
  userId: 'u',
  occurredAt: new Date(0).toISOString(),
  payload: { n },
});

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('in-process bus', () => {
  it('delivers in order to every subscriber, retrying a failure before the next', async () => {
    const bus = createInProcessBus({ retryDelayMs: 10 });
    const seen: string[] = [];
    const other: string[] = [];
    let failuresLeft = 2;
    bus.subscribe({
      group: 'a',
      handler: async (e, { attempt }) => {
        if (e.id === 'id-2' && failuresLeft-- > 0) throw new Error('not yet');
        seen.push(`${e.id}#${attempt}`);
      },
    });
    bus.subscribe({ group: 'b', handler: async (e) => void other.push(e.id) });
    for (const n of [1, 2, 3]) await bus.publish(event(n));
    await until(() => seen.length === 3 && other.length === 3);
    expect(seen).toEqual(['id-1#1', 'id-2#3', 'id-3#1']);
    expect(other).toEqual(['id-1', 'id-2', 'id-3']);
    await bus.close();
    await bus.publish(event(4));
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).toHaveLength(3);
  });
});

describe('in-process bus, publishing as a delivery ends', () => {
  it('delivers an event published in any microtask after the last handler finished', async () => {
    // A publish a few microtasks after a handler resolves lands around the moment the queue finds
    // itself empty: it must start a new delivery rather than wait for the next publish.
    for (let depth = 0; depth < 8; depth++) {
      const bus = createInProcessBus({ retryDelayMs: 10 });
      const seen: string[] = [];
      bus.subscribe({
        group: 'a',
        handler: (e) => {
          seen.push(e.id);
          if (e.id !== 'id-1') return Promise.resolve();
          let hop = (): void => void bus.publish(event(2));
          for (let i = 0; i < depth; i++) {
            const next = hop;
            hop = () => queueMicrotask(next);
          }
          return Promise.resolve().then(() => queueMicrotask(hop));
        },
      });
      await bus.publish(event(1));
      await until(() => seen.length === 2).catch(() => {
        throw new Error(`the event published ${depth} microtasks after delivery was never delivered`);
      });
      await bus.close();
    }
  });
});

describe('envelope', () => {
  it('round-trips and names what is missing', () => {
    expect(decodeEvent(encodeEvent(event(1)))).toEqual(event(1));
    expect(() => decodeEvent('nope')).toThrow(MalformedEventError);
    expect(() => decodeEvent(JSON.stringify({ ...event(1), sessionId: '' }))).toThrow(/sessionId/);
    expect(() => decodeEvent(JSON.stringify({ ...event(1), payload: [] }))).toThrow(/payload/);
  });

  it('backs off doubling, capped', () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, { baseMs: 100, maxMs: 500 }))).toEqual([0, 100, 200, 400, 500]);
  });
});
