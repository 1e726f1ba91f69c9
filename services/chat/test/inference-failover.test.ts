// Failover of chat's inference calls through the channel provider, against a real Consul and real
// inference servers on the built-in tiny model: under steady load one instance crashes; once Consul's
// check has taken it out, no call fails and none goes there; a new instance gets its share again.
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GenerateRequest } from '@freechat/proto/freechat/inference/v1/inference';
import {
  createChannelProvider,
  createConsulClient,
  createConsulSource,
  createLogger,
  registerService,
  type ChannelProvider,
  type ServiceRegistration,
} from '@freechat/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { infraEndpoints } from '../../../test/infra/endpoints.js';
import { loadInferenceConfig } from '../../inference/src/config.js';
import { withGenerate } from '../../inference/src/engine/index.js';
import { defaultEngineFactory, startInferenceServer, type InferenceServerHandle } from '../../inference/src/server.js';
import { createInferenceGateway } from '../src/inference-client.js';

const logger = createLogger({ service: 'failover-test', level: (process.env['FREECHAT_TEST_LOG_LEVEL'] as 'info' | undefined) ?? 'silent' });
// Shared with the other suites that start the tiny model: built once, reused.
const MODEL_CACHE = path.join(tmpdir(), 'freechat-test-model-cache');
const CHECK_INTERVAL_MS = 500;
const WORKERS = 6;

interface Instance {
  readonly server: InferenceServerHandle;
  readonly registration: ServiceRegistration;
  /** Generate calls its engine received. */
  readonly served: { count: number };
}

const request: GenerateRequest = {
  requestId: 'failover',
  fairnessKey: 'user:failover',
  messages: [{ role: 2, content: 'Hi' }],
  enableThinking: false,
  sampling: { stop: [], maxNewTokens: 2, seed: 1, temperature: 0 },
  answerPrefix: undefined,
  model: '',
};

describe('inference failover through Consul', () => {
  const consulAddress = infraEndpoints().consulAddress;
  if (!consulAddress) throw new Error('the test infrastructure started no Consul');
  const consul = createConsulClient(consulAddress);
  // Its own catalog names: other test files share this Consul.
  const namePrefix = `failover${randomUUID().slice(0, 8)}`;
  const instances: Instance[] = [];
  let channels: ChannelProvider | undefined;

  afterAll(async () => {
    channels?.close();
    for (const instance of instances) {
      await instance.registration.deregister();
      await instance.server.close();
    }
  });

  const startInstance = async (): Promise<Instance> => {
    const served = { count: 0 };
    const base = loadInferenceConfig({ env: { FREECHAT_MODEL: 'tiny', FREECHAT_MODEL_CACHE: MODEL_CACHE, FREECHAT_INFERENCE_ADDRESS: '127.0.0.1:0' } });
    const server = await startInferenceServer({
      // No grace: closing it is a crash as callers see it (running calls cut, port closed).
      config: { ...base, engine: { ...base.engine, intraOpThreads: 1 }, shutdown: { graceMs: 0 } },
      logger,
      engineFactory: async (model, config, engineLogger) =>
        withGenerate(await defaultEngineFactory(model, config, engineLogger), (generation, inner) => {
          served.count++;
          return inner.generate(generation);
        }),
    });
    await server.ready;
    // Registered by the test, not by the server (which runs in static mode): a crash leaves the
    // registration behind, as a killed process would, and only the health check can remove it.
    const registration = await registerService({
      consul,
      namePrefix,
      service: 'inference',
      host: '127.0.0.1',
      port: server.port,
      check: { kind: 'grpc' },
      checkIntervalMs: CHECK_INTERVAL_MS,
      deregisterCriticalAfterMs: 60_000,
      logger,
    });
    const instance = { server, registration, served };
    instances.push(instance);
    return instance;
  };

  const offered = (): string[] => (channels?.instances('inference') ?? []).map((instance) => instance.id).sort();
  const waitUntil = async (what: string, condition: () => boolean, timeoutMs: number): Promise<number> => {
    const started = Date.now();
    while (!condition()) {
      if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await sleep(20);
    }
    return Date.now();
  };

  it('moves load off a crashed instance within seconds, loses no call afterwards, and spreads load onto a new instance', { timeout: 120_000 }, async () => {
    const [a, b] = [await startInstance(), await startInstance()];
    channels = createChannelProvider({ source: createConsulSource({ consul, address: consulAddress, logger, namePrefix }), logger });
    const inference = createInferenceGateway({ channels });
    await waitUntil('both instances offered', () => offered().length === 2, 10_000);

    const outcomes: { startedAt: number; ok: boolean; error?: string }[] = [];
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) {
        const startedAt = Date.now();
        try {
          for await (const response of inference.generate(request, new AbortController().signal)) void response;
          outcomes.push({ startedAt, ok: true });
        } catch (error) {
          outcomes.push({ startedAt, ok: false, error: (error as Error).message });
          // A failing caller backs off a little, as the run manager's users do by retrying later.
          await sleep(10);
        }
      }
    };
    const workers = Array.from({ length: WORKERS }, worker);
    try {
      await sleep(2_000);
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      // Both take load.
      expect(a!.served.count).toBeGreaterThan(5);
      expect(b!.served.count).toBeGreaterThan(5);

      // Crash b: calls on it are cut, its port closes, its registration stays.
      const crashedAt = Date.now();
      await b!.server.close();
      const withdrawnAt = await waitUntil('crashed instance withdrawn', () => !offered().includes(b!.registration.id), 10_000);
      const windowMs = withdrawnAt - crashedAt;
      const failedInWindow = outcomes.filter((o) => !o.ok && o.startedAt >= crashedAt - 1_000).length;
      logger.info({ windowMs, failedInWindow }, 'failover window');
      process.stdout.write(`failover window: ${windowMs} ms, ${failedInWindow} call(s) failed in it\n`);
      expect(windowMs).toBeLessThan(CHECK_INTERVAL_MS * 6);

      const survivorBefore = a!.served.count;
      await sleep(2_000);
      const after = outcomes.filter((o) => o.startedAt > withdrawnAt);
      expect(after.length).toBeGreaterThan(20);
      expect(after.filter((o) => !o.ok)).toEqual([]);
      // Nothing went to the dead instance: every call succeeded, and all of them ran on the survivor.
      expect(offered()).toEqual([a!.registration.id]);
      expect(a!.served.count - survivorBefore).toBeGreaterThanOrEqual(after.length);

      // A new instance joins and gets its share.
      const c = await startInstance();
      const joinedAt = await waitUntil('new instance offered', () => offered().includes(c.registration.id), 10_000);
      const [aBefore, cBefore] = [a!.served.count, c.served.count];
      await sleep(2_000);
      const aShare = a!.served.count - aBefore;
      const cShare = c.served.count - cBefore;
      expect(cShare).toBeGreaterThan((aShare + cShare) * 0.25);
      expect(outcomes.filter((o) => o.startedAt > joinedAt && !o.ok)).toEqual([]);
    } finally {
      running = false;
      await Promise.all(workers);
    }
  });
});
