// Fair admission and chunked prefill on the real built-in tiny model in ONNX Runtime. Assertions are on
// the order of events, never on wall-clock time: the test machine is loaded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxEngine, InvalidArgumentError, type Engine, type GenerationEvent } from '../src/engine/index.js';
import type { EngineLimits, SamplingRequest } from '../src/engine/types.js';
import { buildTinyModel } from './support/tiny-model.js';

let model: Awaited<ReturnType<typeof buildTinyModel>>;
const limits: EngineLimits = { maxBatchSize: 8, maxQueueSize: 16, maxContextTokens: 1024, maxNewTokensLimit: 64 };
const engines: Engine[] = [];

async function engine(options: { limits?: Partial<EngineLimits>; prefillChunkTokens?: number } = {}): Promise<Engine> {
  const e = await createOnnxEngine({
    modelDir: model.dir,
    id: 'tiny',
    source: 'built-in',
    limits: { ...limits, ...options.limits },
    prefillChunkTokens: options.prefillChunkTokens ?? 16,
    intraOpThreads: 1,
  });
  engines.push(e);
  return e;
}

/** Runs a stream to its end, logging `<label>:first` at its first delta and `<label>:done` at its end. */
async function run(stream: AsyncIterable<GenerationEvent>, label: string, log: string[]): Promise<string> {
  let text = '';
  for await (const e of stream) {
    if (e.type === 'delta') {
      if (!log.includes(`${label}:first`)) log.push(`${label}:first`);
      text += e.text;
    } else log.push(`${label}:done`);
  }
  return text;
}

const ask = (requestId: string, fairnessKey: string | undefined, content: string, sampling: SamplingRequest) => ({
  requestId,
  messages: [{ role: 'user' as const, content }],
  sampling,
  ...(fairnessKey !== undefined && { fairnessKey }),
});

// ~300 tokens each: about 20 prefill chunks of 16 tokens.
const longPrompt = (n: number) => `Document ${n}: ${'the quick brown fox jumps over the lazy dog '.repeat(30)}`;
const greedy = { temperature: 0, maxNewTokens: 4 };

beforeAll(async () => {
  model = await buildTinyModel();
});
afterAll(async () => {
  for (const e of engines) await e.close();
  await model.cleanup();
});

describe('fair admission across users', () => {
  it("a user's short prompt gets its first token before another user's earlier long prompts finish their prefill", async () => {
    const e = await engine();
    const log: string[] = [];
    const a = [1, 2, 3].map((n) => run(e.generate(ask(`a${n}`, 'user:A', longPrompt(n), greedy)), `A${n}`, log));
    const b = run(e.generate(ask('b', 'user:B', 'Hi', greedy)), 'B', log);
    await Promise.all([...a, b]);
    // First come first served would prefill A1, A2 and A3 in full before B's prompt.
    const bFirst = log.indexOf('B:first');
    for (const n of [1, 2, 3]) expect(bFirst, log.join(' ')).toBeLessThan(log.indexOf(`A${n}:first`));
  });

  it("a full batch's next free slot goes to the user holding none, before the busy user's queued prompt", async () => {
    const e = await engine({ limits: { maxBatchSize: 2 } });
    const log: string[] = [];
    const a = [1, 2, 3].map((n) => run(e.generate(ask(`a${n}`, 'user:A', longPrompt(n), greedy)), `A${n}`, log));
    const b = run(e.generate(ask('b', 'user:B', 'Hi', greedy)), 'B', log);
    await Promise.all([...a, b]);
    expect(log.indexOf('B:first'), log.join(' ')).toBeLessThan(log.indexOf('A3:first'));
  });

  it('requests without a key are served first come first served, as before', async () => {
    const e = await engine();
    const log: string[] = [];
    const a = [1, 2].map((n) => run(e.generate(ask(`a${n}`, undefined, longPrompt(n), greedy)), `A${n}`, log));
    const b = run(e.generate(ask('b', undefined, 'Hi', greedy)), 'B', log);
    await Promise.all([...a, b]);
    expect(log.indexOf('A2:first')).toBeLessThan(log.indexOf('B:first'));
  });
});

describe('chunked prefill', () => {
  const prompt = longPrompt(7);

  it('generates the same text whatever the chunk size, alone and beside running streams (greedy and seeded)', async () => {
    const whole = await engine({ prefillChunkTokens: 4096 });
    const chunked = await engine({ prefillChunkTokens: 7 });
    for (const sampling of [
      { temperature: 0, maxNewTokens: 24 },
      { temperature: 1, topK: 0, topP: 1, seed: 42, maxNewTokens: 24 },
    ]) {
      const reference = await run(whole.generate(ask('w', 'u', prompt, sampling)), 'W', []);
      const alone = await run(chunked.generate(ask('c', 'u', prompt, sampling)), 'C', []);
      const [, beside] = await Promise.all([
        run(chunked.generate(ask('r', 'other', 'Keep talking', { temperature: 0, maxNewTokens: 40 })), 'R', []),
        run(chunked.generate(ask('c2', 'u', prompt, sampling)), 'C', []),
      ]);
      expect(reference.length).toBeGreaterThan(0);
      expect(alone).toBe(reference);
      expect(beside).toBe(reference);
    }
  });

  it('running streams keep emitting tokens while a long prompt is prefilled', async () => {
    const e = await engine({ prefillChunkTokens: 8 });
    const events: string[] = [];
    let long: Promise<string> | undefined;
    let deltas = 0;
    const running = (async () => {
      for await (const ev of e.generate(ask('r', 'user:R', 'Go on', { temperature: 0, maxNewTokens: 64 }))) {
        if (ev.type !== 'delta') continue;
        events.push('R');
        // Once R streams, a ~300-token prompt (about 40 chunks of 8) arrives.
        if (++deltas === 2) long = run(e.generate(ask('l', 'user:L', longPrompt(9), greedy)), 'L', events);
      }
    })();
    await running;
    await long;
    const from = events.indexOf('R', 1) + 1;
    const tokensDuringPrefill = events.slice(from, events.indexOf('L:first')).filter((x) => x === 'R').length;
    // One prefill chunk per step, each step also decoding R: R gets a token for nearly every chunk.
    expect(tokensDuringPrefill, events.join(' ')).toBeGreaterThan(20);
  });
});

describe('prompt length in tokens', () => {
  it('refuses a prompt over the configured token limit, naming the limit and the count, and reports the limit', async () => {
    const e = await engine({ limits: { maxPromptTokens: 40 } });
    expect(e.model.limits.maxPromptTokens).toBe(40);
    let error: unknown;
    try {
      e.generate(ask('long', 'u', longPrompt(1), greedy));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe('messages');
    expect((error as Error).message).toMatch(/^messages: the prompt is \d{3} tokens; the model accepts at most 40 prompt tokens$/);
    // A prompt under the limit still runs.
    expect(await run(e.generate(ask('short', 'u', 'Hi', greedy)), 'S', [])).not.toBe('');
  });
});
