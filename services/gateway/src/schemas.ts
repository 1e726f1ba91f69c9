// The public API's JSON shapes. Routes validate and serialise with these; TypeScript types are
// derived from them (Static), never written separately.
import { Type, type Static } from 'typebox';

const closed = { additionalProperties: false } as const;

export const Uuid = Type.String({ format: 'uuid' });

/**
 * Text the chat service can store: no NUL (PostgreSQL's text cannot hold it) and no unpaired UTF-16
 * surrogate (JSON allows "\ud800"; it would be stored silently replaced by U+FFFD). TypeBox compiles
 * patterns with the `u` flag, so a surrogate pair is one code point outside the refused range.
 */
export const STORABLE_TEXT_PATTERN = '^[^\\u0000\\uD800-\\uDFFF]*$';
/** What the error says instead of the pattern (errors.ts). */
export const PATTERN_DESCRIPTIONS: ReadonlyMap<string, string> = new Map([
  [STORABLE_TEXT_PATTERN, 'must not contain NUL characters or unpaired surrogates'],
]);
export const StorableText = (options: { minLength?: number; maxLength: number }) => Type.String({ ...options, pattern: STORABLE_TEXT_PATTERN });
/** A session's tag as given; the chat service trims and lower-cases it (1-40 characters). */
export const Tag = StorableText({ minLength: 1, maxLength: 40 });
const IsoTime = Type.String({ format: 'date-time' });
// A description lands in the OpenAPI document and, from there, in the web UI's generated types.
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T, description?: string) =>
  Type.Union([schema, Type.Null()], description === undefined ? {} : { description });

export const ErrorSchema = Type.Object(
  {
    error: Type.Object(
      {
        // One of ERRORS' keys (errors.ts); typed there, kept open here so the registry stays the one list.
        code: Type.String({ pattern: '^[a-z]+(_[a-z]+)*$' }),
        message: Type.String(),
      },
      closed,
    ),
  },
  closed,
);

/** Response schemas for every error status a route can answer. */
export const errorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
  413: ErrorSchema,
  415: ErrorSchema,
  429: ErrorSchema,
  500: ErrorSchema,
  503: ErrorSchema,
  504: ErrorSchema,
} as const;

export const UserSchema = Type.Object({ id: Type.String(), username: Type.String(), createdAt: Nullable(IsoTime) }, closed);
export type UserJson = Static<typeof UserSchema>;

export const AuthResultSchema = Type.Object(
  {
    user: UserSchema,
    accessToken: Type.String(),
    accessTokenExpiresAt: Nullable(IsoTime),
  },
  closed,
);
export type AuthResultJson = Static<typeof AuthResultSchema>;

export const SessionSchema = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    createdAt: Nullable(IsoTime),
    updatedAt: Nullable(IsoTime),
    currentLeafId: Nullable(Type.String(), 'The last message of the branch the session shows (GET /api/sessions/{id}/messages).'),
    answering: Type.Boolean({ description: 'An answer in it is being written now (in lists; false elsewhere).' }),
    pinned: Type.Boolean({ description: 'Listed first.' }),
    tags: Type.Array(Type.String(), { description: 'Trimmed, lower-case, distinct.' }),
    systemPrompt: Type.String({ description: "The conversation's system prompt; empty: the server's default." }),
    model: Type.String({ description: 'The model it asks for (an id from GET /api/models); empty: the default model.' }),
  },
  closed,
);
export type SessionJson = Static<typeof SessionSchema>;

export const SearchResultSchema = Type.Object(
  {
    sessionId: Type.String(),
    // The matching message; null when the title matched.
    messageId: Nullable(Type.String()),
    title: Type.String(),
    // Plain text around the match: render it as text, never as HTML.
    snippet: Type.String(),
    // The matched parts of snippet: [start, end) as JavaScript string indices (UTF-16 code units).
    highlights: Type.Array(Type.Tuple([Type.Integer(), Type.Integer()])),
  },
  closed,
);
export const SearchResultsSchema = Type.Object({ results: Type.Array(SearchResultSchema) }, closed);
export type SearchResultsJson = Static<typeof SearchResultsSchema>;

export const UsageSchema = Type.Object({ promptTokens: Type.Integer(), completionTokens: Type.Integer() }, closed);
export type UsageJson = Static<typeof UsageSchema>;

export const TimingsSchema = Type.Object(
  {
    timeToFirstTokenMs: Nullable(Type.Integer(), "Milliseconds from the run's start to the answer's first text; null when none came."),
    durationMs: Type.Integer({ description: "Milliseconds from the run's start to its end." }),
  },
  { ...closed, description: "An answer's timings." },
);
export type TimingsJson = Static<typeof TimingsSchema>;

export const MessageRoleSchema = Type.Union([Type.Literal('user'), Type.Literal('assistant'), Type.Literal('unspecified')]);
export const MessageStatusSchema = Type.Union([
  Type.Literal('complete'),
  Type.Literal('streaming'),
  Type.Literal('stopped'),
  Type.Literal('error'),
  Type.Literal('unspecified'),
]);
export const FinishReasonSchema = Type.Union([
  Type.Literal('stop'),
  Type.Literal('length'),
  Type.Literal('cancelled'),
  Type.Literal('error'),
]);
export type FinishReasonJson = Static<typeof FinishReasonSchema>;

