// OpenTelemetry traces, set up the same way by every service (runServiceMain calls setupTracing).
// Standard OTEL_* variables only, read from the env passed in (tests pass their own): no endpoint
// and no test exporter means no SDK at all, so no exporter, no errors and no cost.
// OTEL_TRACES_EXPORTER picks the exporters (a comma-separated list, as the spec says): `otlp` (the
// default; OTLP/HTTP protobuf, on only with an OTLP endpoint), `zipkin` (Zipkin's JSON v2 API at
// OTEL_EXPORTER_ZIPKIN_ENDPOINT, default http://localhost:9411/api/v2/spans) and `none`.
//
// pg and ioredis are instrumented by the maintained instrumentations. Their require hooks cannot see
// ESM imports, and in our services pg and ioredis are often loaded before this runs; both patch the
// modules' shared prototypes, so requiring the modules here, once the hooks are enabled, patches the
// very classes every import already holds (tested in test/telemetry/tracing-stack.test.ts).
import { createRequire } from 'node:module';
import { Metadata } from '@grpc/grpc-js';
import {
  context,
  propagation,
  trace,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type HrTime,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  defaultTextMapGetter,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK, resources } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

export type { Span, Context, Attributes } from '@opentelemetry/api';

export interface SetupTracingOptions {
  /** `gateway`, `chat`, …: the default service.name is `freechat-<service>`. */
  readonly service: string;
  /** Where the OTEL_* settings come from. Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Test hook: every ended span goes here at once (SimpleSpanProcessor), with or without an endpoint. */
  readonly spanExporter?: SpanExporter;
}

export interface TracingHandle {
  readonly enabled: boolean;
  /** The OTLP traces URL spans are sent to; undefined without an endpoint (or without `otlp` in OTEL_TRACES_EXPORTER). */
  readonly endpoint: string | undefined;
  /** The Zipkin spans URL spans are sent to; undefined unless OTEL_TRACES_EXPORTER names `zipkin`. */
  readonly zipkinEndpoint: string | undefined;
  readonly serviceName: string;
  /** Sends what is buffered. */
  forceFlush(): Promise<void>;
  /** Flushes and stops; part of a service's graceful shutdown. */
  shutdown(): Promise<void>;
}

const TRACER = 'freechat';
let active: (TracingHandle & { readonly processors: readonly { forceFlush(): Promise<void> }[] }) | undefined;

