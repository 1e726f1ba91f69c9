// npm run bench:fairness [-- --model-dir D --prompt-tokens N --chunk-tokens C --runs R]
// Fair admission: user A sends three long prompts, then user B a short one. B's time to first token
// with fairness keys (A and B take turns) and without (all under one key: first come first served,
// the engine's behaviour before fairness keys). Writes docs/benchmarks/fairness.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildModelDir } from '../src/model-builder/index.js';
import { createOnnxEngine, loadChatTokenizer, type Engine, type GenerationEvent } from '../src/engine/index.js';
import { percentile, round } from './stats.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { values: args } = parseArgs({
  options: {
    'model-dir': { type: 'string' },
    'prompt-tokens': { type: 'string', default: '3000' },
    'chunk-tokens': { type: 'string', default: '256' },
    runs: { type: 'string', default: '5' },
    out: { type: 'string', default: path.join(repoRoot, 'docs/benchmarks/fairness.md') },
  },
});
const promptTokens = Number(args['prompt-tokens']);
const chunkTokens = Number(args['chunk-tokens']);
const runs = Number(args.runs);

interface Finished {
  readonly ttftMs: number;
  readonly promptTokens: number;
}

async function finish(stream: AsyncIterable<GenerationEvent>): Promise<Finished> {
  let last: GenerationEvent | undefined;
  for await (const e of stream) last = e;
  if (last?.type !== 'done') throw new Error('no done event');
  return { ttftMs: last.timings.timeToFirstTokenMs, promptTokens: last.usage.promptTokens };
}

/** One round: A's three long prompts, then B's short one, in the same tick. */
async function round1(engine: Engine, prompts: readonly string[], fair: boolean) {
  const greedy = { temperature: 0, maxNewTokens: 8 };
  const key = (user: string) => (fair ? { fairnessKey: user } : {});
  const a = prompts.map((content, i) =>
    finish(engine.generate({ requestId: `a${i}`, messages: [{ role: 'user', content }], sampling: greedy, ...key('A') })),
  );
  const b = finish(engine.generate({ requestId: 'b', messages: [{ role: 'user', content: 'Hi, a quick question?' }], sampling: greedy, ...key('B') }));
  const [as, bs] = [await Promise.all(a), await b];
  return { b: bs, a: as };
}

/** A prompt of about `tokens` tokens in the model's own tokenizer. */
async function longPrompt(modelDir: string, tokens: number, n: number): Promise<string> {
  const tokenizer = await loadChatTokenizer(modelDir);
  const sentence = `Document ${n}: the quick brown fox jumps over the lazy dog while the river runs to the sea. `;
  const perSentence = tokenizer.encodeChat([{ role: 'user', content: sentence.repeat(10) }], {}).length / 10;
  return sentence.repeat(Math.max(1, Math.floor(tokens / perSentence)));
}

async function main(): Promise<void> {
  const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const modelDir = args['model-dir'] ?? (await buildModelDir({ preset: 'tiny', outDir: path.join(cache, 'freechat/models/built-in/tiny') })).dir;
  const engine = await createOnnxEngine({
    modelDir,
    id: 'bench',
    source: 'built-in',
    limits: { maxBatchSize: 8, maxQueueSize: 16, maxContextTokens: 4096, maxNewTokensLimit: 64 },
    prefillChunkTokens: chunkTokens,
    intraOpThreads: 1,
  });
  const prompts = await Promise.all([1, 2, 3].map((n) => longPrompt(modelDir, promptTokens, n)));
  await finish(engine.generate({ requestId: 'warm', messages: [{ role: 'user', content: 'warm up' }], sampling: { temperature: 0, maxNewTokens: 2 } }));
  const results: Record<'fifo' | 'fair', Awaited<ReturnType<typeof round1>>[]> = { fifo: [], fair: [] };
  for (let r = 0; r < runs; r++) {
    // Alternated, so load from others on the machine falls on both alike.
    for (const mode of ['fifo', 'fair'] as const) {
      results[mode].push(await round1(engine, prompts, mode === 'fair'));
      console.error(`${mode} run ${r + 1}: B ttft ${round(results[mode].at(-1)!.b.ttftMs, 1)} ms`);
    }
  }
  await engine.close();
  const p50 = (xs: number[]) => round(percentile(xs, 50), 1);
  const row = (mode: 'fifo' | 'fair', label: string) => {
    const rs = results[mode];
    const lastA = rs.map((r) => Math.max(...r.a.map((a) => a.ttftMs)));
    return `| ${label} | ${p50(rs.map((r) => r.b.ttftMs))} | ${round(Math.min(...rs.map((r) => r.b.ttftMs)), 1)} – ${round(Math.max(...rs.map((r) => r.b.ttftMs)), 1)} | ${p50(lastA)} |`;
  };
  const aTokens = results.fair[0]!.a.map((a) => a.promptTokens).join(', ');
  const report = `# Fair admission benchmark

Written by \`npm run bench:fairness\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${os.cpus().length} cores
(shared with other work while measured), Node ${process.version}, onnxruntime-node CPU, 1 intra-op thread.
Model: \`${path.basename(modelDir)}\` (${modelDir.includes('tiny') ? 'the built-in tiny model: Qwen3 architecture and tokenizer, 2 layers' : modelDir}).

User A sends three long prompts (${aTokens} tokens), then, in the same instant, user B sends a short one.
Prefill runs ${chunkTokens} tokens per engine step. Times to first token are the engine's own
(from arrival to the first generated token), medians of ${runs} rounds, the two modes alternating.

- **first come first served**: all four requests under one fairness key, the engine's order before
  fairness keys: B's prompt waits until A's three prompts are prefilled.
- **fair**: A and B under their own keys, as chat sends them: prefill chunks and batch slots take
  turns between users, so B's prompt is prefilled in the step after it arrives.

| admission | B time to first token p50 (ms) | B min – max (ms) | A's last first token p50 (ms) |
|---|---|---|---|
${row('fifo', 'first come first served')}
${row('fair', 'fair (per-user keys)')}

A pays for B's turn with one chunk-sized step per chunk of B's prompt: here one short step.
`;
  mkdirSync(path.dirname(args.out!), { recursive: true });
  writeFileSync(args.out!, report);
  console.log(report);
}

await main();
