// Telemetry end to end, against the real receivers the suite starts (test/infra/global-setup.ts):
// `make run`'s four service processes, each serving /metrics on its own free port and exporting
// traces over OTLP to a real Jaeger; a real Prometheus scrapes all four (make run lists them in its
// file service discovery folder, as under `make run-infra`). After one chat message,
// (a) PromQL over Prometheus's HTTP API returns the per-hop histogram and the time to first token
// with samples from this run, (b) Jaeger holds one trace for that message in which the gateway's,
// chat's and inference's spans are joined by parent ids, and (c) the services export every span to a
// real Zipkin too (OTEL_TRACES_EXPORTER=otlp,zipkin, as `make run-infra` does), whose API holds the
// same trace and whose UI page is served: the trace UI a person opens.
// Runs the built services (services/*/dist): `make test` builds first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startZipkin, type ZipkinServer } from '../scripts/infra/zipkin.js';
import { freePort } from '../services/shared/src/index.js';
import { infraEndpoints } from './infra/endpoints.js';
import { killLeftovers, prepareMakeRun, startMakeRun, stopMakeRun, type MakeRun, type MakeRunSetup } from './support/make-run.js';
import { eventually } from './support/eventually.js';

const SERVICES = ['auth', 'chat', 'inference', 'gateway'] as const;
type Service = (typeof SERVICES)[number];

let setup: MakeRunSetup;
let run: MakeRun | undefined;
/** `127.0.0.1:PORT` of each service's /metrics: also the `instance` label Prometheus gives its series. */
const metricsAddresses = {} as Record<Service, string>;
/**
 * Zipkin: the one of a reused `make infra-up` (FREECHAT_TEST_INFRA_ENV), else this file's own,
 * started beside make run (the suite's global setup does not start it: no other test needs it).
 */
let zipkinUrl: string;
let zipkin: ZipkinServer | undefined;
let zipkinDir: string | undefined;

interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** An instant PromQL query over the HTTP API. */
async function promQuery(query: string): Promise<PromSample[]> {
  const url = `${infraEndpoints().prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`;
  const response = await fetch(url);
  const body = (await response.json()) as { status: string; error?: string; data: { resultType: string; result: PromSample[] } };
  if (body.status !== 'success') throw new Error(`PromQL ${query}: ${body.error ?? response.status}`);
  return body.data.result;
}

/** A series selector matching only this test's four services (the Prometheus may be shared). */
function ours(): string {
  return `instance=~"${Object.values(metricsAddresses).join('|')}"`;
}

