// The two ways the engine keeps the KV cache, on real ONNX Runtime with the built-in tiny model:
// the shared-buffer path (the served graph reading the cache while the worker appends; and
// GroupQueryAttention, appending itself) against the generic one (present tensors returned whole),
// prefix reuse against recomputation, and memory-aware admission.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxEngine, InvalidArgumentError, loadChatTokenizer, type Engine, type EngineLimits } from '../src/engine/index.js';
import { nextTurnPrefix } from '../src/engine/next-turn.js';
import { commonPrefix } from '../src/engine/slot-table.js';
import type { ChatTurn, KvCacheState } from '../src/engine/types.js';
import { buildModelDir } from '../src/model-builder/index.js';
import { ask, collect, type Collected } from './support/engine-streams.js';
import { writeGenaiLayout } from './support/genai-layout.js';

let root: string;
let sharedDir: string;
let standardDir: string;
let sharedInt4Dir: string;
let gqaDir: string;
let gqaInt4Dir: string;
let standardInt4Dir: string;
const engines: Engine[] = [];
const limits: EngineLimits = { maxBatchSize: 3, maxQueueSize: 16, maxContextTokens: 512, maxNewTokensLimit: 64 };

async function engine(dir: string, options: { limits?: Partial<EngineLimits>; prefixCacheBytes?: number; log?: string[] } = {}): Promise<Engine> {
  const log = options.log ?? [];
  const e = await createOnnxEngine({
    modelDir: dir,
    id: 'tiny',
    source: 'built-in',
    limits: { ...limits, ...options.limits },
    intraOpThreads: 1,
    // Small chunks: prompts prefill over several steps, between other sequences' decode steps.
    prefillChunkTokens: 8,
    ...(options.prefixCacheBytes !== undefined ? { prefixCacheBytes: options.prefixCacheBytes } : {}),
    logger: { info: (_obj, msg) => log.push(msg ?? ''), warn() {}, error() {} },
  });
  engines.push(e);
  return e;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'freechat-kv-'));
  // The same seed, hence the same weights, in both graphs.
  sharedDir = (await buildModelDir({ preset: 'tiny', outDir: path.join(root, 'shared'), seed: 11 })).dir;
  gqaDir = (await buildModelDir({ preset: 'tiny', outDir: path.join(root, 'gqa'), seed: 11, layout: { attention: 'gqa' } })).dir;
  gqaInt4Dir = (await buildModelDir({ preset: 'tiny', outDir: path.join(root, 'gqa-int4'), seed: 11, layout: { attention: 'gqa', weights: 'int4' } })).dir;
  standardDir = (await buildModelDir({ preset: 'tiny', outDir: path.join(root, 'standard'), seed: 11, layout: { attention: 'standard' } })).dir;
  sharedInt4Dir = (await buildModelDir({ preset: 'tiny', outDir: path.join(root, 'shared-int4'), seed: 11, layout: { weights: 'int4' } })).dir;
  standardInt4Dir = (await buildModelDir({ preset: 'tiny', outDir: path.join(root, 'standard-int4'), seed: 11, layout: { attention: 'standard', weights: 'int4' } })).dir;
});
afterAll(async () => {
  for (const e of engines) await e.close();
  await rm(root, { recursive: true, force: true });
});

/**
 * Seven greedy requests of different prompt and answer lengths through a batch of three: sequences
 * join and leave the running batch at different steps, and two are cancelled part-way.
 */
async function workload(e: Engine): Promise<string[]> {
  const prompts = ['a', 'the quick brown fox jumps over the lazy dog', 'hello there', 'numbers: 1 2 3 4 5 6 7 8 9 10 11 12', 'x y z', 'why?', 'one more prompt of middling length'];
  const lengths = [24, 9, 40, 17, 30, 14, 21];
  const results = prompts.map(async (content, i) => {
    const abort = new AbortController();
    let tokens = 0;
    const out = await collect(e.generate(ask(content, { temperature: 0, maxNewTokens: lengths[i]! }, abort.signal)), (event) => {
      // Cancelled by token count, not by time: the same point on both paths.
      if (event.type === 'delta' && (tokens += event.tokenCount) >= 6 && (i === 2 || i === 5)) abort.abort();
    });
    return `${out.done.finishReason}:${out.done.usage.completionTokens}:${out.text}`;
  });
  return Promise.all(results);
}

