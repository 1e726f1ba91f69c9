// Clients for the gRPC tests: the generated InferenceService client and the standard health service.
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import {
  InferenceServiceClient,
  type GenerateRequest,
  type GenerateResponse,
} from '@freechat/proto/freechat/inference/v1/inference';

export function inferenceClient(address: string): InferenceServiceClient {
  return new InferenceServiceClient(address, grpc.credentials.createInsecure());
}

interface HealthClient extends grpc.Client {
  check(
    request: { service: string },
    callback: (error: grpc.ServiceError | null, response: { status: string }) => void,
  ): grpc.ClientUnaryCall;
}

const HealthClientCtor = grpc.makeClientConstructor(healthService, 'grpc.health.v1.Health') as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => HealthClient;

/** `SERVING`, `NOT_SERVING`, ... for one service name ('' is the whole server). */
export async function healthStatus(address: string, service = ''): Promise<string> {
  const client = new HealthClientCtor(address, grpc.credentials.createInsecure());
  try {
    return await new Promise((resolve, reject) => {
      client.check({ service }, (error, response) => (error ? reject(error) : resolve(response.status)));
    });
  } finally {
    client.close();
  }
}

export interface StreamOutcome {
  readonly responses: GenerateResponse[];
  readonly error?: grpc.ServiceError;
}

/** Reads a Generate stream to its end; a status other than OK lands in `error`, never as a rejection. */
export function collect(stream: grpc.ClientReadableStream<GenerateResponse>): Promise<StreamOutcome> {
  const responses: GenerateResponse[] = [];
  return new Promise((resolve) => {
    stream.on('data', (r: GenerateResponse) => responses.push(r));
    stream.on('error', (error: grpc.ServiceError) => resolve({ responses, error }));
    stream.on('end', () => resolve({ responses }));
  });
}

export function generateRequest(overrides: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    requestId: 'test',
    fairnessKey: '',
    messages: [{ role: 2, content: 'Hello there' }],
    sampling: { stop: [], maxNewTokens: 8, seed: 7 },
    answerPrefix: undefined,
    model: '',
    ...overrides,
  } as GenerateRequest;
}

/** Resolves with the first response of a running stream. */
export function firstResponse(stream: grpc.ClientReadableStream<GenerateResponse>): Promise<GenerateResponse> {
  return new Promise((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });
}