/** The OTLP/HTTP traces URL the standard variables name, or undefined (tracing off). */
export function tracesEndpoint(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/** Zipkin's default, as the spec gives it for OTEL_EXPORTER_ZIPKIN_ENDPOINT. */
export const DEFAULT_ZIPKIN_ENDPOINT = 'http://localhost:9411/api/v2/spans';

/**
 * OTEL_TRACES_EXPORTER as a set of exporter names: `otlp` when unset or empty; `none` anywhere in
 * the list means none at all. Names this code does not know are reported in `unknown`.
 */
export function tracesExportersFromEnv(env: Readonly<Record<string, string | undefined>>): { exporters: ('otlp' | 'zipkin')[]; unknown: string[] } {
  const names = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (names.length === 0) return { exporters: ['otlp'], unknown: [] };
  if (names.includes('none')) return { exporters: [], unknown: [] };
  const exporters = [...new Set(names.filter((name): name is 'otlp' | 'zipkin' => name === 'otlp' || name === 'zipkin'))];
  return { exporters, unknown: names.filter((name) => name !== 'otlp' && name !== 'zipkin') };
}

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG as the spec defines them; default parentbased_always_on. */
export function samplerFromEnv(env: Readonly<Record<string, string | undefined>>): Sampler {
  const parsed = Number(env.OTEL_TRACES_SAMPLER_ARG);
  const ratio = env.OTEL_TRACES_SAMPLER_ARG !== undefined && Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 1;
  switch (env.OTEL_TRACES_SAMPLER?.trim().toLowerCase()) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** OTEL_RESOURCE_ATTRIBUTES (`k=v,k2=v2`, values percent-encoded) as attributes. */
export function resourceAttributesFromEnv(env: Readonly<Record<string, string | undefined>>): Attributes {
  const attributes: Attributes = {};
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      attributes[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // A malformed escape: the spec says to drop the pair.
    }
  }
  return attributes;
}

/**
 * Starts tracing for this process, once (later calls return the first handle). Call it before the
 * service's server starts. Off unless an exporter has somewhere to send spans (an OTLP endpoint
 * with `otlp`, or `zipkin`, in OTEL_TRACES_EXPORTER) or a test exporter is given, and when
 * OTEL_SDK_DISABLED=true.
 */
export function setupTracing(options: SetupTracingOptions): TracingHandle {
  if (active) return active;
  const env = options.env ?? process.env;
  const { exporters, unknown } = tracesExportersFromEnv(env);
  if (unknown.length > 0) console.warn(`OTEL_TRACES_EXPORTER: ignoring unsupported exporter(s) ${unknown.join(', ')} (supported: otlp, zipkin, none)`);
  const endpoint = exporters.includes('otlp') ? tracesEndpoint(env) : undefined;
  const zipkinEndpoint = exporters.includes('zipkin') ? env.OTEL_EXPORTER_ZIPKIN_ENDPOINT?.trim() || DEFAULT_ZIPKIN_ENDPOINT : undefined;
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || `freechat-${options.service}`;
  const off: TracingHandle = { enabled: false, endpoint: undefined, zipkinEndpoint: undefined, serviceName, forceFlush: async () => {}, shutdown: async () => {} };
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || (!endpoint && !zipkinEndpoint && !options.spanExporter)) return off;

  const processors = [
    ...(endpoint ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }))] : []),
    // Zipkin JSON v2; each span's localEndpoint.serviceName is its resource's service.name.
    ...(zipkinEndpoint ? [new BatchSpanProcessor(new WholeMicrosecondsExporter(new ZipkinExporter({ url: zipkinEndpoint })))] : []),
    ...(options.spanExporter ? [new SimpleSpanProcessor(options.spanExporter)] : []),
  ];
  const sdk = new NodeSDK({
    // Host and process attributes; OTEL_RESOURCE_ATTRIBUTES comes from `env`, not process.env.
    autoDetectResources: true,
    resourceDetectors: [resources.processDetector, resources.hostDetector],
    resource: resources.defaultResource().merge(resources.resourceFromAttributes(resourceAttributesFromEnv(env))),
    serviceName,
    sampler: samplerFromEnv(env),
    spanProcessors: processors,
    textMapPropagator: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    // Traces only: without these NodeSDK would set up OTLP metric and log exporters by default.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      // Only inside a trace: readiness probes, pollers and leases would otherwise each start one.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  patchLoadedModules();
  let stopped: Promise<void> | undefined;
  active = {
    enabled: true,
    endpoint,
    zipkinEndpoint,
    serviceName,
    processors,
    forceFlush: async () => {
      await Promise.all(processors.map((p) => p.forceFlush()));
    },
    shutdown: () => (stopped ??= sdk.shutdown().catch(() => undefined)),
  };
  return active;
}

/**
 * Zipkin's JSON takes whole microseconds, and rejects a whole batch (400, "Expected a long") with one
 * fractional timestamp; the Zipkin exporter converts times without rounding, so a span started at a
 * fractional millisecond (inference's phase spans, from the engine's timings) would lose its
 * process's batch. Times go to the exporter floored to the microsecond; everything else as it was.
 */
class WholeMicrosecondsExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], resultCallback: Parameters<SpanExporter['export']>[1]): void {
    this.inner.export(spans.map(toWholeMicroseconds), resultCallback);
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

function floorToMicros(time: HrTime): HrTime {
  return [time[0], time[1] - (time[1] % 1000)];
}

/** The span with whole-microsecond times; its other fields and methods through the prototype. */
function toWholeMicroseconds(span: ReadableSpan): ReadableSpan {
  return Object.create(span, {
    startTime: { value: floorToMicros(span.startTime) },
    endTime: { value: floorToMicros(span.endTime) },
    duration: { value: floorToMicros(span.duration) },
    events: { value: span.events.map((event) => ({ ...event, time: floorToMicros(event.time) })) },
  }) as ReadableSpan;
}

/** Whether setupTracing started the SDK in this process. */
export function tracingEnabled(): boolean {
  return active?.enabled === true;
}

function patchLoadedModules(): void {
  const require = createRequire(import.meta.url);
  // pg's index holds pg-pool; requiring it from pg's own location patches the copy pg uses.
  const pgPath = require.resolve('pg');
  require('pg');
  createRequire(pgPath)('pg-pool');
  require('ioredis');
}

export function tracer() {
  return trace.getTracer(TRACER);
}

// --- Small helpers, so services never import OpenTelemetry themselves ---------------------------

/** A span the caller ends; `context` makes it the parent of what runs inside it. */
export interface SpanHandle {
  readonly span: Span;
  readonly context: Context;
  event(name: string, attributes?: Attributes): void;
  /** Ends once; an error sets the span's status and records it. */
  end(error?: unknown, endTime?: number): void;
}

export function startSpan(name: string, options: { attributes?: Attributes; parent?: Context; kind?: SpanKind; startTime?: number } = {}): SpanHandle {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes && { attributes: options.attributes }), ...(options.startTime !== undefined && { startTime: options.startTime }) },
    parent,
  );
  let ended = false;
  return {
    span,
    context: trace.setSpan(parent, span),
    event: (eventName, attributes) => span.addEvent(eventName, attributes),
    end: (error, endTime) => {
      if (ended) return;
      ended = true;
      if (error !== undefined) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      }
      span.end(endTime);
    },
  };
}

