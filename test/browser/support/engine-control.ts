// An inference engine wrapper the browser tests steer between requests: the real tiny model still
// generates every token (and honours cancellation), but a test may relabel the first deltas as
// reasoning (the tiny model almost never emits <think>), pace the deltas like a slower model, or
// replace the visible text by a script (code blocks, or numbered words that make a gap or a repeat
// visible) while keeping the real engine's rhythm and its gRPC path.
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultEngineFactory, withGenerate, type EngineFactory } from '@freechat/inference';

export interface EngineKnobs {
  /** The first N deltas of each answer travel on the reasoning channel. */
  reasoningDeltas: number;
  /** Pause before each delta, in milliseconds. */
  delayMs: number;
  /** When set, the content deltas carry this text instead of the model's (one word per delta, the rest with the last). */
  contentScript: string | undefined;
}

export const DEFAULT_KNOBS: Readonly<EngineKnobs> = Object.freeze({ reasoningDeltas: 0, delayMs: 0, contentScript: undefined });

export interface EngineControl {
  readonly engineFactory: EngineFactory;
  /** Applies to answers started after the call. */
  set(knobs: Partial<EngineKnobs>): void;
  reset(): void;
  /** The messages of every request the model got since the last reset, oldest first (titles too). */
  requests(): readonly (readonly { readonly role: string; readonly content: string }[])[];
}

export function createEngineControl(): EngineControl {
  let knobs: EngineKnobs = { ...DEFAULT_KNOBS };
  let seen: { readonly role: string; readonly content: string }[][] = [];
  const engineFactory: EngineFactory = async (model, config, logger) => {
    const engine = await defaultEngineFactory(model, config, logger);
    return withGenerate(engine, async function* (request) {
      seen.push(request.messages.map((m) => ({ role: m.role, content: m.content })));
      const { reasoningDeltas, delayMs, contentScript } = knobs;
      const script = contentScript === undefined ? undefined : splitWords(contentScript);
      // A script ends the answer when it runs out: the real sequence is cancelled, as a stop would.
      const scriptEnded = new AbortController();
      const signal = request.signal ? AbortSignal.any([request.signal, scriptEnded.signal]) : scriptEnded.signal;
      let deltas = 0;
      for await (const event of engine.generate({ ...request, signal })) {
        if (scriptEnded.signal.aborted) {
          if (event.type === 'done') yield { ...event, finishReason: request.signal?.aborted ? 'cancelled' : 'stop' };
          continue;
        }
        if (delayMs > 0 && !signal.aborted) await sleep(delayMs);
        if (event.type === 'done') {
          if (script && script.length > 0) yield { type: 'delta', channel: 'content', text: script.splice(0).join(''), tokenCount: 1 };
          yield event;
          continue;
        }
        if (deltas++ < reasoningDeltas) yield { ...event, channel: 'reasoning' };
        else if (!script) yield { ...event, channel: 'content' };
        else {
          yield { ...event, channel: 'content', text: script.shift() ?? '' };
          if (script.length === 0) scriptEnded.abort();
        }
      }
    });
  };
  return {
    engineFactory,
    set: (changes) => {
      knobs = { ...knobs, ...changes };
    },
    reset: () => {
      knobs = { ...DEFAULT_KNOBS };
      seen = [];
    },
    requests: () => seen,
  };
}

/** Words with their following whitespace, so joining the pieces gives the text back exactly. */
function splitWords(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}
