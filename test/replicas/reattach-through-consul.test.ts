// Replicas as `make run-infra` runs them: services found through a real Consul, runs shared through a
// real Redis, two chat replicas as separate OS processes. The chat replica serving a browser's stream
// is SIGKILLed mid-answer: on the same HTTP connection, the gateway attaches again through the other
// replica, the client gets every event once and a clear `interrupted` end, and the stored answer
// keeps all it was shown. No client reconnect is involved.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAuthConfig, startAuthServer } from '@freechat/auth';
import { loadGatewayConfig, startGatewayServer, type GatewayServerHandle } from '@freechat/gateway';
import { loadInferenceConfig, startInferenceServer } from '@freechat/inference';
import { createLogger, createRedisClient, type DiscoveryConfig, type Redis } from '@freechat/shared';
import { startThrowawayPostgres } from '@freechat/shared/postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { jsonRequest, readSse, registerUser, type SseEventRecord } from '../../services/gateway/test/support/http.js';
import { createEngineControl } from '../browser/support/engine-control.js';
import { infraEndpoints } from '../infra/endpoints.js';
import { waitFor } from '../../scripts/infra/managed-process.js';
import { startChatProcess, type ChatProcess } from './support.js';

const OWNER_LEASE_MS = 1_500;
const closers: (() => Promise<void>)[] = [];
let gateway: GatewayServerHandle;
let chats: ChatProcess[];
let redis: Redis;
const engine = createEngineControl();

beforeAll(async () => {
  const { redisUrl, consulAddress } = infraEndpoints();
  const logger = createLogger({ service: 'reattach', level: 'silent' });
  // Its own catalog names: the suite's Consul is shared with other test files.
  const prefix = `fc-${randomUUID().slice(0, 8)}`;
  const discovery = (config: { readonly discovery: DiscoveryConfig }): DiscoveryConfig => ({
    ...config.discovery,
    consul: { address: consulAddress, serviceNamePrefix: prefix },
    advertiseHost: '127.0.0.1',
    checkIntervalMs: 500,
  });
  const postgres = await startThrowawayPostgres();
  closers.push(() => postgres.stop());
  redis = createRedisClient({ url: redisUrl, logger, name: 'reattach-test' });
  closers.push(async () => void redis.disconnect());

  const inferenceBase = loadInferenceConfig({
    env: { FREECHAT_MODEL: 'tiny', FREECHAT_MODEL_CACHE: path.join(tmpdir(), 'freechat-test-model-cache'), FREECHAT_INFERENCE_ADDRESS: '127.0.0.1:0' },
  });
  const inference = await startInferenceServer({
    config: { ...inferenceBase, discovery: discovery(inferenceBase), engine: { ...inferenceBase.engine, intraOpThreads: 1 }, shutdown: { graceMs: 2_000 } },
    logger,
    engineFactory: engine.engineFactory,
  });
  closers.push(() => inference.close());
  const authBase = loadAuthConfig({
    env: { DATABASE_URL: postgres.url, FREECHAT_AUTH_ADDRESS: '127.0.0.1:0', FREECHAT_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'freechat-reattach-auth-')) },
  });
  const auth = await startAuthServer({
    config: { ...authBase, discovery: discovery(authBase), argon2: { memoryCostKib: 256, timeCost: 1, parallelism: 1 }, shutdown: { graceMs: 2_000 } },
    logger,
  });
  closers.push(() => auth.close());
  await Promise.all([inference.ready, auth.ready]);

  const chatEnv = {
    DATABASE_URL: postgres.url,
    REDIS_URL: redisUrl,
    CONSUL_HTTP_ADDR: consulAddress,
    FREECHAT_SERVICE_NAME_PREFIX: prefix,
    FREECHAT_ADVERTISE_HOST: '127.0.0.1',
    FREECHAT_CHAT_OWNER_LEASE_MS: String(OWNER_LEASE_MS),
  };
  // One after the other: both would race to run the migrations otherwise (they are locked, but a
  // cold `tsx` start is slow enough without waiting on each other).
  chats = [await startChatProcess('chat-1', chatEnv)];
  closers.push(() => chats[0]!.process.stop(5_000));
  chats.push(await startChatProcess('chat-2', chatEnv));
  closers.push(() => chats[1]!.process.stop(5_000));

  const gatewayBase = loadGatewayConfig({ env: { PORT: '0', FREECHAT_GATEWAY_HOST: '127.0.0.1' } });
  gateway = await startGatewayServer({ config: { ...gatewayBase, discovery: discovery(gatewayBase), shutdown: { graceMs: 2_000 } }, logger });
  closers.push(() => gateway.close());
  // Both chat replicas must be in rotation (Consul checks them first) before the test kills one.
  await waitFor(
    'both chat replicas passing in Consul, and the gateway ready',
    async () => {
      const passing = await fetch(`http://${consulAddress}/v1/health/service/${prefix}-chat?passing=true`).then((r) => r.json() as Promise<unknown[]>);
      return passing.length === 2 && (await fetch(`${gateway.url}/readyz`)).ok;
    },
    { timeoutMs: 30_000 },
  );
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
});

const seqOf = (event: SseEventRecord): number => Number(event.id!.split(':')[1]);

it('keeps a stream going through the other chat replica when the one serving it is killed', async () => {
  const user = await registerUser(gateway.url, 'reattach');
  const session = await jsonRequest(gateway.url, '/api/sessions', { method: 'POST', token: user.accessToken, body: {} });
  expect(session.status).toBe(201);
  engine.set({ delayMs: 40 });

  let killed: number | undefined;
  const { events, stoppedEarly } = await readSse(gateway.url, `/api/sessions/${session.body.id}/messages`, {
    method: 'POST',
    token: user.accessToken,
    body: { content: 'Tell me everything', params: { maxNewTokens: 400 } },
    timeoutMs: 45_000,
    until: (event, all) => {
      if (killed === undefined && all.filter((e) => e.event === 'content').length >= 4) {
        killed = -1;
        // The owner's lease names its process: `<host>-<pid>-<random>`.
        void redis.get(`freechat:run:{${all[0]!.data.runId}}:owner`).then((owner) => {
          const pid = Number(owner?.split('-').at(-2));
          const victim = chats.find((c) => c.process.pid === pid)!;
          killed = Date.now();
          process.kill(-victim.process.pid, 'SIGKILL');
        });
      }
      return false;
    },
  });
  expect(stoppedEarly).toBe(false);
  expect(typeof killed === 'number' && killed > 0).toBe(true);
  // One connection, every event once, in order, ending clearly.
  expect(events.map(seqOf)).toEqual(events.map((_, i) => i + 1));
  const end = events.at(-1)!;
  expect(end.event).toBe('error');
  expect(end.data.code).toBe('interrupted');
  const seen = events.filter((e) => e.event === 'content').map((e) => e.data.delta as string).join('');
  const { status, body } = await jsonRequest(gateway.url, `/api/sessions/${session.body.id}/messages`, { token: user.accessToken });
  // Consul may not have noticed the dead replica yet: the read must still be answered.
  expect(status).toBe(200);
  expect(body.messages.at(-1).status).toBe('error');
  expect(body.messages.at(-1).content).toBe(seen);
});
