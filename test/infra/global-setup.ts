// Starts the real servers the tests talk to, once per `vitest run`, and stops them afterwards (and
// when the run dies: managed processes go with their parent). Set FREECHAT_TEST_INFRA_ENV to a
// file written by `make infra-up` (.data/infra.env) to reuse running servers instead.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startConsul } from '../../scripts/infra/consul.js';
import { startRedis } from '../../scripts/infra/redis.js';
import { FREECHAT_ROCKETMQ, startRocketMQ } from '../../scripts/infra/rocketmq.js';
import type { InfraEndpoints } from './endpoints.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reuse = process.env['FREECHAT_TEST_INFRA_ENV'];
  if (reuse) {
    const env = parseEnvFile(readFileSync(reuse, 'utf8'));
    project.provide('infra', {
      redisUrl: required(env, 'REDIS_URL'),
      ...(env['CONSUL_HTTP_ADDR'] && { consulAddress: env['CONSUL_HTTP_ADDR'] }),
      ...(env['ROCKETMQ_ENDPOINTS'] && { rocketmqEndpoints: env['ROCKETMQ_ENDPOINTS'] }),
    } satisfies InfraEndpoints);
    return async () => {};
  }

  const dataDir = mkdtempSync(path.join(tmpdir(), 'freechat-test-infra-'));
  const stops: (() => Promise<void>)[] = [];
  const teardown = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const redis = await startRedis({ dataDir: path.join(dataDir, 'redis') });
    stops.push(() => redis.stop());
    const consul = await startConsul({ dataDir: path.join(dataDir, 'consul') });
    stops.push(() => consul.stop());
    const rocketmq = await startRocketMQ({ dataDir: path.join(dataDir, 'rocketmq'), ...FREECHAT_ROCKETMQ });
    stops.push(() => rocketmq.stop());
    project.provide('infra', { redisUrl: redis.url, consulAddress: consul.address, rocketmqEndpoints: rocketmq.endpoints } satisfies InfraEndpoints);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
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
