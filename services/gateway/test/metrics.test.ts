// Prometheus metrics through the real stack (all four services in this process, each with its own
// registry and /metrics listener, real sockets and PostgreSQL): one chat, then every endpoint is
// scraped over HTTP as Prometheus would, and the series an operator alerts on are there, counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonRequest, readSse, registerUser, type TestUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The text exposition format, as far as tests need it: one sample per line. */
function parseSamples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`unparsable sample: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

async function scrape(url: string | undefined): Promise<Sample[]> {
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const response = await fetch(url!);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return parseSamples(await response.text());
}

/** Sum of the samples named `name` whose labels include `labels`. */
function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

let stack: Stack;
let user: TestUser;
const ids = new Set<string>();

beforeAll(async () => {
  stack = await startStack({ generatedTitles: false });
  user = await registerUser(stack.url, 'metrics');
  ids.add(user.id).add(user.username);
  const session = await jsonRequest(stack.url, '/api/sessions', { method: 'POST', token: user.accessToken, body: {} });
  expect(session.status).toBe(201);
  ids.add(session.body.id);
  const answer = await readSse(stack.url, `/api/sessions/${session.body.id}/messages`, {
    method: 'POST',
    token: user.accessToken,
    body: { content: 'Hello', params: { maxNewTokens: 16, temperature: 0 } },
  });
  const started = answer.events.find((e) => e.event === 'run');
  expect(started).toBeDefined();
  const run = started!.data as { runId: string; userMessageId: string; assistantMessageId: string };
  ids.add(run.runId).add(run.userMessageId).add(run.assistantMessageId);
  expect(answer.events.filter((e) => e.event === 'content' || e.event === 'reasoning').length).toBeGreaterThan(1);
  expect(answer.events.at(-1)?.event).toBe('done');
});
afterAll(async () => {
  await stack?.close();
});

describe('metrics endpoints', () => {
  it('each service serves /metrics on its own port, with process metrics labelled by service; the public port has none', async () => {
    const urls = [stack.gateway.metricsUrl, stack.auth.metricsUrl, stack.chat.metricsUrl, stack.inference.metricsUrl];
    expect(new Set(urls).size).toBe(4);
    expect(urls).not.toContain(`${stack.url}/metrics`);
    for (const [service, url] of [['gateway', urls[0]], ['auth', urls[1]], ['chat', urls[2]], ['inference', urls[3]]] as const) {
      const samples = await scrape(url);
      expect(total(samples, 'process_cpu_user_seconds_total', { service }), service).toBeGreaterThan(0);
      expect(samples.every((s) => s.labels['service'] === service), `${service}: every series carries service="${service}"`).toBe(true);
    }
    // The public port answers /metrics like any unknown path (the web UI), never with the exposition.
    expect(await (await fetch(`${stack.url}/metrics`)).text()).not.toContain('process_cpu_user_seconds_total');
  });

  it('a delta is measured on every hop and inside each service, and time to first token end to end', async () => {
    const [gateway, chat, inference] = await Promise.all([scrape(stack.gateway.metricsUrl), scrape(stack.chat.metricsUrl), scrape(stack.inference.metricsUrl)]);
    expect(total(chat, 'freechat_stream_hop_seconds_count', { hop: 'inference_to_chat' })).toBeGreaterThan(1);
    expect(total(chat, 'freechat_stream_hop_seconds_count', { hop: 'chat_to_run_log' })).toBeGreaterThan(1);
    expect(total(gateway, 'freechat_stream_hop_seconds_count', { hop: 'run_log_to_gateway' })).toBeGreaterThan(0);
    expect(total(gateway, 'freechat_stream_hop_seconds_count', { hop: 'gateway_to_socket' })).toBeGreaterThan(1);
    for (const samples of [gateway, chat, inference]) expect(total(samples, 'freechat_stream_residence_seconds_count')).toBeGreaterThan(0);
    expect(total(gateway, 'freechat_gateway_time_to_first_token_seconds_count')).toBe(1);
    expect(total(gateway, 'freechat_gateway_inter_token_gap_seconds_count')).toBeGreaterThan(0);
    expect(total(inference, 'freechat_inference_time_to_first_token_seconds_count')).toBeGreaterThan(0);
    expect(total(inference, 'freechat_inference_generation_tokens_total')).toBeGreaterThan(1);
    expect(total(inference, 'freechat_inference_decode_step_seconds_count')).toBeGreaterThan(0);
    expect(total(inference, 'freechat_inference_requests_finished_total')).toBeGreaterThan(0);
    expect(total(chat, 'freechat_chat_runs_finished_total')).toBeGreaterThan(0);
    expect(total(chat, 'freechat_chat_message_persist_seconds_count', { operation: 'finish' })).toBeGreaterThan(0);
  });

  it('gRPC calls are counted on both ends by service, method and code; HTTP requests by route template', async () => {
    const [gateway, auth, chat, inference] = await Promise.all([
      scrape(stack.gateway.metricsUrl),
      scrape(stack.auth.metricsUrl),
      scrape(stack.chat.metricsUrl),
      scrape(stack.inference.metricsUrl),
    ]);
    const send = { grpc_service: 'freechat.chat.v1.ChatService', grpc_method: 'SendMessage', grpc_type: 'server_stream', grpc_code: 'OK' };
    expect(total(gateway, 'freechat_grpc_client_handled_total', send)).toBeGreaterThan(0);
    expect(total(chat, 'freechat_grpc_server_handled_total', send)).toBeGreaterThan(0);
    const generate = { grpc_service: 'freechat.inference.v1.InferenceService', grpc_method: 'Generate', grpc_code: 'OK' };
    // Chat stops reading at `done` and cancels its side: the client may record CANCELLED for it.
    expect(total(chat, 'freechat_grpc_client_handled_total', { grpc_service: generate.grpc_service, grpc_method: 'Generate' })).toBeGreaterThan(0);
    expect(total(inference, 'freechat_grpc_server_handled_total', generate)).toBeGreaterThan(0);
    expect(total(inference, 'freechat_grpc_server_handling_seconds_count', generate)).toBeGreaterThan(0);
    expect(total(auth, 'freechat_grpc_server_handled_total', { grpc_method: 'Register', grpc_code: 'OK' })).toBeGreaterThan(0);
    expect(total(auth, 'freechat_auth_registrations_total', { outcome: 'success' })).toBeGreaterThan(0);

    expect(total(gateway, 'freechat_http_request_duration_seconds_count', { method: 'POST', route: '/api/sessions/:id/messages', status_code: '200' })).toBe(1);
    expect(total(gateway, 'freechat_http_request_duration_seconds_count', { method: 'POST', route: '/api/sessions', status_code: '201' })).toBeGreaterThan(0);
    await fetch(`${stack.url}/api/no/such/${user.id}`);
    const after = await scrape(stack.gateway.metricsUrl);
    expect(total(after, 'freechat_http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' })).toBeGreaterThan(0);
  });

  it('no label anywhere carries a user, session, message or run id', async () => {
    for (const url of [stack.gateway.metricsUrl, stack.auth.metricsUrl, stack.chat.metricsUrl, stack.inference.metricsUrl]) {
      const samples = await scrape(url);
      const values = samples.flatMap((s) => Object.values(s.labels));
      for (const id of ids) expect(values.filter((v) => v.includes(id)), `${url} ${id}`).toEqual([]);
      // Route labels are templates: no UUID-shaped path segment anywhere.
      expect(values.filter((v) => /[0-9a-f]{8}-[0-9a-f]{4}-/.test(v))).toEqual([]);
    }
  });
});
