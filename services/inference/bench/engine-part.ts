// Free Chat's engine on a model directory: prefill speed, decode speed and throughput under concurrency.
import { createOnnxEngine, type GenerationEvent } from '../src/engine/index.js';
import { benchPrompts } from './stats.js';

export interface EngineRequestResult {
  readonly concurrency: number;
  /** [ms since the level started, tokens] for every delta, and when the stream ended. */
  readonly deltas: readonly (readonly [number, number])[];
  readonly doneAtMs: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly ttftMs: number;
  readonly decodeTokensPerSecond: number;
}

export interface EnginePartResult {
  readonly prefill: { readonly promptTokens: number; readonly ms: number };
  readonly levels: { readonly concurrency: number; readonly wallMs: number; readonly requests: EngineRequestResult[] }[];
  readonly peakRssMb: number;
}

async function done(stream: AsyncIterable<GenerationEvent>, since = performance.now()) {
  let last: GenerationEvent | undefined;
  const deltas: [number, number][] = [];
  for await (const e of stream) {
    last = e;
    if (e.type === 'delta') deltas.push([performance.now() - since, e.tokenCount]);
  }
  if (last?.type !== 'done') throw new Error('no done event');
  return { ...last, deltas, doneAtMs: performance.now() - since };
}

export async function runEnginePart(opts: { modelDir: string; concurrency: number[]; newTokens: number; promptWords: number }): Promise<EnginePartResult> {
  const maxBatchSize = Math.max(...opts.concurrency);
  const engine = await createOnnxEngine({
    modelDir: opts.modelDir,
    id: 'bench',
    source: 'built-in',
    limits: { maxBatchSize, maxQueueSize: maxBatchSize, maxContextTokens: 4096, maxNewTokensLimit: 4096 },
  });
  const greedy = { temperature: 0, maxNewTokens: opts.newTokens };
  const ask = (content: string, sampling: typeof greedy) => engine.generate({ requestId: 'bench', messages: [{ role: 'user', content }], sampling });

  await done(ask('warm up', { temperature: 0, maxNewTokens: 2 }));
  // Prefill alone: one long prompt, one token out, so time to first token is prompt processing.
  const long = await done(ask(benchPrompts(1, opts.promptWords * 4)[0]!, { temperature: 0, maxNewTokens: 1 }));
  const prefill = { promptTokens: long.usage.promptTokens, ms: long.timings.timeToFirstTokenMs };

  const levels = [];
  for (const concurrency of opts.concurrency) {
    const started = performance.now();
    const finals = await Promise.all(benchPrompts(concurrency, opts.promptWords).map((p) => done(ask(p, greedy), started)));
    const wallMs = performance.now() - started;
    levels.push({
      concurrency,
      wallMs,
      requests: finals.map((f) => ({
        concurrency,
        deltas: f.deltas,
        doneAtMs: f.doneAtMs,
        promptTokens: f.usage.promptTokens,
        completionTokens: f.usage.completionTokens,
        ttftMs: f.timings.timeToFirstTokenMs,
        decodeTokensPerSecond: f.timings.decodeTokensPerSecond,
      })),
    });
    console.error(`engine: concurrency ${concurrency} done in ${(wallMs / 1000).toFixed(1)} s`);
  }
  await engine.close();
  return { prefill, levels, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}
