// The baseline: @huggingface/transformers' own generate() on the same model directory, one request after another.
import { AutoModelForCausalLM, AutoTokenizer, TextStreamer, env } from '@huggingface/transformers';
import { benchPrompts } from './stats.js';

export interface TransformersPartResult {
  readonly requests: { readonly promptTokens: number; readonly completionTokens: number; readonly ms: number; readonly ttftMs: number }[];
  readonly wallMs: number;
  readonly peakRssMb: number;
}

export async function runTransformersPart(opts: { modelDir: string; requests: number; newTokens: number; promptWords: number }): Promise<TransformersPartResult> {
  env.allowRemoteModels = false;
  const tokenizer = await AutoTokenizer.from_pretrained(opts.modelDir, { local_files_only: true });
  const model = await AutoModelForCausalLM.from_pretrained(opts.modelDir, { local_files_only: true, dtype: 'fp32', device: 'cpu' });
  const generate = async (content: string, newTokens: number) => {
    const inputs = tokenizer.apply_chat_template([{ role: 'user', content }], { add_generation_prompt: true, return_dict: true }) as {
      input_ids: { dims: number[] };
    };
    let firstTokenAt = 0;
    // The token callback sees each generated token before any text is decoded, so it times the first one.
    const streamer = new TextStreamer(tokenizer, { skip_prompt: true, callback_function: () => {}, token_callback_function: () => (firstTokenAt ||= performance.now()) });
    const started = performance.now();
    const out = (await model.generate({ ...inputs, max_new_tokens: newTokens, do_sample: false, streamer })) as { dims: number[] };
    const ms = performance.now() - started;
    const promptTokens = inputs.input_ids.dims[1]!;
    return { promptTokens, completionTokens: out.dims[1]! - promptTokens, ms, ttftMs: firstTokenAt - started };
  };
  await generate('warm up', 2);
  const started = performance.now();
  const requests = [];
  for (const prompt of benchPrompts(opts.requests, opts.promptWords)) requests.push(await generate(prompt, opts.newTokens));
  const wallMs = performance.now() - started;
  await model.dispose();
  return { requests, wallMs, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}
