// Starts the real servers the tests talk to, once per `vitest run`, and stops them afterwards (and
// when the run dies: managed processes go with their parent): Redis, Consul, RocketMQ, and the
// telemetry receivers Prometheus and Jaeger. Set FREECHAT_TEST_INFRA_ENV to a file written by
// `make infra-up` (.data/infra.env) to reuse running servers instead; Prometheus and Jaeger are
// started here when that file has none (one written before they were part of `make infra-up`).
// Zipkin is not started here (~10 s of JVM start, one test file uses it): that test starts its own,
// or reuses the one `make infra-up` lists.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startObservability, type ObservabilityServers } from '../../scripts/infra/observability.js';
import { startInfra, type InfraServers } from '../../scripts/infra/servers.js';
import type { InfraEndpoints } from './endpoints.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reuse = process.env['FREECHAT_TEST_INFRA_ENV'];
  if (reuse) {
    const env = parseEnvFile(readFileSync(reuse, 'utf8'));
    let observability: ObservabilityEnv;
    let stopObservability = async (): Promise<void> => {};
    if (env['PROMETHEUS_URL']) {
      observability = {
        PROMETHEUS_URL: required(env, 'PROMETHEUS_URL'),
        FREECHAT_PROMETHEUS_TARGETS_DIR: required(env, 'FREECHAT_PROMETHEUS_TARGETS_DIR'),
        JAEGER_URL: required(env, 'JAEGER_URL'),
        OTEL_EXPORTER_OTLP_ENDPOINT: required(env, 'OTEL_EXPORTER_OTLP_ENDPOINT'),
      };
    } else {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'freechat-test-telemetry-'));
      const servers = await startObservability({ dataDir }).catch((error: unknown) => {
        rmSync(dataDir, { recursive: true, force: true });
        throw error;
      });
      observability = servers.env;
      stopObservability = async () => {
        await servers.stop();
        rmSync(dataDir, { recursive: true, force: true });
      };
    }
    project.provide('infra', {
      redisUrl: required(env, 'REDIS_URL'),
      consulAddress: required(env, 'CONSUL_HTTP_ADDR'),
      rocketmqEndpoints: required(env, 'ROCKETMQ_ENDPOINTS'),
      ...observabilityEndpoints(observability),
      // An infra.env from before Zipkin was part of `make infra-up` has none: the test starts its own.
      ...(env['ZIPKIN_URL'] && { zipkinUrl: env['ZIPKIN_URL'] }),
    } satisfies InfraEndpoints);
    return stopObservability;
  }

  const dataDir = mkdtempSync(path.join(tmpdir(), 'freechat-test-infra-'));
  // Side by side; whichever started is stopped again when the other fails.
  const [infra, telemetry] = await Promise.allSettled([startInfra({ dataDir }), startObservability({ dataDir })]);
  if (infra.status === 'rejected' || telemetry.status === 'rejected') {
    await Promise.all([infra, telemetry].map((result) => (result.status === 'fulfilled' ? result.value.stop().catch(() => {}) : undefined)));
    rmSync(dataDir, { recursive: true, force: true });
    throw infra.status === 'rejected' ? infra.reason : (telemetry as PromiseRejectedResult).reason;
  }
  const servers: InfraServers = infra.value;
  const observability: ObservabilityServers = telemetry.value;
  project.provide('infra', {
    redisUrl: servers.env.REDIS_URL,
    consulAddress: servers.env.CONSUL_HTTP_ADDR,
    rocketmqEndpoints: servers.env.ROCKETMQ_ENDPOINTS,
    ...observabilityEndpoints(observability.env),
  } satisfies InfraEndpoints);
  return async () => {
    await Promise.all([servers.stop(), observability.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  };
}

type ObservabilityEnv = ObservabilityServers['env'];

function observabilityEndpoints(env: ObservabilityEnv): Pick<InfraEndpoints, 'prometheusUrl' | 'prometheusTargetsDir' | 'jaegerUrl' | 'otlpEndpoint'> {
  return {
    prometheusUrl: env.PROMETHEUS_URL,
    prometheusTargetsDir: env.FREECHAT_PROMETHEUS_TARGETS_DIR,
    jaegerUrl: env.JAEGER_URL,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
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
