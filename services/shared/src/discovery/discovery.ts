// Discovery as a service uses it: one object built from the `discovery` config that says which mode
// runs (Consul, or static addresses for `make run`), provides every gRPC channel, and registers
// the service itself.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createChannelProvider, type ChannelProvider } from './channel-provider.js';
import type { DiscoveryConfig } from './config.js';
import { createConsulClient } from './consul-client.js';
import { createConsulSource } from './consul-source.js';
import { createStaticSource } from './instance-source.js';
import type { GrpcTransport } from '../grpc-transport.js';
import type { GrpcMetrics } from '../telemetry/grpc-metrics.js';
import type { BalancingPolicy } from './picker.js';
import { registerService, type HealthCheckSpec, type ServiceRegistration } from './registration.js';
import type { ServiceName } from './service-names.js';

export interface CreateDiscoveryOptions {
  readonly config: DiscoveryConfig;
  /** The service being started. */
  readonly service: ServiceName;
  readonly logger: Logger;
  /** Where its upstreams are when no Consul is configured. */
  readonly staticAddresses?: Readonly<Partial<Record<ServiceName, string>>>;
  readonly policies?: Partial<Record<ServiceName, BalancingPolicy>>;
  /** Credentials and size limits of every channel; default plaintext, 4 MiB. */
  readonly transport?: GrpcTransport;
  /** Registration check period (default 30 s); tests shorten it. */
  readonly reassertIntervalMs?: number;
  /** gRPC client call metrics for every channel (from startServiceMetrics). */
  readonly metrics?: GrpcMetrics;
}

export interface RegisterSelfOptions {
  /** `host:port` the server is bound to (port resolved). */
  readonly listenAddress: string;
  readonly check: HealthCheckSpec;
  readonly tags?: readonly string[];
}

export interface Discovery {
  readonly mode: 'consul' | 'static';
  readonly channels: ChannelProvider;
  /** Announces this instance in Consul (nothing in static mode). Call once it is ready to serve. */
  register(options: RegisterSelfOptions): Promise<ServiceRegistration>;
  /** Withdraws what register announced (waiting for one in flight); first step of a shutdown. Never throws. */
  deregister(): Promise<void>;
  /** Stops watching and closes every channel: after the service's own calls have ended. */
  close(): void;
}

export function createDiscovery(options: CreateDiscoveryOptions): Discovery {
  const { config, service } = options;
  const logger = options.logger.child({ component: 'discovery' });
  const consulAddress = config.consul.address;
  const summary = options.transport?.summary ?? { grpcTransport: 'plaintext' };
  options.logger.info(summary, `gRPC clients: ${summary['grpcTransport'] === 'mtls' ? 'mutual TLS (presenting this service\'s certificate, verifying servers against the CA)' : 'plaintext'}`);
  if (!consulAddress) {
    const source = createStaticSource(options.staticAddresses ?? {});
    const channels = createChannelProvider({
      source,
      logger,
      ...(options.transport && { transport: options.transport }),
      ...(options.policies && { policies: options.policies }),
      ...(options.metrics && { metrics: options.metrics }),
    });
    options.logger.info('discovery: static addresses');
    return withSelfRegistration('static', channels, async () => ({ id: '', deregister: async () => {} }));
  }

  const consul = createConsulClient(consulAddress);
  const channels = createChannelProvider({
    source: createConsulSource({ consul, address: consulAddress, logger, namePrefix: config.consul.serviceNamePrefix }),
    logger,
    ...(options.transport && { transport: options.transport }),
    ...(options.policies && { policies: options.policies }),
    ...(options.metrics && { metrics: options.metrics }),
  });
  options.logger.info(`discovery: consul at ${consulAddress}`);
  return withSelfRegistration('consul', channels, ({ listenAddress, check, tags }) => {
    const separator = listenAddress.lastIndexOf(':');
    return registerService({
      consul,
      service,
      namePrefix: config.consul.serviceNamePrefix,
      host: advertisedHost(listenAddress.slice(0, separator), config.advertiseHost),
      port: Number(listenAddress.slice(separator + 1)),
      check,
      checkIntervalMs: config.checkIntervalMs,
      deregisterCriticalAfterMs: config.deregisterCriticalAfterMs,
      // The protocol first, so an operator reading the catalog knows how to talk to it (an HTTP
      // check on a port of its own is a gRPC server's health endpoint under mTLS).
      tags: [check.kind === 'http' && check.port === undefined ? 'http' : 'grpc', ...(tags ?? [])],
      logger,
      ...(options.reassertIntervalMs !== undefined && { reassertIntervalMs: options.reassertIntervalMs }),
    });
  });
}

function withSelfRegistration(
  mode: Discovery['mode'],
  channels: ChannelProvider,
  register: (options: RegisterSelfOptions) => Promise<ServiceRegistration>,
): Discovery {
  let registration: Promise<ServiceRegistration> | undefined;
  return {
    mode,
    channels,
    register(options) {
      registration = register(options);
      return registration;
    },
    async deregister() {
      await (await registration)?.deregister();
    },
    close: () => channels.close(),
  };
}

const WILDCARDS = new Set(['', '0.0.0.0', '::', '[::]']);

/** Pure: what to tell callers to dial. A wildcard listen host is reachable as the machine's name. */
export function advertisedHost(listenHost: string, configured: string, machineName: () => string = hostname): string {
  if (configured) return configured;
  return WILDCARDS.has(listenHost) ? machineName() : listenHost.replace(/^\[(.*)\]$/, '$1');
}
