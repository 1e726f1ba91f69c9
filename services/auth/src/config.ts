// The auth service's configuration: one schema, read once at start (defaults live in config/*.yaml).
import path from 'node:path';
import { ConfigError, loadConfig, serviceConfigBase, discoveryConfig, DISCOVERY_ENV, GRPC_TRANSPORT_ENV, metricsEnv, type DeepReadonly } from '@freechat/shared';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

export const authConfigSchema = z.strictObject({
  env: z.enum(['development', 'production']),
  listen: z.strictObject({ address: z.string().regex(/^.+:\d+$/, 'expected host:port') }),
  database: z.strictObject({
    url: z.string().min(1, 'required: set DATABASE_URL to a postgres:// URL'),
    /** DATABASE_PASSWORD_FILE: the password in a file (a mounted secret), overriding the URL's. */
    passwordFile: z.string(),
    poolMax: positiveInt,
  }),
  dataDir: z.string().min(1),
  auth: z.strictObject({
    accessTokenTtlSeconds: positiveInt,
    refreshTokenTtlSeconds: positiveInt,
    refreshReuseGraceSeconds: z.coerce.number().int().min(0).max(300),
    signingKeyFile: z.string(),
  }),
  argon2: z.strictObject({
    // argon2 needs at least 8 KiB per lane.
    memoryCostKib: z.coerce.number().int().min(8),
    timeCost: positiveInt,
    parallelism: z.coerce.number().int().min(1).max(255),
  }),
  ...serviceConfigBase,
  ...discoveryConfig,
});

export type AuthConfig = DeepReadonly<z.output<typeof authConfigSchema>>;

export const AUTH_ENV = {
  FREECHAT_AUTH_ADDRESS: 'listen.address',
  DATABASE_URL: 'database.url',
  DATABASE_PASSWORD_FILE: 'database.passwordFile',
  FREECHAT_ENV: 'env',
  FREECHAT_DATA_DIR: 'dataDir',
  FREECHAT_AUTH_SIGNING_KEY_FILE: 'auth.signingKeyFile',
  FREECHAT_AUTH_ACCESS_TOKEN_TTL_SECONDS: 'auth.accessTokenTtlSeconds',
  FREECHAT_AUTH_REFRESH_TOKEN_TTL_SECONDS: 'auth.refreshTokenTtlSeconds',
  FREECHAT_AUTH_REFRESH_REUSE_GRACE_SECONDS: 'auth.refreshReuseGraceSeconds',
  FREECHAT_LOG_LEVEL: 'log.level',
  ...DISCOVERY_ENV,
  ...GRPC_TRANSPORT_ENV,
  ...metricsEnv('auth'),
} as const;

export interface LoadAuthConfigOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly configDir?: string;
}

/** Throws ConfigError naming the key, e.g. `auth.signingKeyFile` when production has none. */
export function loadAuthConfig(options: LoadAuthConfigOptions = {}): AuthConfig {
  const env = options.env ?? process.env;
  const config = loadConfig(authConfigSchema, {
    service: 'auth',
    env,
    ...(options.configDir ? { configDir: options.configDir } : {}),
    envOverrides: AUTH_ENV,
  });
  assertProductionReady(config, env);
  // Relative paths are resolved once, against the directory the service was started in.
  const signingKeyFile = config.auth.signingKeyFile ? path.resolve(config.auth.signingKeyFile) : '';
  return Object.freeze({
    ...config,
    dataDir: path.resolve(config.dataDir),
    auth: Object.freeze({ ...config.auth, signingKeyFile }),
  });
}

/** Production never runs on a key this process invented: tokens would die with the pod's disk. */
export function assertProductionReady(config: Pick<AuthConfig, 'env' | 'auth'>, env: NodeJS.ProcessEnv = {}): void {
  if (config.env !== 'production' || config.auth.signingKeyFile) return;
  throw new ConfigError('auth', [
    {
      path: 'auth.signingKeyFile',
      message: 'required in production (set FREECHAT_AUTH_SIGNING_KEY_FILE to a PKCS#8 P-256 PEM file)',
      ...(env['FREECHAT_ENV'] ? { fromEnv: 'FREECHAT_ENV' } : {}),
    },
  ]);
}
