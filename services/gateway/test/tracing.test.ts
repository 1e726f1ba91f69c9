// One trace per message through the real stack (all services in this process, real sockets and
// PostgreSQL), collected by the shared tracing setup's test hook: an in-memory exporter.
import { Writable } from 'node:stream';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createLogger, createRedisClient, setupTracing, startSpan, withContext } from '@freechat/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infraEndpoints } from '../../../test/infra/endpoints.js';
import { jsonRequest, readSse, registerUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';

const exporter = new InMemorySpanExporter();
// Before the stack starts; pg and ioredis are already imported above, as in a service's main.
const tracing = setupTracing({ service: 'stack', env: {}, spanExporter: exporter });

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ generatedTitles: false });
});
afterAll(async () => {
  await stack?.close();
  await tracing.shutdown();
});

const SEND = 'POST /api/sessions/:id/messages';
const idOf = (span: ReadableSpan): string => span.spanContext().spanId;
const traceOf = (span: ReadableSpan): string => span.spanContext().traceId;
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

/** Ended spans, once `ready` finds what it needs (spans end as their work ends, some after the response). */
async function spansWhen<T>(ready: (spans: ReadableSpan[]) => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = ready(exporter.getFinishedSpans());
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`spans not there: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function newSession(token: string): Promise<string> {
  const response = await jsonRequest(stack.url, '/api/sessions', { method: 'POST', token, body: {} });
  expect(response.status).toBe(201);
  return response.body.id;
}

describe('traces', () => {
  it('a message is one trace: gateway HTTP → SendMessage → run → Generate, with PostgreSQL spans under chat', async () => {
    expect(tracing.enabled).toBe(true);
    const user = await registerUser(stack.url);
    const sessionId = await newSession(user.accessToken);
    const stream = await readSse(stack.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'Hello there', params: { maxNewTokens: 8, seed: 1 } },
    });
    expect(stream.events.at(-1)!.event).toBe('done');
    const runId: string = stream.events[0]!.data.runId;

    const { http, send, run, generate, trace } = await spansWhen((spans) => {
      const run = spans.find((s) => s.name === 'chat.run' && s.attributes['freechat.run.id'] === runId);
      if (!run) return undefined;
      const trace = spans.filter((s) => traceOf(s) === traceOf(run));
      const http = trace.find((s) => s.name === SEND);
      const send = trace.find((s) => s.name === 'freechat.chat.v1.ChatService/SendMessage');
      const generate = trace.find((s) => s.name === 'freechat.inference.v1.InferenceService/Generate');
      return http && send && generate ? { http, send, run, generate, trace } : undefined;
    });
    // Joined by parent ids, the gateway's span the root.
    expect(http.parentSpanContext).toBeUndefined();
    expect(http.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/api/sessions/:id/messages', 'http.response.status_code': 200 });
    expect(parentOf(send)).toBe(idOf(http));
    expect(send.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.method': 'SendMessage', 'rpc.grpc.status_code': 0 });
    expect(parentOf(run)).toBe(idOf(send));
    expect(run.attributes).toMatchObject({ 'freechat.run.status': 'complete' });
    expect(parentOf(generate)).toBe(idOf(run));
    expect(generate.attributes['rpc.grpc.status_code']).toBe(0);

    // The generation's phases: children for queue wait, prefill and decode; events for the first token and the end.
    const children = trace.filter((s) => parentOf(s) === idOf(generate)).map((s) => s.name);
    expect(children).toEqual(expect.arrayContaining(['inference.queue_wait', 'inference.prefill', 'inference.decode']));
    expect(generate.events.map((e) => e.name)).toEqual(['first_token', 'done']);
    expect(generate.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);

    // PostgreSQL through the maintained instrumentation, under chat's spans (the user message, the answer).
    const byId = new Map(trace.map((s) => [idOf(s), s]));
    const under = (span: ReadableSpan, ancestor: ReadableSpan): boolean => {
      for (let at: ReadableSpan | undefined = span; at; at = byId.get(parentOf(at) ?? '')) if (at === ancestor) return true;
      return false;
    };
    const postgres = trace.filter((s) => s.instrumentationScope.name === '@opentelemetry/instrumentation-pg');
    expect(postgres.filter((s) => under(s, send) && !under(s, run)).length).toBeGreaterThan(0);
    expect(postgres.filter((s) => under(s, run)).length).toBeGreaterThan(0);
    // Nothing secret in any attribute: no tokens, no message text.
    const attributes = JSON.stringify(trace.map((s) => s.attributes));
    expect(attributes).not.toContain(user.accessToken);
    expect(attributes).not.toContain('Hello there');
  });

  it('a resume (Last-Event-ID) and a stop are events on their gateway spans', async () => {
    const user = await registerUser(stack.url);
    const sessionId = await newSession(user.accessToken);
    const first = await readSse(stack.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'Go on forever', params: { maxNewTokens: 2000, seed: 5, temperature: 1 } },
      until: (_event, events) => events.length === 3,
    });
    const runId: string = first.events[0]!.data.runId;
    const resumed = await readSse(stack.url, `/api/runs/${runId}/events`, {
      token: user.accessToken,
      headers: { 'last-event-id': first.events.at(-1)!.id! },
      until: (_event, events) => events.length === 2,
    });
    expect(resumed.status).toBe(200);
    expect((await jsonRequest(stack.url, `/api/runs/${runId}/stop`, { method: 'POST', token: user.accessToken })).status).toBe(204);

    const { resume, stop, run } = await spansWhen((spans) => {
      const resume = spans.find((s) => s.name === 'GET /api/runs/:runId/events' && s.events.some((e) => e.attributes?.['freechat.run.id'] === runId));
      const stop = spans.find((s) => s.name === 'POST /api/runs/:runId/stop' && s.events.some((e) => e.attributes?.['freechat.run.id'] === runId));
      const run = spans.find((s) => s.name === 'chat.run' && s.attributes['freechat.run.id'] === runId);
      return resume && stop && run ? { resume, stop, run } : undefined;
    });
    expect(resume.events.find((e) => e.name === 'sse.resume')!.attributes).toMatchObject({ 'freechat.sse.after_seq': 3 });
    expect(stop.events.map((e) => e.name)).toContain('run.stop');
    expect(run.attributes['freechat.run.status']).toBe('stopped');
    // The stop's own trace reaches chat's StopRun.
    const stopRun = exporter.getFinishedSpans().find((s) => s.name === 'freechat.chat.v1.ChatService/StopRun' && parentOf(s) === idOf(stop));
    expect(stopRun).toBeDefined();
  });

  it('Redis commands inside a span are spans of the ioredis instrumentation', async () => {
    const redis = createRedisClient({ url: infraEndpoints().redisUrl, logger: stack.logger, name: 'tracing-test' });
    try {
      const parent = startSpan('test.redis');
      await withContext(parent.context, () => redis.set(`tracing-test:${process.pid}`, '1', 'EX', 10));
      parent.end();
      const command = exporter
        .getFinishedSpans()
        .find((s) => s.instrumentationScope.name === '@opentelemetry/instrumentation-ioredis' && parentOf(s) === parent.span.spanContext().spanId);
      expect(command?.name).toBe('set');
    } finally {
      redis.disconnect();
    }
  });

  it('log lines inside a span carry its trace_id and span_id; outside, neither', () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const logger = createLogger({ service: 'test', level: 'info', destination });
    const span = startSpan('test.log');
    withContext(span.context, () => logger.info('inside'));
    span.end();
    logger.info('outside');
    expect(lines[0]).toMatchObject({ msg: 'inside', trace_id: span.span.spanContext().traceId, span_id: span.span.spanContext().spanId });
    expect(lines[1]!.msg).toBe('outside');
    expect(lines[1]).not.toHaveProperty('trace_id');
    expect(lines[1]).not.toHaveProperty('span_id');
  });
});
