// The gateway's configuration: one schema, read once at start (defaults live in config/*.yaml).
import path from 'node:path';
import { loadConfig, serviceConfigBase, discoveryConfig, DISCOVERY_ENV, GRPC_TRANSPORT_ENV, metricsEnv, REDIS_ENV, redisConfigSchema, type DeepReadonly } from '@freechat/shared';
import { z } from 'zod';

const address = z.string().regex(/^.+:\d+$/, 'expected host:port');
const positiveInt = z.coerce.number().int().positive();
const booleanish = z.preprocess((value) => (value === 'false' ? false : value === 'true' ? true : value), z.boolean());

/** One limit: at most `max` requests per `windowMs` for each key (a client IP, or a user). */
const limit = z.strictObject({ max: positiveInt, windowMs: positiveInt });

// From YAML a list; from FREECHAT_CORS_ORIGINS a comma-separated string.
const origins = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value),
  z.array(z.url().regex(/^https?:\/\/[^/]+$/, 'expected an origin such as https://chat.example.com (no path)')),
);

export const gatewayConfigSchema = z.strictObject({
  http: z.strictObject({
    host: z.string().min(1),
    port: z.coerce.number().int().min(0).max(65535),
    bodyLimitBytes: positiveInt,
    corsOrigins: origins,
    /** Behind a reverse proxy: believe its X-Forwarded-For/-Proto (client IPs, https for Secure cookies). */
    trustProxy: booleanish,
    /** On shutdown, how long keep-alive connections get to be dropped by their clients before the server closes them. */
    drainMs: z.coerce.number().int().min(0),
  }),
  upstreams: z.strictObject({ auth: address, chat: address, inference: address, callTimeoutMs: positiveInt }),
  models: z.strictObject({ cacheMs: z.coerce.number().int().min(0) }),
  auth: z.strictObject({ jwksRefetchMinIntervalMs: z.coerce.number().int().min(0) }),
  webUi: z.strictObject({ dir: z.string().min(1) }),
  sse: z.strictObject({ heartbeatMs: positiveInt }),
  rateLimit: z.strictObject({
    enabled: booleanish,
    /** Every route not named below (health probes are never limited). */
    default: z.strictObject({ perIp: limit, perUser: limit }),
    login: z.strictObject({ perIp: limit }),
    register: z.strictObject({ perIp: limit }),
    /** Sending a message and regenerating an answer. */
    send: z.strictObject({ perIp: limit, perUser: limit }),
    loginBackoff: z.strictObject({
      maxFailures: positiveInt,
      failureWindowMs: positiveInt,
      baseLockoutMs: positiveInt,
      maxLockoutMs: positiveInt,
    }),
  }),
  redis: redisConfigSchema,
  ...serviceConfigBase,
  ...discoveryConfig,
});

export type GatewayConfig = DeepReadonly<z.output<typeof gatewayConfigSchema>>;

export const GATEWAY_ENV = {
  FREECHAT_GATEWAY_HOST: 'http.host',
  PORT: 'http.port',
  FREECHAT_CORS_ORIGINS: 'http.corsOrigins',
  FREECHAT_TRUST_PROXY: 'http.trustProxy',
  FREECHAT_GATEWAY_DRAIN_MS: 'http.drainMs',
  FREECHAT_AUTH_ADDRESS: 'upstreams.auth',
  FREECHAT_CHAT_ADDRESS: 'upstreams.chat',
  FREECHAT_INFERENCE_ADDRESS: 'upstreams.inference',
  FREECHAT_WEB_UI_DIR: 'webUi.dir',
  FREECHAT_SSE_HEARTBEAT_MS: 'sse.heartbeatMs',
  FREECHAT_LOG_LEVEL: 'log.level',
  FREECHAT_RATE_LIMIT_ENABLED: 'rateLimit.enabled',
  FREECHAT_RATE_LIMIT_PER_IP: 'rateLimit.default.perIp.max',
  FREECHAT_RATE_LIMIT_PER_USER: 'rateLimit.default.perUser.max',
  FREECHAT_RATE_LIMIT_LOGIN_PER_IP: 'rateLimit.login.perIp.max',
  FREECHAT_RATE_LIMIT_REGISTER_PER_IP: 'rateLimit.register.perIp.max',
  FREECHAT_RATE_LIMIT_SEND_PER_USER: 'rateLimit.send.perUser.max',
  ...REDIS_ENV,
  ...DISCOVERY_ENV,
  ...GRPC_TRANSPORT_ENV,
  ...metricsEnv('gateway'),
} as const;

export interface LoadGatewayConfigOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly configDir?: string;
}

export function loadGatewayConfig(options: LoadGatewayConfigOptions = {}): GatewayConfig {
  const config = loadConfig(gatewayConfigSchema, {
    service: 'gateway',
    env: options.env ?? process.env,
    ...(options.configDir ? { configDir: options.configDir } : {}),
    envOverrides: GATEWAY_ENV,
  });
  // Resolved once here so nothing later depends on the working directory changing.
  return Object.freeze({ ...config, webUi: Object.freeze({ dir: path.resolve(config.webUi.dir) }) });
}
