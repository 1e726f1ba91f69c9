// The chat service's configuration: one schema, read once at start (defaults live in config/*.yaml).
import { loadConfig, REDIS_ENV, redisConfigSchema, serviceConfigBase, discoveryConfig, DISCOVERY_ENV, GRPC_TRANSPORT_ENV, metricsEnv, type DeepReadonly } from '@freechat/shared';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();
const hostPort = z.string().regex(/^.+:\d+$/, 'expected host:port');

export const chatConfigSchema = z.strictObject({
  listen: z.strictObject({ address: hostPort }),
  database: z.strictObject({
    url: z.string().min(1, 'required: set DATABASE_URL to a PostgreSQL URL'),
    /** DATABASE_PASSWORD_FILE: the password in a file (a mounted secret), overriding the URL's. */
    passwordFile: z.string(),
    poolSize: positiveInt,
  }),
  upstreams: z.strictObject({ inference: hostPort, auth: hostPort }),
  /** An access token with an unknown `kid` refetches auth's public keys, at most this often. */
  auth: z.strictObject({ jwksRefetchMinIntervalMs: z.coerce.number().int().min(0) }),
  redis: redisConfigSchema,
  runs: z.strictObject({
    maxPromptTokens: positiveInt,
    // Answers of one user generating at once, counted in PostgreSQL (so across replicas).
    maxRunningPerUser: positiveInt,
    logRetentionSeconds: z.coerce.number().min(0),
    flushIntervalMs: positiveInt,
    deltaWindowMs: positiveInt,
    deltaMaxTokens: positiveInt,
    ownerLeaseMs: z.coerce.number().int().min(100),
    stopTimeoutMs: positiveInt,
    staleAfterSeconds: z.coerce.number().positive(),
    // How long a finished run retries its final write while PostgreSQL is away.
    storageOutageMs: positiveInt,
    systemPrompt: z.string(),
    generation: z.strictObject({
      temperature: z.number().min(0).optional(),
      topP: z.number().gt(0).max(1).optional(),
      topK: z.number().int().min(0).optional(),
      maxNewTokens: z.number().int().positive().optional(),
      enableThinking: z.boolean().optional(),
    }),
  }),
  events: z.strictObject({
    // Empty: the in-process bus.
    endpoints: z.string(),
    topic: z.string().min(1),
    consumerGroup: z.string().min(1),
    relay: z.strictObject({ batchSize: positiveInt, pollIntervalMs: positiveInt, maxBackoffMs: positiveInt }),
    maxAttempts: positiveInt,
    retryDelayMs: positiveInt,
    titles: z.strictObject({ enabled: z.boolean(), maxNewTokens: positiveInt, timeoutMs: positiveInt }),
  }),
  ...serviceConfigBase,
  ...discoveryConfig,
});

export type ChatConfig = DeepReadonly<z.output<typeof chatConfigSchema>>;
export type GenerationDefaults = ChatConfig['runs']['generation'];

export const CHAT_ENV = {
  FREECHAT_CHAT_ADDRESS: 'listen.address',
  DATABASE_URL: 'database.url',
  DATABASE_PASSWORD_FILE: 'database.passwordFile',
  FREECHAT_INFERENCE_ADDRESS: 'upstreams.inference',
  FREECHAT_AUTH_ADDRESS: 'upstreams.auth',
  FREECHAT_CHAT_MAX_PROMPT_TOKENS: 'runs.maxPromptTokens',
  FREECHAT_CHAT_MAX_RUNS_PER_USER: 'runs.maxRunningPerUser',
  FREECHAT_CHAT_SYSTEM_PROMPT: 'runs.systemPrompt',
  FREECHAT_LOG_LEVEL: 'log.level',
  ...DISCOVERY_ENV,
  ...GRPC_TRANSPORT_ENV,
  ...metricsEnv('chat'),
  ROCKETMQ_ENDPOINTS: 'events.endpoints',
  FREECHAT_CHAT_OWNER_LEASE_MS: 'runs.ownerLeaseMs',
  ...REDIS_ENV,
} as const;

export interface LoadChatConfigOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly configDir?: string;
}

export function loadChatConfig(options: LoadChatConfigOptions = {}): ChatConfig {
  return loadConfig(chatConfigSchema, {
    service: 'chat',
    env: options.env ?? process.env,
    ...(options.configDir ? { configDir: options.configDir } : {}),
    envOverrides: CHAT_ENV,
  });
}
