// The engine on the real built-in tiny model in ONNX Runtime: batching, sampling, stopping, cancelling.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxEngine, loadChatTokenizer, ResourceExhaustedError, type Engine, type GenerationEvent } from '../src/engine/index.js';
import { ask, collect, type Collected } from './support/engine-streams.js';
import { continuationOf } from '../src/engine/continuation.js';
import { buildModelDir } from '../src/model-builder/index.js';
import { buildTinyModel } from './support/tiny-model.js';

let model: Awaited<ReturnType<typeof buildTinyModel>>;
const limits = { maxBatchSize: 4, maxQueueSize: 4, maxContextTokens: 256, maxNewTokensLimit: 64 };
const engines: Engine[] = [];

async function engine(overrides: Partial<typeof limits> = {}): Promise<Engine> {
  const e = await createOnnxEngine({ modelDir: model.dir, id: 'tiny', source: 'built-in', limits: { ...limits, ...overrides }, intraOpThreads: 1 });
  engines.push(e);
  return e;
}

beforeAll(async () => {
  model = await buildTinyModel();
});
afterAll(async () => {
  for (const e of engines) await e.close();
  await model.cleanup();
});

describe('chat template', () => {
  it('passes enable_thinking to the Qwen3 template', async () => {
    const tokenizer = await loadChatTokenizer(model.dir);
    const messages = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Hi' }];
    const thinking = tokenizer.renderChat(messages, {});
    const direct = tokenizer.renderChat(messages, { enableThinking: false });
    expect(thinking).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    expect(direct).toBe(`${thinking}<think>\n\n</think>\n\n`);
    expect(tokenizer.renderChat(messages, { enableThinking: true })).toBe(thinking);
  });

  it('reads chat_template.jinja, where current exports keep the template, and refuses a model with none', async () => {
    const messages = [{ role: 'user' as const, content: 'Hi' }];
    const expected = (await loadChatTokenizer(model.dir)).renderChat(messages, { enableThinking: false });
    const root = await mkdtemp(path.join(os.tmpdir(), 'freechat-template-'));
    try {
      const dir = path.join(root, 'model');
      await cp(model.dir, dir, { recursive: true });
      const configFile = path.join(dir, 'tokenizer_config.json');
      const { chat_template: template, ...config } = JSON.parse(await readFile(configFile, 'utf8')) as { chat_template: string };
      expect(template).toContain('enable_thinking');
      await writeFile(configFile, JSON.stringify(config));
      await writeFile(path.join(dir, 'chat_template.jinja'), template);
      const tokenizer = await loadChatTokenizer(dir);
      expect(tokenizer.renderChat(messages, { enableThinking: false })).toBe(expected);
      expect(tokenizer.encodeChat(messages, { enableThinking: false }).length).toBeGreaterThan(5);

      await rm(path.join(dir, 'chat_template.jinja'));
      const bare = path.join(root, 'bare');
      await cp(dir, bare, { recursive: true });
      await expect(loadChatTokenizer(bare)).rejects.toThrow(/has no chat template: neither chat_template.jinja nor a chat_template in tokenizer_config.json/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('continuing an answer', () => {
  it('renders the prompt ending inside the answer: after the content, or inside an open think block', async () => {
    const tokenizer = await loadChatTokenizer(model.dir);
    const messages = [{ role: 'user' as const, content: 'Hi' }];
    const prompt = tokenizer.renderChat(messages, {});
    const render = (prefix: { reasoning: string; content: string }, thinking: boolean) =>
      tokenizer.decode(tokenizer.encodeChat(messages, { enableThinking: thinking, answerPrefix: continuationOf(prefix, thinking).text }));
    expect(render({ reasoning: '\nLet me see.\n', content: '\n\nHello th' }, true)).toBe(`${prompt}<think>\nLet me see.\n</think>\n\nHello th`);
    expect(render({ reasoning: '\nLet me', content: '' }, true)).toBe(`${prompt}<think>\nLet me`);
    expect(continuationOf({ reasoning: '\nLet me', content: '' }, true).channel).toBe('reasoning');
    // Thinking off: the template has closed an empty think block already.
    expect(render({ reasoning: '', content: 'Hello th' }, false)).toBe(`${prompt}<think>\n\n</think>\n\nHello th`);
    expect(continuationOf({ reasoning: '', content: 'Hello th' }, false).channel).toBe('content');
  });
});

describe('model families', () => {
  it('refuses a model_type it has no family facts for, naming the supported ones', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'freechat-family-'));
    try {
      const dir = path.join(root, 'model');
      await cp(model.dir, dir, { recursive: true });
      const configFile = path.join(dir, 'config.json');
      await writeFile(configFile, JSON.stringify({ ...JSON.parse(await readFile(configFile, 'utf8')), model_type: 'gpt_neox' }));
      await expect(createOnnxEngine({ modelDir: dir, id: 'x', source: 'directory', limits })).rejects.toThrow(
        'model_type "gpt_neox" is not supported; supported: qwen3, qwen2',
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('the event loop', () => {
  it('keeps turning while a long forward pass runs (the session lives on a worker thread)', async () => {
    // The all-positions graph: each prefill chunk multiplies every position by the 151,936-column
    // LM head, a step of a few hundred milliseconds on the tiny model.
    const root = await mkdtemp(path.join(os.tmpdir(), 'freechat-slow-'));
    const slow = await buildModelDir({ preset: 'tiny', outDir: path.join(root, 'all'), layout: { logits: 'all', attention: 'standard' } });
    // Each prefill step as [start, end] on the main thread's clock.
    const steps: Array<{ start: number; end: number }> = [];
    const e = await createOnnxEngine({
      modelDir: slow.dir,
      id: 'slow',
      source: 'directory',
      limits: { ...limits, maxContextTokens: 1024, maxNewTokensLimit: 4 },
      observer: { prefillStep: (seconds) => { const end = performance.now(); steps.push({ start: end - seconds * 1000, end }); } },
    });
    engines.push(e);
    // A 1 ms timer: a blocked loop cannot fire it while a step runs. Counting the ticks inside the
    // longest step (rather than the loop's worst delay) stays meaningful on a loaded machine,
    // where the scheduler alone can hold the main thread back for a couple of hundred ms.
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 1);
    try {
      await collect(e.generate(ask('The river runs past the mill. '.repeat(80), { temperature: 0, maxNewTokens: 2 })));
      clearInterval(timer);
      const longest = steps.reduce((a, b) => (b.end - b.start > a.end - a.start ? b : a));
      expect(longest.end - longest.start).toBeGreaterThan(60);
      const during = ticks.filter((t) => t > longest.start && t < longest.end).length;
      expect(during).toBeGreaterThanOrEqual(3);
    } finally {
      clearInterval(timer);
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('generation', () => {
  it('two concurrent greedy streams interleave and each equals its output alone', async () => {
    const e = await engine();
    const greedy = { temperature: 0, maxNewTokens: 24 };
    const aloneA = await collect(e.generate(ask('Tell me about the sea', greedy)));
    const aloneB = await collect(e.generate(ask('Quelle heure est-il ?', greedy)));
    expect(aloneA.text).not.toBe(aloneB.text);

    const order: string[] = [];
    const [a, b] = await Promise.all([
      collect(e.generate(ask('Tell me about the sea', greedy)), (ev) => ev.type === 'delta' && order.push('A')),
      collect(e.generate(ask('Quelle heure est-il ?', greedy)), (ev) => ev.type === 'delta' && order.push('B')),
    ]);
    expect(a.text).toBe(aloneA.text);
    expect(b.text).toBe(aloneB.text);
    // Interleaved: B's first delta arrives before A's last one.
    expect(order.indexOf('B')).toBeLessThan(order.lastIndexOf('A'));
    expect(a.done.usage.completionTokens).toBe(24);
    expect(a.done.finishReason).toBe('length');
  });

  it('a request joining a running batch does not change the running one', async () => {
    const e = await engine();
    const greedy = { temperature: 0, maxNewTokens: 40 };
    const alone = await collect(e.generate(ask('A long story, please', greedy)));
    let joined: Promise<Collected> | undefined;
    const first = await collect(e.generate(ask('A long story, please', greedy)), (ev) => {
      joined ??= collect(e.generate(ask('Short?', { temperature: 0, maxNewTokens: 5 })));
    });
    expect(first.text).toBe(alone.text);
    expect((await joined!).done.usage.completionTokens).toBe(5);
  });

  it('the same seed gives the same output; another seed another', async () => {
    const e = await engine();
    const run = (seed: number) => collect(e.generate(ask('Pick a word', { temperature: 1, topK: 0, topP: 1, seed, maxNewTokens: 16 })));
    const [x, y, z] = await Promise.all([run(11), run(11), run(12)]);
    expect(x.text).toBe(y.text);
    expect(x.text).not.toBe(z.text);
  });

  it('stops before a stop string and reports stop', async () => {
    const e = await engine();
    const greedy = { temperature: 0, maxNewTokens: 30 };
    const full = await collect(e.generate(ask('Count with me', greedy)));
    const deltas = full.events.filter((ev) => ev.type === 'delta').map((ev) => (ev.type === 'delta' ? ev.text : ''));
    // A stop string made of the end of one delta and the start of the next: it must be caught across deltas.
    const i = Math.floor(deltas.length / 2);
    const stop = deltas[i]!.slice(-2) + deltas[i + 1]!.slice(0, 2);
    const cut = full.text.indexOf(stop);
    const stopped = await collect(e.generate(ask('Count with me', { ...greedy, stop: [stop] })));
    expect(stopped.done.finishReason).toBe('stop');
    expect(stopped.text).toBe(full.text.slice(0, cut));
  });

  it('ends at the context limit with length', async () => {
    const e = await engine({ maxContextTokens: 20 });
    const r = await collect(e.generate(ask('Hi', { temperature: 0, maxNewTokens: 64 })));
    expect(r.done.finishReason).toBe('length');
    expect(r.done.usage.promptTokens + r.done.usage.completionTokens).toBe(20);
  });

  it('continues an answer cut at the token limit: the prompt ends inside it and only what follows is streamed', async () => {
    const e = await engine();
    const question = { ...ask('Go on and on', { temperature: 0, maxNewTokens: 4 }), enableThinking: false };
    const cut = await collect(e.generate(question));
    expect(cut.done.finishReason).toBe('length');
    const more = await collect(e.generate({ ...question, requestId: 'go-on', sampling: { temperature: 0, maxNewTokens: 8 }, answerPrefix: { reasoning: '', content: cut.text } }));
    // The prompt is the question's and the answer so far, which the model does not write again.
    expect(more.done.usage.promptTokens).toBe(cut.done.usage.promptTokens + 4);
    expect(more.done.usage.completionTokens).toBe(8);
    // Greedy from the same prompt and text: what follows is what one longer answer says.
    const whole = await collect(e.generate({ ...question, requestId: 'whole', sampling: { temperature: 0, maxNewTokens: 12 } }));
    expect(cut.text + more.text).toBe(whole.text);
  });

  it('reports timings and never ends a delta inside a character', async () => {
    const e = await engine();
    const r = await collect(e.generate(ask('日本語で答えて', { temperature: 1, seed: 3, maxNewTokens: 48 })));
    expect(r.done.timings.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(r.done.timings.decodeTokensPerSecond).toBeGreaterThan(0);
    for (const ev of r.events) if (ev.type === 'delta') expect(/[\uD800-\uDBFF]$/.test(ev.text)).toBe(false);
  });
});

describe('cancellation and limits', () => {
  it('cancelling frees the slot within a step and the queued request runs', async () => {
    const e = await engine({ maxBatchSize: 1 });
    const controller = new AbortController();
    let deltas = 0;
    const first = collect(e.generate(ask('Go on forever', { temperature: 0, maxNewTokens: 64 }, controller.signal)), (ev) => {
      if (ev.type === 'delta' && ++deltas === 3) controller.abort();
    });
    const second = collect(e.generate(ask('Next', { temperature: 0, maxNewTokens: 4 })));
    const cancelled = await first;
    expect(cancelled.done.finishReason).toBe('cancelled');
    // Aborted after the third delta: at most one more step ran for it.
    expect(cancelled.done.usage.completionTokens).toBeLessThanOrEqual(deltas + 2);
    expect((await second).done.usage.completionTokens).toBe(4);
    expect(e.activeCount).toBe(0);
  });

  it('a consumer that walks away cancels its sequence', async () => {
    const e = await engine();
    for await (const ev of e.generate(ask('Hello', { temperature: 0, maxNewTokens: 64 }))) if (ev.type === 'delta') break;
    await expect.poll(() => e.activeCount).toBe(0);
  });

  it('refuses work with RESOURCE_EXHAUSTED when the queue is full', async () => {
    const e = await engine({ maxBatchSize: 1, maxQueueSize: 1 });
    const controller = new AbortController();
    let started!: () => void;
    const firstToken = new Promise<void>((resolve) => (started = resolve));
    const running = collect(e.generate(ask('one', { maxNewTokens: 64 }, controller.signal)), () => started());
    await firstToken;
    const queued = collect(e.generate(ask('two', { maxNewTokens: 1 })));
    expect(() => e.generate(ask('three', {}))).toThrow(ResourceExhaustedError);
    expect(() => e.generate(ask('three', {}))).toThrow(/queue is full/);
    controller.abort();
    await Promise.all([running, queued]);
  });
});
