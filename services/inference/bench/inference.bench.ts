// npm run bench:inference [-- --model-dir D --new-tokens N --prompt-words W --concurrency 1,4,8,16]
// Runs each part in its own process (so peak RSS is its own), then writes docs/benchmarks/inference.md.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildModelDir } from '../src/model-builder/index.js';
import { measureCopyBandwidth } from './bandwidth-part.js';
import { runEnginePart, type EnginePartResult } from './engine-part.js';
import { percentile, round, steadyDecodeRate } from './stats.js';
import { runTransformersPart, type TransformersPartResult } from './transformers-part.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const { values: args } = parseArgs({
  options: {
    'model-dir': { type: 'string' },
    'new-tokens': { type: 'string', default: '64' },
    'prompt-words': { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '1,4,8,16' },
    'baseline-requests': { type: 'string', default: '8' },
    part: { type: 'string' },
    out: { type: 'string', default: path.join(repoRoot, 'docs/benchmarks/inference.md') },
  },
});
const newTokens = Number(args['new-tokens']);
const promptWords = Number(args['prompt-words']);

async function runPart(part: string, modelDir: string): Promise<unknown> {
  if (part === 'engine')
    return runEnginePart({ modelDir, newTokens, promptWords, concurrency: args.concurrency!.split(',').map(Number) });
  if (part === 'transformers')
    return runTransformersPart({ modelDir, newTokens, promptWords, requests: Number(args['baseline-requests']) });
  if (part === 'bandwidth') return measureCopyBandwidth();
  throw new Error(`unknown part ${part}`);
}

function inChild(part: string, modelDir: string): unknown {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--part', part, '--model-dir', modelDir, '--new-tokens', String(newTokens),
      '--prompt-words', String(promptWords), '--concurrency', args.concurrency!, '--baseline-requests', args['baseline-requests']!],
    { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 },
  );
  return JSON.parse(out.toString());
}

function weightBytes(modelDir: string): number {
  const onnxDir = path.join(modelDir, 'onnx');
  return readdirSync(onnxDir)
    .filter((f) => f.startsWith('model.onnx'))
    .reduce((n, f) => n + statSync(path.join(onnxDir, f)).size, 0);
}

async function main(): Promise<void> {
  const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const modelDir =
    args['model-dir'] ?? (await buildModelDir({ preset: 'qwen3-0.6b-shape', outDir: path.join(cache, 'freechat/models/built-in/qwen3-0.6b-shape') })).dir;
  if (args.part) {
    process.stdout.write(JSON.stringify(await runPart(args.part, modelDir)));
    return;
  }
  console.error(`model: ${modelDir}`);
  const bandwidth = inChild('bandwidth', modelDir) as Awaited<ReturnType<typeof measureCopyBandwidth>>;
  console.error(`copy bandwidth: ${bandwidth.gbPerSecond.toFixed(1)} GB/s`);
  const engine = inChild('engine', modelDir) as EnginePartResult;
  const baseline = inChild('transformers', modelDir) as TransformersPartResult;
  const report = renderReport({ modelDir, bandwidth, engine, baseline });
  mkdirSync(path.dirname(args.out!), { recursive: true });
  writeFileSync(args.out!, report);
  console.log(report);
}