export const MessageSchema = Type.Object(
  {
    id: Type.String(),
    sessionId: Type.String(),
    parentId: Nullable(Type.String(), 'The message this one follows; null for a first message.'),
    // `‹ 2/3 ›` in the UI.
    siblingIds: Type.Array(Type.String(), { description: 'Every message following the same parent, this one included, oldest first.' }),
    role: MessageRoleSchema,
    content: Type.String(),
    reasoning: Type.String(),
    status: MessageStatusSchema,
    finishReason: Nullable(FinishReasonSchema),
    usage: Nullable(UsageSchema),
    createdAt: Nullable(IsoTime),
    runId: Nullable(Type.String(), 'Set while the run that writes this message can still be attached (GET /api/runs/{runId}/events).'),
    timings: Nullable(TimingsSchema, "An ended answer's timings; null otherwise (and for answers stored before timings were kept)."),
  },
  closed,
);
export type MessageJson = Static<typeof MessageSchema>;

export const ModelSourceSchema = Type.Union([
  Type.Literal('directory'),
  Type.Literal('hub'),
  Type.Literal('built-in'),
  // A source this gateway does not know yet (a newer inference service).
  Type.Literal('unknown'),
]);

export const ModelSchema = Type.Object(
  {
    id: Type.String(),
    source: ModelSourceSchema,
    builtIn: Type.Boolean({ description: 'The seeded, untrained model: it answers with random text.' }),
    maxContextTokens: Type.Integer(),
    maxNewTokensLimit: Type.Integer(),
    // A longer conversation is trimmed by chat; a single message longer still ends its run with
    // the SSE `error` `prompt_too_long`, naming both counts.
    maxPromptTokens: Nullable(Type.Integer(), 'Longest prompt the model accepts, in its tokens (chat template included); null when unknown.'),
  },
  closed,
);
export type ModelJson = Static<typeof ModelSchema>;

export const ModelsSchema = Type.Object(
  {
    state: Type.Union([Type.Literal('ready'), Type.Literal('loading')], {
      description: '`loading`: inference answers but its model is not loaded yet (models is then empty).',
    }),
    models: Type.Array(ModelSchema),
  },
  closed,
);
export type ModelsJson = Static<typeof ModelsSchema>;

export const DailyUsageSchema = Type.Object(
  {
    date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD, UTC.' }),
    requests: Type.Integer(),
    promptTokens: Type.Integer(),
    completionTokens: Type.Integer(),
  },
  closed,
);

export const UsageReportSchema = Type.Object(
  {
    days: Type.Array(DailyUsageSchema, { description: 'Newest first; days without usage are left out.' }),
    total: Type.Object({ requests: Type.Integer(), promptTokens: Type.Integer(), completionTokens: Type.Integer() }, closed),
    from: Type.String({ description: "The window's first day (UTC); it ends today." }),
  },
  closed,
);
export type UsageReportJson = Static<typeof UsageReportSchema>;

export const ThemeSchema = Type.Union([Type.Literal('system'), Type.Literal('light'), Type.Literal('dark')]);
export type ThemeJson = Static<typeof ThemeSchema>;

/** A person's settings; kept by the auth service so they follow them across browsers. */
export const UserSettingsSchema = Type.Object(
  {
    thinking: Type.Boolean(),
    temperature: Type.Number(),
    maxTokens: Type.Integer(),
    // `system` follows the device's colour scheme.
    theme: ThemeSchema,
    // The interface language (BCP 47, e.g. "en", "zh-CN"); null: not chosen, the browser's.
    language: Nullable(Type.String()),
  },
  closed,
);
export type UserSettingsJson = Static<typeof UserSettingsSchema>;

/**
 * PATCH /api/me/settings: at least one field; absent ones keep their value, `language: null` forgets
 * it. The ranges are the auth service's (which checks them again and owns the language tag rule).
 */
export const UserSettingsPatchSchema = Type.Object(
  {
    thinking: Type.Optional(Type.Boolean()),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    maxTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 32_768 })),
    theme: Type.Optional(ThemeSchema),
    language: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 35 }))),
  },
  { ...closed, minProperties: 1 },
);
export type UserSettingsPatchJson = Static<typeof UserSettingsPatchSchema>;

// Export documents: what GET /api/sessions/:id/export and GET /api/me/export write, and what
// POST /api/import reads back (closed, like every request; `version` says which shape a file has).
export const CONVERSATION_FORMAT = 'freechat.conversation';
export const EXPORT_FORMAT = 'freechat.export';
export const DOCUMENT_VERSION = 1;

