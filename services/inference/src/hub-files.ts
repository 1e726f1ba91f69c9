// Which files of a hub repository make a runnable model: a pure choice, so it is tested without a network.

const REQUIRED_ROOT_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;
const OPTIONAL_ROOT_FILES = ['generation_config.json', 'chat_template.jinja', 'special_tokens_map.json'] as const;

/**
 * `onnx/<variant>.onnx` plus its external data (`<variant>.onnx_data`, `<variant>.onnx_data_1`, ...),
 * which ONNX Runtime looks for next to the graph under the names recorded inside it.
 */
export function selectHubFiles(repoFiles: readonly string[], variant: string): string[] {
  const available = new Set(repoFiles);
  const graph = `onnx/${variant}.onnx`;
  const missing = [...REQUIRED_ROOT_FILES, graph].filter((f) => !available.has(f));
  if (missing.length > 0) {
    const variants = repoFiles.filter((f) => /^onnx\/[^/]+\.onnx$/.test(f)).map((f) => f.slice(5, -5));
    throw new Error(`repository lacks ${missing.join(', ')}; ONNX variants it has: ${variants.join(', ') || 'none'}`);
  }
  const externalData = repoFiles.filter((f) => f.startsWith(`${graph}_data`)).sort();
  return [...REQUIRED_ROOT_FILES, ...OPTIONAL_ROOT_FILES.filter((f) => available.has(f)), graph, ...externalData];
}