function renderReport(r: {
  modelDir: string;
  bandwidth: { gbPerSecond: number; workers: number };
  engine: EnginePartResult;
  baseline: TransformersPartResult;
}): string {
  const bytes = weightBytes(r.modelDir);
  const boundTps = (r.bandwidth.gbPerSecond * 1e9) / bytes;
  const single = r.engine.levels.find((l) => l.concurrency === 1)!;
  const singleDecode = single.requests[0]!.decodeTokensPerSecond;
  const baselineTokens = r.baseline.requests.reduce((n, q) => n + q.completionTokens, 0);
  const baselineTps = baselineTokens / (r.baseline.wallMs / 1000);
  // One request at a time: the aggregate decode rate is decoded tokens over time spent decoding.
  const baselineDecode =
    r.baseline.requests.reduce((n, q) => n + q.completionTokens - 1, 0) /
    (r.baseline.requests.reduce((t, q) => t + q.ms - q.ttftMs, 0) / 1000);
  const levels = r.engine.levels.map((l) => {
    const tokens = l.requests.reduce((n, q) => n + q.completionTokens, 0);
    const decode = steadyDecodeRate(l.requests);
    const endToEnd = tokens / (l.wallMs / 1000);
    const ttft = l.requests.map((q) => q.ttftMs);
    return { concurrency: l.concurrency, tokens, decode, endToEnd, ttft };
  });
  const rows = levels.map(
    (l) =>
      `| ${l.concurrency} | ${l.tokens} | ${round(l.decode, 2)} | ${round(l.decode / baselineDecode, 2)}x | ${round(l.endToEnd, 2)} | ` +
      `${round(l.endToEnd / baselineTps, 2)}x | ${round(percentile(l.ttft, 50))} | ${round(percentile(l.ttft, 95))} |`,
  );
  const at8 = levels.find((l) => l.concurrency === 8);
  const ratio8 = at8 ? at8.decode / baselineDecode : Number.NaN;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `# Inference benchmark

Written by \`npm run bench:inference\` on ${new Date().toISOString().slice(0, 10)}: ${cpu}, ${os.availableParallelism()} cores,
${round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, onnxruntime-node CPU. Model: the built-in
\`qwen3-0.6b-shape\` (Qwen3-0.6B dimensions, fp32, seeded weights), ${round(bytes / 2 ** 30, 2)} GiB of weights.
Each request: a ~${promptWords}-word user prompt, greedy, ${newTokens} new tokens. Both sides run ONNX Runtime
with its default thread count; for a model this size both let idle threads spin (transformers.js by ORT's
default, Free Chat by its \`threadSpinning: auto\` rule). Aggregate decode: tokens per second while all
streams of a level decode together (from the last stream's first token to the first stream's end), so
the prefill of late arrivals is not in it; end to end counts everything from submission to the last token.

## Free Chat engine

| | |
|---|---|
| prompt processing (one ${r.engine.prefill.promptTokens}-token prompt) | ${round((r.engine.prefill.promptTokens / r.engine.prefill.ms) * 1000)} tokens/s |
| single-stream decode | ${round(singleDecode, 2)} tokens/s |
| peak RSS | ${round(r.engine.peakRssMb)} MB |

| concurrency | tokens | aggregate decode tokens/s | vs (a) | end-to-end tokens/s (with prefill) | vs (a) | TTFT p50 ms | TTFT p95 ms |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

## (a) @huggingface/transformers \`generate()\`, same model directory, ${r.baseline.requests.length} requests one after another

| | |
|---|---|
| aggregate decode tokens/s | ${round(baselineDecode, 2)} |
| end-to-end tokens/s (with prefill) | ${round(baselineTps, 2)} |
| TTFT p50 / p95 | ${round(percentile(r.baseline.requests.map((q) => q.ttftMs), 50))} / ${round(percentile(r.baseline.requests.map((q) => q.ttftMs), 95))} ms |
| peak RSS | ${round(r.baseline.peakRssMb)} MB |

## (b) Memory-bandwidth bound

Copy bandwidth ${round(r.bandwidth.gbPerSecond, 2)} GB/s (${r.bandwidth.workers} copiers, read + write bytes counted).
A decode step at batch 1 reads every weight once (the tied LM head reads the whole embedding), so the
bound is ${round(bytes / 1e9, 2)} GB per token: **${round(boundTps, 2)} tokens/s**.

## Targets

| target | measured | met |
|---|---|---|
| concurrency 8 aggregate decode ≥ 4x (a) | ${round(ratio8, 2)}x | ${ratio8 >= 4 ? 'yes' : 'no'} |
| single-stream decode ≥ 60% of (b) | ${round((singleDecode / boundTps) * 100)}% | ${singleDecode / boundTps >= 0.6 ? 'yes' : 'no'} |
`;
}

await main();
