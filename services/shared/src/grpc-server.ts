// A grpc-js server that always carries grpc.health.v1.Health and shuts down in a fixed order.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Logger } from 'pino';

export interface GrpcServiceRegistration {
  /** Fully-qualified name reported by the health service, e.g. `freechat.inference.v1.InferenceService`. */
  readonly name: string;
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

export interface ShutdownOptions {
  /** Runs after health reports NOT_SERVING, before the server stops accepting calls. */
  readonly drain?: () => Promise<void>;
  /** After this long, draining is abandoned and open calls are cut. */
  readonly graceMs: number;
}

export interface GrpcServerHandle {
  readonly server: grpc.Server;
  /** Binds `host:port` (port 0 picks a free one) and returns the bound port. */
  listen(address: string): Promise<number>;
  setServing(serving: boolean): void;
  shutdown(options: ShutdownOptions): Promise<void>;
}

export interface CreateGrpcServerOptions {
  readonly services: readonly GrpcServiceRegistration[];
  readonly logger: Logger;
  readonly serverOptions?: grpc.ServerOptions;
}

export function createGrpcServer(options: CreateGrpcServerOptions): GrpcServerHandle {
  const { logger } = options;
  const server = new grpc.Server(options.serverOptions);
  const names = ['', ...options.services.map((s) => s.name)];
  // Not serving until the owner says so: load balancers must not route to a server without a model.
  const health = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING' as ServingStatus])));
  health.addToServer(server);
  for (const service of options.services) server.addService(service.definition, service.implementation);

  const setServing = (serving: boolean): void => {
    const status: ServingStatus = serving ? 'SERVING' : 'NOT_SERVING';
    for (const name of names) health.setStatus(name, status);
    logger.info({ health: status }, 'health status changed');
  };

  const listen = (address: string): Promise<number> =>
    new Promise((resolve, reject) => {
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
        if (error) reject(new Error(`cannot listen on ${address}: ${error.message}`, { cause: error }));
        else resolve(port);
      });
    });

  const shutdown = async ({ drain, graceMs }: ShutdownOptions): Promise<void> => {
    setServing(false);
    let timer: NodeJS.Timeout | undefined;
    const graceExpired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), graceMs);
    });
    const orderly = (async () => {
      await drain?.();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      return 'done' as const;
    })();
    try {
      if ((await Promise.race([orderly, graceExpired])) === 'expired') {
        logger.warn({ graceMs }, 'graceful shutdown timed out; cutting open calls');
        server.forceShutdown();
      }
    } finally {
      clearTimeout(timer);
    }
  };

  return { server, listen, setServing, shutdown };
}