export const ExportedMessageSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 200 }),
    // The message this one follows; null for a first message.
    parentId: Nullable(Type.String({ maxLength: 200 })),
    role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
    content: Type.String(),
    // The model's reasoning, kept apart from the answer.
    thinking: Type.String(),
    status: Type.Union([Type.Literal('complete'), Type.Literal('streaming'), Type.Literal('stopped'), Type.Literal('error')]),
    finishReason: Nullable(FinishReasonSchema),
    usage: Nullable(UsageSchema),
    timings: Nullable(TimingsSchema),
    createdAt: Nullable(IsoTime),
  },
  closed,
);
export type ExportedMessageJson = Static<typeof ExportedMessageSchema>;

export const ConversationDocumentSchema = Type.Object(
  {
    format: Type.Literal(CONVERSATION_FORMAT),
    version: Type.Literal(DOCUMENT_VERSION),
    exportedAt: IsoTime,
    title: Type.String({ maxLength: 1000 }),
    createdAt: Nullable(IsoTime),
    updatedAt: Nullable(IsoTime),
    // The last message of the branch the conversation showed.
    currentLeafId: Nullable(Type.String({ maxLength: 200 })),
    // Every message of every branch, parents before their children.
    messages: Type.Array(ExportedMessageSchema),
  },
  closed,
);
export type ConversationDocumentJson = Static<typeof ConversationDocumentSchema>;

export const ExportDocumentSchema = Type.Object(
  {
    format: Type.Literal(EXPORT_FORMAT),
    version: Type.Literal(DOCUMENT_VERSION),
    exportedAt: IsoTime,
    user: Type.Object({ username: Type.String() }, closed),
    conversations: Type.Array(ConversationDocumentSchema),
  },
  closed,
);
export type ExportDocumentJson = Static<typeof ExportDocumentSchema>;

export const ImportResultSchema = Type.Object(
  { imported: Type.Array(Type.Object({ sessionId: Type.String(), title: Type.String(), messages: Type.Integer() }, closed)) },
  closed,
);

export const ShareLinkSchema = Type.Object({ token: Type.String(), url: Type.String(), createdAt: Nullable(IsoTime) }, closed);
export type ShareLinkJson = Static<typeof ShareLinkSchema>;

export const SharedConversationSchema = Type.Object(
  {
    title: Type.String(),
    sharedAt: Nullable(IsoTime),
    messages: Type.Array(
      Type.Object({ role: MessageRoleSchema, content: Type.String(), thinking: Type.String(), createdAt: Nullable(IsoTime) }, closed),
    ),
  },
  closed,
);
export type SharedConversationJson = Static<typeof SharedConversationSchema>;
// The `data:` of each Server-Sent Event of a run (sse.ts). Named in the OpenAPI document so clients
// get their types too; the descriptions also keep them apart from look-alike objects there.
export const RunStartedEventSchema = Type.Object(
  { runId: Type.String(), userMessageId: Type.String(), assistantMessageId: Type.String() },
  { ...closed, description: 'The `run` event: the run started, the question is stored.' },
);
export const TextDeltaEventSchema = Type.Object(
  { delta: Type.String() },
  { ...closed, description: 'The `reasoning` and `content` events: the next piece of text.' },
);
export const RunDoneEventSchema = Type.Object(
  { finishReason: Nullable(FinishReasonSchema), usage: Nullable(UsageSchema), messageId: Type.String(), timings: Nullable(TimingsSchema) },
  { ...closed, description: 'The `done` event: the answer ended and is stored.' },
);
export const RunErrorEventSchema = Type.Object(
  { code: Type.String(), message: Type.String() },
  { ...closed, description: 'The `error` event: the run failed (e.g. `prompt_too_long`); the partial answer is stored.' },
);

/**
 * The shapes the OpenAPI document names (components.schemas): every inline copy in it becomes a
 * reference, so readers and the generated client types (web-ui/src/api/openapi.gen.ts) see these names.
 */
export const NAMED_SCHEMAS = {
  Error: ErrorSchema,
  User: UserSchema,
  AuthResult: AuthResultSchema,
  Session: SessionSchema,
  Usage: UsageSchema,
  Timings: TimingsSchema,
  MessageRole: MessageRoleSchema,
  MessageStatus: MessageStatusSchema,
  FinishReason: FinishReasonSchema,
  Message: MessageSchema,
  ModelSource: ModelSourceSchema,
  Model: ModelSchema,
  Models: ModelsSchema,
  DailyUsage: DailyUsageSchema,
  UsageReport: UsageReportSchema,
  RunStartedEvent: RunStartedEventSchema,
  TextDeltaEvent: TextDeltaEventSchema,
  RunDoneEvent: RunDoneEventSchema,
  RunErrorEvent: RunErrorEventSchema,
} as const;

/**
 * The 200 of a route that answers with Server-Sent Events. For the document only: relayRun writes
 * the stream itself, so nothing is ever serialised with it.
 */
export const EventStreamResponse = {
  description:
    'Server-Sent Events, each `id: <runId>:<seq>` and one JSON `data:` line: `run` (RunStartedEvent), ' +
    '`reasoning` and `content` (TextDeltaEvent), then `done` (RunDoneEvent) or `error` (RunErrorEvent). ' +
    '`: ping` comments keep the connection open. Resume with GET /api/runs/{runId}/events and `Last-Event-ID`.',
  content: { 'text/event-stream': { schema: Type.String() } },
} as const;
