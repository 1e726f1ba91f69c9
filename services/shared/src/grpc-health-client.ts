// Asks a gRPC server's standard health service how it is: for readiness probes and `make run`.
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

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
export async function checkGrpcHealth(address: string, options: { service?: string; timeoutMs?: number } = {}): Promise<HealthState> {
  const client = new HealthClient(address, credentials.createInsecure()) as unknown as HealthCheckClient;
  try {
    return await new Promise<HealthState>((resolve) => {
      client.check({ service: options.service ?? '' }, { deadline: new Date(Date.now() + (options.timeoutMs ?? 2_000)) }, (error, response) => {
        if (error || !response) return resolve('UNREACHABLE');
        const status = response.status;
        resolve(status === 'SERVING' || status === 1 ? 'SERVING' : status === 'NOT_SERVING' || status === 2 ? 'NOT_SERVING' : 'UNKNOWN');
      });
    });
  } finally {
    client.close();
  }
}
