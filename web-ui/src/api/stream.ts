// Reads a run's event stream (fetch body) into typed events, chunk by chunk.
import { toRunEvent, type RunEvent } from './run-events';
import { SseParser } from './sse';

/**
 * Resolves when the server ends the stream; rejects when the connection breaks. `onBytes` hears of
 * every chunk, events or not: a `: ping` heartbeat comment is a sign of life too.
 */
export async function readRunEvents(response: Response, onEvents: (events: RunEvent[]) => void, onBytes?: () => void): Promise<void> {
  const reader = response.body!.getReader();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      onBytes?.();
      const events: RunEvent[] = [];
      for (const frame of parser.push(value)) {
        const event = toRunEvent(frame);
        if (event) events.push(event);
      }
      if (events.length > 0) onEvents(events);
    }
  } finally {
    reader.releaseLock();
  }
}
