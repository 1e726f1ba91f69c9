// gRPC clients of the upstream services and a promise-returning unary call with a deadline.
import { Metadata, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { AuthServiceClient } from '@freechat/proto/freechat/auth/v1/auth';
import { ChatServiceClient } from '@freechat/proto/freechat/chat/v1/chat';
import { InferenceServiceClient } from '@freechat/proto/freechat/inference/v1/inference';
import { callerMetadata as metadataFor, injectTraceContext, type BalancedClient, type ChannelProvider } from '@freechat/shared';
import type { FastifyRequest } from 'fastify';
import { requestSpan } from './plugins/external/http-tracing.js';

/** Every call picks a healthy instance; with none, the call throws UNAVAILABLE (503 to the browser). */
export interface GatewayClients {
  readonly auth: BalancedClient<AuthServiceClient>;
  readonly chat: BalancedClient<ChatServiceClient>;
  /** Only for the model's description (ListModels); generation goes through chat. */
  readonly inference: BalancedClient<InferenceServiceClient>;
}

export function createGatewayClients(channels: ChannelProvider): GatewayClients {
  return {
    auth: channels.client('auth', AuthServiceClient),
    chat: channels.client('chat', ChatServiceClient),
    inference: channels.client('inference', InferenceServiceClient),
  };
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

/** The metadata that says whom a call acts for: the access token `authenticate` verified. */
export function callerMetadata(request: FastifyRequest): Metadata {
  if (!request.accessToken) throw new Error('callerMetadata needs a route with onRequest: app.authenticate');
  // The request's span is the parent of chat's (W3C traceparent in the metadata).
  const span = requestSpan(request);
  return span ? injectTraceContext(metadataFor(request.accessToken), span.context) : metadataFor(request.accessToken);
}

export function unaryCall<C extends object, K extends UnaryMethodName<C>>(
  client: C,
  method: K,
  request: UnarySignature<C[K]>['request'],
  timeoutMs: number,
  metadata: Metadata = new Metadata(),
): Promise<UnarySignature<C[K]>['response']> {
  const fn = client[method] as unknown as (
    request: unknown,
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: (error: ServiceError | null, response: unknown) => void,
  ) => ClientUnaryCall;
  // The executor turns a synchronous throw (no healthy instance) into a rejection.
  return new Promise((resolve, reject) => {
    fn.call(client, request, metadata, { deadline: Date.now() + timeoutMs }, (error, response) =>
      error ? reject(error) : resolve(response as UnarySignature<C[K]>['response']),
    );
  });
}
