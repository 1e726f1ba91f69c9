// Where the model comes from: a pure plan from configuration, then the effect that makes it a local directory.
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@freechat/shared';
import type { InferenceConfig } from './config.js';
import type { ModelSourceKind } from './engine/types.js';
import { ensureBuiltInModel } from './built-in-model.js';
import { downloadHubModel, findCachedHubModel, type HubModelRequest } from './hub-download.js';

export const BUILT_IN_MODEL_ID = 'freechat/built-in-tiny';

export type ModelPlan =
  | { readonly kind: 'directory'; readonly dir: string; readonly variant: string }
  | ({ readonly kind: 'hub' } & HubModelRequest & {
      /** Where to build the built-in model if the hub fails; undefined when the repo was named explicitly. */
      readonly builtInDir: string | undefined;
    })
  | { readonly kind: 'built-in'; readonly preset: 'tiny'; readonly dir: string };

export interface ResolvedModel {
  readonly dir: string;
  readonly source: ModelSourceKind;
  readonly id: string;
  /** Stem of the graph to load, `onnx/<variant>.onnx`. */
  readonly variant: string;
}

/** FREECHAT_MODEL_DIR wins; FREECHAT_MODEL=tiny forces the built-in model; otherwise a hub repo. */
export function planModelSource(model: InferenceConfig['model']): ModelPlan {
  const builtInDir = path.join(model.cacheDir, 'built-in', 'tiny');
  if (model.dir) return { kind: 'directory', dir: model.dir, variant: model.variant };
  if (model.choice === 'tiny') return { kind: 'built-in', preset: 'tiny', dir: builtInDir };
  return {
    kind: 'hub',
    repo: model.choice === 'auto' ? model.hubRepo : model.choice,
    endpoint: model.hubEndpoint,
    cacheDir: model.cacheDir,
    variant: model.variant,
    revision: model.revision,
    timeoutMs: model.downloadTimeoutMs,
    // A repo someone named is a deliberate choice: failing to get it must not quietly serve gibberish.
    builtInDir: model.choice === 'auto' ? builtInDir : undefined,
  };
}

export interface ResolveModelOptions {
  readonly logger: Logger;
  /** Replaces the global fetch for hub requests (proxies, tests). */
  readonly fetch?: typeof fetch;
}

export async function resolveModel(plan: ModelPlan, options: ResolveModelOptions): Promise<ResolvedModel> {
  const { logger } = options;
  switch (plan.kind) {
    case 'directory': {
      // An explicit directory that is not there is a deployment mistake: fail rather than guess.
      await access(path.join(plan.dir, 'config.json')).catch((error: unknown) => {
        throw new Error(`FREECHAT_MODEL_DIR ${plan.dir} has no config.json`, { cause: error });
      });
      logger.info({ dir: plan.dir }, 'using model directory');
      return { dir: plan.dir, source: 'directory', id: path.basename(plan.dir), variant: plan.variant };
    }
    case 'built-in':
      return builtIn(plan.dir, logger, 'FREECHAT_MODEL=tiny');
    case 'hub': {
      try {
        const dir = await downloadHubModel(plan, { logger, ...(options.fetch ? { fetch: options.fetch } : {}) });
        return { dir, source: 'hub', id: plan.repo, variant: plan.variant };
      } catch (error) {
        const cached = await findCachedHubModel(plan);
        if (cached) {
          logger.warn({ err: error, repo: plan.repo, dir: cached }, 'hub unreachable; using the copy already in the cache');
          return { dir: cached, source: 'hub', id: plan.repo, variant: plan.variant };
        }
        if (plan.builtInDir === undefined) throw error;
        logger.warn({ err: error, repo: plan.repo, endpoint: plan.endpoint }, 'model download failed');
        return builtIn(plan.builtInDir, logger, `download of ${plan.repo} from ${plan.endpoint} failed`);
      }
    }
  }
}

async function builtIn(dir: string, logger: Logger, reason: string): Promise<ResolvedModel> {
  await ensureBuiltInModel(dir, logger);
  logger.warn(
    { dir, reason },
    'USING THE BUILT-IN UNTRAINED MODEL: it produces gibberish. For real answers set FREECHAT_MODEL_DIR to a ' +
      'Hugging Face ONNX model directory, or let the service download one (FREECHAT_MODEL=onnx-community/Qwen3-0.6B-ONNX, ' +
      'HF_ENDPOINT for a mirror).',
  );
  return { dir, source: 'built-in', id: BUILT_IN_MODEL_ID, variant: 'model' };
}
