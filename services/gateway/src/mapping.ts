// Pure translation from the gRPC contracts to the public JSON shapes and stream events.
import { Theme, type AuthResponse, type User, type UserSettings } from '@freechat/proto/freechat/auth/v1/auth';
import {
  FinishReason,
  MessageRole,
  MessageStatus,
  type Message,
  type RunEvent,
  type Session,
  type RunTimings,
  type Usage,
  type GetUsageResponse,
  type SearchSessionsResponse,
  type SharedConversation,
} from '@freechat/proto/freechat/chat/v1/chat';
import { ModelSource, type ModelInfo } from '@freechat/proto/freechat/inference/v1/inference';
import type { Timestamp } from '@freechat/proto/google/protobuf/timestamp';
import { float32ToShortest } from '@freechat/shared';
import type {
  AuthResultJson,
  FinishReasonJson,
  MessageJson,
  ModelJson,
  SearchResultsJson,
  SessionJson,
  SharedConversationJson,
  ThemeJson,
  TimingsJson,
  UsageJson,
  UsageReportJson,
  UserJson,
  UserSettingsJson,
  UserSettingsPatchJson,
} from './schemas.js';
import type { SseEvent } from './sse.js';

export function toIsoTime(timestamp: Timestamp | undefined): string | null {
  if (!timestamp) return null;
  return new Date(timestamp.seconds * 1000 + Math.floor(timestamp.nanos / 1e6)).toISOString();
}

/** Milliseconds since the epoch as a protobuf Timestamp. */
export function timestampFromMs(ms: number): Timestamp {
  const whole = Math.round(ms);
  return { seconds: Math.floor(whole / 1000), nanos: (((whole % 1000) + 1000) % 1000) * 1_000_000 };
}

export function toUserJson(user: User | undefined): UserJson {
  return { id: user?.id ?? '', username: user?.username ?? '', createdAt: toIsoTime(user?.createdAt) };
}

export function toAuthResultJson(response: AuthResponse): AuthResultJson {
  const tokens = response.tokens;
  return {
    user: toUserJson(response.user),
    accessToken: tokens?.accessToken ?? '',
    accessTokenExpiresAt: toIsoTime(tokens?.accessTokenExpiresAt),
  };
}

const THEMES: Readonly<Record<ThemeJson, Theme>> = { system: Theme.THEME_SYSTEM, light: Theme.THEME_LIGHT, dark: Theme.THEME_DARK };

/**
 * Auth fills every field but the language, defaults included (it owns them, so they are not repeated
 * here: a missing one is a broken contract, an error). A theme this gateway does not know yet reads
 * as `system`.
 */
export function toUserSettingsJson(settings: UserSettings): UserSettingsJson {
  const { thinking, temperature, maxTokens } = settings;
  if (thinking === undefined || temperature === undefined || maxTokens === undefined) throw new Error('auth answered settings without their defaults');
  const theme = (Object.keys(THEMES) as ThemeJson[]).find((name) => THEMES[name] === settings.theme) ?? 'system';
  // A proto float is 32-bit: show the decimal that was saved (0.7, not 0.699999988079071).
  return { thinking, temperature: float32ToShortest(temperature), maxTokens, theme, language: settings.language ?? null };
}

/** The PATCH body as UpdateSettings' fields: absent stays absent, `language: null` is the empty string that clears it. */
export function toSettingsUpdate(patch: UserSettingsPatchJson): UserSettings {
  return {
    thinking: patch.thinking,
    temperature: patch.temperature,
    maxTokens: patch.maxTokens,
    theme: patch.theme === undefined ? Theme.THEME_UNSPECIFIED : THEMES[patch.theme],
    language: patch.language === null ? '' : patch.language,
  };
}

export function toSessionJson(session: Session): SessionJson {
  return {
    id: session.id,
    title: session.title,
    createdAt: toIsoTime(session.createdAt),
    updatedAt: toIsoTime(session.updatedAt),
    currentLeafId: session.currentLeafId || null,
    answering: session.answering,
    pinned: session.pinned,
    tags: session.tags,
    systemPrompt: session.systemPrompt,
    model: session.model,
  };
}

export function toSearchResultsJson(response: SearchSessionsResponse): SearchResultsJson {
  return {
    results: response.results.map((hit) => ({
      sessionId: hit.sessionId,
      messageId: hit.messageId || null,
      title: hit.title,
      snippet: hit.snippet,
      highlights: hit.highlights.map((h): [number, number] => [h.start, h.end]),
    })),
  };
}

const ROLES: Readonly<Record<number, MessageJson['role']>> = {
  [MessageRole.MESSAGE_ROLE_USER]: 'user',
  [MessageRole.MESSAGE_ROLE_ASSISTANT]: 'assistant',
};
const STATUSES: Readonly<Record<number, MessageJson['status']>> = {
  [MessageStatus.MESSAGE_STATUS_COMPLETE]: 'complete',
  [MessageStatus.MESSAGE_STATUS_STREAMING]: 'streaming',
  [MessageStatus.MESSAGE_STATUS_STOPPED]: 'stopped',
  [MessageStatus.MESSAGE_STATUS_ERROR]: 'error',
};
const FINISH_REASONS: Readonly<Record<number, FinishReasonJson>> = {
  [FinishReason.FINISH_REASON_STOP]: 'stop',
  [FinishReason.FINISH_REASON_LENGTH]: 'length',
  [FinishReason.FINISH_REASON_CANCELLED]: 'cancelled',
  [FinishReason.FINISH_REASON_ERROR]: 'error',
};

