// Test configuration: real files and env layering, cheap argon2, quiet logs, port 0.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAuthConfig, type AuthConfig } from '../../src/config.js';

export function testConfig(options: { databaseUrl: string; dataDir?: string; env?: NodeJS.ProcessEnv }): AuthConfig {
  const base = loadAuthConfig({
    env: {
      DATABASE_URL: options.databaseUrl,
      FREECHAT_AUTH_ADDRESS: '127.0.0.1:0',
      FREECHAT_DATA_DIR: options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'freechat-auth-')),
      ...options.env,
    },
  });
  return { ...base, argon2: { memoryCostKib: 256, timeCost: 1, parallelism: 1 }, shutdown: { graceMs: 5_000 } };
}
