// Builds the built-in tiny model once per test file into a temporary directory.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildModelDir } from '../../src/model-builder/write-model-dir.js';

export async function buildTinyModel(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'freechat-tiny-'));
  const { dir } = await buildModelDir({ preset: 'tiny', outDir: path.join(root, 'tiny') });
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}
