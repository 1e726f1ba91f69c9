// A generation's phases as children of the Generate span, from the timings the engine reports with
// `done` (the engine itself knows nothing of tracing): queue wait, prefill up to the first token, and
// decode up to the end, plus `first_token` and `done` events on the Generate span.
import { addSpanEvent, setSpanAttributes, startSpan } from '@freechat/shared';
import type { GenerationEvent } from './engine/types.js';

/**
 * Call with the wall-clock time (ms since the epoch) the request reached the engine and its `done`
 * event, inside the Generate span's context. Nothing happens when tracing is off.
 */
export function traceGeneration(arrivedAtMs: number, done: Extract<GenerationEvent, { type: 'done' }>, endedAtMs = Date.now()): void {
  const { queueWaitMs, timeToFirstTokenMs, decodeTokensPerSecond } = done.timings;
  const admittedAt = arrivedAtMs + queueWaitMs;
  // A request cancelled before its first token has no prefill end: its "prefill" lasts to the end.
  const firstTokenAt = timeToFirstTokenMs > 0 ? arrivedAtMs + timeToFirstTokenMs : undefined;
  const phase = (name: string, start: number, end: number, attributes: Record<string, number>): void => {
    startSpan(name, { startTime: start, attributes }).end(undefined, Math.max(start, end));
  };
  phase('inference.queue_wait', arrivedAtMs, admittedAt, { 'freechat.inference.queue_wait_ms': queueWaitMs });
  phase('inference.prefill', admittedAt, firstTokenAt ?? endedAtMs, { 'gen_ai.usage.input_tokens': done.usage.promptTokens });
  if (firstTokenAt !== undefined) {
    addSpanEvent('first_token', { 'freechat.inference.time_to_first_token_ms': timeToFirstTokenMs }, firstTokenAt);
    phase('inference.decode', firstTokenAt, endedAtMs, {
      'gen_ai.usage.output_tokens': done.usage.completionTokens,
      'freechat.inference.decode_tokens_per_second': decodeTokensPerSecond,
    });
  }
  addSpanEvent('done', { 'freechat.inference.finish_reason': done.finishReason }, endedAtMs);
  setSpanAttributes({
    'freechat.inference.finish_reason': done.finishReason,
    'gen_ai.usage.input_tokens': done.usage.promptTokens,
    'gen_ai.usage.output_tokens': done.usage.completionTokens,
    'freechat.inference.queue_wait_ms': queueWaitMs,
    'freechat.inference.time_to_first_token_ms': timeToFirstTokenMs,
  });
}
