// Starts the real servers the tests talk to, once per `vitest run`, and stops them afterwards (and
// when the run dies: managed processes go with their parent): Redis, Consul, RocketMQ, the
// telemetry receivers Prometheus and Jaeger, and a Kubernetes control plane (etcd, kube-apiserver,
// controller-manager, scheduler, 3 KWOK fake nodes; scripts/k8s/control-plane.ts). Set
// FREECHAT_TEST_INFRA_ENV to a file written by `make infra-up` (.data/infra.env) to reuse running
// servers instead; Prometheus and Jaeger are started here when that file has none (one written
// before they were part of `make infra-up`). Set FREECHAT_TEST_K8S_ENV to the file `make k8s-up`
// writes (.data/k8s/k8s.env) to reuse its control plane. Zipkin is not started here (~10 s of JVM
// start, one test file uses it): that test starts its own, or reuses the one `make infra-up` lists.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startObservability, type ObservabilityServers } from '../../scripts/infra/observability.js';
import { startInfra, type InfraServers } from '../../scripts/infra/servers.js';
import { FAKE_NODE_LABEL } from '../../scripts/k8s/config.js';
import { httpsJson, startControlPlane } from '../../scripts/k8s/control-plane.js';
import type { InfraEndpoints, K8sCluster } from './endpoints.js';

/** How many KWOK nodes the suite's control plane has (pods spread, anti-affinity, drains). */
const K8S_NODES = 3;

/** What a test run was handed, and how to let it go (stop what was started; nothing for reused). */
interface Running<T> {
  readonly value: T;
  stop(): Promise<void>;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Side by side; whichever started is stopped again when another fails.
  const [infra, k8s] = await Promise.allSettled([infraServers(), kubernetes()]);
  if (infra.status === 'rejected' || k8s.status === 'rejected') {
    await Promise.all([infra, k8s].map((result) => (result.status === 'fulfilled' ? result.value.stop().catch(() => {}) : undefined)));
    throw infra.status === 'rejected' ? infra.reason : (k8s as PromiseRejectedResult).reason;
  }
  project.provide('infra', infra.value.value);
  project.provide('k8s', k8s.value.value);
  return async () => {
    await Promise.all([infra.value.stop(), k8s.value.stop()]);
  };
}

async function infraServers(): Promise<Running<InfraEndpoints>> {
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
    return {
      value: {
        redisUrl: required(env, 'REDIS_URL'),
        consulAddress: required(env, 'CONSUL_HTTP_ADDR'),
        rocketmqEndpoints: required(env, 'ROCKETMQ_ENDPOINTS'),
        ...observabilityEndpoints(observability),
        // An infra.env from before Zipkin was part of `make infra-up` has none: the test starts its own.
        ...(env['ZIPKIN_URL'] && { zipkinUrl: env['ZIPKIN_URL'] }),
      },
      stop: stopObservability,
    };
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
  return {
    value: {
      redisUrl: servers.env.REDIS_URL,
      consulAddress: servers.env.CONSUL_HTTP_ADDR,
      rocketmqEndpoints: servers.env.ROCKETMQ_ENDPOINTS,
      ...observabilityEndpoints(observability.env),
    },
    stop: async () => {
      await Promise.all([servers.stop(), observability.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A control plane of our own (~4 s warm), or the one of `make k8s-up` (FREECHAT_TEST_K8S_ENV). */
async function kubernetes(): Promise<Running<K8sCluster>> {
  const reuse = process.env['FREECHAT_TEST_K8S_ENV'];
  if (reuse) return { value: await reusedCluster(reuse), stop: async () => {} };

  const dataDir = mkdtempSync(path.join(tmpdir(), 'freechat-test-k8s-'));
  try {
    const plane = await startControlPlane({ dataDir, nodes: K8S_NODES });
    const { kubeconfig, server, token, kubectl, helm, nodes } = plane;
    return {
      value: { kubeconfig, server, token, kubectl, helm, nodes },
      stop: async () => {
        await plane.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    // startControlPlane has stopped whatever it started.
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The control plane `make k8s-up` runs, from its k8s.env (KUBECONFIG, KUBECTL, HELM): server and
 * token from the kubeconfig (JSON, as scripts/k8s/config.ts writes it), the fake nodes asked of the
 * API server, which must answer now (not fail every test later when `make k8s-down` ran).
 */
async function reusedCluster(envFile: string): Promise<K8sCluster> {
  const variable = 'FREECHAT_TEST_K8S_ENV';
  const env = parseEnvFile(readFileSync(envFile, 'utf8'));
  const kubeconfig = required(env, 'KUBECONFIG', variable);
  const config = JSON.parse(readFileSync(kubeconfig, 'utf8')) as {
    clusters?: { cluster?: { server?: string } }[];
    users?: { user?: { token?: string } }[];
  };
  const server = config.clusters?.[0]?.cluster?.server;
  const token = config.users?.[0]?.user?.token;
  if (!server || !token) throw new Error(`${variable}: ${kubeconfig} names no server or token`);
  const selector = encodeURIComponent(`${FAKE_NODE_LABEL.key}=${FAKE_NODE_LABEL.value}`);
  const list = await httpsJson(server, 'GET', `/api/v1/nodes?labelSelector=${selector}`, token).catch((error: unknown) => {
    throw new Error(`${variable}: the API server at ${server} does not answer (is \`make k8s-up\` running?): ${String(error)}`);
  });
  if (list.status !== 200) throw new Error(`${variable}: listing nodes at ${server}: HTTP ${list.status} ${list.text.slice(0, 300)}`);
  const nodes = (list.json as { items: { metadata: { name: string } }[] }).items.map((node) => node.metadata.name);
  return { kubeconfig, server, token, kubectl: required(env, 'KUBECTL', variable), helm: required(env, 'HELM', variable), nodes };
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

/** `KEY=value` lines (optionally `export`ed, optionally quoted), as `make infra-up` and `make k8s-up` write them. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    env[match[1]!] = match[2]!.trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

function required(env: Record<string, string>, key: string, variable = 'FREECHAT_TEST_INFRA_ENV'): string {
  const value = env[key];
  if (!value) throw new Error(`${variable}: ${key} missing`);
  return value;
}
