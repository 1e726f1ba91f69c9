// Rewrites a built-in model directory into onnxruntime-genai's layout: the decoder and its external
// data at the top level, genai_config.json in place of config.json and generation_config.json.
// The real builder needs torch and the hub, which these machines lack; this follows its documented
// config schema (model.decoder.*, search.*) so the loader is tested against that contract. Its
// graphs have no new_key_values.* outputs, so those are dropped: the engine then binds `present`
// to the cache in place, the way it runs real genai models.
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';

export async function writeGenaiLayout(builtDir: string, outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const config = JSON.parse(await readFile(path.join(builtDir, 'config.json'), 'utf8')) as Record<string, number | string>;
  for (const file of await readdir(path.join(builtDir, 'onnx'))) await copyFile(path.join(builtDir, 'onnx', file), path.join(outDir, file));
  const model = onnxProto.onnx.ModelProto.decode(await readFile(path.join(outDir, 'model.onnx')));
  model.graph!.output = model.graph!.output!.filter((o) => !o.name!.startsWith('new_key_values.'));
  await writeFile(path.join(outDir, 'model.onnx'), onnxProto.onnx.ModelProto.encode(model).finish());
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(path.join(builtDir, file), path.join(outDir, file));
  const genai = {
    model: {
      type: config['model_type'],
      vocab_size: config['vocab_size'],
      context_length: config['max_position_embeddings'],
      bos_token_id: config['bos_token_id'],
      eos_token_id: [151645, 151643],
      pad_token_id: 151643,
      decoder: {
        filename: 'model.onnx',
        head_size: config['head_dim'],
        hidden_size: config['hidden_size'],
        num_attention_heads: config['num_attention_heads'],
        num_hidden_layers: config['num_hidden_layers'],
        num_key_value_heads: config['num_key_value_heads'],
        session_options: { log_id: 'onnxruntime-genai', provider_options: [] },
        inputs: { input_ids: 'input_ids', attention_mask: 'attention_mask', past_key_names: 'past_key_values.%d.key', past_value_names: 'past_key_values.%d.value' },
        outputs: { logits: 'logits', present_key_names: 'present.%d.key', present_value_names: 'present.%d.value' },
      },
    },
    search: { do_sample: false, max_length: config['max_position_embeddings'], past_present_share_buffer: true, temperature: 1, top_k: 1, top_p: 1, repetition_penalty: 1 },
  };
  await writeFile(path.join(outDir, 'genai_config.json'), `${JSON.stringify(genai, null, 2)}\n`);
}
