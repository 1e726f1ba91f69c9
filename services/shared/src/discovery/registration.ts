// A service instance announcing itself in Consul's catalog with a health check that Consul runs,
// and withdrawing on shutdown so callers move away before it stops answering.
import { createRequire } from 'node:module';
import type Consul from 'consul';
import type { Logger } from 'pino';
import { catalogName, type ServiceName } from './service-names.js';

/**
 * gRPC services: grpc.health.v1 (NOT_SERVING counts as critical). HTTP: a path answering 2xx, on the
 * service's port or on `port` (a gRPC server under mutual TLS serves its health there, as plain
 * HTTP: Consul's gRPC check cannot present a client certificate our servers would accept).
 */
export type HealthCheckSpec = { readonly kind: 'grpc' } | { readonly kind: 'http'; readonly path: string; readonly port?: number };

export interface RegisterServiceOptions {
  readonly consul: Consul;
  readonly service: ServiceName;
  /** Catalog names are `<prefix>-<service>`; default `freechat`. */
  readonly namePrefix?: string;
  /** Where callers reach this instance (never a wildcard such as 0.0.0.0). */
  readonly host: string;
  readonly port: number;
  readonly check: HealthCheckSpec;
  readonly checkIntervalMs: number;
  readonly deregisterCriticalAfterMs: number;
  readonly tags?: readonly string[];
  /** Default: the release version (every workspace package carries the same one). */
  readonly version?: string;
  readonly logger: Logger;
  /**
   * How often the registration is verified and restored if missing: an agent restarted without
   * its data, or one that reaped this instance after a long stall, would otherwise forget it.
   */
  readonly reassertIntervalMs?: number;
}

export interface ServiceRegistration {
  /** Consul's service id; empty when nothing was registered (static mode). */
  readonly id: string;
  /** Removes the instance from the catalog; never throws (shutdown goes on regardless). */
  deregister(): Promise<void>;
}

const RELEASE_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** Pure: the body of Consul's `PUT /v1/agent/service/register` (in the consul client's key style). */
export function registrationRequest(options: Omit<RegisterServiceOptions, 'consul' | 'logger' | 'reassertIntervalMs'>) {
  const name = catalogName(options.service, options.namePrefix);
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const target = `${host}:${options.port}`;
  const interval = `${options.checkIntervalMs}ms`;
  const check =
    options.check.kind === 'grpc'
      ? { grpc: target, grpcusetls: false }
      : { http: `http://${host}:${options.check.port ?? options.port}${options.check.path}` };
  return {
    id: `${name}-${options.host}-${options.port}`,
    name,
    address: options.host,
    port: options.port,
    tags: [...(options.tags ?? [])],
    meta: { version: options.version ?? RELEASE_VERSION },
    check: {
      name: `${name} health`,
      ...check,
      interval,
      // An instance that cannot answer its health check within one interval is not healthy.
      timeout: interval,
      deregistercriticalserviceafter: `${options.deregisterCriticalAfterMs}ms`,
    },
  };
}

export async function registerService(options: RegisterServiceOptions): Promise<ServiceRegistration> {
  const { consul, logger } = options;
  const request = registrationRequest(options);
  // A hung agent must not hang a start or a shutdown.
  const timeout = { timeout: 5_000 } as object;
  const register = async (): Promise<void> => {
    await consul.agent.service.register({ ...request, ...timeout });
  };

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let announced = false;
  // Deregistration waits for it: a registration landing after the deregistration would linger.
  let inFlight: Promise<void> = Promise.resolve();
  const reassert = async (): Promise<void> => {
    try {
      if (!announced) {
        await register();
        announced = true;
        logger.info({ id: request.id, name: request.name, address: `${request.address}:${request.port}` }, 'registered in consul');
      } else if (!(request.id in (await consul.agent.service.list(timeout)))) {
        logger.warn({ id: request.id }, 'registration missing from consul; registering again');
        await register();
      }
    } catch (error) {
      // Consul down: keep serving (callers that know this instance still reach it) and retry.
      logger.warn({ err: error, id: request.id }, 'consul registration failed; retrying');
      announced = false;
    }
    if (!stopped) {
      const interval = options.reassertIntervalMs ?? 30_000;
      // Not registered yet (Consul away at start): try again soon, callers cannot find us until then.
      timer = setTimeout(() => (inFlight = reassert()), announced ? interval : Math.min(interval, 2_000));
      timer.unref();
    }
  };
  inFlight = reassert();
  await inFlight;

  let deregistered: Promise<void> | undefined;
  return {
    id: request.id,
    deregister() {
      stopped = true;
      clearTimeout(timer);
      deregistered ??= (async () => {
        await inFlight;
        try {
          await consul.agent.service.deregister({ id: request.id, ...timeout });
          logger.info({ id: request.id }, 'deregistered from consul');
        } catch (error) {
          logger.warn({ err: error, id: request.id }, 'consul deregistration failed; its health check will remove the instance');
        }
      })();
      return deregistered;
    },
  };
}
