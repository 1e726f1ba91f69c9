// Runs belong to no single process: two chat replicas and two gateways share them through a real
// Redis. A stream started on one gateway resumes on the other, a stop reaches the replica that owns
// the run, and a replica killed mid-run leaves its readers a clear end and its answer stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonRequest, readSse, registerUser, type SseEventRecord, type TestUser } from '../../services/gateway/test/support/http.js';
import { infraEndpoints } from '../infra/endpoints.js';
import { startReplicaStack, type ReplicaStack } from './support.js';

const OWNER_LEASE_MS = 1_500;

let stack: ReplicaStack;
let user: TestUser;

beforeAll(async () => {
  stack = await startReplicaStack({ redisUrl: infraEndpoints().redisUrl, ownerLeaseMs: OWNER_LEASE_MS });
  user = await registerUser(stack.gatewayA.url, 'replica');
});

afterAll(async () => {
  await stack?.close();
});

async function newSession(): Promise<string> {
  const response = await jsonRequest(stack.gatewayA.url, '/api/sessions', { method: 'POST', token: user.accessToken, body: {} });
  expect(response.status).toBe(201);
  return response.body.id as string;
}

const seqOf = (event: SseEventRecord): number => Number(event.id!.split(':')[1]);
const contentOf = (events: readonly SseEventRecord[]): string =>
  events.filter((e) => e.event === 'content').map((e) => e.data.delta as string).join('');

async function storedAnswer(sessionId: string): Promise<{ content: string; status: string }> {
  const { body } = await jsonRequest(stack.gatewayB.url, `/api/sessions/${sessionId}/messages`, { token: user.accessToken });
  return body.messages.at(-1);
}

/** Starts an answer through gateway A and drops the connection after `contentEvents` content events. */
async function startThroughA(sessionId: string, contentEvents: number, maxNewTokens: number) {
  const first = await readSse(stack.gatewayA.url, `/api/sessions/${sessionId}/messages`, {
    method: 'POST',
    token: user.accessToken,
    body: { content: 'Tell me a long story', params: { maxNewTokens } },
    until: (_event, events) => events.filter((e) => e.event === 'content').length >= contentEvents,
  });
  expect(first.status).toBe(200);
  expect(first.stoppedEarly).toBe(true);
  return { events: first.events, runId: first.events[0]!.data.runId as string, lastEventId: first.events.at(-1)!.id! };
}

