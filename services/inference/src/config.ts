// The inference service's configuration: one schema, read once at start (defaults live in config/*.yaml).
import { homedir } from 'node:os';
import path from 'node:path';
import { loadConfig, serviceConfigBase, discoveryConfig, DISCOVERY_ENV, GRPC_TRANSPORT_ENV, metricsEnv, type DeepReadonly } from '@freechat/shared';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

export const inferenceConfigSchema = z.strictObject({
  listen: z.strictObject({ address: z.string().regex(/^.+:\d+$/, 'expected host:port') }),
  model: z.strictObject({
    dir: z.string(),
    choice: z.string().min(1),
    hubRepo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected owner/name'),
    hubEndpoint: z.url(),
    variant: z.string().regex(/^[\w.-]+$/, 'expected a file stem such as model or model_q4'),
    revision: z.string().min(1),
    cacheDir: z.string(),
    downloadTimeoutMs: positiveInt,
  }),
  engine: z.strictObject({
    maxBatchSize: positiveInt,
    maxQueueSize: z.coerce.number().int().min(0),
    maxContextTokens: positiveInt,
    maxNewTokensLimit: positiveInt,
    maxPromptTokens: positiveInt,
    prefillChunkTokens: positiveInt,
    intraOpThreads: z.coerce.number().int().min(0),
    threadSpinning: z.enum(['auto', 'on', 'off']),
    kvCacheBudgetBytes: z.coerce.number().int().min(0),
    prefixCacheBytes: z.coerce.number().int().min(0),
  }),
  ...serviceConfigBase,
  ...discoveryConfig,
});

export type InferenceConfig = DeepReadonly<z.output<typeof inferenceConfigSchema>>;

export const INFERENCE_ENV = {
  FREECHAT_INFERENCE_ADDRESS: 'listen.address',
  FREECHAT_MODEL_DIR: 'model.dir',
  FREECHAT_MODEL: 'model.choice',
  FREECHAT_MODEL_VARIANT: 'model.variant',
  FREECHAT_MODEL_REVISION: 'model.revision',
  FREECHAT_MODEL_CACHE: 'model.cacheDir',
  HF_ENDPOINT: 'model.hubEndpoint',
  FREECHAT_LOG_LEVEL: 'log.level',
  ...DISCOVERY_ENV,
  ...GRPC_TRANSPORT_ENV,
  ...metricsEnv('inference'),
  FREECHAT_ENGINE_MAX_BATCH_SIZE: 'engine.maxBatchSize',
  FREECHAT_ENGINE_MAX_QUEUE_SIZE: 'engine.maxQueueSize',
  FREECHAT_ENGINE_MAX_PROMPT_TOKENS: 'engine.maxPromptTokens',
  FREECHAT_ENGINE_PREFILL_CHUNK_TOKENS: 'engine.prefillChunkTokens',
  FREECHAT_ENGINE_INTRA_OP_THREADS: 'engine.intraOpThreads',
  FREECHAT_ENGINE_THREAD_SPINNING: 'engine.threadSpinning',
  FREECHAT_ENGINE_KV_CACHE_BUDGET_BYTES: 'engine.kvCacheBudgetBytes',
  FREECHAT_ENGINE_PREFIX_CACHE_BYTES: 'engine.prefixCacheBytes',
} as const;

export interface LoadInferenceConfigOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly configDir?: string;
}

export function loadInferenceConfig(options: LoadInferenceConfigOptions = {}): InferenceConfig {
  const env = options.env ?? process.env;
  const config = loadConfig(inferenceConfigSchema, {
    service: 'inference',
    env,
    ...(options.configDir ? { configDir: options.configDir } : {}),
    envOverrides: INFERENCE_ENV,
  });
  // The cache default depends on the environment, so YAML leaves it empty; resolve it here, once.
  const cacheDir = expandHome(config.model.cacheDir || defaultCacheDir(env), env);
  const dir = config.model.dir ? expandHome(config.model.dir, env) : '';
  return Object.freeze({ ...config, model: Object.freeze({ ...config.model, cacheDir, dir }) });
}

function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const base = env['XDG_CACHE_HOME'] || path.join(env['HOME'] || homedir(), '.cache');
  return path.join(base, 'freechat', 'models');
}

function expandHome(p: string, env: NodeJS.ProcessEnv): string {
  return p === '~' || p.startsWith('~/') ? path.join(env['HOME'] || homedir(), p.slice(1)) : path.resolve(p);
}