export function toFinishReasonJson(reason: FinishReason): FinishReasonJson | null {
  return FINISH_REASONS[reason] ?? null;
}

export function toUsageJson(usage: Usage | undefined): UsageJson | null {
  return usage ? { promptTokens: usage.promptTokens, completionTokens: usage.completionTokens } : null;
}

/** Milliseconds from the run's start; null when unknown (answers stored before timings were kept). */
export function toTimingsJson(timings: RunTimings | undefined): TimingsJson | null {
  return timings ? { timeToFirstTokenMs: timings.timeToFirstTokenMs ?? null, durationMs: timings.durationMs } : null;
}

export function toMessageJson(message: Message): MessageJson {
  return {
    id: message.id,
    sessionId: message.sessionId,
    parentId: message.parentId || null,
    siblingIds: message.siblingIds,
    role: ROLES[message.role] ?? 'unspecified',
    content: message.content,
    reasoning: message.reasoning,
    status: STATUSES[message.status] ?? 'unspecified',
    finishReason: toFinishReasonJson(message.finishReason),
    usage: toUsageJson(message.usage),
    createdAt: toIsoTime(message.createdAt),
    runId: message.runId || null,
    timings: toTimingsJson(message.timings),
  };
}

export function toUsageReportJson(report: GetUsageResponse): UsageReportJson {
  const total = report.total;
  return {
    days: report.days.map((d) => ({ date: d.date, requests: d.requests, promptTokens: d.promptTokens, completionTokens: d.completionTokens })),
    total: { requests: total?.requests ?? 0, promptTokens: total?.promptTokens ?? 0, completionTokens: total?.completionTokens ?? 0 },
    from: report.fromDate,
  };
}

const MODEL_SOURCES: Readonly<Record<number, ModelJson['source']>> = {
  [ModelSource.MODEL_SOURCE_DIRECTORY]: 'directory',
  [ModelSource.MODEL_SOURCE_HUB]: 'hub',
  [ModelSource.MODEL_SOURCE_BUILT_IN]: 'built-in',
};

/** What a browser may know about a model: no paths on the server, no batch sizes. */
export function toModelJson(model: ModelInfo): ModelJson {
  const source = MODEL_SOURCES[model.source] ?? 'unknown';
  return {
    id: model.id,
    source,
    builtIn: source === 'built-in',
    maxContextTokens: model.maxContextTokens,
    maxNewTokensLimit: model.maxNewTokensLimit,
    // 0 from an inference service older than the field: unknown, said as null.
    maxPromptTokens: model.maxPromptTokens > 0 ? model.maxPromptTokens : null,
  };
}

/** A run event as the browser sees it; undefined for an event without a payload (a newer contract). */
export function toSseEvent(event: RunEvent): SseEvent | undefined {
  const id = formatEventId(event.runId, event.seq);
  const e = event.event;
  switch (e?.$case) {
    case 'started':
      return {
        id,
        type: 'run',
        data: { runId: e.started.runId, userMessageId: e.started.userMessageId, assistantMessageId: e.started.assistantMessageId },
      };
    case 'reasoning':
      return { id, type: 'reasoning', data: { delta: e.reasoning.text } };
    case 'content':
      return { id, type: 'content', data: { delta: e.content.text } };
    case 'done':
      return {
        id,
        type: 'done',
        data: {
          finishReason: toFinishReasonJson(e.done.finishReason),
          usage: toUsageJson(e.done.usage),
          messageId: e.done.messageId,
          timings: toTimingsJson(e.done.timings),
        },
      };
    case 'error':
      return { id, type: 'error', data: { code: e.error.code, message: e.error.message } };
    default:
      return undefined;
  }
}

export function formatEventId(runId: string, seq: number): string {
  return `${runId}:${seq}`;
}

/**
 * Where a re-attaching client left off: `<runId>:<seq>` for this run → seq; absent → 0 (from the
 * start). An id of another run, or one that does not parse, is invalid (null) rather than ignored,
 * so a client bug cannot silently replay the whole run.
 */
export function parseLastEventId(value: string | undefined, runId: string): number | null {
  if (value === undefined || value === '') return 0;
  const separator = value.lastIndexOf(':');
  if (separator < 0 || value.slice(0, separator) !== runId) return null;
  const seqText = value.slice(separator + 1);
  if (!/^\d{1,15}$/.test(seqText)) return null;
  return Number(seqText);
}

export function toSharedConversationJson(shared: SharedConversation): SharedConversationJson {
  return {
    title: shared.title,
    sharedAt: toIsoTime(shared.sharedAt),
    messages: shared.messages.map((m) => ({ role: ROLES[m.role] ?? 'unspecified', content: m.content, thinking: m.reasoning, createdAt: toIsoTime(m.createdAt) })),
  };
}
