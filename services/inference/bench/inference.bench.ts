// npm run bench:inference [-- --new-tokens 128 --concurrency 1,8,16 --turns 10 --skip-llama]
// Free Chat's engine beside plain ONNX Runtime and llama.cpp on the same weights: the built-in
// qwen3-0.6b-shape model (seeded), built as the served graph (attention reading the cache, fp32 and
// int4), as onnx-community's graph (plain attention: the generic path and plain ONNX Runtime), and
// converted by llama.cpp's own converter to GGUF (f32, f16, Q8_0, Q4_0). Each part runs in its own
// process (peak RSS is its own), and every request is greedy with the same prompt ids. The parts the
// targets compare run in `--rounds` interleaved rounds, their order rotated each round, and report
// medians: this VM's speed drifts by a third over minutes, which one part after another cannot
// tell from a difference between engines. Writes docs/benchmarks/inference.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadChatTokenizer } from '../src/engine/index.js';
import { buildModelDir, DEFAULT_SEED, isModelDirCurrent } from '../src/model-builder/index.js';
import type { GraphLayout } from '../src/model-builder/qwen3-graph.js';
import { measureCopyBandwidth } from './bandwidth-part.js';
import { CONVERSATION_PAUSE_MS, runEnginePart, type ConversationTurn, type EnginePartResult, type LevelResult } from './engine-part.js';
import { benchPrompts, median, mergeRounds, percentile, round, type Level, type Row } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const { values: args } = parseArgs({
  options: {
    'new-tokens': { type: 'string', default: '128' },
    'prompt-words': { type: 'string', default: '68' },
    concurrency: { type: 'string', default: '1,8,16' },
    turns: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    'skip-llama': { type: 'boolean', default: false },
    part: { type: 'string' },
    'model-dir': { type: 'string' },
    out: { type: 'string', default: path.join(repoRoot, 'docs/benchmarks/inference.md') },
  },
});
const newTokens = Number(args['new-tokens']);
const concurrency = args.concurrency!.split(',').map(Number);
const prompts = benchPrompts(Math.max(...concurrency), Number(args['prompt-words']));
const cache = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'freechat');


function node(part: string, modelDir: string): unknown {
  const out = execFileSync(
    process.execPath,
    ['--conditions=freechat-source', '--import', 'tsx', fileURLToPath(import.meta.url), '--part', part, '--model-dir', modelDir, '--new-tokens', String(newTokens),
      '--prompt-words', args['prompt-words']!, '--concurrency', args.concurrency!, '--turns', args.turns!],
    { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 },
  );
  return JSON.parse(out.toString());
}

function python(pythonPath: string, script: string, scriptArgs: string[]): unknown {
  const out = execFileSync(pythonPath, [script, ...scriptArgs], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 });
  return JSON.parse(out.toString());
}

