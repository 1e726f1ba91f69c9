// Builds the built-in tiny model once per test file into a temporary directory.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { GraphLayout } from '../../src/model-builder/qwen3-graph.js';
import { buildModelDir } from '../../src/model-builder/write-model-dir.js';

/** Default: the served layout; `{ attention: 'standard' }` is shaped as onnx-community's exports. */
export async function buildTinyModel(layout?: Partial<GraphLayout>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'freechat-tiny-'));
  const { dir } = await buildModelDir({ preset: 'tiny', outDir: path.join(root, 'tiny'), ...(layout ? { layout } : {}) });
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}