beforeAll(async () => {
  setup = await prepareMakeRun('observability');
  for (const service of SERVICES) metricsAddresses[service] = `127.0.0.1:${await freePort()}`;
  const reused = infraEndpoints().zipkinUrl;
  const zipkinPort = reused ? undefined : await freePort();
  zipkinUrl = reused ?? `http://127.0.0.1:${zipkinPort}`;
  // Zipkin's JVM starts while make run does (its port is chosen first, so the exporters know it):
  // no span this test looks at is sent before both are ready.
  const zipkinReady = reused
    ? Promise.resolve()
    : startZipkin({ dataDir: (zipkinDir = mkdtempSync(path.join(tmpdir(), 'freechat-zipkin-'))), port: zipkinPort! }).then((server) => {
        zipkin = server;
      });
  const runReady = startMakeRun(setup.env, {
    ...Object.fromEntries(SERVICES.map((service) => [`FREECHAT_${service.toUpperCase()}_METRICS_ADDRESS`, metricsAddresses[service]])),
    OTEL_EXPORTER_OTLP_ENDPOINT: infraEndpoints().otlpEndpoint,
    // Export finished spans quickly rather than every 5 s.
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_TRACES_SAMPLER: 'always_on',
    // As `make run-infra` does (from .data/infra.env): make run writes its processes' metrics
    // addresses into Prometheus's file service discovery folder, and removes them when it stops.
    FREECHAT_PROMETHEUS_TARGETS_DIR: infraEndpoints().prometheusTargetsDir,
    // And to Zipkin as well, as under `make run-infra`.
    OTEL_TRACES_EXPORTER: 'otlp,zipkin',
    OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${zipkinUrl}/api/v2/spans`,
  }).then((started) => {
    run = started;
  });
  // Both settle before a failure is reported, so afterAll stops whichever did start.
  const failed = (await Promise.allSettled([zipkinReady, runReady])).find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}, 300_000);

afterAll(async () => {
  try {
    if (run) {
      const targetFile = path.join(infraEndpoints().prometheusTargetsDir, `make-run-${run.child.pid}.json`);
      expect(await stopMakeRun(run.child)).toBe(0);
      expect(existsSync(targetFile)).toBe(false);
    }
  } finally {
    killLeftovers();
    await setup?.cleanup();
    await zipkin?.stop();
    if (zipkinDir) rmSync(zipkinDir, { recursive: true, force: true });
  }
});

interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references: readonly { refType: string; traceID: string; spanID: string }[];
  readonly processID: string;
  readonly startTime: number;
  readonly tags: readonly { key: string; value: unknown }[];
}
interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Record<string, { serviceName: string }>;
}

/** `gateway`, `chat`, …: the service of the process that sent the span (service.name `freechat-<service>`). */
function serviceIn(trace: JaegerTrace, span: JaegerSpan): string {
  return (trace.processes[span.processID]?.serviceName ?? '').replace(/^freechat-/, '');
}

interface ZipkinSpan {
  readonly traceId: string;
  readonly id: string;
  readonly parentId?: string;
  readonly name?: string;
  readonly localEndpoint?: { readonly serviceName?: string };
  readonly tags?: Record<string, string>;
}

/** Zipkin's JSON v2 API: each trace a list of spans. */
async function zipkinTraces(query: Record<string, string>): Promise<ZipkinSpan[][]> {
  const response = await fetch(`${zipkinUrl}/api/v2/traces?${new URLSearchParams(query)}`);
  if (!response.ok) throw new Error(`zipkin /api/v2/traces: ${response.status}`);
  return (await response.json()) as ZipkinSpan[][];
}

async function jaegerTraces(query: Record<string, string>): Promise<JaegerTrace[]> {
  const response = await fetch(`${infraEndpoints().jaegerUrl}/api/traces?${new URLSearchParams(query)}`);
  if (!response.ok) throw new Error(`jaeger /api/traces: ${response.status}`);
  return ((await response.json()) as { data: JaegerTrace[] | null }).data ?? [];
}

describe('observability: real Prometheus, Jaeger and Zipkin', () => {
  it('scrapes all four services, and one chat message yields hop and TTFT histograms and one joined trace, in Jaeger and in Zipkin', async () => {
    // make run listed its four processes for Prometheus, at the addresses it was given.
    const targetFile = path.join(infraEndpoints().prometheusTargetsDir, `make-run-${run!.child.pid}.json`);
    const listed = JSON.parse(readFileSync(targetFile, 'utf8')) as { targets: string[]; labels: Record<string, string> }[];
    expect(Object.fromEntries(listed.map((group) => [group.labels['job'], group.targets[0]]))).toEqual(metricsAddresses);
    // Every service's /metrics is up as Prometheus sees it.
    await eventually('all four targets up', async () => {
      const up = await promQuery(`up{${ours()}}`);
      const healthy = new Set(up.filter((s) => s.value[1] === '1').map((s) => s.metric['job']));
      return SERVICES.every((s) => healthy.has(s)) ? true : undefined;
    });

    const startedUs = Date.now() * 1000;
    const registered = await setup.api('POST', '/api/auth/register', { username: 'observed_olga', password: 'correct horse battery' });
    expect(registered.status).toBe(201);
    const token = registered.json.accessToken as string;
    const session = await setup.api('POST', '/api/sessions', { title: 'Observed' }, token);
    expect(session.status).toBe(201);
    const sessionId = session.json.id as string;
    const streamed = await fetch(`${setup.baseUrl}/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ content: 'Hello there', params: { maxNewTokens: 8, temperature: 0 } }),
    });
    expect(streamed.status).toBe(200);
    const text = await streamed.text();
    expect(text).toMatch(/^event: done$/m);
    const contentEvents = text.split('\n\n').filter((frame) => /^event: content$/m.test(frame)).length;
    expect(contentEvents).toBeGreaterThan(0);

    // (a) Prometheus: every hop of the delta's way has observations from this run's processes.
    const hops = await eventually('freechat_stream_hop_seconds for every hop', async () => {
      const samples = await promQuery(`sum by (hop) (freechat_stream_hop_seconds_count{${ours()}})`);
      const counts = Object.fromEntries(samples.map((s) => [s.metric['hop']!, Number(s.value[1])]));
      const wanted = ['inference_to_chat', 'chat_to_run_log', 'run_log_to_gateway', 'gateway_to_socket'];
      // The gateway's last hop: at least one observation per content event the browser got (the
      // last scrape may predate the end of the stream, hence the polling).
      return wanted.every((hop) => (counts[hop] ?? 0) > 0) && counts['gateway_to_socket']! >= contentEvents ? counts : undefined;
    });
    expect(hops['gateway_to_socket']).toBeGreaterThanOrEqual(contentEvents);
    // The histogram is usable as a histogram: a quantile over its buckets is a finite number.
    const p99 = await promQuery(`histogram_quantile(0.99, sum by (hop, le) (freechat_stream_hop_seconds_bucket{${ours()}}))`);
    expect(p99.map((s) => s.metric['hop']).sort()).toEqual(['chat_to_run_log', 'gateway_to_socket', 'inference_to_chat', 'run_log_to_gateway']);
    for (const sample of p99) expect(Number.isFinite(Number(sample.value[1]))).toBe(true);

    // Time to first token, as the inference service measured it: one request at least (the title
    // generation may add another).
    const ttft = await eventually('time to first token observed', async () => {
      const samples = await promQuery(`sum(freechat_inference_time_to_first_token_seconds_count{${ours()}})`);
      const count = Number(samples[0]?.value[1] ?? 0);
      return count >= 1 ? count : undefined;
    });
    expect(ttft).toBeGreaterThanOrEqual(1);
    // And as the browser's side saw it: the gateway's TTFT for the one stream it served.
    const gatewayTtft = await eventually('the gateway observed time to first token', async () => {
      const samples = await promQuery(`sum(freechat_gateway_time_to_first_token_seconds_count{${ours()}})`);
      const count = Number(samples[0]?.value[1] ?? 0);
      return count >= 1 ? count : undefined;
    });
    expect(gatewayTtft).toBe(1);

    // (b) Jaeger: the trace of this message holds gateway → chat → inference spans joined by parent ids.
    const trace = await eventually(
      'a trace of the message with gateway, chat and inference spans',
      async () => {
        const traces = await jaegerTraces({ service: 'freechat-gateway', start: String(startedUs), limit: '100', lookback: '1h' });
        // The gateway's HTTP span of the send request names its path (which holds the session id).
        const ofMessage = traces.filter((t) =>
          t.spans.some(
            (s) =>
              serviceIn(t, s) === 'gateway' &&
              s.tags.some((tag) => tag.key === 'url.path' && tag.value === `/api/sessions/${sessionId}/messages`),
          ),
        );
        const complete = ofMessage.filter((t) => ['gateway', 'chat', 'inference'].every((svc) => t.spans.some((s) => serviceIn(t, s) === svc)));
        if (complete.length === 0) throw new Error(`${ofMessage.length} trace(s) of the message, none yet with spans of all three services`);
        expect(ofMessage).toHaveLength(1);
        // Spans arrive in batches from three processes: wait until no span's parent is missing
        // (a parent still in its process's buffer), then check the shape below.
        const ids = new Set(complete[0]!.spans.map((s) => s.spanID));
        const dangling = complete[0]!.spans.filter((s) => s.references.some((r) => r.refType === 'CHILD_OF' && !ids.has(r.spanID)));
        if (dangling.length > 0) throw new Error(`spans whose parent has not arrived: ${dangling.map((s) => s.operationName).join(', ')}`);
        return complete[0]!;
      },
      { timeoutMs: 30_000 },
    );
    const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
    const serviceOf = (span: JaegerSpan): string => serviceIn(trace, span);
    const parentOf = (span: JaegerSpan): JaegerSpan | undefined => {
      const ref = span.references.find((r) => r.refType === 'CHILD_OF');
      return ref ? byId.get(ref.spanID) : undefined;
    };
    // Every span but the root has its parent in the same trace: nothing dangles.
    const roots = trace.spans.filter((s) => !parentOf(s));
    expect(roots).toHaveLength(1);
    expect(serviceOf(roots[0]!)).toBe('gateway');
    expect(roots[0]!.operationName).toBe('POST /api/sessions/:id/messages');
    // The gRPC server spans: chat's SendMessage under the gateway's request, inference's Generate below it.
    const send = trace.spans.find((s) => serviceOf(s) === 'chat' && s.operationName === 'freechat.chat.v1.ChatService/SendMessage');
    expect(send).toBeDefined();
    expect(parentOf(send!)).toBe(roots[0]);
    const generate = trace.spans.filter((s) => serviceOf(s) === 'inference' && s.operationName === 'freechat.inference.v1.InferenceService/Generate');
    expect(generate.length).toBeGreaterThan(0);
    const ancestors = (span: JaegerSpan): JaegerSpan[] => {
      const up: JaegerSpan[] = [];
      for (let at = parentOf(span); at; at = parentOf(at)) up.push(at);
      return up;
    };
    expect(generate.some((g) => ancestors(g).includes(send!))).toBe(true);
    // Walking up from any inference span passes through chat and reaches the gateway's root.
    const inferenceSpans = trace.spans.filter((s) => serviceOf(s) === 'inference');
    expect(inferenceSpans.length).toBeGreaterThan(0);
    for (const span of inferenceSpans) {
      const chain: string[] = [];
      for (let at: JaegerSpan | undefined = span; at; at = parentOf(at)) chain.push(serviceOf(at));
      expect(chain.at(-1)).toBe('gateway');
      expect(chain).toContain('chat');
      // Services appear in order inference → chat → gateway going up, never back down.
      const order = chain.filter((svc, i) => svc !== chain[i - 1]);
      expect(order).toEqual(['inference', 'chat', 'gateway']);
    }

    // (c) Zipkin got the same trace from the three services' second exporter: every span Jaeger
    // holds, with the same trace id, services and parents.
    const messagePath = `/api/sessions/${sessionId}/messages`;
    const zipkinTrace = await eventually(
      "the message's trace in Zipkin, with every span Jaeger has",
      async () => {
        const traces = await zipkinTraces({ serviceName: 'freechat-gateway', limit: '100' });
        const ofMessage = traces.filter((t) => t.some((s) => s.localEndpoint?.serviceName === 'freechat-gateway' && s.tags?.['url.path'] === messagePath));
        if (ofMessage.length === 0) throw new Error(`no trace of the message among ${traces.length} in Zipkin`);
        expect(ofMessage).toHaveLength(1);
        const ids = new Set(ofMessage[0]!.map((s) => s.id));
        const missing = trace.spans.filter((s) => !ids.has(s.spanID));
        if (missing.length > 0) throw new Error(`spans not in Zipkin yet: ${missing.map((s) => s.operationName).join(', ')}`);
        return ofMessage[0]!;
      },
      { timeoutMs: 30_000 },
    );
    expect(zipkinTrace.map((s) => s.id).sort()).toEqual(trace.spans.map((s) => s.spanID).sort());
    for (const span of zipkinTrace) {
      expect(span.traceId.padStart(32, '0')).toBe(trace.traceID.padStart(32, '0'));
      const inJaeger = byId.get(span.id)!;
      expect(span.localEndpoint?.serviceName).toBe(`freechat-${serviceOf(inJaeger)}`);
      expect(span.parentId).toBe(parentOf(inJaeger)?.spanID);
    }
    expect(new Set(zipkinTrace.map((s) => s.localEndpoint?.serviceName))).toEqual(
      new Set(trace.spans.map((s) => `freechat-${serviceOf(s)}`)),
    );
    for (const service of ['gateway', 'chat', 'inference']) expect(zipkinTrace.some((s) => s.localEndpoint?.serviceName === `freechat-${service}`)).toBe(true);
    // Zipkin keeps span names lower-case.
    expect(zipkinTrace.find((s) => s.parentId === undefined)?.name).toBe(roots[0]!.operationName.toLowerCase());
  }, 180_000);

  it("serves Zipkin's UI: the page and the script it loads", async () => {
    const page = await fetch(`${zipkinUrl}/zipkin/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<title>Zipkin</title>');
    // The UI's assets are really there (what the Go build of Jaeger lacks), not only its shell.
    const script = /<script[^>]+src="(\/zipkin\/static\/js\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${zipkinUrl}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect((await asset.text()).length).toBeGreaterThan(10_000);
  });
});
