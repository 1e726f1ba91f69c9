// Pure translation between stored rows and the chat contract, and from errors to gRPC status codes.
import { status as Status } from '@grpc/grpc-js';
import { mapError, type MappedStatus } from '@freechat/shared';
import {
  FinishReason,
  MessageRole,
  MessageStatus,
  type ImportConversationsRequest,
  type Message,
  type SearchHit,
  type Session,
  type SharedConversation,
  type ShareLink,
} from '@freechat/proto/freechat/chat/v1/chat';
import type { Timestamp } from '@freechat/proto/google/protobuf/timestamp';
import { FailedPreconditionError, InvalidArgumentError, LimitExceededError, NotFoundError, UnavailableError } from './errors.js';
import type { BranchMessageRow, MessageRow } from './messages-repository.js';
import { toRunTimings } from './run-events.js';
import type { SearchHitRow } from './search-repository.js';
import type { SessionRow } from './sessions-repository.js';
import type { ImportedConversationInput } from './import-plan.js';
import type { ShareSnapshot } from './share-snapshot.js';
import type { ShareLinkRow } from './shares-repository.js';

const ROLES = { user: MessageRole.MESSAGE_ROLE_USER, assistant: MessageRole.MESSAGE_ROLE_ASSISTANT } as const;
const STATUSES = {
  complete: MessageStatus.MESSAGE_STATUS_COMPLETE,
  streaming: MessageStatus.MESSAGE_STATUS_STREAMING,
  stopped: MessageStatus.MESSAGE_STATUS_STOPPED,
  error: MessageStatus.MESSAGE_STATUS_ERROR,
} as const;
const FINISH_REASONS = {
  stop: FinishReason.FINISH_REASON_STOP,
  length: FinishReason.FINISH_REASON_LENGTH,
  cancelled: FinishReason.FINISH_REASON_CANCELLED,
  error: FinishReason.FINISH_REASON_ERROR,
} as const;

export function toTimestamp(date: Date): Timestamp {
  const ms = date.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/** `answering`: known only where it was asked for (ListSessions). */
export function toSession(row: SessionRow, answering = false): Session {
  return {
    answering,
    id: row.id,
    title: row.title,
    createdAt: toTimestamp(row.createdAt),
    updatedAt: toTimestamp(row.updatedAt),
    currentLeafId: row.currentLeafId ?? '',
    pinned: row.pinned,
    tags: [...row.tags],
    systemPrompt: row.systemPrompt,
    model: row.model,
  };
}

export function toSearchHit(row: SearchHitRow): SearchHit {
  return {
    sessionId: row.sessionId,
    messageId: row.messageId ?? '',
    title: row.title,
    snippet: row.snippet.text,
    highlights: row.snippet.highlights.map(([start, end]) => ({ start, end })),
  };
}

/** A message; with its siblings when it was read as part of a branch. */
export function toMessage(row: MessageRow | BranchMessageRow): Message {
  return {
    id: row.id,
    sessionId: row.sessionId,
    parentId: row.parentId ?? '',
    siblingIds: 'siblingIds' in row ? [...row.siblingIds] : [row.id],
    role: ROLES[row.role],
    content: row.content,
    reasoning: row.reasoning,
    status: STATUSES[row.status],
    finishReason: row.finishReason ? FINISH_REASONS[row.finishReason] : FinishReason.FINISH_REASON_UNSPECIFIED,
    usage:
      row.promptTokens === null && row.completionTokens === null
        ? undefined
        : { promptTokens: row.promptTokens ?? 0, completionTokens: row.completionTokens ?? 0 },
    createdAt: toTimestamp(row.createdAt),
    timings: toRunTimings(row.timings),
    // Only a message still being written has a run worth attaching to.
    runId: row.status === 'streaming' ? (row.runId ?? '') : '',
  };
}

export function toStatus(error: unknown): MappedStatus {
  return mapError(error, (e) => {
    if (e instanceof InvalidArgumentError) return Status.INVALID_ARGUMENT;
    if (e instanceof NotFoundError) return Status.NOT_FOUND;
    if (e instanceof FailedPreconditionError) return Status.FAILED_PRECONDITION;
    if (e instanceof LimitExceededError) return Status.RESOURCE_EXHAUSTED;
    if (e instanceof UnavailableError) return Status.UNAVAILABLE;
    return undefined;
  });
}

export function fromTimestamp(timestamp: Timestamp | undefined): Date | undefined {
  return timestamp ? new Date(timestamp.seconds * 1000 + Math.floor(timestamp.nanos / 1e6)) : undefined;
}

const ROLE_NAMES: Readonly<Record<number, 'user' | 'assistant'>> = {
  [MessageRole.MESSAGE_ROLE_USER]: 'user',
  [MessageRole.MESSAGE_ROLE_ASSISTANT]: 'assistant',
};
const STATUS_NAMES: Readonly<Record<number, 'complete' | 'streaming' | 'stopped' | 'error'>> = {
  [MessageStatus.MESSAGE_STATUS_COMPLETE]: 'complete',
  [MessageStatus.MESSAGE_STATUS_STREAMING]: 'streaming',
  [MessageStatus.MESSAGE_STATUS_STOPPED]: 'stopped',
  [MessageStatus.MESSAGE_STATUS_ERROR]: 'error',
};

/** One conversation of an import, as the plan reads it. */
export function fromImportRequest(request: ImportConversationsRequest): ImportedConversationInput {
  return {
    title: request.title,
    createdAt: fromTimestamp(request.createdAt),
    currentLeafRef: request.currentLeafRef,
    messages: request.messages.map((m) => ({
      ref: m.ref,
      parentRef: m.parentRef,
      role: ROLE_NAMES[m.role] ?? 'unspecified',
      content: m.content,
      reasoning: m.reasoning,
      status: STATUS_NAMES[m.status] ?? 'unspecified',
      createdAt: fromTimestamp(m.createdAt),
    })),
  };
}

export function toSharedConversation(snapshot: ShareSnapshot, sharedAt: Date): SharedConversation {
  return {
    title: snapshot.title,
    sharedAt: toTimestamp(sharedAt),
    messages: snapshot.messages.map((m) => {
      const createdAt = new Date(m.createdAt);
      return { role: ROLES[m.role], content: m.content, reasoning: m.thinking, createdAt: Number.isFinite(createdAt.getTime()) ? toTimestamp(createdAt) : undefined };
    }),
  };
}

export function toShareLink(row: ShareLinkRow): ShareLink {
  return { token: row.token, createdAt: toTimestamp(row.createdAt) };
}
