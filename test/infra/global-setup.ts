// Starts the real servers the tests talk to, once per `vitest run`, and stops them afterwards (and
// when the run dies: managed processes go with their parent). Set FREECHAT_TEST_INFRA_ENV to a
// file written by `make infra-up` (.data/infra.env) to reuse running servers instead.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startInfra, type InfraServers } from '../../scripts/infra/servers.js';
import type { InfraEndpoints } from './endpoints.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reuse = process.env['FREECHAT_TEST_INFRA_ENV'];
  if (reuse) {
    const env = parseEnvFile(readFileSync(reuse, 'utf8'));
    project.provide('infra', {
      redisUrl: required(env, 'REDIS_URL'),
      consulAddress: required(env, 'CONSUL_HTTP_ADDR'),
      rocketmqEndpoints: required(env, 'ROCKETMQ_ENDPOINTS'),
    } satisfies InfraEndpoints);
    return async () => {};
  }

  const dataDir = mkdtempSync(path.join(tmpdir(), 'freechat-test-infra-'));
  let servers: InfraServers;
  try {
    servers = await startInfra({ dataDir });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  project.provide('infra', {
    redisUrl: servers.env.REDIS_URL,
    consulAddress: servers.env.CONSUL_HTTP_ADDR,
    rocketmqEndpoints: servers.env.ROCKETMQ_ENDPOINTS,
  } satisfies InfraEndpoints);
  return async () => {
    await servers.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

/** `KEY=value` lines (optionally `export`ed, optionally quoted), as `make infra-up` writes them. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    env[match[1]!] = match[2]!.trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

function required(env: Record<string, string>, key: string): string {
  const value = env[key];
  if (!value) throw new Error(`FREECHAT_TEST_INFRA_ENV: ${key} missing`);
  return value;
}
