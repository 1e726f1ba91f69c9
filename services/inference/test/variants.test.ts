// Every ONNX variant onnx-community publishes for Qwen3, made from the built-in tiny model by ONNX
// Runtime's own tools (fp16 conversion, dynamic int8/uint8, 4-bit MatMulNBits, NF4 MatMulBnb4:
// scripts/models/variants.py), loads in the engine unchanged and decodes greedily exactly as plain
// onnxruntime (Python, no batching) does on the same file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxEngine, loadChatTokenizer, type Engine, type GenerationEvent } from '../src/engine/index.js';
import { makeVariants, ortGreedy, pythonTools } from './support/model-tools.js';
import { buildTinyModel } from './support/tiny-model.js';

const VARIANTS = ['model', 'model_fp16', 'model_int8', 'model_uint8', 'model_quantized', 'model_q4', 'model_q4f16', 'model_bnb4'] as const;
const limits = { maxBatchSize: 4, maxQueueSize: 4, maxContextTokens: 256, maxNewTokensLimit: 64 };
const messages = [{ role: 'user' as const, content: 'Name three rivers of Europe.' }];
const NEW_TOKENS = 12;

let model: Awaited<ReturnType<typeof buildTinyModel>>;
let python: string;
const engines: Engine[] = [];

beforeAll(async () => {
  // Shaped as onnx-community's exports (plain attention, past and present tensors): the generic path.
  model = await buildTinyModel({ attention: 'standard' });
  python = pythonTools();
  makeVariants(python, model.dir, VARIANTS.filter((v) => v !== 'model'));
}, 300_000);

afterAll(async () => {
  for (const engine of engines) await engine.close();
  await model?.cleanup();
});

describe('onnx-community variants', () => {
  it.each(VARIANTS)('%s loads and decodes greedily as plain onnxruntime does', async (variant) => {
    const engine = await createOnnxEngine({ modelDir: model.dir, id: 'tiny', source: 'directory', limits, variant });
    engines.push(engine);
    const events: GenerationEvent[] = [];
    for await (const event of engine.generate({
      requestId: variant,
      messages,
      enableThinking: false,
      sampling: { temperature: 0, repetitionPenalty: 1, maxNewTokens: NEW_TOKENS },
    })) {
      events.push(event);
    }
    const done = events.at(-1)!;
    if (done.type !== 'done') throw new Error(`no done event: ${JSON.stringify(done)}`);
    const text = events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');

    const tokenizer = await loadChatTokenizer(model.dir);
    const prompt = tokenizer.encodeChat(messages, { enableThinking: false });
    const reference = ortGreedy(python, model.dir, variant, prompt, NEW_TOKENS);
    expect(done.usage.promptTokens).toBe(prompt.length);
    expect(done.usage.completionTokens).toBe(reference.length);
    // The engine routes <think>…</think> to the reasoning channel and never shows an EOS token.
    const expected = tokenizer.decode(done.finishReason === 'stop' ? reference.slice(0, -1) : reference).replace(/<\/?think>/g, '');
    expect(text).toBe(expected);
  });
});
