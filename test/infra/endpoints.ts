// What the test suite's real servers are reachable at: started once per `vitest run` by
// global-setup.ts and handed to every test file through vitest's provide/inject.
import { inject } from 'vitest';
import type { ControlPlane } from '../../scripts/k8s/control-plane.js';

export interface InfraEndpoints {
  /** `redis://127.0.0.1:PORT` of a real Redis. */
  readonly redisUrl: string;
  /** `127.0.0.1:PORT`: the HTTP API of a real Consul agent (dev mode). */
  readonly consulAddress: string;
  /** `127.0.0.1:PORT`: the gRPC proxy of a real RocketMQ 5 (name server + broker in local mode). */
  readonly rocketmqEndpoints: string;
  /** `http://127.0.0.1:PORT` of a real Prometheus (scrape and rule interval 1 s in tests). */
  readonly prometheusUrl: string;
  /**
   * Its file service discovery folder: a test writes `<name>.json` there (`writeScrapeTargets` in
   * scripts/infra/prometheus.ts) to have its services scraped, and removes it afterwards.
   */
  readonly prometheusTargetsDir: string;
  /** `http://127.0.0.1:PORT` of a real Jaeger v2's query API (`/api/traces`). */
  readonly jaegerUrl: string;
  /** Jaeger's OTLP/HTTP receiver: what `OTEL_EXPORTER_OTLP_ENDPOINT` takes. */
  readonly otlpEndpoint: string;
  /**
   * `http://127.0.0.1:PORT` of the Zipkin of a reused `make infra-up` (FREECHAT_TEST_INFRA_ENV),
   * when its infra.env has one. The suite does not start Zipkin: the one test that needs it does.
   */
  readonly zipkinUrl?: string;
}

/**
 * The suite's Kubernetes control plane (scripts/k8s/control-plane.ts): etcd, kube-apiserver,
 * controller-manager, scheduler and KWOK fake nodes on loopback, one per `vitest run`, shared by
 * every test file (each works in its own namespace: test/k8s/cluster.ts `withNamespace`).
 */
export type K8sCluster = Pick<ControlPlane, 'kubeconfig' | 'server' | 'token' | 'kubectl' | 'helm' | 'nodes'>;

declare module 'vitest' {
  export interface ProvidedContext {
    infra: InfraEndpoints;
    k8s: K8sCluster;
  }
}

/** The suite's servers. Tests that stop or restart a server start their own instead. */
export function infraEndpoints(): InfraEndpoints {
  return inject('infra');
}

/** The suite's Kubernetes API. Tests use test/k8s/cluster.ts rather than this directly. */
export function k8sCluster(): K8sCluster {
  return inject('k8s');
}