/** Runs `fn` with `ctx` active: spans, gRPC calls and log lines inside belong to it. */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

/** An event on the active span (none: nothing happens); `time` in ms since the epoch, default now. */
export function addSpanEvent(name: string, attributes?: Attributes, time?: number): void {
  trace.getActiveSpan()?.addEvent(name, attributes, time);
}

/** Attributes on the active span (none: nothing happens). */
export function setSpanAttributes(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** The active span's ids, for log lines; empty outside a span. */
export function activeTraceIds(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const ids = span.spanContext();
  return isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
}

// --- W3C trace context over gRPC metadata ------------------------------------------------------

const metadataSetter: TextMapSetter<Metadata> = { set: (carrier, key, value) => carrier.set(key, value) };
const metadataGetter: TextMapGetter<Metadata> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get: (carrier, key) => {
    const values = carrier.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
};

/** `metadata` with the trace context of `ctx` (default: the active one) added, unless it already has one. */
export function injectTraceContext(metadata: Metadata, ctx: Context = context.active()): Metadata {
  if (active?.enabled && metadata.get('traceparent').length === 0) propagation.inject(ctx, metadata, metadataSetter);
  return metadata;
}

/**
 * A grpc-js client call's arguments with the active trace context in their metadata (a copy; the
 * caller's Metadata may be reused). Metadata goes after the request, or first for client streams.
 */
export function withTraceMetadata(args: readonly unknown[], requestStream: boolean): unknown[] {
  if (!active?.enabled || !trace.getSpan(context.active())) return [...args];
  const at = args.findIndex((arg) => arg instanceof Metadata);
  if (at >= 0) {
    if ((args[at] as Metadata).get('traceparent').length > 0) return [...args];
    const copy = [...args];
    copy[at] = injectTraceContext((args[at] as Metadata).clone());
    return copy;
  }
  const copy = [...args];
  copy.splice(requestStream ? 0 : 1, 0, injectTraceContext(new Metadata()));
  return copy;
}

/** The context an HTTP client sent in its `traceparent` header; ROOT when it sent none. */
export function extractHttpTraceContext(headers: Readonly<Record<string, string | string[] | undefined>>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

/** The context a caller sent in its metadata; ROOT when it sent none. */
export function extractTraceContext(metadata: Metadata): Context {
  return propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
}

export { SpanKind, SpanStatusCode };
