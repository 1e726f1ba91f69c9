// InferenceService over an Engine: streams events with backpressure and turns cancellation into an abort.
import { randomUUID } from 'node:crypto';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { GenerateRequest, GenerateResponse, InferenceServiceServer } from '@freechat/proto/freechat/inference/v1/inference';
import { drained, nsToTimestamp, toServiceError, type Logger, type WallClock } from '@freechat/shared';
import { InvalidArgumentError, UnavailableError } from './engine/errors.js';
import { traceGeneration } from './generation-tracing.js';
import type { Engine, GenerationEvent } from './engine/types.js';
import { toGenerateResponse, toGenerationRequest, toModelInfo, toStatus } from './grpc-mapping.js';

export interface InferenceHandlersOptions {
  /** Undefined while the model loads: calls then fail with UNAVAILABLE. */
  readonly engine: () => Engine | undefined;
  readonly logger: Logger;
  readonly clock: WallClock;
  /** Observes each delta's residence in this service once it is written (metrics.ts). */
  readonly metrics?: { deltaWritten(event: GenerationEvent): void };
}

export function createInferenceHandlers(options: InferenceHandlersOptions): InferenceServiceServer {
  const { logger } = options;
  const requireEngine = (): Engine => {
    const engine = options.engine();
    if (!engine) throw new UnavailableError('the model is still loading');
    return engine;
  };
  return {
    generate: (call) => {
      void streamGeneration(call, requireEngine, options);
    },
    listModels: (_call, callback) => {
      try {
        const engine = requireEngine();
        callback(null, { models: [toModelInfo(engine.model, engine.kvCache)] });
      } catch (error) {
        const mapped = toStatus(error);
        if (mapped.unexpected) logger.error({ err: error }, 'ListModels failed');
        callback(toServiceError(mapped), null);
      }
    },
  };
}

async function streamGeneration(
  call: ServerWritableStream<GenerateRequest, GenerateResponse>,
  requireEngine: () => Engine,
  { logger, clock, metrics }: InferenceHandlersOptions,
): Promise<void> {
  const requestId = call.request.requestId || randomUUID();
  const log = logger.child({ requestId });
  const controller = new AbortController();
  const onCancelled = (): void => {
    log.info('client cancelled');
    controller.abort();
  };
  call.once('cancelled', onCancelled);
  try {
    const arrivedAt = Date.now();
    const engine = requireEngine();
    const asked = call.request.model;
    if (asked !== '' && asked !== engine.model.id) throw new InvalidArgumentError('model', `"${asked}" is not served here; served: "${engine.model.id}"`);
    const events = engine.generate(toGenerationRequest(call.request, requestId, controller.signal));
    for await (const event of events) {
      // After cancellation the engine still ends the stream with `done`; keep pulling so it can clean up.
      if (call.cancelled) continue;
      const emittedAt = nsToTimestamp(clock.nowNs());
      if (event.type === 'done') {
        log.info({ finishReason: event.finishReason, usage: event.usage, timings: event.timings }, 'generation finished');
        traceGeneration(arrivedAt, event);
      }
      const flowing = call.write(toGenerateResponse(requestId, event, emittedAt));
      metrics?.deltaWritten(event);
      if (!flowing) await drained(call);
    }
    if (!call.cancelled) call.end();
  } catch (error) {
    const mapped = toStatus(error);
    if (mapped.unexpected) log.error({ err: error }, 'Generate failed');
    else log.info({ code: mapped.code, details: mapped.details }, 'Generate rejected');
    if (!call.cancelled) call.emit('error', toServiceError(mapped));
  } finally {
    call.off('cancelled', onCancelled);
  }
}