describe('the shared-buffer path', () => {
  it.each([
    ['the served graph (reads the cache; the worker appends)', 'float32', 'the graph reads the cache, the worker appends new K/V'],
    ['the served graph (reads the cache; the worker appends)', 'int4', 'the graph reads the cache, the worker appends new K/V'],
    ['GroupQueryAttention', 'float32', 'new K/V appended by the worker (the graph still computes present, unread)'],
    ['GroupQueryAttention', 'int4', 'new K/V appended by the worker (the graph still computes present, unread)'],
  ])('%s gives the generic path its tokens, token for token, while sequences join, leave and are cancelled (%s weights)', async (_graph, weights, detail) => {
    const sharedLog: string[] = [];
    const genericLog: string[] = [];
    const served = detail.startsWith('the graph reads');
    const shared = await engine(served ? (weights === 'int4' ? sharedInt4Dir : sharedDir) : weights === 'int4' ? gqaInt4Dir : gqaDir, { log: sharedLog });
    const generic = await engine(weights === 'int4' ? standardInt4Dir : standardDir, { log: genericLog });
    expect(shared.kvCache.path).toBe('shared-buffer');
    expect(generic.kvCache.path).toBe('generic');
    expect(sharedLog.join('\n')).toContain('KV cache on the shared-buffer path');
    expect(sharedLog.join('\n')).toContain(detail);
    expect(genericLog.join('\n')).toContain('KV cache on the generic path');

    const [a, b] = [await workload(shared), await workload(generic)];
    expect(a).toEqual(b);
    expect(a.filter((r) => r.startsWith('cancelled'))).toHaveLength(2);
    // Different prompts, different answers (two cancelled ones may agree on their first tokens).
    expect(new Set(a.map((r) => r.split(':')[2])).size).toBeGreaterThanOrEqual(5);
  });
});

describe('prompts arriving together', () => {
  it('are prefilled in one step, and each answers as it does alone', async () => {
    const steps: number[] = [];
    const prompts = ['short', 'a somewhat longer prompt than that', 'mid length one'];
    const alone = await engine(sharedDir);
    const expected = [];
    for (const p of prompts) expected.push((await collect(alone.generate(ask(p, { temperature: 0, maxNewTokens: 10 })))).text);
    const e = await createOnnxEngine({
      modelDir: sharedDir,
      id: 'tiny',
      source: 'built-in',
      limits,
      intraOpThreads: 1,
      prefixCacheBytes: 0,
      observer: { prefillStep: (_seconds, tokens) => steps.push(tokens) },
    });
    engines.push(e);
    const together = await Promise.all(prompts.map((p) => collect(e.generate(ask(p, { temperature: 0, maxNewTokens: 10 })))));
    expect(together.map((t) => t.text)).toEqual(expected);
    // One prefill step carried all three prompts (default budget 256 tokens).
    expect(steps).toEqual([together.reduce((n, t) => n + t.done.usage.promptTokens, 0)]);
  });
});

