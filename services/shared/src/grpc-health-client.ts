// Asks a gRPC server's standard health service how it is: for readiness probes and `make run`.
import { credentials, makeGenericClientConstructor, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { ChannelProvider } from './discovery/channel-provider.js';
import type { ServiceName } from './discovery/service-names.js';

export type HealthState = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'UNREACHABLE';

const HealthClient = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');

interface HealthCheckClient {
  check(
    request: { service: string },
    options: { deadline: Date },
    callback: (error: ServiceError | null, response?: { status: string | number }) => void,
  ): void;
  close(): void;
}

/** One `Check` call with a deadline; any transport failure is UNREACHABLE, never a throw. */
export async function checkGrpcHealth(address: string, options: HealthCheckOptions = {}): Promise<HealthState> {
  const client = new HealthClient(address, options.credentials ?? credentials.createInsecure()) as unknown as HealthCheckClient;
  try {
    return await askHealth(client, options);
  } finally {
    client.close();
  }
}

/**
 * The health of an instance of `service` as the provider picks it for any call, so readiness sees
 * what callers see: UNREACHABLE also when no instance is healthy.
 */
export function checkServiceHealth(channels: ChannelProvider, service: ServiceName, options: HealthCheckOptions = {}): Promise<HealthState> {
  return askHealth(channels.client(service, HealthClient) as unknown as Pick<HealthCheckClient, 'check'>, options);
}

export interface HealthCheckOptions {
  /** Default: the server as a whole (''). */
  readonly service?: string;
  readonly timeoutMs?: number;
  /** checkGrpcHealth only: e.g. a GrpcTransport's channelCredentials() for a server under mTLS. Default plaintext. */
  readonly credentials?: ChannelCredentials;
}

function askHealth(client: Pick<HealthCheckClient, 'check'>, options: HealthCheckOptions): Promise<HealthState> {
  return new Promise<HealthState>((resolve) => {
    // The executor turns a synchronous throw (no healthy instance) into a rejection; caught below.
    client.check({ service: options.service ?? '' }, { deadline: new Date(Date.now() + (options.timeoutMs ?? 2_000)) }, (error, response) => {
      if (error || !response) return resolve('UNREACHABLE');
      const status = response.status;
      resolve(status === 'SERVING' || status === 1 ? 'SERVING' : status === 'NOT_SERVING' || status === 2 ? 'NOT_SERVING' : 'UNKNOWN');
    });
  }).catch(() => 'UNREACHABLE' as const);
}
