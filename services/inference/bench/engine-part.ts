// Free Chat's engine (in process, as the inference service runs it) on a model directory: every
// request of a level arrives at once; tokens/s, TTFT and peak RSS. Also one conversation's TTFT turn
// by turn, which prefix reuse keeps flat.
import { createOnnxEngine, type GenerationEvent } from '../src/engine/index.js';
import type { ChatTurn } from '../src/engine/types.js';
import { steadyDecodeRate } from './stats.js';

export interface LevelResult {
  readonly concurrency: number;
  readonly wallMs: number;
  /** Tokens per second while every stream decodes (first tokens, from prefill, excluded). */
  readonly decodeTokensPerSecond: number;
  readonly requests: readonly { readonly promptTokens: number; readonly completionTokens: number; readonly ttftMs: number; readonly doneMs: number }[];
}

export interface ConversationTurn {
  readonly ttftMs: number;
  readonly promptTokens: number;
  readonly cachedPromptTokens: number;
}

export interface EnginePartResult {
  readonly kvPath: string;
  readonly levels: readonly LevelResult[];
  /** Each turn of one conversation: its TTFT (ms), prompt tokens, and how many came from the prefix cache. */
  readonly conversation: readonly ConversationTurn[];
  readonly peakRssMiB: number;
}

async function run(stream: AsyncIterable<GenerationEvent>, since: number) {
  let last: GenerationEvent | undefined;
  const deltas: [number, number][] = [];
  let text = '';
  for await (const e of stream) {
    last = e;
    if (e.type !== 'delta') continue;
    deltas.push([performance.now() - since, e.tokenCount]);
    if (e.channel === 'content') text += e.text;
  }
  if (last?.type !== 'done') throw new Error('no done event');
  return { ...last, deltas, text, doneAtMs: performance.now() - since };
}

/** Between a conversation's turns, while the engine warms the next turn's prefix. */
export const CONVERSATION_PAUSE_MS = 2000;

export async function runEnginePart(opts: {
  modelDir: string;
  concurrency: readonly number[];
  newTokens: number;
  /** User messages; request i of a level asks prompts[i % length]. */
  prompts: readonly string[];
  conversationTurns: number;
}): Promise<EnginePartResult> {
  const maxBatchSize = Math.max(...opts.concurrency);
  const engine = await createOnnxEngine({
    modelDir: opts.modelDir,
    id: 'bench',
    source: 'built-in',
    limits: { maxBatchSize, maxQueueSize: maxBatchSize, maxContextTokens: 4096, maxNewTokensLimit: 4096 },
  });
  const greedy = { temperature: 0, maxNewTokens: opts.newTokens };
  const ask = (messages: ChatTurn[], sampling: typeof greedy, since: number) =>
    run(engine.generate({ requestId: 'bench', messages, sampling, enableThinking: false }), since);

  await ask([{ role: 'user', content: 'warm up' }], { temperature: 0, maxNewTokens: 2 }, performance.now());
  const levels: LevelResult[] = [];
  for (const concurrency of opts.concurrency) {
    const started = performance.now();
    const finals = await Promise.all(
      Array.from({ length: concurrency }, (_, i) => ask([{ role: 'user', content: opts.prompts[i % opts.prompts.length]! }], greedy, started)),
    );
    const wallMs = performance.now() - started;
    const requests = finals.map((f) => ({ promptTokens: f.usage.promptTokens, completionTokens: f.usage.completionTokens, ttftMs: f.timings.timeToFirstTokenMs, doneMs: f.doneAtMs }));
    // One stream: its own decode rate; several: the rate while all of them decode.
    const decodeTokensPerSecond = concurrency === 1 ? finals[0]!.timings.decodeTokensPerSecond : steadyDecodeRate(finals);
    levels.push({ concurrency, wallMs, decodeTokensPerSecond, requests });
    console.error(`engine ${engine.kvCache.path}: concurrency ${concurrency} in ${(wallMs / 1000).toFixed(1)} s`);
  }

  // One conversation: each turn's question and answer stay in the history of the next.
  const history: ChatTurn[] = [];
  const conversation: ConversationTurn[] = [];
  for (let turn = 0; turn < opts.conversationTurns; turn++) {
    // The levels above asked these prompts already: a marker makes the first turn a cold prefill.
    history.push({ role: 'user', content: `(conversation) ${opts.prompts[turn % opts.prompts.length]!}` });
    const answer = await ask([...history], { temperature: 0, maxNewTokens: 32 }, performance.now());
    conversation.push({ ttftMs: answer.timings.timeToFirstTokenMs, promptTokens: answer.usage.promptTokens, cachedPromptTokens: answer.usage.cachedPromptTokens });
    history.push({ role: 'assistant', content: answer.text });
    // The person reads the answer and types the next question: seconds in life, 2 s here.
    await new Promise((resolve) => setTimeout(resolve, CONVERSATION_PAUSE_MS));
  }
  const kvPath = engine.kvCache.path;
  await engine.close();
  return { kvPath, levels, conversation, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
}
