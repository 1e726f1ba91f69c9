// Composition of the auth service: signing key, then gRPC + health, then migrations, then SERVING.
import { AuthServiceClient, AuthServiceService } from '@freechat/proto/freechat/auth/v1/auth';
import { createDiscovery, bindGrpcServer, createGrpcServer, createGrpcTransport, startServiceMetrics, type Logger } from '@freechat/shared';
import { createPool, watchDatabase, type DatabaseWatch } from '@freechat/shared/postgres';
import { createAccessTokenIssuer } from './access-tokens.js';
import { AuthService } from './auth-service.js';
import type { AuthConfig } from './config.js';
import { migrateWhenReachable } from './database.js';
import { createAuthHandlers } from './grpc-handlers.js';
import { authMetrics } from './metrics.js';
import { createPasswordHasher, type PasswordHasher } from './passwords.js';
import { loadSigningKey, toJwks, type SigningKey } from './signing-keys.js';
import { SettingsRepository } from './settings-repository.js';
import { TokensRepository } from './tokens-repository.js';
import { UsersRepository } from './users-repository.js';

export interface StartAuthServerOptions {
  readonly config: AuthConfig;
  readonly logger: Logger;
  /** Default: the wall clock. Tests move it to expire tokens. */
  readonly now?: () => Date;
  /** Delay before connection attempt n+1 while the database is unreachable. */
  readonly retryDelayMs?: (attempt: number) => number;
}

export interface AuthServerHandle {
  /** `host:port` actually bound (port 0 in config becomes a real port). */
  readonly address: string;
  readonly port: number;
  /** Resolves once migrations ran and health reports SERVING (or when closed first); rejects if they failed. */
  readonly ready: Promise<void>;
  readonly signingKey: SigningKey;
  /** `http://host:port/metrics`, or undefined when metrics.address is empty. */
  readonly metricsUrl: string | undefined;
  /** NOT_SERVING, let running calls finish (up to shutdown.graceMs), stop gRPC, close the pool. */
  close(): Promise<void>;
}

/** Rejects with ConfigError (naming `auth.signingKeyFile`) before listening when the key is missing or unusable. */
export async function startAuthServer(options: StartAuthServerOptions): Promise<AuthServerHandle> {
  const { config, logger } = options;
  const now = options.now ?? (() => new Date());
  const signingKey = await loadSigningKey({
    env: config.env,
    signingKeyFile: config.auth.signingKeyFile,
    dataDir: config.dataDir,
    logger,
  });
  logger.info({ kid: signingKey.kid, source: signingKey.source, file: signingKey.file }, 'signing key loaded');

  let service: AuthService | undefined;
  const transport = createGrpcTransport(config.grpc, 'auth');
  const metrics = await startServiceMetrics({ service: 'auth', config: config.metrics, logger });
  const outcomes = authMetrics(metrics.registry);
  const grpc = createGrpcServer({
    logger,
    transport,
    metrics: metrics.grpc,
    services: [
      {
        name: AuthServiceClient.serviceName,
        definition: AuthServiceService,
        implementation: createAuthHandlers({ service: () => service, jwksJson: JSON.stringify(toJwks([signingKey])), logger }),
      },
    ],
  });
  const { port, address } = await bindGrpcServer(grpc, config.listen.address, () => metrics.close());
  logger.info({ address }, 'listening; NOT_SERVING until the database is migrated');
  const discovery = createDiscovery({ config: config.discovery, service: 'auth', logger, transport });

  const pool = createPool({ url: config.database.url, passwordFile: config.database.passwordFile, max: config.database.poolMax, applicationName: 'freechat-auth' });
  const stopping = new AbortController();
  let watch: DatabaseWatch | undefined;
  const ready = (async () => {
    let passwords: PasswordHasher;
    try {
      [passwords] = await Promise.all([
        createPasswordHasher(config.argon2),
        migrateWhenReachable({ pool, logger, signal: stopping.signal, ...(options.retryDelayMs && { retryDelayMs: options.retryDelayMs }) }),
      ]);
    } catch (error) {
      // Closed while waiting for the database: a shutdown, not a failed start.
      if (stopping.signal.aborted) return;
      throw error;
    }
    if (stopping.signal.aborted) return;
    service = new AuthService({
      users: new UsersRepository(pool),
      tokens: new TokensRepository(pool),
      settings: new SettingsRepository(pool),
      passwords,
      accessTokens: createAccessTokenIssuer({ key: signingKey, ttlSeconds: config.auth.accessTokenTtlSeconds }),
      refreshTokenTtlSeconds: config.auth.refreshTokenTtlSeconds,
      refreshReuseGraceMs: config.auth.refreshReuseGraceSeconds * 1000,
      now,
      logger,
      metrics: outcomes,
    });
    grpc.setServing(true);
    logger.info('database migrated; SERVING');
    // From now on health follows the database: NOT_SERVING while it is away, SERVING once it is back.
    watch = watchDatabase({ pool, logger, onChange: (reachable) => grpc.setServing(reachable) });
    await discovery.register({ listenAddress: address, check: grpc.healthCheck() });
  })();
  // Callers await `ready`; this only keeps a failed start from also being an unhandled rejection.
  ready.catch(() => {});

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    stopping.abort();
    closed ??= (async () => {
      // Before shutdown reports NOT_SERVING, so nothing turns it back to SERVING.
      watch?.stop();
      // Out of the catalog first, so callers stop picking this instance while it still answers.
      await discovery.deregister();
      await grpc.shutdown({ graceMs: config.shutdown.graceMs });
      await ready.catch(() => {});
      await pool.end();
      discovery.close();
      await metrics.close();
    })();
    return closed;
  };

  return { address, port, ready, signingKey, metricsUrl: metrics.url, close };
}
