// setupTracing from the standard OTEL_* variables: off (and silent) without an endpoint; with one,
// spans really reach an OTLP/HTTP receiver (a plain HTTP server here, standing in for a collector).
import { createServer, type IncomingMessage } from 'node:http';
import { trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { resourceAttributesFromEnv, samplerFromEnv, setupTracing, startSpan, tracesEndpoint, tracingEnabled } from '../src/index.js';

describe('tracing setup', () => {
  const received: { url: string; type: string; body: Buffer }[] = [];
  const receiver = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ url: request.url ?? '', type: request.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it('reads the standard variables', () => {
    expect(tracesEndpoint({})).toBeUndefined();
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe('http://collector:4318/v1/traces');
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b/traces' })).toBe('http://b/traces');
    expect(samplerFromEnv({}).toString()).toMatch(/ParentBased\{root=AlwaysOnSampler/);
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).toString()).toBe('TraceIdRatioBased{0.25}');
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_off' }).toString()).toBe('AlwaysOffSampler');
    expect(resourceAttributesFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,team=chat%20ops,broken' })).toEqual({
      'deployment.environment': 'test',
      team: 'chat ops',
    });
  });

  it('no endpoint: no SDK, no exporter, nothing written to the console', () => {
    const writes = [vi.spyOn(console, 'warn'), vi.spyOn(console, 'error'), vi.spyOn(process.stderr, 'write')];
    const handle = setupTracing({ service: 'test', env: { OTEL_SERVICE_NAME: 'ignored-without-endpoint' } });
    expect(handle).toMatchObject({ enabled: false, endpoint: undefined });
    expect(tracingEnabled()).toBe(false);
    const span = startSpan('nothing');
    expect(span.span.isRecording()).toBe(false);
    span.end();
    for (const write of writes) expect(write).not.toHaveBeenCalled();
    for (const write of writes) write.mockRestore();
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT: spans are exported as OTLP protobuf, with service name and resource attributes', async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    const { port } = receiver.address() as { port: number };
    const handle = setupTracing({
      service: 'test',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=tracing-test' },
    });
    expect(handle).toMatchObject({ enabled: true, endpoint: `http://127.0.0.1:${port}/v1/traces`, serviceName: 'freechat-test' });
    const span = startSpan('exported-span');
    expect(span.span.isRecording()).toBe(true);
    expect(trace.getActiveSpan()).toBeUndefined();
    span.end();
    await handle.forceFlush();
    expect(received.length).toBeGreaterThan(0);
    const [request] = received;
    expect(request!.url).toBe('/v1/traces');
    expect(request!.type).toBe('application/x-protobuf');
    // Protobuf keeps strings as they are: the names are there in the bytes.
    const bytes = request!.body.toString('latin1');
    expect(bytes).toContain('exported-span');
    expect(bytes).toContain('freechat-test');
    expect(bytes).toContain('tracing-test');
    await handle.shutdown();
  });
});
