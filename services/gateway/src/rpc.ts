// gRPC clients of the upstream services and a promise-returning unary call with a deadline.
import { credentials, Metadata, type CallOptions, type Client, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { AuthServiceClient } from '@freechat/proto/freechat/auth/v1/auth';
import { ChatServiceClient } from '@freechat/proto/freechat/chat/v1/chat';
import { InferenceServiceClient } from '@freechat/proto/freechat/inference/v1/inference';

export interface GatewayClients {
  readonly auth: AuthServiceClient;
  readonly chat: ChatServiceClient;
  /** Only for the model's description (ListModels); generation goes through chat. */
  readonly inference: InferenceServiceClient;
}

export interface UpstreamAddresses {
  readonly auth: string;
  readonly chat: string;
  readonly inference: string;
}

export function createGatewayClients(addresses: UpstreamAddresses): GatewayClients {
  return {
    auth: new AuthServiceClient(addresses.auth, credentials.createInsecure()),
    chat: new ChatServiceClient(addresses.chat, credentials.createInsecure()),
    inference: new InferenceServiceClient(addresses.inference, credentials.createInsecure()),
  };
}

export function closeGatewayClients(clients: GatewayClients): void {
  clients.auth.close();
  clients.chat.close();
  clients.inference.close();
}

// ts-proto's unary methods are overloaded; the last overload (request, metadata, options, callback)
// is the one conditional types see, which is the one used here.
type UnarySignature<F> = F extends (
  request: infer Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: infer Res) => void,
) => ClientUnaryCall
  ? { request: Req; response: Res }
  : never;

type UnaryMethodName<C> = {
  [K in keyof C]: UnarySignature<C[K]> extends never ? never : K;
}[keyof C];

export function unaryCall<C extends Client, K extends UnaryMethodName<C>>(
  client: C,
  method: K,
  request: UnarySignature<C[K]>['request'],
  timeoutMs: number,
): Promise<UnarySignature<C[K]>['response']> {
  const fn = client[method] as unknown as (
    request: unknown,
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: (error: ServiceError | null, response: unknown) => void,
  ) => ClientUnaryCall;
  return new Promise((resolve, reject) => {
    fn.call(client, request, new Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) =>
      error ? reject(error) : resolve(response as UnarySignature<C[K]>['response']),
    );
  });
}