describe("onnxruntime-genai's layout", () => {
  it('loads from genai_config.json, runs on the shared-buffer path, and answers as the same weights do in the built-in layout', async () => {
    // Logits for every position, as genai's builder writes them: the engine must read each row's last real one.
    const built = await buildModelDir({ preset: 'tiny', outDir: path.join(root, 'genai-src'), seed: 11, layout: { logits: 'all', attention: 'gqa' } });
    const genaiDir = path.join(root, 'genai');
    await writeGenaiLayout(built.dir, genaiDir);
    const genaiLog: string[] = [];
    const builtInLog: string[] = [];
    const genai = await engine(genaiDir, { log: genaiLog });
    expect(genai.kvCache.path).toBe('shared-buffer');
    // genai's graph has no new_key_values outputs: present is bound to the cache. The built-in
    // graph's new K/V are appended by the worker. Both must answer alike.
    expect(genaiLog.join('\n')).toContain('present bound to the cache in place');
    const builtIn = await engine(sharedDir, { log: builtInLog });
    expect(builtInLog.join('\n')).toContain('the worker appends new K/V');
    const prompts = ['first', 'a longer second prompt than the first', 'third'];
    // Arriving together: one right-padded prefill pass. genai_config's search says greedy (do_sample
    // false) where the built-in model's generation_config samples: the built-in one is asked for greedy.
    const fromGenai = await Promise.all(prompts.map((p) => collect(genai.generate(ask(p, { maxNewTokens: 12 })))));
    const fromBuiltIn = await Promise.all(prompts.map((p) => collect(builtIn.generate(ask(p, { temperature: 0, maxNewTokens: 12 })))));
    expect(fromGenai.map((r) => r.text)).toEqual(fromBuiltIn.map((r) => r.text));
    expect(fromGenai.map((r) => r.done.usage.completionTokens)).toEqual([12, 12, 12]);
  });
});

describe('the cache buffer', () => {
  it('shrinks back after a long prompt has left (its cached prefix too), and answers stay those of a fresh engine', async () => {
    // The long prompt's K/V stays as a cached prefix, which alone would keep the buffer long.
    const e = await engine(sharedDir);
    const short = ['short one', 'short two'];
    await collect(e.generate(ask('word '.repeat(300), { temperature: 0, maxNewTokens: 4 })));
    const afterLong = e.kvCache.allocatedBytes;
    const answers = await Promise.all(short.map((p) => collect(e.generate(ask(p, { temperature: 0, maxNewTokens: 16 })))));
    // One slot of ≥ 300 tokens before; two slots of 64 now.
    expect(e.kvCache.allocatedBytes).toBeLessThan(afterLong / 2);
    const fresh = await engine(sharedDir, { prefixCacheBytes: 0 });
    const expected = await Promise.all(short.map((p) => collect(fresh.generate(ask(p, { temperature: 0, maxNewTokens: 16 })))));
    expect(answers.map((a) => a.text)).toEqual(expected.map((a) => a.text));
  });
});