const script = (...p: string[]) => path.join(repoRoot, 'scripts/models', ...p);
const shell = (file: string, ...rest: string[]) => execFileSync(file, rest, { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();

/** Built once: a rebuild would also make every GGUF conversion stale. */
async function model(name: string, layout: Partial<GraphLayout>): Promise<string> {
  const dir = path.join(cache, 'models/built-in', name);
  if (await isModelDirCurrent(dir, 'qwen3-0.6b-shape', DEFAULT_SEED, layout)) return dir;
  return (await buildModelDir({ preset: 'qwen3-0.6b-shape', outDir: dir, layout })).dir;
}

function weightBytes(dir: string, prefix = 'model.onnx'): number {
  const onnxDir = path.join(dir, 'onnx');
  return readdirSync(onnxDir).filter((f) => f.startsWith(prefix)).reduce((n, f) => n + statSync(path.join(onnxDir, f)).size, 0);
}

const toLevel = (concurrency: number, decodeTokensPerSecond: number, ttftMs: readonly number[]): Level => ({
  concurrency,
  decodeTokensPerSecond,
  ttftP50Ms: percentile(ttftMs, 50),
  ttftP95Ms: percentile(ttftMs, 95),
});
const fromEngine = (r: EnginePartResult): Level[] => r.levels.map((l: LevelResult) => toLevel(l.concurrency, l.decodeTokensPerSecond, l.requests.map((q) => q.ttftMs)));
interface PyResult {
  readonly levels: readonly { concurrency: number; decodeTokensPerSecond: number | null; requests: readonly { ttftMs: number }[] }[];
  readonly peakRssMiB: number;
}
const fromPython = (r: PyResult): Level[] => r.levels.map((l) => toLevel(l.concurrency, l.decodeTokensPerSecond ?? Number.NaN, l.requests.map((q) => q.ttftMs)));

/** Per turn, the median TTFT of the rounds (token counts are the same in every round). */
function mergeConversations(rounds: readonly (readonly ConversationTurn[])[]): ConversationTurn[] {
  return rounds[0]!.map((turn, i) => ({ ...turn, ttftMs: median(rounds.map((r) => r[i]!.ttftMs)) }));
}

/** A part of the benchmark: one engine at one precision, run in its own process. */
interface Part {
  readonly engine: string;
  readonly precision: string;
  /** Compared by a target: run every round. */
  readonly target: boolean;
  run(): Row & { readonly conversation?: readonly ConversationTurn[] };
}

async function main(): Promise<void> {
  if (args.part === 'engine') {
    const result = await runEnginePart({ modelDir: args['model-dir']!, concurrency, newTokens, prompts, conversationTurns: Number(args.turns) });
    process.stdout.write(JSON.stringify(result));
    return;
  }
  if (args.part === 'bandwidth') {
    process.stdout.write(JSON.stringify(await measureCopyBandwidth()));
    return;
  }
  const served = await model('qwen3-0.6b-shape', {});
  const standard = await model('qwen3-0.6b-shape-standard', { attention: 'standard' });
  const int4 = await model('qwen3-0.6b-shape-int4', { weights: 'int4' });
  // The same prompt ids for every engine: our tokenizer and chat template, thinking off.
  const tokenizer = await loadChatTokenizer(served);
  const promptIds = prompts.map((content) => tokenizer.encodeChat([{ role: 'user', content }], { enableThinking: false }));
  const benchDir = path.join(cache, 'bench');
  mkdirSync(benchDir, { recursive: true });
  const promptFile = path.join(benchDir, 'prompts.json');
  writeFileSync(promptFile, JSON.stringify(promptIds));
  writeFileSync(path.join(benchDir, 'prompts.jsonl'), promptIds.map((ids) => JSON.stringify(ids)).join('\n'));

  const bandwidth = node('bandwidth', served) as { gbPerSecond: number; workers: number };
  console.error(`copy bandwidth ${bandwidth.gbPerSecond.toFixed(1)} GB/s`);
  const ortPython = shell(script('ensure-python.sh'));
  // Read bandwidth over a buffer the size of the fp32 weights: the decode step's own access pattern.
  const readBandwidth = python(ortPython, script('read_bandwidth.py'), ['--bytes', String(weightBytes(served)), '--rounds', '8']) as { gbPerSecond: number; threads: number };
  console.error(`read bandwidth ${readBandwidth.gbPerSecond.toFixed(1)} GB/s`);
  const parts: Part[] = [];
  const enginePart = (engine: string, dir: string, precision: string, target: boolean): Part => ({
    engine,
    precision,
    target,
    run() {
      const r = node('engine', dir) as EnginePartResult;
      return { engine, precision, levels: fromEngine(r), peakRssMiB: r.peakRssMiB, conversation: r.conversation };
    },
  });
  parts.push(
    enginePart('Free Chat, shared-buffer path', served, 'fp32', true),
    enginePart('Free Chat, generic path', standard, 'fp32', false),
    enginePart('Free Chat, shared-buffer path', int4, 'int4 (MatMulNBits)', true),
  );
  parts.push({
    engine: 'plain onnxruntime (Python loop, generic graph)',
    precision: 'fp32',
    target: false,
    run() {
      const r = python(ortPython, script('ort_bench.py'), [standard, '--prompts', promptFile, '--new-tokens', String(newTokens), '--concurrency', args.concurrency!]) as PyResult;
      return { engine: this.engine, precision: this.precision, levels: fromPython(r), peakRssMiB: r.peakRssMiB };
    },
  });

  let llamaNote = '';
  if (!args['skip-llama']) {
    try {
      const llamaPython = shell(script('llama', 'ensure-llama.sh'));
      const ggufDir = path.join(benchDir, 'gguf');
      shell(script('llama', 'to_gguf.sh'), standard, ggufDir);
      for (const quant of ['f32', 'f16', 'q8_0', 'q4_0']) {
        const file = path.join(ggufDir, `model-${quant}.gguf`);
        if (!existsSync(file)) throw new Error(`${file} was not written`);
        parts.push({
          engine: 'llama.cpp (llama-cpp-python)',
          precision: quant.toUpperCase().replace('F', 'f'),
          target: quant === 'f32' || quant === 'q4_0',
          run() {
            const r = python(llamaPython, script('llama', 'llama_bench.py'), [
              '--model', file, '--prompt-file', path.join(benchDir, 'prompts.jsonl'), '--new-tokens', String(newTokens), '--concurrency', args.concurrency!, '--ignore-eos',
            ]) as PyResult;
            return { engine: this.engine, precision: this.precision, levels: fromPython(r), peakRssMiB: r.peakRssMiB };
          },
        });
      }
    } catch (error) {
      llamaNote = `llama.cpp could not be run on this machine: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
      console.error(llamaNote);
    }
  } else llamaNote = 'llama.cpp was skipped (--skip-llama).';

  // Target parts every round, rotated; the others once, in the middle round.
  const roundCount = Math.max(1, Number(args.rounds));
  const results = new Map<Part, (Row & { conversation?: readonly ConversationTurn[] })[]>();
  const targetParts = parts.filter((p) => p.target);
  for (let round = 0; round < roundCount; round++) {
    const order = [...targetParts.slice(round % targetParts.length), ...targetParts.slice(0, round % targetParts.length)];
    if (round === Math.floor(roundCount / 2)) order.push(...parts.filter((p) => !p.target));
    for (const part of order) {
      console.error(`round ${round + 1}/${roundCount}: ${part.engine} ${part.precision}`);
      results.set(part, [...(results.get(part) ?? []), part.run()]);
    }
  }
  const rows = parts.filter((p) => results.has(p)).map((p) => mergeRounds(results.get(p)!));
  const conversation = mergeConversations(results.get(parts[0]!)!.map((r) => r.conversation!));

  const report = renderReport({ promptTokens: Math.round(percentile(promptIds.map((p) => p.length), 50)), rows, roundCount, bandwidth, readBandwidth, fp32Bytes: weightBytes(served), int4Bytes: weightBytes(int4), conversation, llamaNote });
  mkdirSync(path.dirname(args.out!), { recursive: true });
  writeFileSync(args.out!, report);
  console.log(report);
}

function level(row: Row | undefined, c: number): Level | undefined {
  return row?.levels.find((l) => l.concurrency === c);
}

function renderReport(r: { promptTokens: number; rows: (Row & { rounds: number })[]; roundCount: number; bandwidth: { gbPerSecond: number; workers: number }; readBandwidth: { gbPerSecond: number; threads: number }; fp32Bytes: number; int4Bytes: number; conversation: readonly ConversationTurn[]; llamaNote: string }): string {
  const find = (engine: string, precision: string) => r.rows.find((x) => x.engine.startsWith(engine) && x.precision.startsWith(precision));
  const ours = find('Free Chat, shared', 'fp32');
  const ours4 = find('Free Chat, shared', 'int4');
  const llamaF32 = find('llama.cpp', 'f32');
  const llamaQ4 = find('llama.cpp', 'Q4_0');
  const tps = (row: Row | undefined, c: number) => level(row, c)?.decodeTokensPerSecond ?? Number.NaN;
  const p95 = (row: Row | undefined, c: number) => level(row, c)?.ttftP95Ms ?? Number.NaN;
  const boundTps = (r.readBandwidth.gbPerSecond * 1e9) / r.fp32Bytes;
  const copyBoundTps = (r.bandwidth.gbPerSecond * 1e9) / r.fp32Bytes;
  const cs = [...new Set(r.rows.flatMap((x) => x.levels.map((l) => l.concurrency)))].sort((a, b) => a - b);
  const many = cs.find((c) => c === 8) ?? cs.at(-1)!;
  const ttftCell = (row: Row, c: number) => {
    const l = level(row, c);
    return l ? `${round(l.ttftP50Ms / 1000, 2)} / ${round(l.ttftP95Ms / 1000, 2)}` : '–';
  };
  const lines = r.rows.map(
    (x) =>
      `| ${x.engine} | ${x.precision} | ${x.rounds} | ${cs.map((c) => round(tps(x, c), 1)).join(' | ')} | ${cs.map((c) => ttftCell(x, c)).join(' | ')} | ${round(x.peakRssMiB)} |`,
  );
  const turn1 = r.conversation[0]!.ttftMs;
  const turnN = r.conversation.at(-1)!.ttftMs;
  const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN);
  const met = (x: number, goal: number, lower = false) => (Number.isNaN(x) ? 'not measured' : (lower ? x <= goal : x >= goal) ? 'yes' : 'no');
  const targets: [string, number, string][] = [
    ['fp32, 1 stream: ≥ 1.0× llama.cpp f32', ratio(tps(ours, 1), tps(llamaF32, 1)), met(ratio(tps(ours, 1), tps(llamaF32, 1)), 1)],
    ['fp32, 1 stream: ≥ 0.80 of the memory-bandwidth bound', ratio(tps(ours, 1), boundTps), met(ratio(tps(ours, 1), boundTps), 0.8)],
    [`fp32, ${many} streams aggregate: ≥ 1.0× llama.cpp f32`, ratio(tps(ours, many), tps(llamaF32, many)), met(ratio(tps(ours, many), tps(llamaF32, many)), 1)],
    ['int4, 1 stream: ≥ 1.0× llama.cpp Q4_0', ratio(tps(ours4, 1), tps(llamaQ4, 1)), met(ratio(tps(ours4, 1), tps(llamaQ4, 1)), 1)],
    [`int4, ${many} streams: ≥ 1.0× llama.cpp Q4_0`, ratio(tps(ours4, many), tps(llamaQ4, many)), met(ratio(tps(ours4, many), tps(llamaQ4, many)), 1)],
    [`${many} simultaneous requests, fp32: TTFT p95 ≤ llama.cpp f32's (ratio)`, ratio(p95(ours, many), p95(llamaF32, many)), met(ratio(p95(ours, many), p95(llamaF32, many)), 1, true)],
    [`turn ${r.conversation.length} of a conversation: TTFT ≤ 1.5× turn 1`, ratio(turnN, turn1), met(ratio(turnN, turn1), 1.5, true)],
  ];
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `# Inference benchmark

Written by \`npm run bench:inference\` on ${new Date().toISOString().slice(0, 10)}: ${cpu}, ${os.availableParallelism()} cores,
${round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}. One random-weight Qwen3-0.6B-shaped model (the built-in
\`qwen3-0.6b-shape\`, seed 1234): fp32 weights ${round(r.fp32Bytes / 2 ** 30, 2)} GiB, int4 build ${round(r.int4Bytes / 2 ** 30, 2)} GiB
(the float embedding stays beside the int4 LM head). Each request: a ${args['prompt-words']}-word user message rendered by the
Qwen3 chat template (${r.promptTokens} tokens, the same ids for every engine), greedy, ${newTokens} new tokens; all
requests of a level arrive together. Every engine uses its default thread count on these cores. On a
shared virtual machine a part can land in a slow stretch (back-to-back runs of the same code here
differed by up to a third), so the parts the targets compare (Free Chat fp32 and int4, llama.cpp f32
and Q4_0) run in ${r.roundCount} interleaved rounds, their order rotated each round, and every number of
theirs is the median of the rounds; the other rows ran once, in the middle round (the rounds column).

- **tokens/s** at 1 stream: that stream's decode rate; at N streams: the aggregate rate while all N decode
  (first tokens, which come from prefill, excluded).
- **TTFT** p50 / p95 in seconds, from the level's start (prefill of all prompts included).
- Free Chat runs its engine in process (gRPC adds well under a millisecond per token). The generic path
  is how onnx-community exports run (and how the built-in model ran before this work).
${r.llamaNote ? `\n${r.llamaNote}\n` : ''}
| engine | precision | rounds | ${cs.map((c) => `${c} stream${c > 1 ? 's' : ''} tok/s`).join(' | ')} | ${cs.map((c) => `TTFT c=${c} s`).join(' | ')} | peak RSS MiB |
|---|---|---|${cs.map(() => '---|').join('')}${cs.map(() => '---|').join('')}---|
${lines.join('\n')}

Memory-bandwidth bound: a batch-1 decode step reads every fp32 weight once and writes almost
nothing, so the bound is the machine's read bandwidth over a buffer the size of the weights:
${round(r.readBandwidth.gbPerSecond, 2)} GB/s (\`scripts/models/read_bandwidth.py\`, ${r.readBandwidth.threads} reader threads, best of 8
rounds) → **${round(boundTps, 2)} tokens/s**. A copy benchmark (${round(r.bandwidth.gbPerSecond, 2)} GB/s, ${r.bandwidth.workers} copiers, read +
write counted as STREAM does) would give ${round(copyBoundTps, 2)} tokens/s, but its non-temporal writes are traffic a
decode step does not make; the results page of the previous run used it (0.49× there).

Conversation of ${r.conversation.length} turns on the shared-buffer path (each answer 32 tokens, kept in the
history; prefix reuse on; ${CONVERSATION_PAUSE_MS / 1000} s between an answer and the next question, in which
the engine warms the next turn: it prefills the history as the next prompt will render it, the answer
included, since Qwen3's template renders a past answer without the think block it was generated after;
TTFT the median of the rounds). A turn prefills its prompt less what the prefix cache held:

| turn | ${r.conversation.map((_, i) => i + 1).join(' | ')} |
|---|${r.conversation.map(() => '---|').join('')}
| prompt tokens | ${r.conversation.map((t) => t.promptTokens).join(' | ')} |
| from the prefix cache | ${r.conversation.map((t) => t.cachedPromptTokens).join(' | ')} |
| prefilled | ${r.conversation.map((t) => t.promptTokens - t.cachedPromptTokens).join(' | ')} |
| TTFT ms | ${r.conversation.map((t) => round(t.ttftMs)).join(' | ')} |

## Before this work

Issue 13 measured Free Chat's engine of the time (fp32 only; the KV cache crossing into JavaScript
every step, logits for every prompt position, one prompt admitted per step, the forward pass on the
event loop) on the same model and prompt: **7.2 tok/s** at 1 stream, **21.0 tok/s** at 8, and the 8th of
8 simultaneous requests waited **8.4 s** for its first token (llama.cpp 3.0 s). int4, fp16 and
genai-layout models did not load. The generic-path row above is that engine's cache layout with the
rest of this work (worker thread, batched prefill, last-position logits) applied.

## Targets

| target | measured | met |
|---|---|---|
${targets.map(([name, value, ok]) => `| ${name} | ${Number.isNaN(value) ? '–' : `${round(value, 2)}×`} | ${ok} |`).join('\n')}
`;
}

await main();
