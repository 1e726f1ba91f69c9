// Reading an engine's streams in tests: the text, every event, and the closing `done`.
import type { GenerationEvent, GenerationRequest, SamplingRequest } from '../../src/engine/types.js';

export interface Collected {
  text: string;
  events: GenerationEvent[];
  done: Extract<GenerationEvent, { type: 'done' }>;
}

export async function collect(stream: AsyncIterable<GenerationEvent>, onEvent: (e: GenerationEvent) => void = () => {}): Promise<Collected> {
  const events: GenerationEvent[] = [];
  for await (const e of stream) {
    events.push(e);
    onEvent(e);
  }
  const done = events.at(-1);
  if (done?.type !== 'done') throw new Error('stream did not end with done');
  const text = events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
  return { text, events, done };
}

/** A one-message request whose id is its content. */
export const ask = (content: string, sampling: SamplingRequest, signal?: AbortSignal): GenerationRequest => ({
  requestId: content,
  messages: [{ role: 'user' as const, content }],
  sampling,
  ...(signal ? { signal } : {}),
});
