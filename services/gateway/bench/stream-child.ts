// What the streaming benchmark's child processes share: telemetry per mode, and the IPC protocol
// with the parent (`ready` once started; `memory` answers with this process's RSS after a full GC;
// `close` shuts down and exits; a vanished parent does the same).
import { setupTracing, type TracingHandle } from '@freechat/shared';

export type TelemetryMode = 'off' | 'metrics' | 'on';

export interface ChildEnv {
  readonly mode: TelemetryMode;
  /** OTLP/HTTP traces URL of the parent's sink; used when mode is `on`. */
  readonly otlpUrl: string;
}

export function childEnv(): ChildEnv {
  const mode = (process.env['BENCH_TELEMETRY'] ?? 'off') as TelemetryMode;
  return { mode, otlpUrl: process.env['BENCH_OTLP_URL'] ?? '' };
}

/** metrics.address for the mode: a free port, or '' (no endpoint, no registry observations served). */
export const metricsAddressFor = (mode: TelemetryMode): string => (mode === 'off' ? '' : '127.0.0.1:0');

/** Tracing for the mode: `on` is always_on sampling with OTLP/HTTP (protobuf) export through the BatchSpanProcessor. */
export function tracingFor(env: ChildEnv, service: string): TracingHandle {
  return setupTracing({
    service,
    env: env.mode === 'on' ? { OTEL_TRACES_SAMPLER: 'always_on', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: env.otlpUrl } : {},
  });
}

export interface MemoryReport {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
}

export type ToChild = { readonly type: 'memory' } | { readonly type: 'close' };
export type FromChild = { readonly type: 'ready'; readonly info: Record<string, unknown> } | { readonly type: 'memory'; readonly memory: MemoryReport };

/** Serves the parent's requests; `close` runs at most once. */
export function serveParent(close: () => Promise<void>): void {
  let closing: Promise<void> | undefined;
  const shutdown = (): void => {
    closing ??= close()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.on('message', (message: ToChild) => {
    if (message.type === 'close') shutdown();
    else if (message.type === 'memory') {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      const usage = process.memoryUsage();
      send({ type: 'memory', memory: { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external } });
    }
  });
  process.on('disconnect', shutdown);
}

export function send(message: FromChild): void {
  process.send?.(message);
}
