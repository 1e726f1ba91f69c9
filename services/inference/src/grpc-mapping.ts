// Pure translation between the gRPC contract and the engine's vocabulary, including errors → status codes.
import type { Timestamp } from '@freechat/proto/google/protobuf/timestamp';
import { status as Status } from '@grpc/grpc-js';
import { mapError, type MappedStatus } from '@freechat/shared';
import {
  Channel,
  FinishReason,
  ModelSource,
  Role,
  type GenerateRequest,
  type GenerateResponse,
  type ModelInfo,
} from '@freechat/proto/freechat/inference/v1/inference';
import { InvalidArgumentError, ResourceExhaustedError, UnavailableError } from './engine/errors.js';
import type {
  ChatRole,
  GenerationEvent,
  GenerationRequest,
  KvCacheState,
  LoadedModelInfo,
  ModelSourceKind,
  SamplingRequest,
} from './engine/types.js';

const ROLES: ReadonlyMap<Role, ChatRole> = new Map([
  [Role.ROLE_SYSTEM, 'system'],
  [Role.ROLE_USER, 'user'],
  [Role.ROLE_ASSISTANT, 'assistant'],
]);

const CHANNELS = { reasoning: Channel.CHANNEL_REASONING, content: Channel.CHANNEL_CONTENT } as const;
const FINISH_REASONS = {
  stop: FinishReason.FINISH_REASON_STOP,
  length: FinishReason.FINISH_REASON_LENGTH,
  cancelled: FinishReason.FINISH_REASON_CANCELLED,
} as const;
const SOURCES: Record<ModelSourceKind, ModelSource> = {
  directory: ModelSource.MODEL_SOURCE_DIRECTORY,
  hub: ModelSource.MODEL_SOURCE_HUB,
  'built-in': ModelSource.MODEL_SOURCE_BUILT_IN,
};

/** Throws InvalidArgumentError naming `messages[i].role` for ROLE_UNSPECIFIED or a role this build does not know. */
export function toGenerationRequest(request: GenerateRequest, requestId: string, signal: AbortSignal): GenerationRequest {
  const messages = request.messages.map((m, i) => {
    const role = ROLES.get(m.role);
    if (!role) throw new InvalidArgumentError(`messages[${i}].role`, 'must be ROLE_SYSTEM, ROLE_USER or ROLE_ASSISTANT');
    return { role, content: m.content };
  });
  const s = request.sampling;
  // Only fields the caller set: the engine fills the rest from generation_config.json.
  const sampling: SamplingRequest = {
    ...(s?.temperature !== undefined && { temperature: s.temperature }),
    ...(s?.topP !== undefined && { topP: s.topP }),
    ...(s?.topK !== undefined && { topK: s.topK }),
    ...(s?.repetitionPenalty !== undefined && { repetitionPenalty: s.repetitionPenalty }),
    ...(s?.maxNewTokens !== undefined && { maxNewTokens: s.maxNewTokens }),
    ...(s?.seed !== undefined && { seed: s.seed }),
    ...(s && s.stop.length > 0 && { stop: s.stop }),
  };
  return {
    requestId,
    messages,
    ...(request.enableThinking !== undefined && { enableThinking: request.enableThinking }),
    ...(request.fairnessKey !== '' && { fairnessKey: request.fairnessKey }),
    ...(request.answerPrefix && { answerPrefix: { reasoning: request.answerPrefix.reasoning, content: request.answerPrefix.content } }),
    sampling,
    signal,
  };
}

export function toGenerateResponse(requestId: string, event: GenerationEvent, emittedAt: Timestamp): GenerateResponse {
  if (event.type === 'delta') {
    return {
      requestId,
      event: {
        $case: 'delta',
        delta: { text: event.text, channel: CHANNELS[event.channel], tokenCount: event.tokenCount, emittedAt },
      },
    };
  }
  return {
    requestId,
    event: {
      $case: 'done',
      done: {
        finishReason: FINISH_REASONS[event.finishReason],
        usage: { ...event.usage },
        timings: { ...event.timings },
        emittedAt,
      },
    },
  };
}

export function toModelInfo(model: LoadedModelInfo, kvCache: KvCacheState): ModelInfo {
  return {
    id: model.id,
    source: SOURCES[model.source],
    path: model.path,
    maxContextTokens: model.limits.maxContextTokens,
    maxNewTokensLimit: model.limits.maxNewTokensLimit,
    maxBatchSize: model.limits.maxBatchSize,
    maxPromptTokens: model.limits.maxPromptTokens,
    kvCachePath: kvCache.path,
    kvCacheBudgetBytes: kvCache.budgetBytes ?? 0,
    kvCacheReservedBytes: kvCache.reservedBytes,
    kvCacheAllocatedBytes: kvCache.allocatedBytes,
  };
}

/** The engine's deliberate errors and their statuses; anything else is INTERNAL (details stay in our logs). */
export function toStatus(error: unknown): MappedStatus {
  return mapError(error, (e) => {
    if (e instanceof InvalidArgumentError) return Status.INVALID_ARGUMENT;
    if (e instanceof ResourceExhaustedError) return Status.RESOURCE_EXHAUSTED;
    if (e instanceof UnavailableError) return Status.UNAVAILABLE;
    return undefined;
  });
}
