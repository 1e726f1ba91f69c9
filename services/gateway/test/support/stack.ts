// The whole backend in this process, for gateway and end-to-end tests: throwaway PostgreSQL, the
// inference service on the built-in tiny model, auth, chat and the gateway, each on a free port.
// Real servers and sockets throughout; nothing is mocked.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAuthConfig, startAuthServer, type AuthServerHandle } from '@freechat/auth';
import { loadChatConfig, startChatServer, type ChatServerHandle } from '@freechat/chat';
import { loadGatewayConfig, startGatewayServer, type GatewayServerHandle } from '../../src/index.js';
import { testGatewayConfig, type GatewayOverrides } from './gateway-config.js';
import { loadInferenceConfig, startInferenceServer, type EngineFactory, type InferenceServerHandle } from '@freechat/inference';
import { createLogger, type DiscoveryConfig, type Logger } from '@freechat/shared';
import { startThrowawayPostgres } from '@freechat/shared/postgres';

export { GENEROUS_RATE_LIMITS } from './gateway-config.js';

export interface StackOptions {
  /** Gateway settings to change, e.g. `{ sse: { heartbeatMs: 200 } }`. */
  readonly gateway?: GatewayOverrides;
  /** Every service's metrics.address (`''`: no /metrics endpoint). Default: config/default.yaml's. */
  readonly metricsAddress?: string;
  /** Default: FREECHAT_TEST_LOG_LEVEL, else silent. */
  readonly logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Wraps or replaces the inference engine (e.g. to relabel deltas as reasoning or to pace them). */
  readonly engineFactory?: EngineFactory;
  /**
   * Whether chat replaces a new conversation's first-message title with one the model writes.
   * Default true; suites that assert on first-message titles turn it off.
   */
  readonly generatedTitles?: boolean;
  /** Every service registers in this Consul and finds the others there. Default: static addresses. */
  readonly consul?: { readonly address: string; readonly serviceNamePrefix: string };
}

export interface Stack {
  /** `http://127.0.0.1:<port>` of the gateway. */
  readonly url: string;
  readonly gateway: GatewayServerHandle;
  readonly auth: AuthServerHandle;
  readonly chat: ChatServerHandle;
  readonly inference: InferenceServerHandle;
  readonly databaseUrl: string;
  readonly logger: Logger;
  /** Moves the gateway's clock (token expiry) forward; the services keep real time. */
  advanceGatewayClock(ms: number): void;
  /** Closes everything in reverse order of start. */
  close(): Promise<void>;
}

// Shared across test files and runs: the builder writes atomically and skips a current build.
const MODEL_CACHE = path.join(tmpdir(), 'freechat-test-model-cache');

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const level = options.logLevel ?? (process.env['FREECHAT_TEST_LOG_LEVEL'] as StackOptions['logLevel']) ?? 'silent';
  const logger = createLogger({ service: 'stack', level });
  // Checked often, so tests see registrations turn healthy quickly.
  const discovery = <C extends { readonly discovery: DiscoveryConfig }>(config: C): C =>
    options.consul
      ? { ...config, discovery: { ...config.discovery, consul: options.consul, advertiseHost: '127.0.0.1', checkIntervalMs: 300 } }
      : config;
  // Set on the config itself: loadConfig skips empty environment variables, so '' could not come through FREECHAT_*_METRICS_ADDRESS.
  const metrics = <C extends { readonly metrics: { readonly address: string } }>(config: C): C =>
    options.metricsAddress === undefined ? config : { ...config, metrics: { ...config.metrics, address: options.metricsAddress } };
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer().catch((error: unknown) => logger.warn({ err: error }, 'close failed'));
    closers.length = 0;
  };

  try {
    const postgres = await startThrowawayPostgres();
    closers.push(() => postgres.stop());

    const inferenceBase = loadInferenceConfig({
      env: { FREECHAT_MODEL: 'tiny', FREECHAT_MODEL_CACHE: MODEL_CACHE, FREECHAT_INFERENCE_ADDRESS: '127.0.0.1:0' },
    });
    const inference = await startInferenceServer({
      config: discovery({ ...metrics(inferenceBase), engine: { ...inferenceBase.engine, intraOpThreads: 1 }, shutdown: { graceMs: 2_000 } }),
      logger: logger.child({ service: 'inference' }),
      ...(options.engineFactory && { engineFactory: options.engineFactory }),
    });
    closers.push(() => inference.close());

    const authBase = loadAuthConfig({
      env: {
        DATABASE_URL: postgres.url,
        FREECHAT_AUTH_ADDRESS: '127.0.0.1:0',
        FREECHAT_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'freechat-stack-auth-')),
      },
    });
    const auth = await startAuthServer({
      // Cheap password hashing: tests register many users.
      config: discovery({ ...metrics(authBase), argon2: { memoryCostKib: 256, timeCost: 1, parallelism: 1 }, shutdown: { graceMs: 2_000 } }),
      logger: logger.child({ service: 'auth' }),
    });
    closers.push(() => auth.close());

    const chatBase = loadChatConfig({
      env: { DATABASE_URL: postgres.url, FREECHAT_CHAT_ADDRESS: '127.0.0.1:0', FREECHAT_INFERENCE_ADDRESS: inference.address, FREECHAT_AUTH_ADDRESS: auth.address },
    });
    const events = { ...chatBase.events, titles: { ...chatBase.events.titles, enabled: options.generatedTitles ?? true } };
    const chat = await startChatServer({ config: discovery({ ...metrics(chatBase), events, shutdown: { graceMs: 2_000 } }), logger: logger.child({ service: 'chat' }) });
    closers.push(() => chat.close());

    await Promise.all([inference.ready, auth.ready, chat.ready]);

    const gatewayBase = loadGatewayConfig({
      env: {
        PORT: '0',
        FREECHAT_GATEWAY_HOST: '127.0.0.1',
        FREECHAT_AUTH_ADDRESS: auth.address,
        FREECHAT_CHAT_ADDRESS: chat.address,
        FREECHAT_INFERENCE_ADDRESS: inference.address,
      },
    });
    let clockOffsetMs = 0;
    const gateway = await startGatewayServer({
      config: discovery(metrics(testGatewayConfig(gatewayBase, options.gateway))),
      logger: logger.child({ service: 'gateway' }),
      now: () => Date.now() + clockOffsetMs,
    });
    closers.push(() => gateway.close());

    return {
      url: gateway.url,
      gateway,
      auth,
      chat,
      inference,
      databaseUrl: postgres.url,
      logger,
      advanceGatewayClock: (ms) => {
        clockOffsetMs += ms;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