describe('two chat replicas and two gateways sharing runs through Redis', () => {
  it('resumes on gateway B (chat B) a stream started on gateway A (chat A): every event exactly once, as stored', async () => {
    stack.engine.set({ delayMs: 15 });
    const sessionId = await newSession();
    const first = await startThroughA(sessionId, 4, 80);
    const rest = await readSse(stack.gatewayB.url, `/api/runs/${first.runId}/events`, {
      token: user.accessToken,
      headers: { 'last-event-id': first.lastEventId },
    });
    expect(rest.status).toBe(200);
    const all = [...first.events, ...rest.events];
    expect(all.map(seqOf)).toEqual(all.map((_, i) => i + 1));
    expect(all[0]!.event).toBe('run');
    expect(all.at(-1)!.event).toBe('done');
    const stored = await storedAnswer(sessionId);
    expect(stored.status).toBe('complete');
    expect(contentOf(all)).toBe(stored.content);
    expect(stored.content.length).toBeGreaterThan(0);
  });

  it('stops through gateway B a run owned by chat A, within a decode step', async () => {
    // A slow model's step (a 2-core machine under test load takes tens of milliseconds for the
    // stop's own path: HTTP, gRPC, PostgreSQL, Redis pub/sub), so "within a step" measures the design.
    const stepMs = 250;
    stack.engine.set({ delayMs: stepMs });
    const sessionId = await newSession();
    const arrivals: { event: SseEventRecord; at: number }[] = [];
    let runId: string | undefined;
    let resolveStarted!: () => void;
    const started = new Promise<void>((resolve) => (resolveStarted = resolve));
    const stream = readSse(stack.gatewayA.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'Go on and on', params: { maxNewTokens: 400 } },
      timeoutMs: 30_000,
      until: (event, events) => {
        arrivals.push({ event, at: Date.now() });
        runId ??= event.data.runId;
        if (events.filter((e) => e.event === 'content').length === 5) resolveStarted();
        return false;
      },
    });
    await started;
    const stopSent = Date.now();
    const stop = await jsonRequest(stack.gatewayB.url, `/api/runs/${runId}/stop`, { method: 'POST', token: user.accessToken });
    const stopConfirmed = Date.now();
    expect(stop.status).toBe(204);
    const { events } = await stream;
    // The stop returns once the owner stored the stopped answer and logged its end.
    const end = arrivals.find((a) => a.event.event === 'done')!;
    expect(end.event.data.finishReason).toBe('cancelled');
    expect(end.at).toBeLessThanOrEqual(stopConfirmed + stepMs);
    // At most the token being decoded when the stop arrived (and its frame) came after it.
    const lateTokens = arrivals.filter((a) => a.event.event === 'content' && a.at > stopSent).length;
    expect(lateTokens).toBeLessThanOrEqual(1);
    const stored = await storedAnswer(sessionId);
    expect(stored.status).toBe('stopped');
    expect(stored.content).toBe(contentOf(events));
  });

  it('deleting a conversation through gateway B stops its run on chat A', async () => {
    stack.engine.set({ delayMs: 40 });
    const sessionId = await newSession();
    let deletedAt = 0;
    const stream = readSse(stack.gatewayA.url, `/api/sessions/${sessionId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'Talk for a long time', params: { maxNewTokens: 400 } },
      timeoutMs: 30_000,
      until: (_event, events) => {
        if (deletedAt === 0 && events.filter((e) => e.event === 'content').length >= 3) {
          deletedAt = Date.now();
          void jsonRequest(stack.gatewayB.url, `/api/sessions/${sessionId}`, { method: 'DELETE', token: user.accessToken });
        }
        return false;
      },
    });
    const { events } = await stream;
    expect(deletedAt).toBeGreaterThan(0);
    // Ended by the deletion (cancelled), long before 400 tokens at 40 ms each.
    expect(events.at(-1)!.event).toBe('done');
    expect(events.at(-1)!.data.finishReason).toBe('cancelled');
    expect(Date.now() - deletedAt).toBeLessThan(3_000);
    const gone = await jsonRequest(stack.gatewayA.url, `/api/sessions/${sessionId}`, { token: user.accessToken });
    expect(gone.status).toBe(404);
  });

  it('gives a reader on chat B a clear end, and keeps the generated text, when chat A is killed mid-run', async () => {
    stack.engine.set({ delayMs: 40 });
    const sessionId = await newSession();
    const first = await startThroughA(sessionId, 3, 400);
    let killedAt = 0;
    const rest = readSse(stack.gatewayB.url, `/api/runs/${first.runId}/events`, {
      token: user.accessToken,
      headers: { 'last-event-id': first.lastEventId },
      timeoutMs: 30_000,
      until: (_event, events) => {
        if (killedAt === 0 && events.filter((e) => e.event === 'content').length >= 3) {
          killedAt = Date.now();
          process.kill(-stack.chatA.process.pid, 'SIGKILL');
        }
        return false;
      },
    });
    const { events } = await rest;
    const end = events.at(-1)!;
    expect(killedAt).toBeGreaterThan(0);
    expect(end.event).toBe('error');
    expect(end.data.code).toBe('interrupted');
    // Noticed within the owner's lease plus a reader's check, not at some distant timeout.
    expect(Date.now() - killedAt).toBeLessThan(OWNER_LEASE_MS * 4);
    const all = [...first.events, ...events];
    expect(all.map(seqOf)).toEqual(all.map((_, i) => i + 1));
    const stored = await storedAnswer(sessionId);
    expect(stored.status).toBe('error');
    // Everything any client saw is in the stored answer.
    expect(stored.content).toBe(contentOf(all));
  });
});
