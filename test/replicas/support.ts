// Free Chat as replicas share it: one PostgreSQL, one real Redis, the inference service (paced, so
// runs last long enough to be interrupted), auth, two chat replicas and two gateways, each gateway
// pinned to its own chat replica so a request's path through the replicas is known. Chat A runs as a
// separate OS process (so a test can SIGKILL it); everything else runs in this process.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAuthConfig, startAuthServer } from '@freechat/auth';
import { loadChatConfig, startChatServer, type ChatServerHandle } from '@freechat/chat';
import { loadGatewayConfig, startGatewayServer, type GatewayServerHandle } from '@freechat/gateway';
import { loadInferenceConfig, startInferenceServer } from '@freechat/inference';
import { checkGrpcHealth, createLogger, freePort } from '@freechat/shared';
import { startThrowawayPostgres } from '@freechat/shared/postgres';
import { startProcess, waitFor, type ManagedProcess } from '../../scripts/infra/managed-process.js';
import { REPO_ROOT } from '../../scripts/infra/paths.js';
import { createEngineControl, type EngineControl } from '../browser/support/engine-control.js';

export interface ChatProcess {
  readonly address: string;
  readonly process: ManagedProcess;
}

export interface ReplicaStack {
  /** Gateway A → chat A (a child process). */
  readonly gatewayA: GatewayServerHandle;
  /** Gateway B → chat B (in this process). */
  readonly gatewayB: GatewayServerHandle;
  readonly chatA: ChatProcess;
  readonly chatB: ChatServerHandle;
  readonly engine: EngineControl;
  readonly databaseUrl: string;
  close(): Promise<void>;
}

const MODEL_CACHE = path.join(tmpdir(), 'freechat-test-model-cache');

export async function startReplicaStack(options: { readonly redisUrl: string; readonly ownerLeaseMs: number }): Promise<ReplicaStack> {
  const logger = createLogger({ service: 'replicas', level: (process.env['FREECHAT_TEST_LOG_LEVEL'] as 'info' | undefined) ?? 'silent' });
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer().catch(() => {});
    closers.length = 0;
  };
  try {
    const postgres = await startThrowawayPostgres();
    closers.push(() => postgres.stop());
    const engine = createEngineControl();
    const inferenceBase = loadInferenceConfig({
      env: { FREECHAT_MODEL: 'tiny', FREECHAT_MODEL_CACHE: MODEL_CACHE, FREECHAT_INFERENCE_ADDRESS: '127.0.0.1:0' },
    });
    const inference = await startInferenceServer({
      config: { ...inferenceBase, engine: { ...inferenceBase.engine, intraOpThreads: 1 }, shutdown: { graceMs: 2_000 } },
      logger: logger.child({ service: 'inference' }),
      engineFactory: engine.engineFactory,
    });
    closers.push(() => inference.close());
    const auth = await startAuthServer({
      config: {
        ...loadAuthConfig({
          env: { DATABASE_URL: postgres.url, FREECHAT_AUTH_ADDRESS: '127.0.0.1:0', FREECHAT_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'freechat-replicas-auth-')) },
        }),
        argon2: { memoryCostKib: 256, timeCost: 1, parallelism: 1 },
        shutdown: { graceMs: 2_000 },
      },
      logger: logger.child({ service: 'auth' }),
    });
    closers.push(() => auth.close());
    await Promise.all([inference.ready, auth.ready]);

    const chatEnv = { DATABASE_URL: postgres.url, FREECHAT_INFERENCE_ADDRESS: inference.address, FREECHAT_AUTH_ADDRESS: auth.address, REDIS_URL: options.redisUrl };
    // Migrations run in B first, so A (a cold `tsx` start) only finds them done.
    const chatBase = loadChatConfig({ env: { ...chatEnv, FREECHAT_CHAT_ADDRESS: '127.0.0.1:0' } });
    const chatB = await startChatServer({
      config: { ...chatBase, runs: { ...chatBase.runs, ownerLeaseMs: options.ownerLeaseMs }, shutdown: { graceMs: 2_000 } },
      logger: logger.child({ service: 'chat-b' }),
    });
    closers.push(() => chatB.close());
    await chatB.ready;

    const chatA = await startChatProcess('chat-a', { ...chatEnv, FREECHAT_CHAT_OWNER_LEASE_MS: String(options.ownerLeaseMs) });
    closers.push(() => chatA.process.stop(5_000));

    const gateway = async (chatAddress: string, name: string): Promise<GatewayServerHandle> => {
      const base = loadGatewayConfig({
        env: {
          PORT: '0',
          FREECHAT_GATEWAY_HOST: '127.0.0.1',
          FREECHAT_AUTH_ADDRESS: auth.address,
          FREECHAT_CHAT_ADDRESS: chatAddress,
          FREECHAT_INFERENCE_ADDRESS: inference.address,
        },
      });
      const server = await startGatewayServer({ config: { ...base, shutdown: { graceMs: 2_000 } }, logger: logger.child({ service: name }) });
      closers.push(() => server.close());
      return server;
    };
    const gatewayA = await gateway(chatA.address, 'gateway-a');
    const gatewayB = await gateway(chatB.address, 'gateway-b');
    return { gatewayA, gatewayB, chatA, chatB, engine, databaseUrl: postgres.url, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The chat service as its own OS process (from source, like `make run` from dist), on a free port,
 * resolved once SERVING. Its log is kept in a temporary directory and shown if it fails to start.
 */
export async function startChatProcess(name: string, env: Readonly<Record<string, string>>): Promise<ChatProcess> {
  const address = `127.0.0.1:${await freePort()}`;
  const proc = startProcess({
    name,
    command: process.execPath,
    args: ['--conditions=freechat-source', '--import', 'tsx', path.join(REPO_ROOT, 'services/chat/src/main.ts')],
    cwd: REPO_ROOT,
    env: { ...process.env, FREECHAT_LOG_LEVEL: 'warn', ...env, FREECHAT_CHAT_ADDRESS: address },
    logFile: path.join(mkdtempSync(path.join(tmpdir(), `freechat-replicas-${name}-`)), `${name}.log`),
  });
  try {
    await waitFor(name, async () => (await checkGrpcHealth(address, { timeoutMs: 1_000 })) === 'SERVING', { timeoutMs: 90_000, process: proc });
  } catch (error) {
    await proc.stop(2_000);
    throw error;
  }
  return { address, process: proc };
}
