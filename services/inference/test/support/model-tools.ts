// ONNX Runtime's Python tools, for the variant tests: the project's venv (scripts/models/
// ensure-python.sh, installed from PyPI once and cached), the variants onnx-community publishes made
// from a model's onnx/model.onnx (variants.py), and plain onnxruntime's greedy decode (ort_greedy.py).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MODELS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../scripts/models');

/** The venv's python (built on first use: ~1 min). */
export function pythonTools(): string {
  return execFileSync(path.join(MODELS, 'ensure-python.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** Writes `<modelDir>/onnx/<variant>.onnx` for each variant. */
export function makeVariants(python: string, modelDir: string, variants: readonly string[]): void {
  execFileSync(python, [path.join(MODELS, 'variants.py'), modelDir, ...variants], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The token ids plain onnxruntime picks greedily after `promptIds` (an EOS included, then stops). */
export function ortGreedy(python: string, modelDir: string, variant: string, promptIds: readonly number[], maxNewTokens: number): number[] {
  const out = execFileSync(python, [path.join(MODELS, 'ort_greedy.py'), modelDir, variant, String(maxNewTokens)], {
    input: JSON.stringify(promptIds),
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return JSON.parse(out) as number[];
}
