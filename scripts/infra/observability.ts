// The real telemetry receivers, started side by side: Prometheus (scrapes the services' /metrics,
// targets from file service discovery) and Jaeger v2 (takes OTLP traces, answers trace queries).
// What the test suite (test/infra/global-setup.ts) and `make infra-up` (cli.ts) both start.
import path from 'node:path';
import { startJaeger, type JaegerServer } from './jaeger.js';
import type { ManagedProcess } from './managed-process.js';
import { startPrometheus, type PrometheusServer } from './prometheus.js';

export interface ObservabilityServers {
  readonly prometheus: PrometheusServer;
  readonly jaeger: JaegerServer;
  /**
   * As environment variables (what .data/infra.env holds): the two URLs a person opens, where
   * scrape targets go, and the standard OTLP endpoint the services' exporters read (OTLP over
   * HTTP/protobuf, the SDK's default protocol).
   */
  readonly env: {
    readonly PROMETHEUS_URL: string;
    readonly FREECHAT_PROMETHEUS_TARGETS_DIR: string;
    readonly JAEGER_URL: string;
    readonly OTEL_EXPORTER_OTLP_ENDPOINT: string;
  };
  readonly processes: readonly ManagedProcess[];
  stop(): Promise<void>;
}

export interface StartObservabilityOptions {
  /** Each server gets a subdirectory. */
  readonly dataDir: string;
  readonly keepAlive?: boolean;
  /** Prometheus's scrape and rule-evaluation interval (default 1 s). */
  readonly scrapeInterval?: string;
}

/** Starts Prometheus and Jaeger at once; on any failure stops the other and throws. */
export async function startObservability(options: StartObservabilityOptions): Promise<ObservabilityServers> {
  const keepAlive = options.keepAlive ?? false;
  const settled = await Promise.allSettled([
    startPrometheus({
      dataDir: path.join(options.dataDir, 'prometheus'),
      keepAlive,
      ...(options.scrapeInterval !== undefined && { scrapeInterval: options.scrapeInterval }),
    }),
    startJaeger({ dataDir: path.join(options.dataDir, 'jaeger'), keepAlive }),
  ] as const);
  const [prometheus, jaeger] = settled;
  if (prometheus.status === 'rejected' || jaeger.status === 'rejected') {
    await Promise.all(settled.map((result) => (result.status === 'fulfilled' ? result.value.stop().catch(() => {}) : undefined)));
    const reasons = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason instanceof Error ? result.reason.message : String(result.reason)] : []));
    throw new Error(`could not start Prometheus and Jaeger:\n${reasons.join('\n')}`);
  }
  return {
    prometheus: prometheus.value,
    jaeger: jaeger.value,
    env: {
      PROMETHEUS_URL: prometheus.value.url,
      FREECHAT_PROMETHEUS_TARGETS_DIR: prometheus.value.targetsDir,
      JAEGER_URL: jaeger.value.queryUrl,
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.value.otlpHttpEndpoint,
    },
    processes: [prometheus.value.process, jaeger.value.process],
    async stop() {
      await Promise.all([prometheus.value.stop(), jaeger.value.stop()].map((p) => p.catch(() => {})));
    },
  };
}