describe('prefix reuse', () => {
  /** Turns of one conversation, greedy; each turn's answer goes into the next turn's history. */
  async function conversation(e: Engine, turns = 6, between?: () => Promise<void>): Promise<{ answers: Collected[]; prompts: ChatTurn[][] }> {
    const history: ChatTurn[] = [{ role: 'system', content: 'You are terse.' }];
    const answers: Collected[] = [];
    const prompts: ChatTurn[][] = [];
    for (let turn = 0; turn < turns; turn++) {
      history.push({ role: 'user', content: `question number ${turn}: what comes next?` });
      prompts.push([...history]);
      const answer = await collect(e.generate({ requestId: `t${turn}`, messages: [...history], enableThinking: false, sampling: { temperature: 0, maxNewTokens: 12 } }));
      history.push({ role: 'assistant', content: answer.text });
      answers.push(answer);
      await between?.();
    }
    return { answers, prompts };
  }

  it('answers every turn of a conversation exactly as recomputing the whole prompt does, and skips the history', async () => {
    const { answers: cached, prompts } = await conversation(await engine(sharedDir));
    const { answers: recomputed } = await conversation(await engine(sharedDir, { prefixCacheBytes: 0 }));
    expect(cached.map((c) => c.text)).toEqual(recomputed.map((c) => c.text));
    expect(recomputed.every((c) => c.done.usage.cachedPromptTokens === 0)).toBe(true);
    // From the second turn on, everything the turn shares with the previous turn's prompt (the
    // history; the template renders the last answer differently from how it was generated) is reused.
    const tokenizer = await loadChatTokenizer(sharedDir);
    const encode = (messages: ChatTurn[]) => tokenizer.encodeChat(messages, { enableThinking: false });
    for (let turn = 1; turn < cached.length; turn++) {
      const shared = commonPrefix(encode(prompts[turn - 1]!), encode(prompts[turn]!));
      const usage = cached[turn]!.done.usage;
      expect(usage.cachedPromptTokens).toBeGreaterThanOrEqual(shared);
      expect(usage.cachedPromptTokens).toBeLessThan(usage.promptTokens);
    }
    expect(cached.at(-1)!.done.usage.cachedPromptTokens / cached.at(-1)!.done.usage.promptTokens).toBeGreaterThan(0.7);
  });

  it('warms the next turn while the person reads and types: it prefills only its new message, and answers as recomputing does', async () => {
    const e = await engine(sharedDir);
    const tokenizer = await loadChatTokenizer(sharedDir);
    const encode = (messages: ChatTurn[]) => tokenizer.encodeChat(messages, { enableThinking: false });
    const busyAfterAnswers: number[] = [];
    const { answers: warmed, prompts } = await conversation(e, 5, async () => {
      // Warming is background work: the engine reports nothing active meanwhile.
      busyAfterAnswers.push(e.activeCount);
      await e.idle();
    });
    const { answers: recomputed } = await conversation(await engine(sharedDir, { prefixCacheBytes: 0 }), 5);
    expect(warmed.map((c) => c.text)).toEqual(recomputed.map((c) => c.text));
    expect(busyAfterAnswers.every((n) => n === 0)).toBe(true);
    for (let turn = 1; turn < warmed.length; turn++) {
      const prompt = encode(prompts[turn]!);
      const warm = nextTurnPrefix(tokenizer, prompts[turn - 1]!, warmed[turn - 1]!.text, { enableThinking: false });
      // The warmed prefix is how this turn's prompt starts, and it holds the previous answer, which
      // the prompt the answer was generated from (its think block) could not share.
      expect(commonPrefix(warm, prompt)).toBe(warm.length);
      expect(warm.length).toBeGreaterThan(commonPrefix(encode(prompts[turn - 1]!), prompt) + warmed[turn - 1]!.done.usage.completionTokens - 2);
      expect(warmed[turn]!.done.usage.cachedPromptTokens).toBe(warm.length);
    }
  });

  it('keeps the cached prefixes within their byte budget, evicting the least recently used', async () => {
    // Room for about one short conversation's K/V (tiny: 512 bytes a token).
    const e = await engine(sharedDir, { prefixCacheBytes: 40 * 512 });
    const first = await collect(e.generate(ask('first conversation', { temperature: 0, maxNewTokens: 4 })));
    await collect(e.generate(ask('second conversation', { temperature: 0, maxNewTokens: 4 })));
    const again = await collect(e.generate(ask('first conversation', { temperature: 0, maxNewTokens: 4 })));
    expect(first.done.usage.promptTokens + 4).toBeLessThanOrEqual(40);
    // The second conversation evicted the first beyond their shared template opening.
    expect(again.done.usage.cachedPromptTokens).toBeLessThan(first.done.usage.promptTokens - 1);
    expect(again.text).toBe(first.text);
  });
});

