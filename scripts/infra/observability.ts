// The real telemetry receivers, started side by side: Prometheus (scrapes the services' /metrics,
// targets from file service discovery) and Jaeger v2 (takes OTLP traces, answers trace queries).
// What the test suite (test/infra/global-setup.ts) and `make infra-up` (cli.ts) both start;
// `make infra-up` adds Zipkin, the trace UI a person opens (the services export to both).
import path from 'node:path';
import { startJaeger, type JaegerServer } from './jaeger.js';
import type { ManagedProcess } from './managed-process.js';
import { startPrometheus, type PrometheusServer } from './prometheus.js';
import { startZipkin, type ZipkinServer } from './zipkin.js';

export interface ObservabilityServers {
  readonly prometheus: PrometheusServer;
  readonly jaeger: JaegerServer;
  /** With `zipkin: true` only. */
  readonly zipkin?: ZipkinServer;
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
    /** With Zipkin: its URL (the UI at /zipkin/), and the exporters' settings that send to both. */
    readonly ZIPKIN_URL?: string;
    readonly OTEL_TRACES_EXPORTER?: string;
    readonly OTEL_EXPORTER_ZIPKIN_ENDPOINT?: string;
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
  /** Also start Zipkin (`make infra-up`); the test suite starts it only where a test needs it. */
  readonly zipkin?: boolean;
}

/** Starts Prometheus and Jaeger (and Zipkin) at once; on any failure stops the others and throws. */
export async function startObservability(options: StartObservabilityOptions): Promise<ObservabilityServers> {
  const keepAlive = options.keepAlive ?? false;
  const settled = await Promise.allSettled([
    startPrometheus({
      dataDir: path.join(options.dataDir, 'prometheus'),
      keepAlive,
      ...(options.scrapeInterval !== undefined && { scrapeInterval: options.scrapeInterval }),
    }),
    startJaeger({ dataDir: path.join(options.dataDir, 'jaeger'), keepAlive }),
    options.zipkin ? startZipkin({ dataDir: path.join(options.dataDir, 'zipkin'), keepAlive }) : Promise.resolve(undefined),
  ] as const);
  const [prometheus, jaeger, zipkin] = settled;
  if (prometheus.status === 'rejected' || jaeger.status === 'rejected' || zipkin.status === 'rejected') {
    await Promise.all(settled.map((result) => (result.status === 'fulfilled' ? result.value?.stop().catch(() => {}) : undefined)));
    const reasons = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason instanceof Error ? result.reason.message : String(result.reason)] : []));
    throw new Error(`could not start ${options.zipkin ? 'Prometheus, Jaeger and Zipkin' : 'Prometheus and Jaeger'}:\n${reasons.join('\n')}`);
  }
  const zipkinServer = zipkin.value;
  return {
    prometheus: prometheus.value,
    jaeger: jaeger.value,
    ...(zipkinServer && { zipkin: zipkinServer }),
    env: {
      PROMETHEUS_URL: prometheus.value.url,
      FREECHAT_PROMETHEUS_TARGETS_DIR: prometheus.value.targetsDir,
      JAEGER_URL: jaeger.value.queryUrl,
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.value.otlpHttpEndpoint,
      ...(zipkinServer && {
        ZIPKIN_URL: zipkinServer.url,
        // Every span to both: Jaeger's API for the tests and scripts, Zipkin's UI for people.
        OTEL_TRACES_EXPORTER: 'otlp,zipkin',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkinServer.spansEndpoint,
      }),
    },
    processes: [prometheus.value.process, jaeger.value.process, ...(zipkinServer ? [zipkinServer.process] : [])],
    async stop() {
      await Promise.all([prometheus.value.stop(), jaeger.value.stop(), ...(zipkinServer ? [zipkinServer.stop()] : [])].map((p) => p.catch(() => {})));
    },
  };
}
