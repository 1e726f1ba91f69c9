// OTEL_TRACES_EXPORTER picks setupTracing's exporters: with `otlp,zipkin` one span really reaches
// both an OTLP/HTTP receiver and a Zipkin v2 receiver (plain HTTP servers standing in for Jaeger and
// Zipkin); with `none`, nothing is set up even when endpoints are given. Its own file: setupTracing
// starts once per process.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ZIPKIN_ENDPOINT, setupTracing, startSpan, tracesExportersFromEnv, tracingEnabled } from '../src/index.js';

interface Received {
  readonly url: string;
  readonly type: string;
  readonly body: Buffer;
}

function receiver(received: Received[]): Server {
  return createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ url: request.url ?? '', type: request.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
      // Zipkin answers 202; the OTLP exporter takes any 2xx.
      response.writeHead(202).end();
    });
  });
}

const otlpReceived: Received[] = [];
const zipkinReceived: Received[] = [];
const otlp = receiver(otlpReceived);
const zipkin = receiver(zipkinReceived);
let env: Record<string, string>;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as { port: number }).port;
}

beforeAll(async () => {
  env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await listen(otlp)}`,
    OTEL_EXPORTER_ZIPKIN_ENDPOINT: `http://127.0.0.1:${await listen(zipkin)}/api/v2/spans`,
  };
});
afterAll(async () => {
  await Promise.all([otlp, zipkin].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

describe('OTEL_TRACES_EXPORTER', () => {
  it('parses as the spec says: otlp by default, a comma-separated list, none means none', () => {
    expect(tracesExportersFromEnv({})).toEqual({ exporters: ['otlp'], unknown: [] });
    expect(tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: ' ' })).toEqual({ exporters: ['otlp'], unknown: [] });
    expect(tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: 'otlp,zipkin' })).toEqual({ exporters: ['otlp', 'zipkin'], unknown: [] });
    expect(tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: ' Zipkin , otlp,zipkin' })).toEqual({ exporters: ['zipkin', 'otlp'], unknown: [] });
    expect(tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: 'none' })).toEqual({ exporters: [], unknown: [] });
    expect(tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: 'otlp,none' })).toEqual({ exporters: [], unknown: [] });
    expect(tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: 'otlp,jaeger' })).toEqual({ exporters: ['otlp'], unknown: ['jaeger'] });
    // Zipkin's endpoint when OTEL_EXPORTER_ZIPKIN_ENDPOINT is unset, as the spec gives it.
    expect(DEFAULT_ZIPKIN_ENDPOINT).toBe('http://localhost:9411/api/v2/spans');
  });

  it('none: no SDK and nothing sent, although both endpoints are set', async () => {
    const handle = setupTracing({ service: 'test', env: { ...env, OTEL_TRACES_EXPORTER: 'none' } });
    expect(handle).toMatchObject({ enabled: false, endpoint: undefined, zipkinEndpoint: undefined });
    expect(tracingEnabled()).toBe(false);
    const span = startSpan('not-exported');
    expect(span.span.isRecording()).toBe(false);
    span.end();
    await handle.forceFlush();
    expect(otlpReceived).toEqual([]);
    expect(zipkinReceived).toEqual([]);
  });

  it('otlp,zipkin: the same span reaches the OTLP receiver as protobuf and Zipkin as JSON v2', async () => {
    const handle = setupTracing({ service: 'test', env: { ...env, OTEL_TRACES_EXPORTER: 'otlp,zipkin' } });
    expect(handle).toMatchObject({
      enabled: true,
      endpoint: `${env['OTEL_EXPORTER_OTLP_ENDPOINT']}/v1/traces`,
      zipkinEndpoint: env['OTEL_EXPORTER_ZIPKIN_ENDPOINT'],
      serviceName: 'freechat-test',
    });
    // Started and ended at fractional milliseconds, with an event at one too (as inference's phase
    // spans are): Zipkin rejects a batch with a fractional microsecond, so they go out whole.
    const startedAt = Date.now() - 5.1234567;
    const span = startSpan('exported-twice', { attributes: { 'test.attribute': 'both' }, startTime: startedAt });
    span.span.addEvent('halfway', {}, startedAt + 1.0004321);
    const { traceId, spanId } = span.span.spanContext();
    span.end(undefined, startedAt + 2.5432109);
    await handle.forceFlush();

    expect(otlpReceived.map((r) => [r.url, r.type])).toEqual([['/v1/traces', 'application/x-protobuf']]);
    expect(otlpReceived[0]!.body.toString('latin1')).toContain('exported-twice');

    expect(zipkinReceived.map((r) => [r.url, r.type])).toEqual([['/api/v2/spans', 'application/json']]);
    const spans = JSON.parse(zipkinReceived[0]!.body.toString('utf8')) as {
      traceId: string;
      id: string;
      name: string;
      localEndpoint: { serviceName: string };
      tags: Record<string, string>;
      timestamp: number;
      duration: number;
      annotations: { timestamp: number; value: string }[];
    }[];
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ traceId, id: spanId, name: 'exported-twice', localEndpoint: { serviceName: 'freechat-test' } });
    expect(spans[0]!.tags['test.attribute']).toBe('both');
    const { timestamp, duration, annotations } = spans[0]!;
    expect(Number.isInteger(timestamp) && Number.isInteger(duration)).toBe(true);
    expect(Math.abs(timestamp - startedAt * 1000)).toBeLessThan(2);
    expect(Math.abs(duration - 2543.2109)).toBeLessThan(2);
    expect(annotations.map((a) => a.value)).toEqual(['halfway']);
    expect(Number.isInteger(annotations[0]!.timestamp)).toBe(true);
    await handle.shutdown();
  });
});
