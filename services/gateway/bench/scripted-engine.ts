// A fast scripted engine behind the inference contract, so the model is never the bottleneck: the
// real inference gRPC service streams whatever this yields. The user message is the script:
//   bench tokens=<n> interval=<ms> hold=<ms>
// hold: wait this long before the first token (an idle stream); interval 0: as fast as the event
// loop allows (one token per turn). Every token's text is `~<emit time> `, the emit time being
// process.hrtime in µs (base 36) taken just before the delta is handed to the gRPC handler, which
// stamps its emitted_at and writes it in the same turn. process.hrtime is CLOCK_MONOTONIC, one
// clock for every process on the machine, so a client in another process can subtract it.
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { defaultEngineFactory, withGenerate, type EngineFactory } from '@freechat/inference';

export interface Script {
  readonly tokens: number;
  readonly intervalMs: number;
  readonly holdMs: number;
}

export const scriptMessage = (script: Script): string => `bench tokens=${script.tokens} interval=${script.intervalMs} hold=${script.holdMs}`;

export function parseScript(text: string): Script {
  const value = (key: string, fallback: number): number => Number(new RegExp(`${key}=(\\d+(?:\\.\\d+)?)`).exec(text)?.[1] ?? fallback);
  return { tokens: value('tokens', 16), intervalMs: value('interval', 0), holdMs: value('hold', 0) };
}

/** Now, on the machine-wide monotonic clock, in µs. */
export const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

const stamp = (): string => `~${monotonicMicros().toString(36)} `;

/** The emit times (µs) stamped in a piece of streamed text. */
export function stampsIn(text: string): number[] {
  const found: number[] = [];
  for (const match of text.matchAll(/~([0-9a-z]+) /g)) found.push(parseInt(match[1]!, 36));
  return found;
}

export const scriptedEngineFactory: EngineFactory = async (model, config, logger, observer) => {
  // The built-in model is loaded only so the service starts as usual; it never runs.
  const engine = await defaultEngineFactory(model, config, logger, observer);
  return withGenerate(engine, async function* (request) {
    const user = [...request.messages].reverse().find((turn) => turn.role === 'user')?.content ?? '';
    const { tokens, intervalMs, holdMs } = parseScript(user);
    const signal = request.signal;
    let sent = 0;
    if (holdMs > 0) await sleep(holdMs, undefined, signal ? { signal } : {}).catch(() => undefined);
    // Streams started together do not tick together: each starts at a random point of the interval.
    const start = performance.now() + Math.random() * intervalMs;
    while (sent < tokens && !signal?.aborted) {
      if (intervalMs > 0) {
        const wait = start + sent * intervalMs - performance.now();
        if (wait > 0) await sleep(wait);
      } else await nextTurn();
      if (signal?.aborted) break;
      sent++;
      yield { type: 'delta', channel: 'content', text: stamp(), tokenCount: 1 };
    }
    yield {
      type: 'done',
      finishReason: signal?.aborted ? 'cancelled' : 'stop',
      usage: { promptTokens: 1, completionTokens: sent, cachedPromptTokens: 0 },
      timings: { queueWaitMs: 0, timeToFirstTokenMs: 0, decodeTokensPerSecond: 0 },
    };
  });
};