describe('memory-aware admission', () => {
  /** An engine with a KV budget whose every load report lands in `loads`. */
  async function budgetedEngine(budget: number, loads: KvCacheState[]): Promise<Engine> {
    const e = await createOnnxEngine({
      modelDir: sharedDir,
      id: 'tiny',
      source: 'built-in',
      limits: { ...limits, kvCacheBudgetBytes: budget },
      intraOpThreads: 1,
      observer: { load: ({ kvCache }) => loads.push(kvCache) },
    });
    engines.push(e);
    return e;
  }

  it('admits only what fits the KV budget, makes the rest wait, and reports both in kvCache', async () => {
    // tiny: 512 bytes a token. Each request below reserves prompt (~14) + 40 tokens, about 27 KiB;
    // the budget holds two of them, never three.
    const budget = 60_000;
    const loads: KvCacheState[] = [];
    const e = await budgetedEngine(budget, loads);
    expect(e.kvCache.budgetBytes).toBe(budget);
    const runs = await Promise.all(['one', 'two', 'three'].map((c) => collect(e.generate(ask(c, { temperature: 0, maxNewTokens: 40 })))));
    expect(runs.every((r) => r.done.finishReason === 'length' && r.done.usage.completionTokens === 40)).toBe(true);
    const peak = Math.max(...loads.map((l) => l.reservedBytes));
    expect(peak).toBeLessThanOrEqual(budget);
    // Two ran together (the batch holds three): the third waited for the KV budget, not for a slot.
    expect(peak).toBeGreaterThan(budget / 2);
    expect(runs[2]!.done.timings.queueWaitMs).toBeGreaterThan(0);
    expect(e.kvCache.reservedBytes).toBe(0);
  });

  it('lets cached prefixes use what the budget leaves, and gives their room back to requests that need it', async () => {
    // tiny: 512 bytes a token; room for ~117 tokens. A finished conversation (~14 + 40 tokens) stays
    // cached while nothing else runs; two requests reserving ~54 tokens each then need its room.
    const budget = 60_000;
    const loads: KvCacheState[] = [];
    const e = await budgetedEngine(budget, loads);
    const history = (answer: string): ChatTurn[] => [
      { role: 'user', content: 'remember me' },
      { role: 'assistant', content: answer },
      { role: 'user', content: 'and again' },
    ];
    const first = await collect(e.generate(ask('remember me', { temperature: 0, maxNewTokens: 40 })));
    expect(e.kvCache.prefixCacheBytes).toBeGreaterThan(0);
    const nextTurn = await collect(e.generate({ requestId: 'r', messages: history(first.text), sampling: { temperature: 0, maxNewTokens: 8 }, enableThinking: false }));
    // Nothing needed the room: the next turn found its history cached.
    expect(nextTurn.done.usage.cachedPromptTokens).toBeGreaterThan(first.done.usage.promptTokens / 2);
    await Promise.all(['one', 'two'].map((c) => collect(e.generate(ask(c, { temperature: 0, maxNewTokens: 40 })))));
    for (const l of loads) expect(l.reservedBytes + l.prefixCacheBytes).toBeLessThanOrEqual(budget);
    // The two requests took the room: the conversation's K/V was evicted and is recomputed.
    const later = await collect(e.generate({ requestId: 'r', messages: history(first.text), sampling: { temperature: 0, maxNewTokens: 8 }, enableThinking: false }));
    expect(later.done.usage.cachedPromptTokens).toBeLessThan(nextTurn.done.usage.cachedPromptTokens);
    expect(later.text).toBe(nextTurn.text);
  });

  it('refuses a request that could not fit even alone, saying what would fit', async () => {
    const e = await engine(sharedDir, { limits: { kvCacheBudgetBytes: 30 * 512 } });
    const refused = (() => {
      try {
        e.generate(ask('hello', { maxNewTokens: 64 }));
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(InvalidArgumentError);
    expect((refused as InvalidArgumentError).field).toBe('sampling.max_new_tokens');
    expect((refused as Error).message).toMatch(/KV cache budget is 0\.01 MiB: at most \d+ new tokens fit/);
    // What it says fits, runs.
    const fits = Number(/at most (\d+) new tokens/.exec((refused as Error).message)![1]);
    const ok = await collect(e.generate(ask('hello', { temperature: 0, maxNewTokens: fits })));
    expect(ok.done.usage.completionTokens).toBeGreaterThan(0);
  });
});
