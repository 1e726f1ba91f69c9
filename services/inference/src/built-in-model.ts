// The seeded, untrained model the service builds for itself when no real model is available.
import type { Logger } from '@freechat/shared';
import { buildModelDir, isModelDirCurrent } from './model-builder/index.js';

/** Builds `tiny` into `dir` unless a current build is already there (the builder writes atomically). */
export async function ensureBuiltInModel(dir: string, logger: Logger): Promise<void> {
  if (await isModelDirCurrent(dir, 'tiny')) return;
  logger.info({ dir }, 'building the built-in tiny model');
  await buildModelDir({ preset: 'tiny', outDir: dir });
}
