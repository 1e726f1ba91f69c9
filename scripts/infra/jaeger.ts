// A real Jaeger v2 all-in-one (built from its Go module by ensure-jaeger.sh) on free loopback ports:
// an OTLP receiver (gRPC and HTTP) feeding in-memory trace storage, and the query service whose JSON
// API (`/api/services`, `/api/traces`) the tests and people read. Nothing is kept on disk.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '@freechat/shared';
import { startProcess, waitFor, type ManagedProcess } from './managed-process.js';
import { INFRA_SCRIPTS } from './paths.js';

export interface JaegerServer {
  /** `http://127.0.0.1:PORT`: the query service (UI page and `/api/...`). */
  readonly queryUrl: string;
  /** `http://127.0.0.1:PORT`: OTLP over gRPC, what `OTEL_EXPORTER_OTLP_ENDPOINT` takes. */
  readonly otlpGrpcEndpoint: string;
  /** `http://127.0.0.1:PORT`: OTLP over HTTP (`/v1/traces` below it). */
  readonly otlpHttpEndpoint: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export interface StartJaegerOptions {
  /** Configuration and the log. */
  readonly dataDir: string;
  readonly keepAlive?: boolean;
}

/** Builds Jaeger if it is not cached yet (waits for a build already running) and returns its path. */
export function ensureJaeger(): string {
  return execFileSync(path.join(INFRA_SCRIPTS, 'ensure-jaeger.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export function jaegerConfig(ports: { otlpGrpc: number; otlpHttp: number; queryHttp: number; queryGrpc: number }): string {
  return `${JSON.stringify(
    {
      service: {
        extensions: ['jaeger_storage', 'jaeger_query'],
        pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] } },
        // Its own metrics would listen on :8888, a fixed port.
        telemetry: { metrics: { level: 'none' } },
      },
      extensions: {
        jaeger_storage: { backends: { mem: { memory: { max_traces: 100_000 } } } },
        jaeger_query: {
          storage: { traces: 'mem' },
          http: { endpoint: `127.0.0.1:${ports.queryHttp}` },
          grpc: { endpoint: `127.0.0.1:${ports.queryGrpc}` },
        },
      },
      receivers: {
        otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${ports.otlpGrpc}` }, http: { endpoint: `127.0.0.1:${ports.otlpHttp}` } } },
      },
      processors: { batch: { timeout: '100ms' } },
      exporters: { jaeger_storage_exporter: { trace_storage: 'mem' } },
    },
    null,
    2,
  )}\n`;
}

export async function startJaeger(options: StartJaegerOptions): Promise<JaegerServer> {
  const binary = ensureJaeger();
  mkdirSync(options.dataDir, { recursive: true });
  // Sequential: parallel probes could be handed the same port.
  const ports = { otlpGrpc: 0, otlpHttp: 0, queryHttp: 0, queryGrpc: 0 };
  for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
  const configFile = path.join(options.dataDir, 'jaeger.yaml');
  writeFileSync(configFile, jaegerConfig(ports));
  const queryUrl = `http://127.0.0.1:${ports.queryHttp}`;
  const proc = startProcess({
    name: 'jaeger',
    command: binary,
    args: ['--config', configFile],
    cwd: options.dataDir,
    logFile: path.join(options.dataDir, 'jaeger.log'),
    ...(options.keepAlive !== undefined && { keepAlive: options.keepAlive }),
  });
  try {
    await waitFor(`jaeger at ${queryUrl}`, async () => (await fetch(`${queryUrl}/api/services`, { signal: AbortSignal.timeout(1_000) })).ok, {
      timeoutMs: 30_000,
      process: proc,
    });
    // The query service can answer before the receiver listens.
    await waitFor(`jaeger's OTLP receiver on port ${ports.otlpHttp}`, () => listening(ports.otlpHttp), { timeoutMs: 15_000, process: proc });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return {
    queryUrl,
    otlpGrpcEndpoint: `http://127.0.0.1:${ports.otlpGrpc}`,
    otlpHttpEndpoint: `http://127.0.0.1:${ports.otlpHttp}`,
    process: proc,
    stop: () => proc.stop(),
  };
}

async function listening(port: number): Promise<boolean> {
  // An empty OTLP/HTTP export is answered 200 once the receiver is up.
  const response = await fetch(`http://127.0.0.1:${port}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"resourceSpans":[]}',
    signal: AbortSignal.timeout(1_000),
  });
  return response.ok;
}
