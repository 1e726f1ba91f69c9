// The inference service as the chat service sees it: a stream of responses, cancellable with a signal,
// failing with one error class whose kind says what the run should tell the user.
import * as grpc from '@grpc/grpc-js';
import {
  InferenceServiceClient,
  type GenerateRequest,
  type GenerateResponse,
  type ListModelsResponse,
} from '@freechat/proto/freechat/inference/v1/inference';
import type { ChannelProvider } from '@freechat/shared';

export type InferenceFailureKind = 'unavailable' | 'prompt_too_long' | 'invalid_argument' | 'cancelled' | 'error';

export class InferenceCallError extends Error {
  override readonly name = 'InferenceCallError';
  constructor(
    readonly kind: InferenceFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface InferenceGateway {
  /** Aborting the signal cancels the call, which frees the model's batch slot. Throws InferenceCallError. */
  generate(request: GenerateRequest, signal: AbortSignal): AsyncIterable<GenerateResponse>;
  /** The served models and their limits. Throws InferenceCallError. */
  listModels(timeoutMs: number): Promise<ListModelsResponse>;
  close(): void;
}

export function createInferenceGateway(options: { readonly channels: ChannelProvider }): InferenceGateway {
  // Each Generate goes to the inference instance with the fewest running calls (the provider's
  // policy for inference); the provider owns the channels.
  const client = options.channels.client('inference', InferenceServiceClient);

  return {
    async *generate(request, signal) {
      let call: grpc.ClientReadableStream<GenerateResponse>;
      try {
        call = client.generate(request);
      } catch (error) {
        // No healthy instance: the same outcome as an unreachable one.
        throw classify(error);
      }
      const cancel = (): void => call.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      if (signal.aborted) cancel();
      try {
        for await (const response of call as AsyncIterable<GenerateResponse>) yield response;
      } catch (error) {
        throw classify(error);
      } finally {
        signal.removeEventListener('abort', cancel);
        // The consumer stopped early (or the call failed): make sure the model stops too.
        call.cancel();
      }
    },
    listModels(timeoutMs) {
      return new Promise((resolve, reject) => {
        try {
          client.listModels({}, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => (error ? reject(classify(error)) : resolve(response)));
        } catch (error) {
          reject(classify(error));
        }
      });
    },
    close() {
      // The channels belong to the provider, closed by whoever created it.
    },
  };
}

function classify(error: unknown): InferenceCallError {
  const code = (error as Partial<grpc.ServiceError>).code;
  const details = (error as Partial<grpc.ServiceError>).details ?? String(error);
  switch (code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
    case grpc.status.RESOURCE_EXHAUSTED:
      return new InferenceCallError('unavailable', details, { cause: error });
    case grpc.status.INVALID_ARGUMENT:
      // The inference service names the field; `messages` is the prompt (too long for the context).
      return new InferenceCallError(details.startsWith('messages') ? 'prompt_too_long' : 'invalid_argument', details, { cause: error });
    case grpc.status.CANCELLED:
      return new InferenceCallError('cancelled', details, { cause: error });
    default:
      return new InferenceCallError('error', details, { cause: error });
  }
}
