// PostgreSQL going away under running auth and chat servers, and coming back on the same port and
// data: their gRPC health and the gateway's /readyz follow it within seconds, with no restart.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAuthConfig, startAuthServer, type AuthServerHandle } from '@freechat/auth';
import { loadChatConfig, startChatServer, type ChatServerHandle } from '@freechat/chat';
import { checkGrpcHealth, createLogger, type HealthState } from '@freechat/shared';
import { startThrowawayPostgres, type PausablePostgres } from '@freechat/shared/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig, startGatewayServer, type GatewayServerHandle } from '../src/index.js';
import { jsonRequest } from './support/http.js';

const logger = createLogger({ service: 'database-outage-test', level: 'silent' });
/** Nothing listens there: inference is only reported by /readyz, never required. */
const DEAD_INFERENCE = '127.0.0.1:1';

let postgres: PausablePostgres;
let auth: AuthServerHandle;
let chat: ChatServerHandle;
let gateway: GatewayServerHandle;

beforeAll(async () => {
  postgres = await startThrowawayPostgres();
  const authBase = loadAuthConfig({
    env: { DATABASE_URL: postgres.url, FREECHAT_AUTH_ADDRESS: '127.0.0.1:0', FREECHAT_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'freechat-outage-auth-')) },
  });
  auth = await startAuthServer({ config: { ...authBase, argon2: { memoryCostKib: 256, timeCost: 1, parallelism: 1 }, shutdown: { graceMs: 1_000 } }, logger });
  const chatBase = loadChatConfig({
    env: { DATABASE_URL: postgres.url, FREECHAT_CHAT_ADDRESS: '127.0.0.1:0', FREECHAT_INFERENCE_ADDRESS: DEAD_INFERENCE, FREECHAT_AUTH_ADDRESS: auth.address },
  });
  const events = { ...chatBase.events, titles: { ...chatBase.events.titles, enabled: false } };
  chat = await startChatServer({ config: { ...chatBase, events, shutdown: { graceMs: 1_000 } }, logger });
  await Promise.all([auth.ready, chat.ready]);
  const gatewayBase = loadGatewayConfig({
    env: {
      PORT: '0',
      FREECHAT_GATEWAY_HOST: '127.0.0.1',
      FREECHAT_AUTH_ADDRESS: auth.address,
      FREECHAT_CHAT_ADDRESS: chat.address,
      FREECHAT_INFERENCE_ADDRESS: DEAD_INFERENCE,
    },
  });
  gateway = await startGatewayServer({ config: { ...gatewayBase, shutdown: { graceMs: 1_000 } }, logger });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await chat?.close();
  await auth?.close();
  await postgres?.stop();
}, 60_000);

async function within(ms: number, condition: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

const health = async (): Promise<[HealthState, HealthState]> =>
  Promise.all([checkGrpcHealth(auth.address, { timeoutMs: 1_000 }), checkGrpcHealth(chat.address, { timeoutMs: 1_000 })]);

describe('PostgreSQL going away and coming back', () => {
  it('turns auth and chat NOT_SERVING and /readyz 503 within seconds, and back, with no restart', async () => {
    expect(await health()).toEqual(['SERVING', 'SERVING']);
    expect((await jsonRequest(gateway.url, '/readyz')).status).toBe(200);

    await postgres.pause();
    await within(5_000, async () => (await health()).every((s) => s === 'NOT_SERVING'));
    const notReady = await jsonRequest(gateway.url, '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body.upstreams).toMatchObject({ auth: expect.not.stringMatching(/^SERVING$/), chat: expect.not.stringMatching(/^SERVING$/) });
    expect(notReady.body.error.message).toMatch(/auth .*chat /);

    await postgres.resume();
    await within(5_000, async () => (await health()).every((s) => s === 'SERVING'));
    await within(5_000, async () => (await jsonRequest(gateway.url, '/readyz')).status === 200);
  }, 60_000);
});
