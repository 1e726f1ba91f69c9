// A real Zipkin server (the Maven Central jar ensure-zipkin.sh caches) on a free loopback port, with
// in-memory storage: its Lens UI at /zipkin/ is the trace UI a person opens (the Go build of Jaeger
// has no UI assets), its JSON API (/api/v2/traces) is what tests read, and /api/v2/spans takes
// what the services' Zipkin exporter sends (OTEL_TRACES_EXPORTER=zipkin). Nothing is kept on disk.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '@freechat/shared';
import { startProcess, waitFor, type ManagedProcess } from './managed-process.js';
import { INFRA_SCRIPTS } from './paths.js';

export interface ZipkinServer {
  /** `http://127.0.0.1:PORT`: the UI at `/zipkin/`, the API at `/api/v2/...`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT/api/v2/spans`: what `OTEL_EXPORTER_ZIPKIN_ENDPOINT` takes. */
  readonly spansEndpoint: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export interface StartZipkinOptions {
  /** The log. */
  readonly dataDir: string;
  readonly keepAlive?: boolean;
  /** Spans kept in memory; the oldest traces go first (default 500 000, Zipkin's own). */
  readonly maxSpans?: number;
  /** A port chosen beforehand (so exporters can be configured while Zipkin starts); default a free one. */
  readonly port?: number;
}

/** Fetches the Zipkin jar if it is not cached yet (waits for a fetch already running) and returns its path. */
export function ensureZipkin(): string {
  return execFileSync(path.join(INFRA_SCRIPTS, 'ensure-zipkin.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export async function startZipkin(options: StartZipkinOptions): Promise<ZipkinServer> {
  const jar = ensureZipkin();
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const proc = startProcess({
    name: 'zipkin',
    command: 'java',
    args: [
      // Starts in ~8 s instead of ~28 s on two busy cores: the C1 compiler only (a trace viewer
      // needs no peak throughput), the serial collector and a small heap.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Xmx512m',
      '-XX:+ExitOnOutOfMemoryError',
      '-jar',
      jar,
      // Zipkin's one HTTP port (9411 by default, on every interface): a free port, loopback only.
      `--armeria.ports[0].ip=127.0.0.1`,
      `--armeria.ports[0].port=${port}`,
      '--armeria.ports[0].protocols[0]=http',
    ],
    env: {
      ...process.env,
      STORAGE_TYPE: 'mem',
      MEM_MAX_SPANS: String(options.maxSpans ?? 500_000),
      SELF_TRACING_ENABLED: 'false',
    },
    cwd: options.dataDir,
    logFile: path.join(options.dataDir, 'zipkin.log'),
    ...(options.keepAlive !== undefined && { keepAlive: options.keepAlive }),
  });
  try {
    await waitFor(`zipkin at ${url}`, async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).ok, {
      timeoutMs: 120_000,
      process: proc,
    });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return { url, spansEndpoint: `${url}/api/v2/spans`, process: proc, stop: () => proc.stop() };
}
